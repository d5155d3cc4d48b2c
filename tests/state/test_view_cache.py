"""The view cache: saved with its cursor, replaced on a full read, read back by any process."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import update

from syncer.core.cursors import (
    Cursor,
    CursorStore,
    MemoryCursorStore,
    ViewEntry,
    decode_entry,
    encode_entry,
)
from syncer.core.model import ActionItem, ItemRef, Person
from syncer.core.tracker import SkippedItem
from syncer.state import StateStore
from syncer.state.schema import ViewEntryRow

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SOURCE = "github:github:acme/api"


def item(key: str, title: str = "Add a breaker") -> ActionItem:
    return ActionItem(
        ref=ItemRef(tracker="github", key=key),
        title=title,
        owners=(Person(handle="alice"),),
        labels=frozenset({"postmortem-action", "P1"}),
        created_at=T0,
        updated_at=T0,
    )


class TestEntries:
    """One cache row is the item exactly as mapped, or the reason it could not be."""

    def test_an_item_reads_back_equal(self) -> None:
        """Every field survives the round trip (the defaults left out of the text too)."""
        entry = ViewEntry(item("acme/api#1"), comments=3)
        assert decode_entry(encode_entry(entry)) == entry

    def test_a_skipped_record_reads_back_as_skipped(self) -> None:
        entry = ViewEntry(SkippedItem(key="acme/api#9", problem="no title"))
        assert decode_entry(encode_entry(entry)) == entry

    def test_a_row_that_no_longer_validates_reads_as_nothing(self) -> None:
        """A row written by a pmsync whose model differed is not guessed at: None."""
        assert decode_entry('{"entry": {"ref": {"tracker": "github"}}}') is None
        assert decode_entry("not json") is None


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def views(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CursorStore]:
    """The in-memory store and the state store (each backend) must behave alike."""
    if request.param == "memory":
        yield MemoryCursorStore()
        return
    url = (
        f"sqlite:///{tmp_path / 'state.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_schema_url")
    )
    with StateStore.open(url) as opened:
        yield opened


class TestSavingAView:
    """``save_view`` saves the cursor and the entries it vouches for together."""

    def test_the_cursor_and_the_entries_come_back(self, views: CursorStore) -> None:
        cursor = Cursor(since=T0, etag='W/"1"', full_sync_at=T0, view="abc")
        views.save_view(SOURCE, cursor, {"1": "one", "2": "two"}, replace=True)
        assert views.get_cursor(SOURCE) == cursor
        assert views.load_view(SOURCE) == {"1": "one", "2": "two"}

    def test_an_incremental_save_upserts_and_removes_only_what_it_names(
        self, views: CursorStore
    ) -> None:
        views.save_view(SOURCE, Cursor(etag="a"), {"1": "one", "2": "two"}, replace=True)
        views.save_view(SOURCE, Cursor(etag="b"), {"2": "TWO", "3": "three"}, removed=["1"])
        assert views.load_view(SOURCE) == {"2": "TWO", "3": "three"}
        assert views.get_cursor(SOURCE) == Cursor(etag="b")

    def test_a_full_save_replaces_the_whole_view(self, views: CursorStore) -> None:
        views.save_view(SOURCE, Cursor(etag="a"), {"1": "one", "2": "two"}, replace=True)
        views.save_view(SOURCE, Cursor(etag="b"), {"3": "three"}, replace=True)
        assert views.load_view(SOURCE) == {"3": "three"}

    def test_views_of_other_sources_are_left_alone(self, views: CursorStore) -> None:
        views.save_view(SOURCE, Cursor(etag="a"), {"1": "one"}, replace=True)
        views.save_view("github:github:acme/web", Cursor(etag="w"), {"1": "web"}, replace=True)
        views.save_view(SOURCE, Cursor(etag="b"), {}, replace=True)
        assert views.load_view("github:github:acme/web") == {"1": "web"}
        assert views.load_view(SOURCE) == {}


class TestAtomicity:
    """A cursor never vouches for a view the store does not hold."""

    def test_a_failed_save_keeps_the_old_cursor_and_view(self, store: StateStore) -> None:
        """The second save fails inside its transaction (an entry without text breaks the
        NOT NULL constraint); neither the rows nor the cursor change."""
        store.save_view(SOURCE, Cursor(etag="a"), {"1": "one"}, replace=True)
        with pytest.raises(Exception, match=r"(?i)null|not null|integrity"):
            store.save_view(
                SOURCE,
                Cursor(etag="b"),
                {"2": None},  # type: ignore[dict-item]
                replace=True,
            )
        assert store.get_cursor(SOURCE) == Cursor(etag="a")
        assert store.load_view(SOURCE) == {"1": "one"}

    def test_the_sizes_say_what_the_cache_costs(self, store: StateStore) -> None:
        store.save_view(SOURCE, Cursor(), {"1": "x" * 10, "2": "y" * 30}, replace=True)
        assert store.view_sizes() == {SOURCE: (2, 40)}

    def test_rows_can_be_damaged_without_harm_to_the_cursor(self, store: StateStore) -> None:
        """A damaged row is just text: reading it back gives the text, decoding gives None."""
        store.save_view(SOURCE, Cursor(etag="a"), {"1": encode_entry(ViewEntry(item("a#1")))})
        with store.transaction() as session:
            session.execute(update(ViewEntryRow).values(entry="{"))
        assert decode_entry(store.load_view(SOURCE)["1"]) is None
