"""The ``pmsync`` command line.

An entry point: it reads the system clock, builds connectors (lazily, so the core never
imports a tracker library) and picks the executor: ``Applier`` to write, ``DryRun`` to print
the plan. Exit codes are the ones of ``syncer.exit_codes``, shared by every subcommand.

Start-up is kept cheap: ``pmsync --help`` imports argparse and nothing of pydantic, rich,
SQLAlchemy or the tracker libraries. Each command imports what it uses when it runs, and the
commands other modules provide are imported only when they are the one asked for (see
``LAZY_COMMANDS``).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from syncer.errors import ConfigError, RateLimited, TrackerError
from syncer.exit_codes import EPILOG, ExitCode, worst

if TYPE_CHECKING:
    from rich.console import Console

    from syncer.actions import Plan, PostComment
    from syncer.evaluate import Assessment
    from syncer.model import ActionItem
    from syncer.plan_view import CommentRenderer
    from syncer.policy import Policy

EXIT_OK, EXIT_FINDINGS, EXIT_BAD_INPUT = ExitCode.OK, ExitCode.FINDINGS, ExitCode.BAD_INPUT
VIOLATION_RULES = ("owner.", "evidence.", "closure.rejected", "deadline.overdue", "data.")
# Findings under those prefixes that are no violation: an owner named but not assigned still
# counts as the owner, and a look-up that failed says nothing about the item (judged again).
NOT_VIOLATIONS = frozenset({"owner.unassigned", "evidence.check_failed"})


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
        ("connectors.cli_permissions",),
    ),
    "report": LazyCommand(
        "build the weekly reliability review, write its files and publish it",
        ("syncer.report.cli",),
    ),
    "postmortem": LazyCommand(
        "write, lint, render and file incident postmortems", ("syncer.postmortem.cli",)
    ),
}


def parse_now(value: str | None) -> datetime:
    if value is None:
        from syncer.clock import system_clock

        return system_clock()
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def load_policy(path: str) -> Policy:
    from syncer.config_loader import load_model_file
    from syncer.policy import Policy

    return load_model_file(Policy, Path(path))


def read_items(path: Path, err: Console) -> list[ActionItem]:
    """Items from a JSON export (YAML when the name ends in .yaml/.yml): a list, or
    {"items": [...]}, read by the safe loader; bad items are skipped, each with its place.

    A file without a single valid item is bad input (``ConfigError``): evaluating nothing
    and exiting 0 would tell CI that an export which lost every item is fine.
    """
    from pydantic import ValidationError

    from syncer.config_document import ITEMS_LIMITS, dotted
    from syncer.config_loader import load_file, validation_problems
    from syncer.model import ActionItem, upgrade_item_json

    syntax = "yaml" if path.suffix.lower() in (".yaml", ".yml") else "json"
    document = load_file(path, ITEMS_LIMITS, syntax=syntax)
    data = document.data
    prefix: tuple[str, ...] = ("items",) if isinstance(data, dict) else ()
    raw = data.get("items") if isinstance(data, dict) else data
    if not isinstance(raw, list):
        raise ConfigError(
            [f'{path}:1:1: (top level): expected a list of items or {{"items": [...]}}']
        )
    items: list[ActionItem] = []
    for index, entry in enumerate(raw):
        try:
            items.append(ActionItem.model_validate(upgrade_item_json(entry)))
        except ValidationError as exc:
            where: tuple[str | int, ...] = (*prefix, index)
            first = validation_problems(exc, ActionItem, document, where)[0]
            err.print(
                f"{first.file}:{first.line}:{first.column}: {dotted(where)} skipped: "
                f"{first.key}: {first.message}",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
    if not items:
        reason = f"all {len(raw)} entries are invalid (see above)" if raw else "the list is empty"
        problem = document.problem(prefix, f"no valid item: {reason}")
        raise ConfigError([f"{problem}; export at least one action item (README: Commands)"])
    return items


def cmd_check_config(args: argparse.Namespace) -> int:
    from syncer.config_document import POLICY_LIMITS
    from syncer.config_loader import load_file

    policy = load_policy(args.file)
    warnings = policy.config_warnings()
    if warnings:
        document = load_file(Path(args.file), POLICY_LIMITS)
        for loc, message in warnings:
            print(document.problem(loc, f"warning: {message}"), file=sys.stderr)
    trackers = len(policy.trackers.github) + len(policy.trackers.jira)
    print(
        f"{args.file}: ok (policy {policy.version}, {len(policy.escalation.tiers)} tiers, "
        f"{trackers} trackers)"
    )
    return EXIT_OK


def cmd_plan(args: argparse.Namespace) -> int:
    from rich.console import Console

    from syncer.apply import DryRun
    from syncer.evaluate import evaluate
    from syncer.plan import plan
    from syncer.plan_view import plan_json, print_plan
    from syncer.secrets import register_configured_secrets

    console, err = Console(), Console(stderr=True)
    policy = load_policy(args.config)
    register_configured_secrets(policy, state_url=args.state)
    now = parse_now(args.now)
    unread: dict[str, str] = {}
    limited: set[str] = set()
    names: dict[tuple[str, str], str] = {}

    def assess(items: list[ActionItem]) -> tuple[list[Assessment], Plan]:
        assessments = evaluate(items, policy, now)
        budget = None if args.no_budget else policy.operations.max_writes_per_cycle
        return assessments, plan(assessments, policy.managed_labels, budget=budget)

    if args.items:
        assessments, the_plan = assess(read_items(Path(args.items), err))
    else:
        from syncer.plan_view import unnamed_mentions
        from syncer.wiring import fetch_all, lookup_names, runtime

        with runtime(policy, args.state) as rt:
            items = fetch_all(
                rt.trackers,
                full=False,
                err=err,
                owners_as_of=(policy, now, rt.store),
                evidence_as_of=(policy, now),
                verifiers=rt.verifiers,
                failed=unread,
                rate_limited=limited,
            )
            assessments, the_plan = assess(items)
            # Jira fallback accounts and other people no item names, shown by name.
            names = lookup_names(rt.trackers, unnamed_mentions(the_plan))
    DryRun().execute(the_plan)
    if args.json:
        from syncer.version import package_version

        print(
            plan_json(
                the_plan,
                assessments,
                evaluated_at=now,
                policy_version=policy.version,
                pmsync_version=package_version(),
                render=comment_renderer(policy),
                names=names,
            )
        )
    else:
        print_plan(the_plan, assessments, console, names)
    codes = [ExitCode.OK]
    if set(unread) - limited:
        codes.append(ExitCode.TRACKER_FAILED)
    if limited:
        codes.append(ExitCode.WORK_LEFT)
    if args.fail_on_violations and has_violations(assessments):
        codes.append(ExitCode.FINDINGS)
    return worst(*codes)


def has_violations(assessments: Sequence[Assessment]) -> bool:
    return any(
        f.rule.startswith(VIOLATION_RULES) and f.rule not in NOT_VIOLATIONS
        for a in assessments
        for f in a.findings
    )


def comment_renderer(policy: Policy) -> CommentRenderer:
    """Each comment in its tracker's markup, from the policy alone (no server is asked).

    GitHub takes Markdown; Jira REST v3 takes ADF (Cloud only) and v2 wiki markup, whose
    mentions differ between Cloud and Data Center: with ``deployment: auto`` that is only
    known once the server has been asked, so the markup is left out (None).
    """
    from connectors.github.renderer import render_message
    from connectors.jira.renderer import render_adf, render_wiki
    from syncer.plan_view import RenderedComment

    github = {tracker.name for tracker in policy.trackers.github}
    jira = {tracker.name: tracker for tracker in policy.trackers.jira}

    def render(comment: PostComment) -> RenderedComment | None:
        name, message = comment.ref.tracker, comment.message
        if name in github:
            return RenderedComment("markdown", render_message(message))
        tracker = jira.get(name)
        if tracker is None:
            return None
        if tracker.rest_api_version == "3":
            return RenderedComment("adf", render_adf(message))
        if tracker.deployment == "auto":
            return None
        return RenderedComment("wiki", render_wiki(message, cloud=tracker.deployment == "cloud"))

    return render


def cmd_run(args: argparse.Namespace) -> int:
    import uuid

    from rich.console import Console

    from syncer.secrets import register_configured_secrets
    from syncer.wiring import run_once

    policy = load_policy(args.config)
    register_configured_secrets(policy, state_url=args.state)
    outcome = run_once(
        policy,
        now=parse_now(args.now),
        state_url=args.state,
        dry_run=args.dry_run,
        cycle_id=uuid.uuid4().hex[:12],
        console=Console(),
        full=args.full,
    )
    writing = not args.dry_run and not policy.operations.shadow
    code = outcome.exit_code(writing=writing)
    if args.fail_on_violations and has_violations(outcome.assessments):
        code = worst(code, ExitCode.FINDINGS)
    return code


def cmd_demo(args: argparse.Namespace) -> int:
    from rich.console import Console

    from syncer.demo import run_demo

    return run_demo(Path(args.out), Console())


def cmd_daemon(args: argparse.Namespace) -> int:
    from syncer.daemon import Daemon
    from syncer.logging_setup import install_excepthooks
    from syncer.settings import load_settings

    settings = load_settings()  # logging is already set up by main(), at settings.log_level
    install_excepthooks()
    return Daemon(Path(args.config), settings, state_url=args.state).run()


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
        from syncer.version import package_version

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
    from syncer.logging_setup import configure_logging
    from syncer.settings import load_settings

    configure_logging(level=load_settings().log_level)


def main(argv: Sequence[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(load={command_in(words) or ""})
    args = parser.parse_args(words)
    from syncer.redaction import redacted_std_streams

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
        return EXIT_BAD_INPUT
    except TrackerError as exc:
        # A tracker failure no command caught itself (building a connector, a read).
        from syncer.redaction import REDACTOR

        print(f"pmsync: {REDACTOR.redact_text(str(exc))}", file=sys.stderr)
        return ExitCode.WORK_LEFT if isinstance(exc, RateLimited) else ExitCode.TRACKER_FAILED
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
