"""``pmsync emulate github --seed FILE``: serve the GitHub emulator until Ctrl-C or SIGTERM.

Why this module exists: a new user (and ``make demo``) can point pmsync, PyGithub or ``curl`` at a
seeded fake GitHub without a token or network access. The lead wires :func:`register` into
``syncer/cli/main.py``; other emulators can add their own ``emulate <tracker>`` entry here.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import yaml

from syncer.core.signal_relay import SignalRelay

DEFAULT_TOKEN = "t0ken"  # noqa: S105 - the fake credential the local emulator accepts


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``emulate github`` to the pmsync command line."""
    emulate = subparsers.add_parser(
        "emulate", help="serve a local tracker emulator (no token, no network)"
    )
    trackers = emulate.add_subparsers(dest="tracker", required=True, metavar="TRACKER")
    github = trackers.add_parser(
        "github",
        help="a stateful GitHub REST emulator on 127.0.0.1",
        description="Serve a seeded GitHub REST emulator on 127.0.0.1 until Ctrl-C.",
    )
    github.add_argument("--seed", type=Path, help="YAML or JSON seed file (repos, users, issues)")
    github.add_argument(
        "--port", type=int, default=0, help="TCP port on 127.0.0.1 (default 0: the OS picks one)"
    )
    github.add_argument(
        "--token",
        default=DEFAULT_TOKEN,
        help=f"the token clients must send (default {DEFAULT_TOKEN!r})",
    )
    github.set_defaults(func=run_github)


def until_signalled(serve: Callable[[threading.Event], int]) -> int:
    """Run ``serve(stop)`` with SIGINT and SIGTERM setting ``stop``; restore the handlers.

    Both signals only set the event, and on the relay's thread (``syncer.core.signal_relay``): a
    KeyboardInterrupt raised inside Event.wait() can leave the event's lock broken ("release
    unlocked lock"), and a handler setting the event in the main thread can deadlock on it.
    """
    stop = threading.Event()
    with SignalRelay((signal.SIGINT, signal.SIGTERM), lambda _signum: stop.set()):
        return serve(stop)


def run_github(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM; exit code 0, or 2 when the seed or port is unusable."""
    return until_signalled(
        lambda stop: serve_github(args, stop, on_ready=lambda url: print(url, flush=True))
    )


def serve_github(
    args: argparse.Namespace, stop: threading.Event, on_ready: Callable[[str], None]
) -> int:
    """Start the emulator from ``args``, report its base URL, and serve until ``stop`` is set."""
    from connectors.emulators.github import GitHubEmulator
    from connectors.emulators.github_seed import SeedError
    from syncer.core.redaction import register_secret

    register_secret(args.token)  # the token it accepts is a credential like any other
    emulator = GitHubEmulator(token=args.token)
    try:
        emulator.start(port=args.port)
    except OSError as error:
        print(f"pmsync emulate github: cannot listen on port {args.port}: {error}", file=sys.stderr)
        return 2
    if args.seed is not None:  # after start: seed links use the emulator's own address
        try:
            emulator.load_seed(args.seed)
        except (OSError, SeedError, yaml.YAMLError, KeyError, ValueError, TypeError) as error:
            print(f"pmsync emulate github: cannot load seed {args.seed}: {error}", file=sys.stderr)
            emulator.stop()
            return 2
    try:
        on_ready(emulator.base_url)
        print(
            f"pmsync emulate github: serving at {emulator.base_url} "
            "(send the token in an 'Authorization: token ...' header); Ctrl-C stops it",
            file=sys.stderr,
            flush=True,
        )
        while not stop.wait(0.5):
            pass
    finally:
        emulator.stop()
    return 0
