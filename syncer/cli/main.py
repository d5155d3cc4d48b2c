"""The ``pmsync`` command line.

An entry point: it reads the system clock, builds connectors (lazily, so the core never
imports a tracker library) and picks the executor: ``Applier`` to write, ``DryRun`` to print
the plan. Exit codes are the ones of ``syncer.core.exit_codes``, shared by every subcommand.

Start-up is kept cheap: ``pmsync --help`` imports argparse and nothing of pydantic, rich,
SQLAlchemy or the tracker libraries. Each command imports what it uses when it runs, and the
commands other modules provide are imported only when they are the one asked for (see
``LAZY_COMMANDS``). This module is the parser and the dispatch; the core commands themselves
are in :mod:`syncer.cli.commands`.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Collection, Sequence
from typing import Any, NamedTuple

from syncer.cli.commands import cmd_check_config, cmd_daemon, cmd_demo, cmd_plan, cmd_run
from syncer.core.errors import ConfigError, RateLimited, TrackerError
from syncer.core.exit_codes import EPILOG, ExitCode


class LazyCommand(NamedTuple):
    """A command another module provides: its one-line help, and the modules that register it.

    Each module has ``register(subparsers)``. It is imported only when its command is the one
    run (or asked for ``--help``); for the others the top-level help needs no more than this
    line, which a test keeps equal to the help the module registers.
    """

    help: str
    modules: tuple[str, ...]


LAZY_COMMANDS: dict[str, LazyCommand] = {
    "emulate": LazyCommand(
        "serve a local tracker emulator (no token, no network)",
        ("connectors.emulators.cli", "connectors.emulators.cli_jira"),
    ),
    "check-permissions": LazyCommand(
        "check that the credentials can read items, create labels and comment (exit 1 if not)",
        ("syncer.cli.permissions",),
    ),
    "report": LazyCommand(
        "build the weekly reliability review, write its files and publish it",
        ("syncer.cli.report",),
    ),
    "postmortem": LazyCommand(
        "write, lint, render and file incident postmortems", ("syncer.cli.postmortem",)
    ),
}


class VersionAction(argparse.Action):
    """``--version``: the installed package's version, looked up only when asked for."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        kwargs.setdefault("help", "print the pmsync version and exit")
        super().__init__(option_strings, argparse.SUPPRESS, nargs=0, **kwargs)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        from syncer.core.version import package_version

        print(f"pmsync {package_version()}")
        parser.exit()


def build_parser(load: Collection[str] | None = None) -> argparse.ArgumentParser:
    """The whole command line; of ``LAZY_COMMANDS`` only those in ``load`` (None: all) in full.

    The others are listed with their help line and nothing else, which is all ``pmsync
    --help`` shows of them.
    """
    parser = argparse.ArgumentParser(
        prog="pmsync",
        description="Keeps postmortem action items honest: owners, evidence, deadlines and "
        "tiered escalation, with GitHub or Jira as the source of truth.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=VersionAction)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = sub.add_parser(
        "check-config",
        help="validate a policy file (exit 2 with FILE:LINE:COL: key: problem lines when invalid)",
    )
    check.add_argument("file", help="policy YAML file")
    check.set_defaults(func=cmd_check_config)

    plan_p = sub.add_parser("plan", help="show what a cycle would write (dry-run); never writes")
    plan_p.add_argument("--config", required=True, help="policy YAML file")
    plan_p.add_argument("--items", help="evaluate items from this JSON file instead of trackers")
    plan_p.add_argument("--json", action="store_true", help="machine-readable output")
    plan_p.add_argument("--now", help="evaluate at this ISO time instead of now")
    plan_p.add_argument("--no-budget", action="store_true", help="show every change")
    plan_p.add_argument("--state", help="state store URL (default: SQLite file)")
    plan_p.add_argument(
        "--fail-on-violations",
        action="store_true",
        help="exit 1 if any item breaks a rule (for CI)",
    )
    plan_p.set_defaults(func=cmd_plan)

    run = sub.add_parser("run", help="run a cycle through the configured trackers")
    run.add_argument(
        "--once",
        action="store_true",
        required=True,
        help="one cycle, then exit (the daemon runs them on a schedule)",
    )
    run.add_argument("--config", required=True, help="policy YAML file")
    run.add_argument("--dry-run", action="store_true", help="print the plan, write nothing")
    run.add_argument("--state", help="state store URL (default: sqlite file .pmsync-state.db)")
    run.add_argument("--now", help="run as if it were this ISO time")
    run.add_argument(
        "--full",
        action="store_true",
        help="read every source in full (a resync), not only what changed since the last run",
    )
    run.add_argument(
        "--fail-on-violations", action="store_true", help="exit 1 if any item breaks a rule"
    )
    run.set_defaults(func=cmd_run)

    demo = sub.add_parser(
        "demo",
        help="a full cycle on built-in emulated GitHub and Jira trackers (no token), "
        "then the weekly review; what `make demo` runs",
    )
    demo.add_argument("--out", default="demo-output", help="where to write the report and state")
    demo.set_defaults(func=cmd_demo)

    daemon = sub.add_parser(
        "daemon",
        help="run as a service: sync every daemon.interval, full resync daily, "
        "weekly review; health and metrics on PMSYNC_HEALTH_PORT",
    )
    daemon.add_argument("--config", required=True, help="policy YAML file (SIGHUP reloads it)")
    daemon.add_argument("--state", help="state store URL (default PMSYNC_STATE_URL or SQLite)")
    daemon.set_defaults(func=cmd_daemon)

    for name, command in LAZY_COMMANDS.items():
        if load is None or name in load:
            for module_name in command.modules:
                importlib.import_module(module_name).register(sub)
        else:
            sub.add_parser(name, help=command.help)
    return parser


def command_in(argv: Sequence[str]) -> str | None:
    """The command an argument list runs: its first word that is not an option.

    The top-level options (``--help``, ``--version``) take no value, so the first other word
    is the command.
    """
    return next((word for word in argv if not word.startswith("-")), None)


def log_to_stderr() -> None:
    """Every command logs structured, redacted lines to stderr.

    Unconfigured, structlog prints to stdout without the secret redactor: a connector's
    warning would land in the middle of ``--json`` output, and a token in it would not be
    masked. A bad PMSYNC_* setting is one line naming the variable (exit 2), for every command.
    """
    from syncer.core.logging_setup import configure_logging
    from syncer.service.settings import load_settings

    configure_logging(level=load_settings().log_level)


def main(argv: Sequence[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(load={command_in(words) or ""})
    args = parser.parse_args(words)
    from syncer.core.redaction import redacted_std_streams

    # Whatever a command prints, on stdout or stderr, passes the secret redactor.
    with redacted_std_streams():
        return run_command(args)


def run_command(args: argparse.Namespace) -> int:
    """Run the parsed command; configuration and tracker failures become exit codes."""
    try:
        log_to_stderr()  # a bad PMSYNC_* setting is a ConfigError too
        code: int = args.func(args)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return ExitCode.BAD_INPUT
    except TrackerError as exc:
        # A tracker failure no command caught itself (building a connector, a read).
        from syncer.core.redaction import REDACTOR

        print(f"pmsync: {REDACTOR.redact_text(str(exc))}", file=sys.stderr)
        return ExitCode.WORK_LEFT if isinstance(exc, RateLimited) else ExitCode.TRACKER_FAILED
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
