"""Jira reads that survive the process: connectors sharing one state store.

Each connector stands for a process (a scheduled ``run --once``, the daemon); the state store
holds the cursor, the view of the scope and the field list they all build on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from connectors.jira.client import JiraConnector
from connectors.jira.session import deployment_of, open_jira
from syncer.core.cursors import MemoryCursorStore
from syncer.core.errors import PermanentError
from syncer.core.messages import Markup, Mention, Message
from syncer.core.model import ItemRef, Person
from syncer.state import StateStore
from tests.builders import example_policy
from tests.jira.conftest import ALICE_ID, EMAIL, TOKEN, Site

SEARCHES = {"/rest/api/2/search/jql", "/rest/api/2/search"}
SERVER_INFO = "/rest/api/2/serverInfo"


@pytest.fixture
def shared(site: Site, tmp_path: Path) -> Iterator[Site]:
    """The site with a SQLite state store as everyone's cursor store."""
    with StateStore.open(f"sqlite:///{tmp_path / 'state.db'}") as store:
        site.cursors = store  # type: ignore[assignment]
        yield site


def paths(site: Site) -> list[str]:
    return sorted(path for (_, path, _), n in site.requests().items() for _ in range(n))


class TestANewProcess:
    """An idle run in a new process is one incremental search and nothing else."""

    def test_it_searches_once_and_reads_the_rest_from_the_store(self, shared: Site) -> None:
        for n in range(130):
            shared.add_action(f"Action {n}", updated=f"-{1 + n % 4}d")
        first = shared.connector().fetch(full=False)
        shared.clock.advance(minutes=10)
        shared.reset()
        second = shared.connector().fetch(full=False)
        searched = [p for p in paths(shared) if p in SEARCHES]
        assert paths(shared) == searched
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
        assert SERVER_INFO in paths(shared)

    def test_another_jql_scope_does_not_trust_the_old_view(self, shared: Site) -> None:
        """A changed scope is a changed configuration: read in full, field list and server
        info included."""
        shared.add_action("One", updated="-3d")
        shared.connector().fetch(full=False)
        shared.reset()
        shared.connector(jql="project = REL").fetch(full=False)
        assert "/rest/api/2/field" in paths(shared)
        assert SERVER_INFO in paths(shared)


class TestTheSiteIsCheckedOncePerConfiguration:
    """serverInfo (the configured deployment checked against the site) is asked by the first
    process reading under a configuration; a new process continuing its stored view of an
    explicit deployment takes the deployment from the configuration instead."""

    def _search(self, site: Site) -> str:
        return "/rest/api/2/search/jql" if site.cloud else "/rest/api/2/search"

    def test_an_idle_run_in_a_new_process_is_the_search_alone(self, shared: Site) -> None:
        """One request, the incremental search; no write; the connector counts the same."""
        shared.add_action("One", updated="-3d")
        shared.connector().fetch(full=False)
        shared.clock.advance(minutes=10)
        shared.reset()
        idle = shared.connector()
        assert len(idle.fetch(full=False).items) == 1
        assert shared.requests() == Counter({("GET", self._search(shared), 200): 1})
        assert idle.requests == Counter({("GET", 200): 1})
        assert idle.write_requests == 0

    def test_a_process_that_did_not_ask_writes_as_one_that_asked(self, shared: Site) -> None:
        """The library still knows the deployment without serverInfo: the same comment
        (markup, mention, marker property) and label PUT as from a process that asked."""
        asked_key = shared.add_action("Asked", updated="-3d")
        trusted_key = shared.add_action("Trusted", updated="-3d")
        shared.connector().fetch(full=False)
        asked = shared.connector()
        asked.http.client()
        shared.reset()
        trusted = shared.connector()
        trusted.fetch(full=False)
        owner = Person(handle=shared.handle(ALICE_ID, "alice"))
        message = Message(
            marker="pmsync:tier:1:same", parts=(Mention(person=owner), Markup(text=" overdue"))
        )
        for connector, key in ((asked, asked_key), (trusted, trusted_key)):
            ref = ItemRef(tracker="jira", key=key)
            assert not connector.has_marker(ref, message.marker)
            connector.post_comment(ref, message)
            connector.add_labels(ref, ["pmsync/overdue"])
        assert SERVER_INFO not in paths(shared)
        emu = shared.emulator
        assert [c["body"] for c in emu.comments(trusted_key)] == [
            c["body"] for c in emu.comments(asked_key)
        ]
        assert emu.comment_properties(trusted_key) == emu.comment_properties(asked_key)
        assert emu.labels_of(trusted_key) == emu.labels_of(asked_key)
        assert "pmsync/overdue" in emu.labels_of(trusted_key)

    def test_a_fresh_store_asks_again(self, shared: Site) -> None:
        shared.add_action("One", updated="-3d")
        shared.connector().fetch(full=False)
        shared.reset()
        shared.cursors = MemoryCursorStore()
        shared.connector().fetch(full=False)
        assert SERVER_INFO in paths(shared)

    def test_a_full_read_asks_again(self, shared: Site) -> None:
        """``--full`` (and the daily resync) checks the site again, as it reads the fields."""
        shared.add_action("One", updated="-3d")
        shared.connector().fetch(full=False)
        shared.reset()
        shared.connector().fetch(full=True)
        assert SERVER_INFO in paths(shared)

    def test_a_changed_deployment_setting_asks_again_then_trusts_the_new_one(
        self, shared: Site
    ) -> None:
        """``auto`` asks every time (only the site can say); a view stored under ``auto`` is
        another configuration's, so the explicit setting asks once, then no more."""
        shared.add_action("One", updated="-3d")
        asked = []
        for deployment in ("auto", "auto", shared.mode, shared.mode):
            shared.reset()
            shared.connector(deployment=deployment).fetch(full=False)
            asked.append(SERVER_INFO in paths(shared))
        assert asked == [True, True, True, False]

    def test_a_contradicting_deployment_is_refused_though_a_view_is_stored(
        self, shared: Site
    ) -> None:
        """The store holds the right deployment's view; the wrong one asks the site and is
        refused (the emulator takes its own deployment's auth scheme only, so it says 401)."""
        shared.add_action("One", updated="-3d")
        shared.connector().fetch(full=False)
        other = "datacenter" if shared.cloud else "cloud"
        wrong = JiraConnector(
            shared.config(deployment=other),
            example_policy(),
            shared.cursors,
            shared.clock,
            token=SecretStr(TOKEN),
            email=EMAIL,
            sleep=shared.sleeps.append,
        )
        shared.reset()
        with pytest.raises(PermanentError):
            wrong.fetch(full=False)
        assert paths(shared) == [SERVER_INFO]

    def test_a_site_contradicting_the_deployment_is_refused(self, site: Site) -> None:
        """What the site answered to serverInfo, against the other deployment's setting."""
        jira = open_jira(site.config(), SecretStr(TOKEN), EMAIL if site.cloud else None)
        other = "datacenter" if site.cloud else "cloud"
        with pytest.raises(PermanentError, match="fix the deployment setting"):
            deployment_of(site.config(deployment=other), jira)
        assert deployment_of(site.config(), jira) is site.cloud


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
