"""Conditional reads that survive the process: connectors sharing one state store.

Two connectors on one ``StateStore`` stand for two processes (a daemon, a scheduled
``run --once``): each keeps a view in memory, and the store holds the cursor and the view every
process can build on.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from connectors.emulators.github import GitHubEmulator
from syncer.core.model import ActionItem
from syncer.core.policy import Escalation, Policy, Tier
from syncer.state import StateStore
from syncer.state.schema import ViewEntryRow
from tests.github.conftest import ConnectorFactory, FakeClock
from tests.github.test_client import LIST, seed


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    with StateStore.open(f"sqlite:///{tmp_path / 'state.db'}") as opened:
        yield opened


class TestANewProcess:
    """A connector that never fetched builds on what the store holds."""

    def test_it_answers_from_304s_with_every_item(
        self,
        emulator: GitHubEmulator,
        make_connector: ConnectorFactory,
        clock: FakeClock,
        store: StateStore,
    ) -> None:
        """Two repositories, 150 items: the second connector sends two requests, both 304,
        and returns the same items as the first one read."""
        seed(emulator, "acme/api", 120, clock)
        seed(emulator, "acme/web", 30, clock)
        first = make_connector(["acme/api", "acme/web"], cursors=store).fetch(full=False)
        emulator.reset_counters()
        quota = emulator.rate_limit_remaining
        second = make_connector(["acme/api", "acme/web"], cursors=store).fetch(full=False)
        assert emulator.counters == {("GET", LIST, 304): 2}
        assert emulator.rate_limit_remaining == quota
        assert sorted(second.items, key=lambda i: i.ref.key) == sorted(
            first.items, key=lambda i: i.ref.key
        )

    def test_the_comment_counts_come_back_too(
        self,
        emulator: GitHubEmulator,
        make_connector: ConnectorFactory,
        clock: FakeClock,
        store: StateStore,
    ) -> None:
        """The marker check stays free on items the list said have no comments."""
        seed(emulator, "acme/api", 3, clock)
        emulator.add_comment("acme/api", 2, "on it", user="alice")
        make_connector(cursors=store).fetch(full=False)
        later = make_connector(cursors=store)
        later.fetch(full=False)
        counts = [later.reader.cached("acme/api", n) for n in (1, 2, 3)]
        assert [c.comments if c else None for c in counts] == [0, 1, 0]

    def test_a_view_saved_under_other_rules_is_read_in_full(
        self,
        emulator: GitHubEmulator,
        make_connector: ConnectorFactory,
        clock: FakeClock,
        store: StateStore,
    ) -> None:
        """The cached items carry tiers mapped from the old ladder: not trusted."""
        seed(emulator, "acme/api", 3, clock)
        make_connector(cursors=store).fetch(full=False)
        other = Policy(
            version="test-2",
            escalation=Escalation(tiers=[Tier(name="owner", after="0d", label="pmsync/late")]),
        )
        emulator.reset_counters()
        make_connector(cursors=store, policy=other).fetch(full=False)
        assert emulator.counters == {("GET", LIST, 200): 1}

    def test_a_policy_that_changes_only_operations_keeps_the_view(
        self,
        emulator: GitHubEmulator,
        make_connector: ConnectorFactory,
        clock: FakeClock,
        store: StateStore,
    ) -> None:
        """A new version string or write budget maps nothing differently: still 304."""
        seed(emulator, "acme/api", 3, clock)
        policy = Policy(version="a")
        make_connector(cursors=store, policy=policy).fetch(full=False)
        emulator.reset_counters()
        changed = policy.model_copy(update={"version": "b"})
        make_connector(cursors=store, policy=changed).fetch(full=False)
        assert emulator.counters == {("GET", LIST, 304): 1}

    def test_an_unreadable_cache_row_means_a_full_read(
        self,
        emulator: GitHubEmulator,
        make_connector: ConnectorFactory,
        clock: FakeClock,
        store: StateStore,
    ) -> None:
        """A damaged row is not half-trusted: the repository is read again, without ETag."""
        seed(emulator, "acme/api", 3, clock)
        make_connector(cursors=store).fetch(full=False)
        with store.transaction() as session:
            session.execute(update(ViewEntryRow).values(entry="{broken"))
        emulator.reset_counters()
        items = make_connector(cursors=store).fetch(full=False).items
        assert emulator.counters == {("GET", LIST, 200): 1}
        assert len(items) == 3

    def test_the_full_resync_schedule_comes_from_the_store(
        self,
        emulator: GitHubEmulator,
        make_connector: ConnectorFactory,
        clock: FakeClock,
        store: StateStore,
    ) -> None:
        """A new process a day after the last full read reads in full; an hour after, not."""
        seed(emulator, "acme/api", 3, clock)
        make_connector(cursors=store).fetch(full=False)
        clock.advance(hours=1)
        emulator.reset_counters()
        make_connector(cursors=store).fetch(full=False)
        assert emulator.counters == {("GET", LIST, 304): 1}
        clock.advance(days=1)
        emulator.reset_counters()
        make_connector(cursors=store).fetch(full=False)
        assert emulator.counters == {("GET", LIST, 200): 1}


class TestTwoProcessesTakingTurns:
    """A process whose view is older than the store's reads the store's view back first."""

    def test_a_change_seen_by_another_process_is_not_lost(
        self,
        emulator: GitHubEmulator,
        make_connector: ConnectorFactory,
        clock: FakeClock,
        store: StateStore,
    ) -> None:
        """A (a daemon) reads; the item changes; B (a run --once) reads the change and moves
        the cursor; A's next read gets a 304 for B's ETag and must show B's view, not its
        own stale one."""
        seed(emulator, "acme/api", 5, clock)
        daemon = make_connector(cursors=store)
        daemon.fetch(full=False)
        clock.advance(minutes=5)
        emulator.add_issue(
            "acme/api",
            "A new action",
            labels=["postmortem-action", "P1", "sev-2"],
            created_at=clock() - timedelta(seconds=1),
        )
        assert len(make_connector(cursors=store).fetch(full=False).items) == 6
        emulator.reset_counters()
        seen = daemon.fetch(full=False)
        assert emulator.counters == {("GET", LIST, 304): 1}
        assert len(seen.items) == 6


class TestReadingChosenItems:
    """``read_items``: what a webhook cycle reads, one GET per issue, kept in the view."""

    def test_it_reads_each_item_once_and_the_view_keeps_what_it_read(
        self,
        emulator: GitHubEmulator,
        make_connector: ConnectorFactory,
        clock: FakeClock,
        store: StateStore,
    ) -> None:
        seed(emulator, "acme/api", 3, clock)
        connector = make_connector(cursors=store)
        connector.fetch(full=False)
        clock.advance(minutes=1)
        emulator.edit_issue("acme/api", 2, "alice", title="Renamed")
        emulator.reset_counters()
        read = connector.read_items(["acme/api#2", "acme/api#2"])
        assert emulator.counters == {("GET", "/repos/{owner}/{repo}/issues/{issue_number}", 200): 1}
        assert [i.title for i in read.items] == ["Renamed"]
        later = make_connector(cursors=store)
        titles = {i.ref.key: i.title for i in later.fetch(full=False).items}
        assert titles["acme/api#2"] == "Renamed"

    def test_an_issue_that_lost_the_action_label_or_is_gone_leaves_the_view(
        self,
        emulator: GitHubEmulator,
        make_connector: ConnectorFactory,
        clock: FakeClock,
        store: StateStore,
    ) -> None:
        seed(emulator, "acme/api", 3, clock)
        connector = make_connector(cursors=store)
        connector.fetch(full=False)
        emulator.edit_issue("acme/api", 1, "alice", labels=["P1"])
        emulator.delete_issue("acme/api", 3)
        assert connector.read_items(["acme/api#1", "acme/api#3"]).items == ()
        keys = sorted(i.ref.key for i in make_connector(cursors=store).fetch(full=False).items)
        assert keys == ["acme/api#2"]

    def test_keys_of_repositories_it_does_not_watch_are_not_read(
        self, emulator: GitHubEmulator, make_connector: ConnectorFactory, clock: FakeClock
    ) -> None:
        seed(emulator, "acme/api", 1, clock)
        seed(emulator, "acme/web", 1, clock)
        connector = make_connector(["acme/api"])
        emulator.reset_counters()
        assert connector.read_items(["acme/web#1", "not a key", "acme/api#x"]).items == ()
        assert emulator.counters == {}

    def test_items_linking_a_pull_request_are_found_in_the_view(
        self, emulator: GitHubEmulator, make_connector: ConnectorFactory, clock: FakeClock
    ) -> None:
        seed(emulator, "acme/api", 2, clock)
        link = f"{emulator.base_url}/acme/api/pull/9"
        emulator.edit_issue(
            "acme/api",
            1,
            "alice",
            body=f"### Due date\n\n2026-12-01\n\n### Evidence\n\n{link}\n",
        )
        connector = make_connector()
        connector.fetch(full=False)
        assert connector.items_linking(link + "/") == ["acme/api#1"]
        assert connector.items_linking(f"{emulator.base_url}/acme/api/pull/10") == []


def by_key(item: ActionItem) -> str:
    return item.ref.key


class TestAnIdleReadRebuildsNothing:
    """After all-304 answers ``fetch`` hands back its last result, the very object; any
    change to a repository's view (a changed list, a single read) is in the next one."""

    def test_all_304_gives_the_last_result_and_a_changed_repository_a_new_one(
        self,
        emulator: GitHubEmulator,
        make_connector: ConnectorFactory,
        clock: FakeClock,
        store: StateStore,
    ) -> None:
        seed(emulator, "acme/api", 3, clock)
        seed(emulator, "acme/web", 2, clock)
        connector = make_connector(["acme/api", "acme/web"], cursors=store)
        first = connector.fetch(full=False)
        emulator.reset_counters()
        again = connector.fetch(full=False)
        assert emulator.counters == {("GET", LIST, 304): 2}
        assert again is first
        clock.advance(minutes=1)
        emulator.edit_issue("acme/web", 1, "alice", title="Renamed")
        changed = connector.fetch(full=False)
        titles = {i.ref.key: i.title for i in changed.items}
        assert titles["acme/web#1"] == "Renamed"
        fresh = make_connector(["acme/api", "acme/web"]).fetch(full=False).items
        assert sorted(changed.items, key=by_key) == sorted(fresh, key=by_key)
        # The unchanged repository's items are the very objects of the last result.
        api = [i for i in changed.items if i.ref.key.startswith("acme/api#")]
        assert all(a is b for a, b in zip(api, first.items[:3], strict=True))
        assert connector.fetch(full=False) is changed

    def test_a_single_read_after_a_reused_result_is_in_the_next_fetch(
        self,
        emulator: GitHubEmulator,
        make_connector: ConnectorFactory,
        clock: FakeClock,
        store: StateStore,
    ) -> None:
        """A webhook cycle's read puts its answer into the view under the same cursor: the
        next fetch builds its result again, even on a 304, and shows what was read."""
        seed(emulator, "acme/api", 3, clock)
        connector = make_connector(cursors=store)
        connector.fetch(full=False)
        reused = connector.fetch(full=False)
        connector.read_items(["acme/api#2"])
        emulator.reset_counters()
        rebuilt = connector.fetch(full=False)
        assert emulator.counters == {("GET", LIST, 304): 1}
        assert rebuilt is not reused
        assert rebuilt.items == reused.items
        clock.advance(minutes=1)
        emulator.edit_issue("acme/api", 2, "alice", title="Renamed")
        connector.read_items(["acme/api#2"])
        after = connector.fetch(full=False)
        assert after is not rebuilt
        assert {i.ref.key: i.title for i in after.items}["acme/api#2"] == "Renamed"

    def test_a_repository_that_fails_is_never_reused(
        self,
        emulator: GitHubEmulator,
        make_connector: ConnectorFactory,
        clock: FakeClock,
        store: StateStore,
    ) -> None:
        """An incomplete result is built anew, and the next complete one too."""
        seed(emulator, "acme/api", 2, clock)
        seed(emulator, "acme/web", 2, clock)
        connector = make_connector(["acme/api", "acme/web", "acme/gone"], cursors=store)
        first = connector.fetch(full=False)
        assert not first.complete
        again = connector.fetch(full=False)
        assert again is not first
        assert again.items == first.items
