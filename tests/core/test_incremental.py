"""Incremental evaluation and planning equal full ones, whatever changes and however the clock
moves."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import NamedTuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncer.core.actions import ItemChange, Plan
from syncer.core.assessment import Assessment
from syncer.core.cycle import record_decisions
from syncer.core.errors import TransientError
from syncer.core.evaluate import evaluate
from syncer.core.idle import CycleMemory
from syncer.core.incremental import IncrementalEvaluator
from syncer.core.ledger import LedgerEntry, MemoryLedger
from syncer.core.model import ActionItem
from syncer.core.plan import Observed, plan
from syncer.core.policy import Policy
from tests.builders import NOW, example_policy, item
from tests.core.test_properties import action_items

BASE = example_policy()
TIMEZONES = ["Europe/Berlin", "UTC", "Pacific/Auckland", "America/Santiago", "Asia/Kolkata"]


def policy_in(timezone: str) -> Policy:
    return BASE.model_copy(
        update={"deadlines": BASE.deadlines.model_copy(update={"timezone": timezone})}
    )


def full_and_plan(
    items: list[ActionItem], policy: Policy, now: datetime
) -> tuple[list[Assessment], Plan]:
    assessments = evaluate(items, policy, now)
    return assessments, planned(assessments, policy)


def planned(assessments: list[Assessment], policy: Policy) -> Plan:
    return plan(assessments, policy.managed_labels, budget=policy.operations.max_writes_per_cycle)


class Step(NamedTuple):
    """One step of a daemon's life (see ``steps``)."""

    kind: str
    slot: int = 0
    amount: int = 0
    drawn: ActionItem | None = None


# The clock moves (seconds, up to three days: day changes in the policy's timezone, waiver
# lapses, tiers and closure windows are crossed; or just across one closed item's closure
# window end), an item changes (or appears), an item goes, a webhook cycle for one item, a
# full resync, or a policy reload.
NO = st.none()
steps = st.one_of(
    st.builds(Step, st.just("tick"), st.just(0), st.integers(0, 3 * 86400), NO),
    st.builds(Step, st.just("tick"), st.just(0), st.sampled_from([1, 60, 900, 3600]), NO),
    st.builds(Step, st.just("near"), st.integers(0, 7), st.integers(1, 90), NO),
    st.builds(Step, st.just("change"), st.integers(0, 7), st.just(0), action_items(0)),
    st.builds(Step, st.just("drop"), st.integers(0, 7), st.just(0), NO),
    st.builds(Step, st.just("webhook"), st.integers(0, 7), st.just(0), action_items(0)),
    st.just(Step("full")),
    st.just(Step("reload")),
)


def check(
    incremental: IncrementalEvaluator,
    items: list[ActionItem],
    policy: Policy,
    now: datetime,
    *,
    full: bool = False,
    partial: bool = False,
) -> None:
    got = incremental.evaluate(items, policy, now, full=full, partial=partial)
    expected, expected_plan = full_and_plan(items, policy, now)
    assert got == expected
    assert planned(got, policy) == expected_plan


def keyed(index: int, drawn: ActionItem) -> ActionItem:
    ref = drawn.ref.model_copy(update={"key": f"acme/api#{index}"})
    return drawn.model_copy(update={"ref": ref})


class TestIncrementalEqualsFull:
    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        start=st.lists(action_items(0), max_size=8),
        timezone=st.sampled_from(TIMEZONES),
        start_offset=st.integers(-2 * 86400, 2 * 86400),
        life=st.lists(steps, max_size=25),
    )
    def test_any_changes_and_clock_steps(
        self, start: list[ActionItem], timezone: str, start_offset: int, life: list[Step]
    ) -> None:
        """After every step, the reused assessments and their plan equal a full evaluation's."""
        policy = policy_in(timezone)
        items = {i: keyed(i, drawn) for i, drawn in enumerate(start)}
        now = NOW + timedelta(seconds=start_offset)
        incremental = IncrementalEvaluator()
        window = policy.closure.check_closed_within.as_timedelta()
        for step in life:
            if step.kind == "tick":
                now += timedelta(seconds=step.amount)
            elif step.kind == "near":
                closed = items.get(step.slot)
                if closed is not None and closed.closed_at is not None:
                    now = max(now, closed.closed_at + window - timedelta(seconds=step.amount))
                    check(incremental, list(items.values()), policy, now)
                now += timedelta(seconds=2 * step.amount)
            elif step.kind in {"change", "webhook"}:
                assert step.drawn is not None
                items[step.slot] = keyed(step.slot, step.drawn)
                if step.kind == "webhook":
                    check(incremental, [items[step.slot]], policy, now, partial=True)
            elif step.kind == "drop":
                items.pop(step.slot, None)
            elif step.kind == "reload":
                policy = policy.model_copy()
            check(incremental, list(items.values()), policy, now, full=step.kind == "full")


