"""Jira reads that survive the process: connectors sharing one state store.

Each connector stands for a process (a scheduled ``run --once``, the daemon); the state store
holds the cursor, the view of the scope and the field list they all build on.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from syncer.core.model import ItemRef
from syncer.state import StateStore
from tests.jira.conftest import Site

SEARCHES = {"/rest/api/2/search/jql", "/rest/api/2/search"}


@pytest.fixture
def shared(site: Site, tmp_path: Path) -> Iterator[Site]:
    """The site with a SQLite state store as everyone's cursor store."""
    with StateStore.open(f"sqlite:///{tmp_path / 'state.db'}") as store:
        site.cursors = store  # type: ignore[assignment]
        yield site


def paths(site: Site) -> list[str]:
    return sorted(path for (_, path, _), n in site.requests().items() for _ in range(n))


class TestANewProcess:
    """An idle run in a new process is one incremental search besides the server info."""

    def test_it_searches_once_and_reads_the_rest_from_the_store(self, shared: Site) -> None:
        for n in range(130):
            shared.add_action(f"Action {n}", updated=f"-{1 + n % 4}d")
        first = shared.connector().fetch(full=False)
        shared.clock.advance(minutes=10)
        shared.reset()
        second = shared.connector().fetch(full=False)
        searched = [p for p in paths(shared) if p in SEARCHES]
        assert paths(shared) == sorted(["/rest/api/2/serverInfo", *searched])
        assert len(searched) == 1
        assert sorted(second.items, key=lambda i: i.ref.key) == sorted(
            first.items, key=lambda i: i.ref.key
        )

    def test_a_change_made_meanwhile_is_read_and_merged(self, shared: Site) -> None:
        keep = shared.add_action("Keep", updated="-3d")
        change = shared.add_action("Change", updated="-3d")
        shared.connector().fetch(full=False)
        shared.clock.advance(minutes=5)
        shared.connector().add_labels(ItemRef(tracker="jira", key=change), ["sev-1"])
        result = shared.connector().fetch(full=False)
        labels = {i.ref.key: i.labels for i in result.items}
        assert sorted(labels) == sorted([keep, change])
        assert "sev-1" in labels[change]

    def test_a_day_after_the_last_full_read_the_scope_is_read_in_full(self, shared: Site) -> None:
        """The field list is read again too: a renamed field is picked up daily."""
        shared.add_action("One", updated="-3d")
        shared.connector().fetch(full=False)
        shared.clock.advance(days=1, minutes=1)
        shared.reset()
        shared.connector().fetch(full=False)
        assert "/rest/api/2/field" in paths(shared)

    def test_another_jql_scope_does_not_trust_the_old_view(self, shared: Site) -> None:
        """A changed scope is a changed configuration: read in full, field list included."""
        shared.add_action("One", updated="-3d")
        shared.connector().fetch(full=False)
        shared.reset()
        shared.connector(jql="project = REL").fetch(full=False)
        assert "/rest/api/2/field" in paths(shared)


class TestTwoProcessesTakingTurns:
    def test_a_view_moved_by_another_process_is_read_back(self, shared: Site) -> None:
        """A reads; B reads a new item, then a later change, moving the cursor past the new
        item's update; A's next search starts at B's cursor and does not find the new item
        again: A must take B's view from the store, or it would miss it until the resync."""
        shared.add_action("Old", updated="-3d")
        daemon = shared.connector()
        daemon.fetch(full=False)
        shared.clock.advance(minutes=30)
        added = shared.add_action("New", updated="-1m")
        run_once = shared.connector()
        run_once.fetch(full=False)
        shared.clock.advance(minutes=30)
        shared.add_action("Later", updated="-1m")
        run_once.fetch(full=False)
        shared.clock.advance(minutes=5)
        seen = daemon.fetch(full=False)
        assert added in {i.ref.key for i in seen.items}
        assert len(seen.items) == 3


