"""Incremental evaluation equals a full one, whatever changes and however the clock moves."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncer.actions import Plan
from syncer.assessment import Assessment
from syncer.evaluate import evaluate
from syncer.incremental import IncrementalEvaluator
from syncer.model import ActionItem
from syncer.plan import plan
from syncer.policy import Policy
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
