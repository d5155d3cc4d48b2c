"""The state store keeps cursors, the ledger, daily counts and markers on SQLite and PostgreSQL."""

from __future__ import annotations

import enum
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from syncer.core.cursors import Cursor, CursorStore
from syncer.core.errors import ConfigError
from syncer.core.ledger import Ledger, LedgerEntry
from syncer.state import StateStore
from syncer.state.migrate import head_revision

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def entry(at: datetime = T0, item_key: str = "REL-1", **overrides: Any) -> LedgerEntry:
    """A ledger entry with plausible defaults."""
    fields: dict[str, Any] = {
        "at": at,
        "cycle_id": "cycle-1",
        "tracker": "jira",
        "item_key": item_key,
        "kind": "reopen",
        "rule": "closure.evidence",
        "policy_version": "sha256:abc",
        "outcome": "done",
        "inputs": {"evidence": [], "priority": "P0"},
        "detail": "closed without measurable evidence",
    }
    fields.update(overrides)
    return LedgerEntry(**fields)


@contextmanager
def counting_transactions(store: StateStore) -> Iterator[dict[str, int]]:
    """Count transactions begun and committed, and DBAPI calls made, inside the block."""
    counts = {"begin": 0, "commit": 0, "statements": 0}

    def on_begin(*_: object) -> None:
        counts["begin"] += 1

    def on_commit(*_: object) -> None:
        counts["commit"] += 1

    def on_execute(*_: object) -> None:
        counts["statements"] += 1

    event.listen(store.engine, "begin", on_begin)
    event.listen(store.engine, "commit", on_commit)
    event.listen(store.engine, "before_cursor_execute", on_execute)
    try:
        yield counts
    finally:
        event.remove(store.engine, "begin", on_begin)
        event.remove(store.engine, "commit", on_commit)
        event.remove(store.engine, "before_cursor_execute", on_execute)


