"""The state store: what pmsync must remember that the trackers cannot hold for it.

The trackers are the truth (labels and hidden comment markers make every write idempotent),
so this store keeps only a cache and a history: sync cursors and ETags per source with the
view cache they stand for (the mapped items of each source's last answers, so a 304 means
something to any process), the append-only decision ledger that explains every write and
closure decision, daily counts for trends, a cache of markers known to be posted, the leader
lease of the replicas, the writes of the last hour per tracker host (rate-limit windows every
process shares), and the queue of webhook deliveries. Deleting it costs one full fetch and one
marker check per item; it never causes a lost escalation or a duplicate write.

One SQLite file by default (WAL journal, busy timeout, every transaction ``BEGIN IMMEDIATE`` so
concurrent writers queue instead of failing with a stale snapshot); PostgreSQL by URL when
several replicas share it (psycopg 3, the ``postgres`` extra: a PostgreSQL URL without it is
a one-line error naming the pip command). The schema is versioned with Alembic and brought to
head on :meth:`StateStore.open`.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from pathlib import Path
from typing import Any, Self

from sqlalchemy import Engine, create_engine, delete, event, func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection, DBAPICursor
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from syncer.cursors import Cursor
from syncer.deliveries import Delivery, Target
from syncer.directory import AccountStatus
from syncer.errors import ConfigError
from syncer.extras import POSTGRES, require
from syncer.ledger import LedgerEntry, redacted
from syncer.state.migrate import upgrade_to_head
from syncer.state.schema import (
    DailyCount,
    KnownMarker,
    LedgerRow,
    SyncCursor,
    UserLookup,
    ViewEntryRow,
    WebhookDeliveryRow,
    WriteWindowRow,
)
from syncer.write_windows import Reservation, WindowLimit, decide

DEFAULT_URL = "sqlite:///.pmsync-state.db"
"""Where the store lives when neither a URL nor a path is given: a file in the working dir."""

DEFAULT_BUSY_TIMEOUT_MS = 10_000
"""How long (milliseconds) a SQLite writer waits for another one before giving up."""

CONNECT_TIMEOUT_S = 10
"""Seconds to wait for a PostgreSQL connection unless the URL sets ``connect_timeout``."""

WRITE_WINDOW_LOCK = 0x706D7777
"""First key of the ``pg_advisory_xact_lock`` that serialises one host's reservations."""


def _json_default(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _dumps(value: object) -> str:
    return json.dumps(value, default=_json_default, sort_keys=True, separators=(",", ":"))


def _json_inputs(entry: LedgerEntry) -> dict[str, Any]:
    """The entry's inputs as plain JSON values (dates become ISO strings, sets sorted lists)."""
    try:
        normalised: dict[str, Any] = json.loads(_dumps(entry.inputs))
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"ledger entry {entry.kind} on {entry.tracker}:{entry.item_key}: inputs are not "
            f"JSON serialisable ({exc})"
        ) from exc
    return normalised


def _normalise_url(url: str) -> URL:
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


