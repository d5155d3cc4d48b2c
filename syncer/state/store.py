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

This module opens the store and holds the parts every process shares live (webhook
deliveries, write windows); connecting is :mod:`syncer.state.engine`, the caches
:mod:`syncer.state.cache_tables`, the ledger and daily counts :mod:`syncer.state.history_tables`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL

from syncer.core.deliveries import Delivery, Target
from syncer.core.write_windows import Reservation, WindowLimit, decide
from syncer.state.cache_tables import CacheTables
from syncer.state.engine import (
    DEFAULT_BUSY_TIMEOUT_MS,
    DEFAULT_URL,
    chunks,
    create_state_engine,
    normalise_url,
)
from syncer.state.history_tables import HistoryTables
from syncer.state.migrate import upgrade_to_head
from syncer.state.schema import WebhookDeliveryRow, WriteWindowRow

__all__ = ["DEFAULT_URL", "StateStore"]

WRITE_WINDOW_LOCK = 0x706D7777
"""First key of the ``pg_advisory_xact_lock`` that serialises one host's reservations."""


class StateStore(CacheTables, HistoryTables):
    """Cursors and views, ledger, daily counts, known markers, owner lookups, the lease, write
    windows and the webhook delivery queue.

    Implements ``syncer.core.cursors.CursorStore``, ``syncer.core.ledger.Ledger``,
    ``syncer.core.directory.LookupCache`` and ``syncer.core.write_windows.WriteWindows``.
    Open it with :meth:`open`; close it (or use it as a context manager) to release its
    connections.
    """

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
            parsed = normalise_url(url or DEFAULT_URL)
        engine = create_state_engine(parsed, busy_timeout_ms)
        try:
            upgrade_to_head(engine)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine)

    def __repr__(self) -> str:
        return f"StateStore({self._engine.url.render_as_string(hide_password=True)!r})"

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
            for chunk in chunks(sorted(set(ids)), 500):
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

    # Write windows -------------------------------------------------------------------------

    def reserve_write(self, host: str, now: datetime, limits: Sequence[WindowLimit]) -> Reservation:
        """Reserve one write to ``host`` at ``now`` if every window has room (see
        ``syncer.core.write_windows``), for every process sharing this store.

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
