"""Bring a state database to the schema this version of pmsync expects, with Alembic.

``StateStore.open`` calls :func:`upgrade_to_head` every time: on a new file it creates the
tables, on a current one it does nothing, on an older one it applies the missing revisions in
order. Alembic is configured here in code (no ``alembic.ini`` at run time); the revisions live
in ``migrations/versions``.

Several replicas may start at once against one PostgreSQL database, so the upgrade runs in one
transaction holding ``pg_advisory_xact_lock``: the second replica waits, then finds the schema
current. PostgreSQL's DDL is transactional, so a failed upgrade leaves nothing half-done. On
SQLite the store begins every transaction with ``BEGIN IMMEDIATE``, which serialises it too.

A database already at a revision this code does not know (a newer pmsync migrated it) is
refused with :class:`SchemaTooNewError` rather than guessed at.

For developers: ``python -m syncer.state.migrations revision "what changed"`` writes the next
numbered revision by comparing ``schema.py`` with a scratch database at head (review it).
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

MIGRATION_LOCK_KEY = 0x706D73796E63
"""``pg_advisory_xact_lock`` key taken while migrating ("pmsync" in ASCII)."""


class SchemaTooNewError(RuntimeError):
    """The database was migrated by a newer pmsync than this one."""


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration pointing at our revisions, bound to ``connection`` if given."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision this code knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no Alembic revisions under {MIGRATIONS}")
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at, or None for an empty database."""
    return MigrationContext.configure(connection).get_current_revision()


def upgrade_to_head(engine: Engine) -> str:
    """Apply every missing revision in one locked transaction; returns the revision reached."""
    script = ScriptDirectory.from_config(alembic_config())
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
            )
        current = current_revision(connection)
        if current is not None and current not in {s.revision for s in script.walk_revisions()}:
            raise SchemaTooNewError(
                f"the state database is at schema revision {current}, which this pmsync does "
                f"not know (its newest is {script.get_current_head()}): run a newer pmsync, or "
                "point it at a fresh state database"
            )
        command.upgrade(alembic_config(connection), "head")
    return head_revision()