class TestOpening:
    def test_without_url_or_path_it_opens_a_file_in_the_working_directory(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The default store is .pmsync-state.db where pmsync runs."""
        monkeypatch.chdir(tmp_path)
        with StateStore.open() as store:
            store.put_cursor("gh:acme/api", Cursor(etag='W/"1"'))
        assert (tmp_path / ".pmsync-state.db").is_file()

    def test_a_sqlite_file_is_in_wal_mode_with_a_busy_timeout(self, tmp_path: Path) -> None:
        """Every connection gets the WAL journal and the busy timeout asked for."""
        store = StateStore.open(path=tmp_path / "s.db", busy_timeout_ms=7_000)
        with store, store.engine.connect() as connection:
            mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar_one()
            timeout = connection.exec_driver_sql("PRAGMA busy_timeout").scalar_one()
        assert (mode, timeout) == ("wal", 7_000)

    def test_an_in_memory_store_works_for_one_shot_runs(self) -> None:
        """sqlite:// keeps everything in memory, migrated like a file."""
        with StateStore.open("sqlite://") as store:
            store.put_cursor("gh:acme/api", Cursor(etag="e"))
            assert store.get_cursor("gh:acme/api") == Cursor(etag="e")

    def test_a_path_in_a_missing_directory_is_created(self, tmp_path: Path) -> None:
        """Opening var/lib/pmsync/state.db creates the directories."""
        path = tmp_path / "var" / "lib" / "pmsync" / "state.db"
        with StateStore.open(path=path):
            pass
        assert path.is_file()

    def test_giving_both_a_url_and_a_path_is_refused(self, tmp_path: Path) -> None:
        """One store, one location."""
        with pytest.raises(ValueError, match="not both"):
            StateStore.open("sqlite:///x.db", path=tmp_path / "y.db")

    def test_an_unsupported_database_is_a_config_error_without_the_password(self) -> None:
        """A MySQL URL names the backend and the fix, and never the secret."""
        with pytest.raises(ConfigError) as caught:
            StateStore.open("mysql://u:hunter2@db/pmsync")
        assert "mysql" in str(caught.value)
        assert "hunter2" not in str(caught.value)

    def test_its_repr_hides_the_password(self, tmp_path: Path) -> None:
        """The URL shown in logs never carries the password."""
        with StateStore.open(path=tmp_path / "s.db") as store:
            assert repr(store) == f"StateStore('sqlite:///{tmp_path / 's.db'}')"

    def test_reopening_keeps_the_data_and_changes_nothing(self, store_url: str) -> None:
        """Opening an existing store twice more is idempotent."""
        with StateStore.open(store_url) as first:
            first.record([entry()])
        with StateStore.open(store_url), StateStore.open(store_url) as third:
            assert third.entries_between(T0, T0 + timedelta(seconds=1)) == [entry()]
            with third.engine.connect() as connection:
                versions = connection.execute(text("SELECT version_num FROM alembic_version"))
                assert versions.scalars().all() == [head_revision()]

    def test_deleting_the_file_and_reopening_gives_a_fresh_empty_store(
        self, tmp_path: Path
    ) -> None:
        """The store is a cache and a history: losing it is allowed and recoverable."""
        path = tmp_path / "state.db"
        with StateStore.open(path=path) as store:
            store.put_cursor("gh:acme/api", Cursor(etag='W/"1"'))
            store.record([entry()])
        for leftover in tmp_path.glob("state.db*"):
            leftover.unlink()
        with StateStore.open(path=path) as store:
            assert store.get_cursor("gh:acme/api") is None
            assert store.explain("jira", "REL-1") == []
            store.put_cursor("gh:acme/api", Cursor(etag='W/"2"'))
            assert store.get_cursor("gh:acme/api") == Cursor(etag='W/"2"')

    def test_the_database_clock_is_an_aware_utc_time(self, store: StateStore) -> None:
        """The lease's default clock reads as UTC on both backends."""
        now = store.database_now()
        assert now.tzinfo is UTC
        assert now.year >= 2024

    def test_it_satisfies_the_cursor_store_and_ledger_protocols(self, store: StateStore) -> None:
        """Connectors and the applier can take it where they take the in-memory versions."""
        cursors: CursorStore = store
        ledger: Ledger = store
        assert (cursors.get_cursor("none"), list(ledger.entries_between(T0, T0))) == (None, [])


@pytest.mark.postgres
class TestPostgresURL:
    def test_a_postgresql_url_without_a_driver_uses_psycopg(self, postgres_schema_url: str) -> None:
        """postgresql:// means psycopg 3, the driver pmsync ships with."""
        bare = postgres_schema_url.replace("postgresql+psycopg://", "postgresql://", 1)
        with StateStore.open(bare) as store:
            assert store.engine.url.drivername == "postgresql+psycopg"
            store.put_cursor("jira:REL", Cursor(etag="x"))
            assert store.get_cursor("jira:REL") == Cursor(etag="x")


class TestCursors:
    def test_a_source_never_saved_has_no_cursor(self, store: StateStore) -> None:
        """No cursor means a full fetch."""
        assert store.get_cursor("gh:acme/api") is None

    def test_a_cursor_round_trips_with_every_field(self, store: StateStore) -> None:
        """since, etag and full_sync_at come back as saved, as aware UTC times."""
        cursor = Cursor(since=T0, etag='W/"abc"', full_sync_at=T0 - timedelta(hours=3))
        store.put_cursor("gh:acme/api", cursor)
        assert store.get_cursor("gh:acme/api") == cursor

    def test_times_in_other_zones_come_back_as_the_same_instant_in_utc(
        self, store: StateStore
    ) -> None:
        """A +05:30 time is stored and returned as the same instant."""
        india = timezone(timedelta(hours=5, minutes=30))
        store.put_cursor("jira:REL", Cursor(since=datetime(2026, 11, 23, 14, 30, tzinfo=india)))
        saved = store.get_cursor("jira:REL")
        assert saved is not None
        assert saved.since == T0
        assert saved.since.tzinfo is UTC

    def test_putting_again_replaces_the_cursor(self, store: StateStore) -> None:
        """The last pass wins, including fields set back to None."""
        store.put_cursor("gh:acme/api", Cursor(since=T0, etag='W/"1"'))
        store.put_cursor("gh:acme/api", Cursor(since=T0 + timedelta(minutes=5)))
        assert store.get_cursor("gh:acme/api") == Cursor(since=T0 + timedelta(minutes=5))

    def test_sources_are_independent(self, store: StateStore) -> None:
        """Saving one repository's cursor leaves another's alone."""
        store.put_cursor("gh:acme/api", Cursor(etag="a"))
        store.put_cursor("gh:acme/web", Cursor(etag="b"))
        assert [store.get_cursor(s) for s in ("gh:acme/api", "gh:acme/web")] == [
            Cursor(etag="a"),
            Cursor(etag="b"),
        ]

    def test_a_naive_time_is_refused(self, store: StateStore) -> None:
        """A time without a zone would be guessed at; the store refuses it."""
        with pytest.raises(Exception, match="naive datetime"):
            store.put_cursor("gh:acme/api", Cursor(since=datetime(2026, 11, 23, 9, 0)))
        assert store.get_cursor("gh:acme/api") is None


class Colour(enum.Enum):
    RED = "red"


class TestLedger:
    def test_recorded_entries_come_back_equal(self, store: StateStore) -> None:
        """Every field, inputs included, survives the round trip."""
        recorded = [entry(), entry(T0 + timedelta(minutes=1), "REL-2", kind="comment")]
        store.record(recorded)
        assert store.entries_between(T0, T0 + timedelta(hours=1)) == recorded

    def test_entries_come_back_in_time_order_then_insertion_order(self, store: StateStore) -> None:
        """Equal times keep the order they were recorded in."""
        late = entry(T0 + timedelta(minutes=2), "REL-3")
        first = entry(T0, "REL-1", kind="closure_rejected")
        second = entry(T0, "REL-1", kind="reopen")
        store.record([late, first])
        store.record([second])
        assert store.entries_between(T0, T0 + timedelta(hours=1)) == [first, second, late]

    def test_the_range_includes_its_start_and_excludes_its_end(self, store: StateStore) -> None:
        """entries_between is start <= at < end, like MemoryLedger."""
        store.record([entry(T0 - timedelta(microseconds=1), "A"), entry(T0, "B")])
        store.record([entry(T0 + timedelta(days=7), "C")])
        keys = [e.item_key for e in store.entries_between(T0, T0 + timedelta(days=7))]
        assert keys == ["B"]

    def test_recording_appends_and_never_changes_earlier_entries(self, store: StateStore) -> None:
        """A second decision about the same item is a new entry beside the first."""
        store.record([entry(outcome="planned")])
        store.record([entry(outcome="done")])
        outcomes = [e.outcome for e in store.explain("jira", "REL-1")]
        assert outcomes == ["planned", "done"]

    def test_explain_returns_one_items_history_oldest_first(self, store: StateStore) -> None:
        """Why was REL-42 reopened: its own entries only, on its own tracker."""
        history = [
            entry(T0, "REL-42", kind="closure_rejected", rule="closure.evidence"),
            entry(T0 + timedelta(seconds=1), "REL-42", kind="reopen"),
            entry(T0 + timedelta(days=3), "REL-42", kind="escalated", rule="ladder.tier1"),
        ]
        noise = [entry(T0, "REL-43"), entry(T0, "REL-42", tracker="github")]
        store.record([history[2], noise[0], history[0]])
        store.record([noise[1], history[1]])
        assert store.explain("jira", "REL-42") == history

    def test_inputs_are_stored_as_plain_json(self, store: StateStore) -> None:
        """Dates, enums, sets and tuples become JSON values the report can print."""
        store.record(
            [
                entry(
                    inputs={
                        "due": date(2026, 11, 1),
                        "closed_at": T0,
                        "colour": Colour.RED,
                        "labels": {"b", "a"},
                        "pair": (1, 2),
                        "nested": {"owners": ["alice"], "count": 3, "ok": None},
                    }
                )
            ]
        )
        (saved,) = store.explain("jira", "REL-1")
        assert saved.inputs == {
            "due": "2026-11-01",
            "closed_at": "2026-11-23T09:00:00+00:00",
            "colour": "red",
            "labels": ["a", "b"],
            "pair": [1, 2],
            "nested": {"owners": ["alice"], "count": 3, "ok": None},
        }

    def test_inputs_that_are_not_json_are_refused_and_nothing_is_written(
        self, store: StateStore
    ) -> None:
        """One bad entry fails the whole call before any row is written."""
        with pytest.raises(ValueError, match="not JSON serialisable"):
            store.record([entry(), entry(inputs={"x": object()})])
        assert store.explain("jira", "REL-1") == []

    def test_recording_nothing_touches_nothing(self, store: StateStore) -> None:
        """An empty cycle opens no transaction."""
        with counting_transactions(store) as counts:
            store.record([])
        assert counts == {"begin": 0, "commit": 0, "statements": 0}

    def test_ten_thousand_entries_are_one_transaction_of_bulk_inserts(
        self, store: StateStore
    ) -> None:
        """record() of 10,000 entries begins and commits once and batches its statements."""
        entries = [entry(T0 + timedelta(seconds=i), f"REL-{i}") for i in range(10_000)]
        with counting_transactions(store) as counts:
            store.record(entries)
        assert (counts["begin"], counts["commit"]) == (1, 1)
        assert counts["statements"] <= 20
        assert len(store.entries_between(T0, T0 + timedelta(days=1))) == 10_000

    def test_a_failure_in_the_last_of_ten_thousand_entries_writes_none(
        self, store: StateStore
    ) -> None:
        """All or nothing: a naive time in the last entry rolls back the 9,999 before it."""
        entries = [entry(T0 + timedelta(seconds=i), f"REL-{i}") for i in range(9_999)]
        entries.append(entry(datetime(2026, 11, 23, 12, 0), "REL-naive"))
        with pytest.raises(Exception, match="naive datetime"):
            store.record(entries)
        assert store.entries_between(T0, T0 + timedelta(days=1)) == []

    def test_a_range_query_over_a_year_of_entries_uses_the_index_on_at(
        self, store: StateStore
    ) -> None:
        """entries_between for one week of a year's ledger is an index range scan."""
        year_start = datetime(2026, 1, 1, tzinfo=UTC)
        store.record(
            [
                entry(year_start + timedelta(days=d, minutes=m * 45), f"REL-{d}-{m}")
                for d in range(365)
                for m in range(30)
            ]
        )
        captured: list[tuple[str, Any]] = []

        def capture(_c: object, _cur: object, statement: str, params: Any, *_: object) -> None:
            if "FROM ledger_entry" in statement:
                captured.append((statement, params))

        week = (datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 6, 8, tzinfo=UTC))
        event.listen(store.engine, "before_cursor_execute", capture)
        try:
            found = store.entries_between(*week)
        finally:
            event.remove(store.engine, "before_cursor_execute", capture)
        assert len(found) == 7 * 30
        ((statement, params),) = captured
        with store.engine.begin() as connection:
            if store.dialect == "postgresql":
                connection.exec_driver_sql("ANALYZE ledger_entry")
                plan_rows = connection.exec_driver_sql("EXPLAIN " + statement, params)
            else:
                connection.exec_driver_sql("ANALYZE")
                plan_rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)
            plan = "\n".join(str(row[-1]) for row in plan_rows)
        assert "ix_ledger_entry_at" in plan, plan


