"""Idle cycles: owner and evidence look-ups and the marker cache are reused only when exact."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncer.core.actions import Plan
from syncer.core.apply import ApplyResult
from syncer.core.assessment import Assessment
from syncer.core.cycle import CycleOutcome, checked_items
from syncer.core.directory import AccountStatus, MemoryLookupCache
from syncer.core.evaluate import evaluate
from syncer.core.idle import CycleMemory, Joined, next_window_end
from syncer.core.model import ActionItem, Evidence, EvidenceKind, ItemRef, Verification
from syncer.core.tracker import Tracker, Verdict
from syncer.service.daemon_merge import MergedViews, merge_outcomes
from syncer.service.wiring import observed_from, open_state
from tests.builders import NOW, example_policy, item
from tests.core.test_directory import GONE, FakeDirectory
from tests.core.test_incremental import keyed
from tests.core.test_properties import action_items
from tests.fakes import FakeTracker, FakeVerifier

POLICY = example_policy()
WINDOW = POLICY.closure.check_closed_within.as_timedelta()
PR = "https://github.com/acme/api/pull/9"


def check(
    fetched: list[ActionItem],
    directory: FakeDirectory,
    cache: MemoryLookupCache,
    memory: CycleMemory | None,
    verifier: FakeVerifier | None = None,
    now: datetime = NOW,
) -> list[ActionItem]:
    """``checked_items`` of one GitHub-like tracker (``directory``) at ``now``."""
    trackers: list[Tracker] = [directory]  # type: ignore[list-item]
    verifiers = [verifier] if verifier else []
    return checked_items(fetched, trackers, POLICY, now, cache, verifiers, {}, memory)


class TestCheckedItems:
    def test_the_same_items_on_the_same_day_ask_nothing(self) -> None:
        """The second idle cycle reuses the last answer: no owner is asked again."""
        directory = FakeDirectory({"alice": AccountStatus(active=True), "dana": GONE})
        fetched = [item("acme/api#1", owners=("alice",)), item("acme/api#2", owners=("dana",))]
        memory, cache = CycleMemory(), MemoryLookupCache()
        first = check(fetched, directory, cache, memory)
        again = check(list(fetched), directory, cache, memory, now=NOW + timedelta(minutes=15))
        assert memory.checked.reused
        assert again == first
        assert again[1] is first[1]
        assert sorted(directory.asked) == ["alice", "dana"]
        check(list(fetched), directory, cache, memory, now=NOW + timedelta(days=1))
        assert not memory.checked.reused

    def test_an_owner_nobody_answered_for_is_asked_again(self) -> None:
        """A look-up that left an owner unknown is not kept."""
        directory = FakeDirectory({})
        fetched = [item("acme/api#1", owners=("ghost",))]
        memory, cache = CycleMemory(), MemoryLookupCache()
        check(fetched, directory, cache, memory)
        check(fetched, directory, cache, memory)
        assert not memory.checked.reused
        assert directory.asked == ["ghost", "ghost"]

    def test_evidence_to_look_up_is_looked_up_every_cycle(self) -> None:
        """A pull request may be merged meanwhile: its link is asked about every cycle, and
        an unchanged answer gives back the very same item object."""
        closed = item(
            "acme/api#1",
            closed_days_ago=2,
            evidence=(Evidence(kind=EvidenceKind.PULL_REQUEST, url=PR),),
        )
        verifier = FakeVerifier("github.com")
        directory = FakeDirectory({"alice": AccountStatus(active=True)})
        memory, cache = CycleMemory(), MemoryLookupCache()
        first = check([closed], directory, cache, memory, verifier)
        same = check([closed], directory, cache, memory, verifier)
        assert memory.checked.reused
        assert same[0] is first[0]
        again = check([closed], directory, cache, memory, verifier)
        assert again is same  # every link got last cycle's answer: last cycle's very list
        verifier.answers[PR] = Verdict(Verification.CONFIRMED, "merged")
        merged = check([closed], directory, cache, memory, verifier)
        assert verifier.asked == [[PR], [PR], [PR], [PR]]
        assert merged is not again
        assert merged[0].evidence[0].verification is Verification.CONFIRMED
        assert merged == check([closed], directory, MemoryLookupCache(), None, verifier)

    def test_the_end_of_a_closure_window_looks_again(self) -> None:
        """Its owner stops mattering once the window ends: the answer is worked out again."""
        closed = item("acme/api#1", owners=("dana",), closed_days_ago=2)
        assert closed.closed_at is not None
        end = closed.closed_at + WINDOW
        assert next_window_end([closed, item("acme/api#2")], WINDOW, NOW) == end
        directory = FakeDirectory({"dana": GONE})
        memory, cache = CycleMemory(), MemoryLookupCache()
        check([closed], directory, cache, memory, now=end - timedelta(seconds=1))
        check([closed], directory, cache, memory, now=end)
        assert memory.checked.reused
        after = check([closed], directory, cache, memory, now=end + timedelta(seconds=1))
        assert not memory.checked.reused
        fresh = check([closed], directory, MemoryLookupCache(), None, now=end + timedelta(1))
        assert after == fresh

    @settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        start=st.lists(action_items(0), max_size=6),
        life=st.lists(
            st.tuples(st.integers(0, 3 * 86400), st.none() | st.integers(0, 5), st.booleans()),
            max_size=12,
        ),
    )
    def test_always_what_a_fresh_look_gives(
        self, start: list[ActionItem], life: list[tuple[int, int | None, bool]]
    ) -> None:
        """For any clock steps, item changes and merges, the memory's answer equals a fresh
        one."""
        answers = {"alice": AccountStatus(active=True), "bob": GONE}  # carol: never answered
        fetched = [keyed(i, drawn) for i, drawn in enumerate(start)]
        memory, mine, theirs = CycleMemory(), MemoryLookupCache(), MemoryLookupCache()
        verifier = FakeVerifier("example.test")
        now = NOW
        for seconds, changed, merged in life:
            now += timedelta(seconds=seconds)
            if changed is not None and changed < len(fetched):
                fetched = list(fetched)
                fetched[changed] = fetched[changed].model_copy(update={"title": str(seconds)})
            if merged:
                verifier.answers["https://example.test/x"] = Verdict(Verification.CONFIRMED, "")
            got = check(fetched, FakeDirectory(answers), mine, memory, verifier, now)
            expected = check(fetched, FakeDirectory(answers), theirs, None, verifier, now)
            assert got == expected


class TestJoined:
    """Lists joined end to end: the last join only while every part is the very same list."""

    def test_the_very_same_parts_give_the_very_same_list_and_a_new_part_a_new_one(
        self,
    ) -> None:
        joined: Joined[int] = Joined()
        a, b = [1, 2], [3]
        first = joined.join([a, b])
        assert (first, joined.reused) == ([1, 2, 3], False)
        assert joined.join([a, b]) is first
        assert joined.reused
        equal = joined.join([a, list(b)])  # equal but another list: joined again
        assert (equal, joined.reused) == ([1, 2, 3], False)
        assert equal is not first
        assert joined.join([b, a]) == [3, 1, 2]
        assert joined.join([b]) == [3]
        assert joined.join([]) == []

    @settings(max_examples=200, deadline=None)
    @given(
        start=st.lists(st.lists(st.integers(0, 9), max_size=4), max_size=4),
        life=st.lists(
            st.tuples(
                st.sampled_from(["same", "new", "equal", "add", "drop"]),
                st.integers(0, 3),
                st.lists(st.integers(0, 9), max_size=4),
            ),
            max_size=20,
        ),
    )
    def test_always_the_concatenation(
        self, start: list[list[int]], life: list[tuple[str, int, list[int]]]
    ) -> None:
        """For any sequence of kept, replaced, equal, added and dropped parts, the join is the
        parts' concatenation, and is reused exactly when every part is the very same."""
        joined: Joined[int] = Joined()
        parts = [list(p) for p in start]
        last: list[list[int]] | None = None
        for kind, slot, values in life:
            if kind == "new" and parts:
                parts[slot % len(parts)] = values
            elif kind == "equal" and parts:
                parts[slot % len(parts)] = list(parts[slot % len(parts)])
            elif kind == "add":
                parts.insert(slot % (len(parts) + 1), values)
            elif kind == "drop" and parts:
                parts.pop(slot % len(parts))
            got = joined.join(list(parts))
            assert got == [x for p in parts for x in p]
            same = last is not None and len(last) == len(parts)
            same = same and all(x is y for x, y in zip(last or [], parts, strict=False))
            assert joined.reused == same
            last = list(parts)