class TestReuse:
    def test_an_idle_cycle_assesses_nothing_and_a_change_only_itself(self) -> None:
        """Unchanged items inside the same day are reused; a changed one is assessed again."""
        policy = example_policy()
        items = [item(f"acme/api#{i}", age_days=i) for i in range(5)]
        incremental = IncrementalEvaluator()
        incremental.evaluate(items, policy, NOW)
        assert incremental.assessed == 5
        incremental.evaluate(items, policy, NOW + timedelta(minutes=15))
        assert incremental.assessed == 0
        items[2] = item("acme/api#2", age_days=2, labels=frozenset({"team-a"}))
        incremental.evaluate(items, policy, NOW + timedelta(minutes=30))
        assert incremental.assessed == 1

    def test_an_idle_cycle_hands_back_the_very_list_and_a_change_after_it_is_seen(
        self,
    ) -> None:
        """The stages behind see the very list (one comparison); a change after a reused
        answer is assessed and the answer is a full evaluation's."""
        policy = example_policy()
        items = [item(f"acme/api#{i}", age_days=i) for i in range(4)]
        incremental = IncrementalEvaluator()
        first = incremental.evaluate(items, policy, NOW)
        again = incremental.evaluate(list(items), policy, NOW + timedelta(minutes=15))
        assert again is first
        changed = [*items[:3], item("acme/api#3", age_days=3, owners=())]
        later = NOW + timedelta(minutes=30)
        after = incremental.evaluate(changed, policy, later)
        assert incremental.assessed == 1
        assert after is not first
        assert after == evaluate(changed, policy, later)
        assert incremental.evaluate(changed, policy, later) is after

    def test_a_day_change_in_the_policy_timezone_assesses_again(self) -> None:
        """Midnight in Europe/Berlin (23:00 UTC in November) moves every dated item."""
        policy = example_policy()
        items = [item("acme/api#1", age_days=3)]
        incremental = IncrementalEvaluator()
        evening = NOW.replace(hour=22, minute=50)
        incremental.evaluate(items, policy, evening)
        incremental.evaluate(items, policy, evening + timedelta(minutes=9))
        assert incremental.assessed == 0
        incremental.evaluate(items, policy, evening + timedelta(minutes=11))
        assert incremental.assessed == 1

    def test_the_end_of_the_closure_window_assesses_again(self) -> None:
        """A closed item stops being judged at closed_at + check_closed_within, mid-day."""
        policy = example_policy()
        closed = item("acme/api#1", closed_days_ago=30)
        assert closed.closed_at is not None
        end = closed.closed_at + policy.closure.check_closed_within.as_timedelta()
        incremental = IncrementalEvaluator()
        incremental.evaluate([closed], policy, end - timedelta(seconds=1))
        incremental.evaluate([closed], policy, end)
        assert incremental.assessed == 0
        after = incremental.evaluate([closed], policy, end + timedelta(seconds=1))
        assert incremental.assessed == 1
        assert after == evaluate([closed], policy, end + timedelta(seconds=1))

    def test_full_resync_and_reload_assess_everything(self) -> None:
        """``full`` and a new policy object forget the cache."""
        policy = example_policy()
        items = [item(f"acme/api#{i}") for i in range(3)]
        incremental = IncrementalEvaluator()
        incremental.evaluate(items, policy, NOW)
        incremental.evaluate(items, policy, NOW, full=True)
        assert incremental.assessed == 3
        incremental.evaluate(items, policy.model_copy(), NOW)
        assert incremental.assessed == 3


# What a daemon's cycle also changes between plans: a comment's marker becomes known (posted
# by this cycle or another replica), or a reload changes the write budget.
memory_steps = st.one_of(
    steps,
    st.builds(Step, st.just("marker"), st.integers(0, 7), st.integers(0, 2), NO),
    st.builds(Step, st.just("budget"), st.just(0), st.integers(0, 6), NO),
)