class TestDailyCounts:
    def test_counts_round_trip_per_day_and_metric(self, store: StateStore) -> None:
        """Each day keeps its own metrics."""
        store.record_daily_counts(date(2026, 11, 20), {"open": 40, "overdue.SEV-1": 3})
        store.record_daily_counts(date(2026, 11, 21), {"open": 38})
        assert store.daily_counts(date(2026, 11, 20), date(2026, 11, 21)) == {
            date(2026, 11, 20): {"open": 40, "overdue.SEV-1": 3},
            date(2026, 11, 21): {"open": 38},
        }

    def test_recording_a_day_again_replaces_its_values_and_keeps_other_metrics(
        self, store: StateStore
    ) -> None:
        """Several cycles a day: the last value of each metric wins, others stay."""
        day = date(2026, 11, 23)
        store.record_daily_counts(day, {"open": 40, "overdue": 5})
        store.record_daily_counts(day, {"open": 39})
        assert store.daily_counts(day, day) == {day: {"open": 39, "overdue": 5}}

    def test_the_range_includes_both_ends_and_omits_days_never_measured(
        self, store: StateStore
    ) -> None:
        """A week Monday..Sunday; an unmeasured day is absent, not zero."""
        for offset in (0, 1, 3, 7):
            store.record_daily_counts(date(2026, 11, 16) + timedelta(days=offset), {"open": offset})
        counts = store.daily_counts(date(2026, 11, 16), date(2026, 11, 22))
        assert counts == {
            date(2026, 11, 16): {"open": 0},
            date(2026, 11, 17): {"open": 1},
            date(2026, 11, 19): {"open": 3},
        }
        assert list(counts) == sorted(counts)

    def test_recording_no_counts_changes_nothing(self, store: StateStore) -> None:
        """An empty mapping is not an error and writes no row."""
        store.record_daily_counts(date(2026, 11, 23), {})
        assert store.daily_counts(date(2026, 1, 1), date(2026, 12, 31)) == {}