class TestMergedOutcomes:
    """The daemon's merge of per-tracker outcomes reuses the last merged lists only when
    every tracker's items and assessments are the very lists they were."""

    @staticmethod
    def outcome(items: list[ActionItem], assessments: list[Assessment]) -> CycleOutcome:
        return CycleOutcome("c", NOW, items, assessments, Plan(), ApplyResult())

    def test_an_idle_tick_reuses_and_a_changed_tracker_is_seen(self) -> None:
        memory = CycleMemory()
        items = [item("acme/api#1", owners=()), item("acme/api#2")]
        assessments = memory.evaluator.evaluate(items, POLICY, NOW)
        jira_items = [item("REL-1", tracker="jira")]
        jira = evaluate(jira_items, POLICY, NOW)
        views = MergedViews()
        first = merge_outcomes(
            "c1", NOW, [self.outcome(items, assessments), self.outcome(jira_items, jira)], views
        )
        idle = memory.evaluator.evaluate(list(items), POLICY, NOW + timedelta(minutes=15))
        assert idle is assessments
        again = merge_outcomes(
            "c2", NOW, [self.outcome(items, idle), self.outcome(jira_items, jira)], views
        )
        assert again.items is first.items
        assert again.assessments is first.assessments
        changed = [items[0], item("acme/api#2", labels=frozenset({"team-a"}))]
        now = NOW + timedelta(minutes=30)
        fresh = memory.evaluator.evaluate(changed, POLICY, now)
        after = merge_outcomes(
            "c3", now, [self.outcome(changed, fresh), self.outcome(jira_items, jira)], views
        )
        assert after.items == [*changed, *jira_items]
        assert after.assessments == evaluate([*changed, *jira_items], POLICY, now)
        assert after.assessments is not first.assessments
        plain = merge_outcomes(
            "c3", now, [self.outcome(changed, fresh), self.outcome(jira_items, jira)]
        )
        assert (plain.items, plain.assessments) == (after.items, after.assessments)

    @settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        start=st.lists(action_items(0), min_size=1, max_size=6),
        life=st.lists(
            st.tuples(st.integers(0, 2 * 86400), st.none() | st.integers(0, 5), st.booleans()),
            max_size=12,
        ),
    )
    def test_the_merged_cycle_always_equals_a_full_one(
        self, start: list[ActionItem], life: list[tuple[int, int | None, bool]]
    ) -> None:
        """Two trackers' daemon cycles (checked items, evaluation) merged tick after tick,
        through idle ticks, item changes and a merged pull request: the merged items and
        assessments are a full cycle's."""
        answers = {"alice": AccountStatus(active=True), "bob": GONE}
        half = (len(start) + 1) // 2
        fetched = {
            "github": [keyed(i, drawn) for i, drawn in enumerate(start[:half])],
            "jira": [
                drawn.model_copy(update={"ref": ItemRef(tracker="jira", key=f"REL-{i + 1}")})
                for i, drawn in enumerate(start[half:])
            ],
        }
        memories = {name: CycleMemory() for name in fetched}
        caches = {name: MemoryLookupCache() for name in fetched}
        verifier = FakeVerifier("example.test")
        views = MergedViews()
        now = NOW
        for seconds, changed, merged in life:
            now += timedelta(seconds=seconds)
            if changed is not None:
                name = "github" if changed % 2 == 0 else "jira"
                items = list(fetched[name])
                if items:
                    slot = changed // 2 % len(items)
                    items[slot] = items[slot].model_copy(update={"title": str(seconds)})
                fetched[name] = items
            if merged:
                verifier.answers["https://example.test/x"] = Verdict(Verification.CONFIRMED, "")
            outcomes = []
            for name, memory in memories.items():
                checked = check(
                    list(fetched[name]), FakeDirectory(answers), caches[name], memory, verifier, now
                )
                outcomes.append(
                    self.outcome(checked, memory.evaluator.evaluate(checked, POLICY, now))
                )
            got = merge_outcomes("c", now, outcomes, views)
            fresh = [
                x
                for name in memories
                for x in check(
                    fetched[name], FakeDirectory(answers), MemoryLookupCache(), None, verifier, now
                )
            ]
            assert got.items == fresh
            assert got.assessments == evaluate(fresh, POLICY, now)


class TestMarkerCache:
    def test_the_markers_are_read_again_only_when_the_store_has_more(self, tmp_path: Path) -> None:
        """An unchanged count reuses the last read; a marker another replica saved is seen."""
        store = open_state(f"sqlite:///{tmp_path / 'state.db'}")
        try:
            tracker: Tracker = FakeTracker("github", clock=lambda: NOW)
            store.remember_markers("github", [("acme/api#1", "m1")])
            memory = CycleMemory()
            first = observed_from(store, [tracker], memory)
            first.remember(ItemRef(tracker="github", key="acme/api#9"), "not saved")
            again = observed_from(store, [tracker], memory)
            assert again.posted_markers == {(ItemRef(tracker="github", key="acme/api#1"), "m1")}
            store.remember_markers("github", [("acme/api#2", "m2")])
            assert observed_from(store, [tracker], memory) == observed_from(store, [tracker])
            assert len(observed_from(store, [tracker], memory).posted_markers) == 2
        finally:
            store.close()
