"""Connecting to the state store: engines for SQLite and PostgreSQL, and the transaction.

How a connection is set up decides whether concurrent processes queue or fail: SQLite gets the
WAL journal, a busy timeout and ``BEGIN IMMEDIATE`` (a deferred transaction that read first
fails at once when another writer got in between); PostgreSQL gets psycopg 3 without
server-side prepared statements (they break behind transaction poolers) and a connect timeout.
:class:`StoreCore` owns the engine and the one way to open a transaction, which each group of
tables (``cache_tables``, ``history_tables``, ``store``) builds on.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any, Self

from sqlalchemy import Engine, create_engine, event, func, select
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection, DBAPICursor
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from syncer.core.errors import ConfigError
from syncer.core.extras import POSTGRES, require

DEFAULT_URL = "sqlite:///.pmsync-state.db"
"""Where the store lives when neither a URL nor a path is given: a file in the working dir."""

DEFAULT_BUSY_TIMEOUT_MS = 10_000
"""How long (milliseconds) a SQLite writer waits for another one before giving up."""

CONNECT_TIMEOUT_S = 10
"""Seconds to wait for a PostgreSQL connection unless the URL sets ``connect_timeout``."""


def _json_default(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps_json(value: object) -> str:
    """Compact, key-sorted JSON: dates as ISO strings, enums as values, sets sorted."""
    return json.dumps(value, default=_json_default, sort_keys=True, separators=(",", ":"))


def normalise_url(url: str) -> URL:
    """``url`` parsed, ``postgresql://`` given the psycopg 3 driver; other databases refused."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if backend not in {"sqlite", "postgresql"}:
        raise ConfigError(
            [
                f"state store URL: unsupported database {backend!r} "
                "(hint: sqlite:///PATH or postgresql+psycopg://USER@HOST:PORT/DB)"
            ]
        )
    return parsed


class StoreCore:
    """The engine, its sessions and the database clock, shared by every group of tables."""

    def __init__(self, engine: Engine) -> None:
        """Wrap an engine whose schema is already at head; prefer ``StateStore.open``."""
        self._engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, for the lease and for diagnostics."""
        return self._engine

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self._engine.dialect.name

    def close(self) -> None:
        """Close every pooled connection; the store is unusable afterwards."""
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        with self._sessions.begin() as session:
            yield session

    def database_now(self, connection: Connection | Session | None = None) -> datetime:
        """The database server's clock, in UTC (PostgreSQL ``clock_timestamp()``).

        SQLite runs in this process, so its clock is this host's; PostgreSQL's is the one
        clock every replica shares, which is what the leader lease compares expiries against.
        """
        if connection is None:
            with self.transaction() as session:
                return self.database_now(session)
        if self.dialect == "postgresql":
            value = connection.execute(select(func.clock_timestamp())).scalar_one()
            if not isinstance(value, datetime):
                raise TypeError(f"clock_timestamp() returned {type(value).__name__}")
            return value.astimezone(UTC)
        text = connection.execute(select(func.strftime("%Y-%m-%d %H:%M:%f", "now"))).scalar_one()
        return datetime.fromisoformat(str(text)).replace(tzinfo=UTC)


def chunks(values: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    """``values`` in runs of ``size``: an ``IN (...)`` list stays under the database's limit
    on bound parameters."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _switch_to_wal(cursor: DBAPICursor, busy_timeout_ms: int) -> None:
    """Put the file in WAL mode (a lasting property of the file, so usually already done).

    Switching needs an exclusive lock, and SQLite answers "database is locked" at once, without
    waiting out the busy timeout, when another process opening the same new file holds it: so
    retry every 10 ms for up to the busy timeout.
    """
    attempts = max(1, busy_timeout_ms // 10)
    for attempt in range(attempts):
        try:
            cursor.execute("PRAGMA journal_mode")
            row = cursor.fetchone()
            if row is not None and str(row[0]).lower() in {"wal", "memory"}:
                return
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            busy = getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY
            if not busy or attempt == attempts - 1:
                raise
            time.sleep(0.01)


def _create_postgres_engine(url: URL) -> Engine:
    """A PostgreSQL engine; a missing driver is a ``ConfigError`` (the URL is not shown: it
    may carry a password)."""
    driver = url.get_driver_name()
    if driver == "psycopg":
        require(POSTGRES, "a PostgreSQL state store (PMSYNC_STATE_URL or --state)")
    connect_args: dict[str, Any] = {}
    if "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = CONNECT_TIMEOUT_S
    if "prepare_threshold" not in url.query:
        # No server-side prepared statements: they break behind transaction poolers.
        connect_args["prepare_threshold"] = None
    try:
        return create_engine(
            url, pool_pre_ping=True, json_serializer=dumps_json, connect_args=connect_args
        )
    except ImportError:
        raise ConfigError(
            [
                f"state store URL: the {driver} driver is not installed (hint: "
                f"postgresql+psycopg://USER@HOST:PORT/DB with {POSTGRES.install})"
            ]
        ) from None


def create_state_engine(url: URL, busy_timeout_ms: int) -> Engine:
    if url.get_backend_name() == "postgresql":
        return _create_postgres_engine(url)
    engine = create_engine(url, json_serializer=dumps_json)

    @event.listens_for(engine, "connect")
    def _configure_sqlite(dbapi_connection: DBAPIConnection, _: ConnectionPoolEntry) -> None:
        # pysqlite's own transaction handling defers BEGIN; we issue our own (below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        _switch_to_wal(cursor, busy_timeout_ms)
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection: Connection) -> None:
        # Take the write lock up front: a deferred transaction that read first and then
        # writes fails at once with SQLITE_BUSY when another writer got in between.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