class StateStore:
    """Cursors and views, ledger, daily counts, known markers, owner lookups, the lease, write
    windows and the webhook delivery queue.

    Implements ``syncer.cursors.CursorStore``, ``syncer.ledger.Ledger``,
    ``syncer.directory.LookupCache`` and ``syncer.write_windows.WriteWindows``. Open it with
    :meth:`open`; close it (or use it as a context manager) to release its connections.
    """

    def __init__(self, engine: Engine) -> None:
        """Wrap an engine whose schema is already at head; prefer :meth:`open`."""
        self._engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(
        cls,
        url: str | None = None,
        path: Path | None = None,
        *,
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
    ) -> StateStore:
        """Open (creating and migrating if needed) the store at ``url`` or the SQLite ``path``.

        With neither, ``sqlite:///.pmsync-state.db`` in the working directory. A PostgreSQL
        URL without a driver (``postgresql://``) uses psycopg 3; a ``search_path`` in the URL
        (``?options=-csearch_path%3Dpmsync``) puts the tables in that schema.
        """
        if url is not None and path is not None:
            raise ValueError("give the state store a URL or a path, not both")
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            parsed = URL.create("sqlite", database=str(path))
        else:
            parsed = _normalise_url(url or DEFAULT_URL)
        engine = _create_engine(parsed, busy_timeout_ms)
        try:
            upgrade_to_head(engine)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine)

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

    def __repr__(self) -> str:
        return f"StateStore({self._engine.url.render_as_string(hide_password=True)!r})"

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

    # Cursors -------------------------------------------------------------------------------

    def get_cursor(self, source: str) -> Cursor | None:
        """The saved cursor of ``source``, or None if it was never saved (a full fetch)."""
        with self.transaction() as session:
            row = session.get(SyncCursor, source)
            if row is None:
                return None
            return Cursor(
                since=row.since, etag=row.etag, full_sync_at=row.full_sync_at, view=row.view
            )

    def put_cursor(self, source: str, cursor: Cursor) -> None:
        """Save ``cursor`` as the position of ``source``, replacing what was there."""
        with self.transaction() as session:
            self._put_cursor(session, source, cursor)

    def _put_cursor(self, session: Session, source: str, cursor: Cursor) -> None:
        values = {
            "source": source,
            "since": cursor.since,
            "etag": cursor.etag,
            "full_sync_at": cursor.full_sync_at,
            "view": cursor.view,
        }
        changed = ("since", "etag", "full_sync_at", "view")
        if self.dialect == "postgresql":
            pg = postgresql.insert(SyncCursor).values(values)
            session.execute(
                pg.on_conflict_do_update(
                    index_elements=[SyncCursor.source],
                    set_={name: pg.excluded[name] for name in changed},
                )
            )
        else:
            lite = sqlite.insert(SyncCursor).values(values)
            session.execute(
                lite.on_conflict_do_update(
                    index_elements=[SyncCursor.source],
                    set_={name: lite.excluded[name] for name in changed},
                )
            )

    # View cache ----------------------------------------------------------------------------

    def load_view(self, source: str) -> dict[str, str]:
        """The cached entries of ``source``: item key -> JSON text (``syncer.cursors``)."""
        query = select(ViewEntryRow.item_key, ViewEntryRow.entry).where(
            ViewEntryRow.source == source
        )
        with self.transaction() as session:
            return {str(key): str(entry) for key, entry in session.execute(query)}

    def save_view(
        self,
        source: str,
        cursor: Cursor,
        changed: Mapping[str, str],
        removed: Collection[str] = (),
        *,
        replace: bool = False,
    ) -> None:
        """Save ``cursor`` and the view it describes in one transaction (see ``CursorStore``).

        Either both are saved or neither, so a cursor never vouches (by its ETag) for a view
        the store does not hold.
        """
        rows = [
            {"source": source, "item_key": key, "entry": entry}
            for key, entry in sorted(changed.items())
        ]
        with self.transaction() as session:
            if replace:
                session.execute(delete(ViewEntryRow).where(ViewEntryRow.source == source))
            elif removed or rows:
                gone = set(removed) | set(changed)
                for chunk in _chunks(sorted(gone), 500):
                    session.execute(
                        delete(ViewEntryRow).where(
                            ViewEntryRow.source == source, ViewEntryRow.item_key.in_(chunk)
                        )
                    )
            if rows:
                session.execute(insert(ViewEntryRow), rows)
            self._put_cursor(session, source, cursor)

    def view_sizes(self) -> dict[str, tuple[int, int]]:
        """Per source: (entries, bytes of their JSON text), to say what the cache costs."""
        query = select(
            ViewEntryRow.source, func.count(), func.sum(func.length(ViewEntryRow.entry))
        ).group_by(ViewEntryRow.source)
        with self.transaction() as session:
            return {src: (int(n), int(size or 0)) for src, n, size in session.execute(query)}

    # Webhook deliveries ----------------------------------------------------------------------

    def queue_delivery(self, delivery: Delivery) -> bool:
        """Queue ``delivery`` for the leader; False when its id is known (a replay).

        One insert that does nothing on a known id, so two replicas receiving the same
        delivery at once queue it once.
        """
        row = {
            "delivery_id": delivery.delivery_id,
            "source": delivery.source,
            "event": delivery.event[:255],
            "targets": [t.to_json() for t in delivery.targets],
            "received_at": delivery.received_at,
            "done_at": None,
        }
        with self.transaction() as session:
            if self.dialect == "postgresql":
                statement: Any = postgresql.insert(WebhookDeliveryRow).on_conflict_do_nothing()
            else:
                statement = sqlite.insert(WebhookDeliveryRow).on_conflict_do_nothing()
            result = session.execute(statement.values(row))
            return bool(getattr(result, "rowcount", 0) == 1)

    def pending_deliveries(self, limit: int) -> list[Delivery]:
        """Up to ``limit`` deliveries not handled yet, oldest first."""
        query = (
            select(WebhookDeliveryRow)
            .where(WebhookDeliveryRow.done_at.is_(None))
            .order_by(WebhookDeliveryRow.received_at, WebhookDeliveryRow.delivery_id)
            .limit(limit)
        )
        with self.transaction() as session:
            return [
                Delivery(
                    delivery_id=row.delivery_id,
                    source=row.source,
                    event=row.event,
                    targets=tuple(Target.from_json(t) for t in row.targets if isinstance(t, dict)),
                    received_at=row.received_at,
                )
                for row in session.scalars(query)
            ]

    def finish_deliveries(self, ids: Collection[str], at: datetime) -> None:
        """Mark deliveries handled; their ids stay, so a replay still does nothing."""
        with self.transaction() as session:
            for chunk in _chunks(sorted(set(ids)), 500):
                session.execute(
                    update(WebhookDeliveryRow)
                    .where(WebhookDeliveryRow.delivery_id.in_(chunk))
                    .values(done_at=at)
                )

    def forget_deliveries(self, before: datetime) -> int:
        """Drop deliveries received before ``before`` (handled or not); how many went."""
        with self.transaction() as session:
            result = session.execute(
                delete(WebhookDeliveryRow).where(WebhookDeliveryRow.received_at < before)
            )
            return int(getattr(result, "rowcount", 0) or 0)

    # Decision ledger -----------------------------------------------------------------------

    def record(self, entries: Sequence[LedgerEntry]) -> None:
        """Append ``entries`` in one transaction and one bulk insert: all of them or none.

        Inputs are stored as JSON: dates and datetimes become ISO strings, enums their value,
        sets sorted lists. Inputs that cannot be serialised are refused before anything is
        written; a naive ``at`` is refused too. Every text, ``detail`` and ``inputs`` included,
        is redacted first (``syncer.ledger.redacted``): no secret reaches the database.
        """
        if not entries:
            return
        entries = [redacted(entry) for entry in entries]
        rows = [
            {
                "at": entry.at,
                "cycle_id": entry.cycle_id,
                "tracker": entry.tracker,
                "item_key": entry.item_key,
                "kind": entry.kind,
                "rule": entry.rule,
                "policy_version": entry.policy_version,
                "outcome": entry.outcome,
                "inputs": _json_inputs(entry),
                "detail": entry.detail,
                "dedupe_key": entry.dedupe_key,
            }
            for entry in entries
        ]
        keys = [e.dedupe_key for e in entries if e.dedupe_key is not None]
        with self.transaction() as session:
            if keys:
                # A decision already recorded (same dedupe key) is not recorded again.
                seen = set(
                    session.scalars(
                        select(LedgerRow.dedupe_key).where(LedgerRow.dedupe_key.in_(set(keys)))
                    )
                )
                fresh: list[dict[str, Any]] = []
                for row, entry in zip(rows, entries, strict=True):
                    key = entry.dedupe_key
                    if key is not None and key in seen:
                        continue
                    if key is not None:
                        seen.add(key)
                    fresh.append(row)
                rows = fresh
            if rows:
                session.execute(insert(LedgerRow), rows)

    def entries_between(self, start: datetime, end: datetime) -> list[LedgerEntry]:
        """Entries with ``start <= at < end``, oldest first (insertion order among equals)."""
        query = (
            select(LedgerRow)
            .where(LedgerRow.at >= start, LedgerRow.at < end)
            .order_by(LedgerRow.at, LedgerRow.id)
        )
        with self.transaction() as session:
            return [_entry(row) for row in session.scalars(query)]

    def explain(self, tracker: str, item_key: str) -> list[LedgerEntry]:
        """Every entry about one item, oldest first: why it was escalated, reopened, left."""
        query = (
            select(LedgerRow)
            .where(LedgerRow.tracker == tracker, LedgerRow.item_key == item_key)
            .order_by(LedgerRow.at, LedgerRow.id)
        )
        with self.transaction() as session:
            return [_entry(row) for row in session.scalars(query)]

    # Daily counts --------------------------------------------------------------------------

    def record_daily_counts(self, day: date, counts: Mapping[str, int]) -> None:
        """Set each metric's value for ``day``, replacing a value recorded earlier that day."""
        if not counts:
            return
        rows = [{"day": day, "metric": m, "value": int(v)} for m, v in counts.items()]
        with self.transaction() as session:
            if self.dialect == "postgresql":
                pg = postgresql.insert(DailyCount)
                session.execute(
                    pg.on_conflict_do_update(
                        index_elements=[DailyCount.day, DailyCount.metric],
                        set_={"value": pg.excluded.value},
                    ),
                    rows,
                )
            else:
                lite = sqlite.insert(DailyCount)
                session.execute(
                    lite.on_conflict_do_update(
                        index_elements=[DailyCount.day, DailyCount.metric],
                        set_={"value": lite.excluded.value},
                    ),
                    rows,
                )

    def daily_counts(self, start: date, end: date) -> dict[date, dict[str, int]]:
        """Counts of the days from ``start`` to ``end``, both included, in day order.

        Days with nothing recorded are absent rather than zero: "not measured" is not "none".
        """
        query = (
            select(DailyCount)
            .where(DailyCount.day >= start, DailyCount.day <= end)
            .order_by(DailyCount.day, DailyCount.metric)
        )
        result: dict[date, dict[str, int]] = {}
        with self.transaction() as session:
            for row in session.scalars(query):
                result.setdefault(row.day, {})[row.metric] = row.value
        return result

    # Known markers -------------------------------------------------------------------------

    def known_markers(self, tracker: str) -> set[tuple[str, str]]:
        """``(item_key, marker)`` pairs of ``tracker`` known to be posted (a cache only)."""
        query = select(KnownMarker.item_key, KnownMarker.marker).where(
            KnownMarker.tracker == tracker
        )
        with self.transaction() as session:
            return {(key, marker) for key, marker in session.execute(query)}

    def count_markers(self, tracker: str) -> int:
        """How many markers of ``tracker`` are known: markers are only ever added, so an
        unchanged count is an unchanged set (one cheap query instead of reading them all)."""
        query = select(func.count()).select_from(KnownMarker).where(KnownMarker.tracker == tracker)
        with self.transaction() as session:
            return int(session.scalar(query) or 0)

    def remember_markers(self, tracker: str, pairs: Iterable[tuple[str, str]]) -> None:
        """Remember that these ``(item_key, marker)`` comments are posted on ``tracker``."""
        rows = [
            {"tracker": tracker, "item_key": key, "marker": marker}
            for key, marker in sorted(set(pairs))
        ]
        if not rows:
            return
        with self.transaction() as session:
            if self.dialect == "postgresql":
                session.execute(postgresql.insert(KnownMarker).on_conflict_do_nothing(), rows)
            else:
                session.execute(sqlite.insert(KnownMarker).on_conflict_do_nothing(), rows)

    # Owner-account lookups ------------------------------------------------------------------

    def user_lookups(
        self, tracker: str, handles: Iterable[str], day: date
    ) -> dict[str, AccountStatus]:
        """Answers recorded on ``day`` for these handles, by case-folded handle."""
        wanted = sorted({h.casefold() for h in handles})
        if not wanted:
            return {}
        query = select(UserLookup).where(
            UserLookup.tracker == tracker,
            UserLookup.checked_on == day,
            UserLookup.handle.in_(wanted),
        )
        with self.transaction() as session:
            return {
                row.handle: AccountStatus(active=row.active, detail=row.detail)
                for row in session.scalars(query)
            }

    def remember_user_lookups(
        self, tracker: str, found: Mapping[str, AccountStatus], day: date, at: datetime
    ) -> None:
        """Record the answers given on ``day``, replacing any older answer per handle."""
        rows = [
            {
                "tracker": tracker,
                "handle": handle.casefold(),
                "active": status.active,
                "detail": status.detail,
                "checked_on": day,
                "checked_at": at,
            }
            for handle, status in sorted(found.items())
        ]
        if not rows:
            return
        changed = ("active", "detail", "checked_on", "checked_at")
        keys = [UserLookup.tracker, UserLookup.handle]
        with self.transaction() as session:
            if self.dialect == "postgresql":
                pg = postgresql.insert(UserLookup)
                set_pg = {name: pg.excluded[name] for name in changed}
                session.execute(pg.on_conflict_do_update(index_elements=keys, set_=set_pg), rows)
            else:
                lite = sqlite.insert(UserLookup)
                set_lite = {name: lite.excluded[name] for name in changed}
                session.execute(
                    lite.on_conflict_do_update(index_elements=keys, set_=set_lite), rows
                )

    # Write windows -------------------------------------------------------------------------

    def reserve_write(self, host: str, now: datetime, limits: Sequence[WindowLimit]) -> Reservation:
        """Reserve one write to ``host`` at ``now`` if every window has room (see
        ``syncer.write_windows``), for every process sharing this store.

        One transaction: lock the host (PostgreSQL: a transaction advisory lock on the host's
        hash, which works behind poolers; SQLite: the ``BEGIN IMMEDIATE`` write lock), read
        its writes within the longest window, insert the new one when granted, and delete the
        host's rows too old to matter.
        """
        longest = max((limit.span for limit in limits), default=timedelta(0))
        with self.transaction() as session:
            if self.dialect == "postgresql":
                session.execute(
                    text("SELECT pg_advisory_xact_lock(:space, hashtext(:host))"),
                    {"space": WRITE_WINDOW_LOCK, "host": host},
                )
            stamps = list(
                session.scalars(
                    select(WriteWindowRow.at).where(
                        WriteWindowRow.host == host, WriteWindowRow.at > now - longest
                    )
                )
            )
            verdict = decide(stamps, now, limits)
            if verdict.granted:
                session.execute(insert(WriteWindowRow).values(host=host, at=now))
            session.execute(
                delete(WriteWindowRow).where(
                    WriteWindowRow.host == host, WriteWindowRow.at <= now - longest
                )
            )
        return verdict


def _chunks(values: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _entry(row: LedgerRow) -> LedgerEntry:
    return LedgerEntry(
        at=row.at,
        cycle_id=row.cycle_id,
        tracker=row.tracker,
        item_key=row.item_key,
        kind=row.kind,
        rule=row.rule,
        policy_version=row.policy_version,
        outcome=row.outcome,
        inputs=dict(row.inputs),
        detail=row.detail,
        dedupe_key=row.dedupe_key,
    )


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
            url, pool_pre_ping=True, json_serializer=_dumps, connect_args=connect_args
        )
    except ImportError:
        raise ConfigError(
            [
                f"state store URL: the {driver} driver is not installed (hint: "
                f"postgresql+psycopg://USER@HOST:PORT/DB with {POSTGRES.install})"
            ]
        ) from None


def _create_engine(url: URL, busy_timeout_ms: int) -> Engine:
    if url.get_backend_name() == "postgresql":
        return _create_postgres_engine(url)
    engine = create_engine(url, json_serializer=_dumps)

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
