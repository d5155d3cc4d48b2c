"""``pmsync emulate jira --seed FILE``: serve the Jira emulator until Ctrl-C or SIGTERM.

Why this module exists: a new user (and ``make demo``) can point pmsync, the ``jira`` library or
``curl`` at a seeded fake Jira Cloud or Data Center without an account or network access. It
shares the ``emulate`` command with the GitHub emulator: when ``emulate`` is already registered,
``jira`` is added under it.
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import yaml

from connectors.emulators.cli import until_signalled

DEFAULT_EMAIL = "bot@acme.test"
DEFAULT_TOKEN = "t0ken"  # noqa: S105 - the fake credential the local emulator accepts


def _trackers(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    """The ``emulate`` command's tracker sub-commands, creating ``emulate`` when missing."""
    emulate = subparsers.choices.get("emulate")
    if emulate is None:
        emulate = subparsers.add_parser(
            "emulate", help="serve a local tracker emulator (no token, no network)"
        )
    for action in emulate._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return emulate.add_subparsers(dest="tracker", required=True, metavar="TRACKER")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``emulate jira`` to the pmsync command line."""
    jira = _trackers(subparsers).add_parser(
        "jira",
        help="a stateful Jira REST emulator (Cloud or Data Center) on 127.0.0.1",
        description="Serve a seeded Jira REST emulator on 127.0.0.1 until Ctrl-C.",
    )
    jira.add_argument("--seed", type=Path, help="YAML or JSON seed file (see config/demo)")
    jira.add_argument(
        "--mode",
        choices=("cloud", "datacenter"),
        default="cloud",
        help="Cloud (basic email:token, /search/jql) or Data Center (Bearer PAT, /search)",
    )
    jira.add_argument(
        "--port", type=int, default=0, help="TCP port on 127.0.0.1 (default 0: the OS picks one)"
    )
    jira.add_argument(
        "--email", default=DEFAULT_EMAIL, help=f"Cloud login email (default {DEFAULT_EMAIL})"
    )
    jira.add_argument(
        "--token",
        default=DEFAULT_TOKEN,
        help=f"API token (Cloud) or PAT (Data Center) to accept (default {DEFAULT_TOKEN!r})",
    )
    jira.set_defaults(func=run_jira)


def run_jira(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM; exit code 0, or 2 when the seed or port is unusable."""
    return until_signalled(
        lambda stop: serve_jira(args, stop, on_ready=lambda line: print(line, flush=True))
    )


def serve_jira(
    args: argparse.Namespace, stop: threading.Event, on_ready: Callable[[str], None]
) -> int:
    """Start the emulator from ``args``, report its base URL, and serve until ``stop`` is set."""
    from connectors.emulators.jira import JiraEmulator
    from syncer.core.redaction import register_secret

    register_secret(args.token, users=(args.email,))  # a credential like any other
    emulator = JiraEmulator(mode=args.mode, email=args.email, token=args.token, port=args.port)
    if args.seed is not None:
        try:
            keys = emulator.load_seed(args.seed)
        except (OSError, yaml.YAMLError, KeyError, ValueError, TypeError) as error:
            print(f"pmsync emulate jira: cannot load seed {args.seed}: {error}", file=sys.stderr)
            return 2
    else:
        keys = []
    try:
        emulator.start()
    except OSError as error:
        print(f"pmsync emulate jira: cannot listen on port {args.port}: {error}", file=sys.stderr)
        return 2
    try:
        on_ready(emulator.base_url)
        auth = f"email {args.email}" if args.mode == "cloud" else "a Bearer PAT"
        print(
            f"Jira {args.mode} emulator: {len(keys)} issues seeded; authenticate with {auth}.",
            file=sys.stderr,
            flush=True,
        )
        while not stop.wait(0.5):
            pass
    finally:
        emulator.stop()
    return 0