class TestMemoryEqualsFull:
    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        start=st.lists(action_items(0), max_size=8),
        timezone=st.sampled_from(TIMEZONES),
        start_offset=st.integers(-2 * 86400, 2 * 86400),
        life=st.lists(memory_steps, max_size=25),
    )
    def test_any_changes_clock_steps_and_markers(
        self, start: list[ActionItem], timezone: str, start_offset: int, life: list[Step]
    ) -> None:
        """After every step, the memory's plan equals a full evaluation's plan."""
        policy = policy_in(timezone)
        items = {i: keyed(i, drawn) for i, drawn in enumerate(start)}
        now = NOW + timedelta(seconds=start_offset)
        memory = CycleMemory()
        observed = Observed()
        budget: int | None = policy.operations.max_writes_per_cycle
        last: list[Assessment] = []
        for step in life:
            full = step.kind == "full"
            if step.kind == "tick":
                now += timedelta(seconds=step.amount)
            elif step.kind in {"change", "webhook"}:
                assert step.drawn is not None
                items[step.slot] = keyed(step.slot, step.drawn)
            elif step.kind == "drop":
                items.pop(step.slot, None)
            elif step.kind == "reload":
                policy = policy.model_copy()
                memory = CycleMemory()
            elif step.kind == "marker":
                # A comment some assessment wants becomes known as posted.
                wanted = [(a.item.ref, c.marker) for a in last for c in a.comments]
                if wanted:
                    observed.remember(*wanted[step.amount % len(wanted)])
            elif step.kind == "budget":
                budget = None if step.amount == 0 else step.amount
            if full:
                memory.forget()
            current = list(items.values())
            got = memory.evaluator.evaluate(current, policy, now)
            got_plan = memory.plan(got, policy.managed_labels, observed, budget)
            expected = evaluate(current, policy, now)
            assert got == expected
            assert got_plan == plan(expected, policy.managed_labels, observed, budget)
            last = got


class TestMemoryReuse:
    def test_an_idle_cycle_reuses_the_plan_and_a_known_marker_plans_again(self) -> None:
        """The very same assessments and markers: the last plan; a new marker: a new plan."""
        policy = example_policy()
        items = [item(f"acme/api#{i}", age_days=40 + i, owners=()) for i in range(3)]
        memory = CycleMemory()
        observed = Observed()
        budget = policy.operations.max_writes_per_cycle
        first = memory.plan(
            memory.evaluator.evaluate(items, policy, NOW), policy.managed_labels, observed, budget
        )
        assert not memory.plans.reused
        assessments = memory.evaluator.evaluate(items, policy, NOW + timedelta(minutes=15))
        again = memory.plan(assessments, policy.managed_labels, observed, budget)
        assert memory.plans.reused
        assert again is first
        comments = [c for change in first.changes for c in change.actions if c.kind == "comment"]
        assert comments, "the example items want comments"
        observed.remember(comments[0].ref, comments[0].message.marker)
        after = memory.plan(assessments, policy.managed_labels, observed, budget)
        assert not memory.plans.reused
        assert after == plan(assessments, policy.managed_labels, observed, budget)

    def test_a_review_change_is_always_planned(self) -> None:
        """Extra changes (the weekly review) are built fresh each time: never reused."""
        policy = example_policy()
        memory = CycleMemory()
        assessments = memory.evaluator.evaluate([item()], policy, NOW)
        review = ItemChange(key="report", actions=())
        for _ in range(2):
            got = memory.plan(assessments, policy.managed_labels, None, None, [review])
            assert not memory.plans.reused
            assert got == plan(assessments, policy.managed_labels, None, None, [review])


class CountingLedger(MemoryLedger):
    """A ledger that counts its ``record`` calls and can fail the next one."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0
        self.fail_next = False

    def record(self, entries: Sequence[LedgerEntry]) -> None:
        self.calls += 1
        if self.fail_next:
            self.fail_next = False
            raise TransientError("database away")
        super().record(entries)


class TestRecordedDecisions:
    def test_the_very_same_assessments_are_not_recorded_again_unless_that_failed(self) -> None:
        """A rejected closure is recorded once; a failed record is done again next cycle."""
        policy = example_policy()
        memory = CycleMemory()
        ledger = CountingLedger()
        assessments = memory.evaluator.evaluate([item(closed_days_ago=2)], policy, NOW)
        ledger.fail_next = True
        with pytest.raises(TransientError):
            record_decisions(ledger, assessments, NOW, "c1", policy.version, memory)
        record_decisions(ledger, assessments, NOW, "c2", policy.version, memory)
        record_decisions(ledger, list(assessments), NOW, "c3", policy.version, memory)
        assert ledger.calls == 2
        assert [e.kind for e in ledger.entries] == ["closure_rejected"]
