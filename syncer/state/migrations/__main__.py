"""Developer commands for the state schema: the newest revision, or a new one from schema.py.

``python -m syncer.state.migrations head`` prints the newest revision;
``python -m syncer.state.migrations revision "add escalation snapshot"`` upgrades a scratch
SQLite database to head, compares it with ``syncer/state/schema.py`` and writes the differences
as the next numbered revision (0002, 0003...) for review. Nothing here runs in production.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine

from syncer.state.migrate import alembic_config, head_revision, upgrade_to_head


def write_revision(message: str) -> None:
    """Autogenerate the next revision against a scratch database at head."""
    next_id = f"{int(head_revision()) + 1:04d}"
    with tempfile.TemporaryDirectory() as scratch:
        engine = create_engine(f"sqlite:///{Path(scratch) / 'head.db'}")
        try:
            upgrade_to_head(engine)
            with engine.begin() as connection:
                command.revision(
                    alembic_config(connection), message=message, autogenerate=True, rev_id=next_id
                )
        finally:
            engine.dispose()


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m syncer.state.migrations``."""
    parser = argparse.ArgumentParser(prog="python -m syncer.state.migrations")
    sub = parser.add_subparsers(dest="command", required=True)
    revision = sub.add_parser("revision", help="write the next revision from schema.py changes")
    revision.add_argument("message", help="what the revision changes, in a few words")
    sub.add_parser("head", help="print the newest revision")
    args = parser.parse_args(argv)
    if args.command == "revision":
        write_revision(args.message)
    else:
        sys.stdout.write(head_revision() + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