class TestReadingChosenItems:
    """``read_items``: one search within the scope, kept in the view."""

    def test_one_search_reads_the_chosen_items_within_the_scope(self, shared: Site) -> None:
        keep = shared.add_action("Keep", updated="-3d")
        change = shared.add_action("Change", updated="-3d")
        outside = shared.emulator.add_issue("REL", "Not an action", updated="-3d")
        connector = shared.connector()
        connector.fetch(full=False)
        shared.connector().add_labels(ItemRef(tracker="jira", key=change), ["sev-1"])
        shared.reset()
        read = connector.read_items([change, outside, "not a key"])
        assert len([p for p in paths(shared) if p in SEARCHES]) == 1
        assert [i.ref.key for i in read.items] == [change]
        assert "sev-1" in read.items[0].labels
        assert keep in {i.ref.key for i in shared.connector().fetch(full=False).items}

    def test_a_key_jira_refuses_is_asked_alone_and_leaves_the_view(self, shared: Site) -> None:
        """Jira answers 400 to a query naming an issue that does not exist: the others are
        read one by one, the missing one is dropped."""
        real = shared.add_action("Real", updated="-3d")
        connector = shared.connector()
        connector.fetch(full=False)
        shared.reset()
        read = connector.read_items([real, "REL-999"])
        assert [i.ref.key for i in read.items] == [real]
        refused = [k for k in shared.requests() if k[1] in SEARCHES and k[2] == 400]
        assert sum(shared.requests()[k] for k in refused) == 2  # both keys, then REL-999 alone

    def test_items_linking_a_pull_request(self, shared: Site) -> None:
        link = "https://github.com/acme/api/pull/12"
        linked = shared.add_action("Linked", updated="-3d", fields={"Evidence": link})
        shared.add_action("Other", updated="-3d")
        connector = shared.connector()
        connector.fetch(full=False)
        assert connector.items_linking("https://GITHUB.com/acme/api/pull/12/") == [linked]


class TestAnIdleSearchRebuildsNothing:
    """A search that finds nothing new (only the overlap's last changes again) hands back the
    last result, the very object; a change, or a label the connector wrote, is in the next."""

    def test_an_idle_search_gives_the_last_result_and_a_change_a_new_one(
        self, shared: Site
    ) -> None:
        keep = shared.add_action("Keep", updated="-3d")
        change = shared.add_action("Change", updated="-2m")
        connector = shared.connector()
        first = connector.fetch(full=False)
        shared.clock.advance(minutes=1)
        shared.reset()
        again = connector.fetch(full=False)
        searched = [p for p in paths(shared) if p in SEARCHES]
        assert len(searched) == 1
        assert again is first
        shared.clock.advance(minutes=5)
        shared.connector().add_labels(ItemRef(tracker="jira", key=change), ["sev-1"])
        after = connector.fetch(full=False)
        assert after is not first
        labels = {i.ref.key: i.labels for i in after.items}
        assert sorted(labels) == sorted([keep, change])
        assert "sev-1" in labels[change]
        kept = {i.ref.key: i for i in first.items}[keep]
        assert {i.ref.key: i for i in after.items}[keep] is kept
        assert connector.fetch(full=False) is after

    def test_labels_the_connector_wrote_after_a_reused_result_are_in_the_next(
        self, shared: Site
    ) -> None:
        """The writer keeps the view's labels current in place: the result is built again."""
        key = shared.add_action("One", updated="-3d")
        connector = shared.connector()
        connector.fetch(full=False)
        reused = connector.fetch(full=False)
        connector.add_labels(ItemRef(tracker="jira", key=key), ["pmsync/overdue"])
        after = connector.fetch(full=False)
        assert after is not reused
        assert "pmsync/overdue" in after.items[0].labels

    def test_an_idle_search_leaves_the_store_as_a_writing_one_would(self, shared: Site) -> None:
        """Nothing new: the stored cursor and view stay as they are, and another process
        reads the same items from them."""
        shared.add_action("One", updated="-2m")
        shared.add_action("Two", updated="-3d")
        connector = shared.connector()
        first = connector.fetch(full=False)
        store = shared.cursors
        cursor = store.get_cursor(connector.cursor_source)
        view = store.load_view(connector.cursor_source)
        shared.clock.advance(minutes=1)
        assert connector.fetch(full=False) is first
        assert store.get_cursor(connector.cursor_source) == cursor
        assert store.load_view(connector.cursor_source) == view
        again = shared.connector().fetch(full=False).items
        assert sorted(again, key=lambda i: i.ref.key) == sorted(
            first.items, key=lambda i: i.ref.key
        )
