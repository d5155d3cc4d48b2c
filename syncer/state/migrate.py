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

Alembic narrates every step at INFO ("setup plugin ...", "Context impl SQLiteImpl.", "Will
assume non-transactional DDL."): a dozen lines before every command's first useful one. Its
logger is held at WARNING while it works (alembic itself is imported there too, since the
plugin lines are logged on import), unless logging is at DEBUG; in exchange, a migration that
actually applies revisions says so in one line of our own, with the revisions from and to.

For developers: ``python -m syncer.state.migrations revision "what changed"`` writes the next
numbered revision by comparing ``schema.py`` with a scratch database at head (review it).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

if TYPE_CHECKING:
    from alembic.config import Config

log = structlog.get_logger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

MIGRATION_LOCK_KEY = 0x706D73796E63
"""``pg_advisory_xact_lock`` key taken while migrating ("pmsync" in ASCII)."""


class SchemaTooNewError(RuntimeError):
    """The database was migrated by a newer pmsync than this one."""


@contextmanager
def quiet_alembic() -> Iterator[None]:
    """Alembic's INFO narration is dropped in the block, unless logging is at DEBUG."""
    alembic_log = logging.getLogger("alembic")
    if alembic_log.isEnabledFor(logging.DEBUG):
        yield
        return
    previous = alembic_log.level
    alembic_log.setLevel(logging.WARNING)
    try:
        yield
    finally:
        alembic_log.setLevel(previous)


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration pointing at our revisions, bound to ``connection`` if given."""
    with quiet_alembic():
        from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision this code knows."""
    with quiet_alembic():
        from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no Alembic revisions under {MIGRATIONS}")
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with quiet_alembic():
        from alembic.runtime.migration import MigrationContext

        return MigrationContext.configure(connection).get_current_revision()


def upgrade_to_head(engine: Engine) -> str:
    """Apply every missing revision in one locked transaction; returns the revision reached."""
    with quiet_alembic():
        from alembic import command
        from alembic.script import ScriptDirectory

        script = ScriptDirectory.from_config(alembic_config())
        head = head_revision()
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
                )
            current = current_revision(connection)
            if current is not None and current not in {s.revision for s in script.walk_revisions()}:
                raise SchemaTooNewError(
                    f"the state database is at schema revision {current}, which this pmsync "
                    f"does not know (its newest is {head}): run a newer pmsync, or point it at "
                    "a fresh state database"
                )
            if current != head:
                command.upgrade(alembic_config(connection), "head")
    if current != head:
        log.info(
            "state schema migrated",
            from_revision=current or "empty",
            to_revision=head,
            database=engine.url.render_as_string(hide_password=True),
        )
    return head
