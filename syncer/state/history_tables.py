"""The store's history: the append-only decision ledger and the daily counts for trends.

Unlike the caches (:mod:`syncer.state.cache_tables`) this is not found again in the trackers:
it explains why each write and closure decision was made, so entries are redacted and checked
as JSON before anything is written, and a decision recorded twice is kept once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.dialects import postgresql, sqlite

from syncer.core.ledger import LedgerEntry, redacted
from syncer.state.engine import StoreCore, dumps_json
from syncer.state.schema import DailyCount, LedgerRow


class HistoryTables(StoreCore):
    """Implements ``syncer.core.ledger.Ledger`` and the daily counts the weekly review reads."""

    # Decision ledger -----------------------------------------------------------------------

    def record(self, entries: Sequence[LedgerEntry]) -> None:
        """Append ``entries`` in one transaction and one bulk insert: all of them or none.

        Inputs are stored as JSON: dates and datetimes become ISO strings, enums their value,
        sets sorted lists. Inputs that cannot be serialised are refused before anything is
        written; a naive ``at`` is refused too. Every text, ``detail`` and ``inputs`` included,
        is redacted first (``syncer.core.ledger.redacted``): no secret reaches the database.
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


def _json_inputs(entry: LedgerEntry) -> dict[str, Any]:
    """The entry's inputs as plain JSON values (dates become ISO strings, sets sorted lists)."""
    try:
        normalised: dict[str, Any] = json.loads(dumps_json(entry.inputs))
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"ledger entry {entry.kind} on {entry.tracker}:{entry.item_key}: inputs are not "
            f"JSON serialisable ({exc})"
        ) from exc
    return normalised


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