class TestKnownMarkers:
    def test_remembered_markers_are_known_for_their_tracker_only(self, store: StateStore) -> None:
        """GitHub's markers are not Jira's."""
        store.remember_markers("github", [("acme/api#1", "pmsync:tier1"), ("acme/api#2", "x")])
        store.remember_markers("jira", [("REL-1", "pmsync:tier1")])
        assert store.known_markers("github") == {
            ("acme/api#1", "pmsync:tier1"),
            ("acme/api#2", "x"),
        }
        assert store.known_markers("jira") == {("REL-1", "pmsync:tier1")}
        assert store.known_markers("gitlab") == set()

    def test_remembering_a_marker_twice_keeps_one(self, store: StateStore) -> None:
        """Duplicates, within a call or across calls, are harmless."""
        pair = ("REL-1", "pmsync:reopen:2026-11-23")
        store.remember_markers("jira", [pair, pair])
        store.remember_markers("jira", [pair, ("REL-2", "m")])
        assert store.known_markers("jira") == {pair, ("REL-2", "m")}

    def test_remembering_nothing_is_allowed(self, store: StateStore) -> None:
        """An empty iterable writes nothing."""
        store.remember_markers("jira", iter(()))
        assert store.known_markers("jira") == set()


class TestConcurrentWriters:
    def test_two_stores_on_one_sqlite_file_both_write(self, tmp_path: Path) -> None:
        """Two processes' stores share one file; WAL and BEGIN IMMEDIATE let both write."""
        path = tmp_path / "s.db"
        with StateStore.open(path=path) as one, StateStore.open(path=path) as two:
            one.record([entry(item_key="A")])
            two.record([entry(item_key="B")])
            one.put_cursor("src", Cursor(etag="1"))
            assert two.get_cursor("src") == Cursor(etag="1")
            assert [e.item_key for e in one.entries_between(T0, T0 + timedelta(1))] == ["A", "B"]
        assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone() == ("wal",)


class TestDecisionsRecordedOnce:
    def test_an_entry_whose_dedupe_key_is_already_stored_is_not_recorded_again(
        self, tmp_path: Path
    ) -> None:
        """A closure accepted in one cycle is not recorded again by the next cycles."""
        store = StateStore.open(path=tmp_path / "state.db")
        at = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
        decision = LedgerEntry(
            at=at,
            cycle_id="c1",
            tracker="github",
            item_key="acme/api#3",
            kind="closure_accepted",
            rule="closure.accepted",
            policy_version="v1",
            outcome="decided",
            dedupe_key="closure_accepted:github:acme/api#3:2026-11-20",
        )
        write = LedgerEntry(
            at=at,
            cycle_id="c1",
            tracker="github",
            item_key="acme/api#3",
            kind="comment",
            rule="escalation",
            policy_version="v1",
            outcome="done",
        )
        store.record([decision, write, decision])
        store.record([decision, write])
        kinds = [e.kind for e in store.explain("github", "acme/api#3")]
        assert kinds.count("closure_accepted") == 1
        assert kinds.count("comment") == 2
        store.close()
