"""Properties of the core that must hold for any items, checked with hypothesis."""

from datetime import date, timedelta
from random import Random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncer.core.apply import Applier
from syncer.core.cycle import run_cycle
from syncer.core.evaluate import evaluate
from syncer.core.ledger import MemoryLedger
from syncer.core.model import (
    ActionItem,
    Evidence,
    EvidenceKind,
    Priority,
    Resolution,
    Severity,
    Verification,
    Waiver,
)
from syncer.core.plan import Observed, plan
from syncer.core.policy import ViolationAction
from tests.builders import NOW, example_policy, item
from tests.fakes import FakeTracker

POLICY = example_policy()
OTHER_LABELS = ["blocked-external", "pmsync/exempt", "team-a", "bug"]
LABELS = sorted(POLICY.managed_labels) + OTHER_LABELS


@st.composite
def action_items(draw: st.DrawFn, index: int) -> ActionItem:
    closed = draw(st.none() | st.integers(0, 60))
    evidence = draw(
        st.lists(
            st.builds(
                Evidence,
                kind=st.sampled_from(list(EvidenceKind)),
                url=st.just("https://example.test/x"),
                verification=st.sampled_from(list(Verification)),
            ),
            max_size=2,
        )
    )
    waiver = draw(
        st.none()
        | st.builds(
            Waiver, until=st.dates(date(2026, 10, 1), date(2027, 1, 31)), approver=st.just("cto")
        )
    )
    built = item(
        f"acme/api#{index}",
        priority=draw(st.sampled_from(list(Priority))),
        severity=draw(st.sampled_from(list(Severity))),
        owners=tuple(
            draw(st.lists(st.sampled_from(["alice", "bob", "carol"]), max_size=2, unique=True))
        ),
        age_days=draw(st.integers(0, 200)),
        due=draw(st.none() | st.dates(date(2026, 8, 1), date(2027, 3, 1))),
        closed_days_ago=closed,
        resolution=draw(st.sampled_from(list(Resolution))),
        evidence=tuple(evidence),
        labels=frozenset(draw(st.lists(st.sampled_from(LABELS), max_size=4))),
        sponsor=draw(st.none() | st.just("sam")),
        executive=draw(st.none() | st.just("erin")),
        waiver=waiver,
    )
    # Owners whose account is inactive (or not known), or who are only named, not assigned.
    owners = tuple(
        owner.model_copy(
            update={
                "active": draw(st.sampled_from([None, True, False])),
                "assigned": draw(st.booleans()),
            }
        )
        for owner in built.owners
    )
    return built.model_copy(update={"owners": owners})


@st.composite
def backlogs(draw: st.DrawFn) -> list[ActionItem]:
    count = draw(st.integers(0, 12))
    return [draw(action_items(i)) for i in range(count)]


violation_actions = st.sampled_from(list(ViolationAction))
SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class TestConvergence:
    @SETTINGS
    @given(items=backlogs(), on_violation=violation_actions, days_later=st.integers(0, 40))
    def test_applying_a_plan_and_planning_again_yields_nothing(
        self, items: list[ActionItem], on_violation: ViolationAction, days_later: int
    ) -> None:
        """Whatever the items and whenever we look, one applied plan reaches the fixed point."""
        closure = POLICY.closure.model_copy(update={"on_violation": on_violation})
        ops = POLICY.operations.model_copy(update={"max_writes_per_cycle": 10_000})
        policy = POLICY.model_copy(update={"closure": closure, "operations": ops})
        now = NOW + timedelta(days=days_later)
        fake = FakeTracker("github", clock=lambda: now).load(items)
        ledger = MemoryLedger()
        applier = Applier({"github": fake}, ledger, lambda: now, cycle_id="c", policy_version="v")
        observed = Observed()
        run_cycle(
            trackers=[fake],
            policy=policy,
            now=now,
            executor=applier,
            cycle_id="c",
            observed=observed,
        )
        comments = len(fake.comments)
        again = plan(evaluate(fake.items.values(), policy, now), policy.managed_labels, observed)
        assert again.is_empty(), again.actions
        # Even without the marker cache (a restart), a rerun never duplicates a comment.
        run_cycle(trackers=[fake], policy=policy, now=now, executor=applier, cycle_id="c2")
        assert len(fake.comments) == comments


class TestOneItemAtATime:
    @SETTINGS
    @given(
        items=backlogs(),
        on_violation=violation_actions,
        days_later=st.integers(-30, 60),
        reminder=st.booleans(),
        problems=st.lists(st.booleans(), max_size=12),
        order=st.randoms(use_true_random=False),
    )
    def test_an_items_assessment_depends_on_it_the_policy_and_now_alone(
        self,
        items: list[ActionItem],
        on_violation: ViolationAction,
        days_later: int,
        reminder: bool,
        problems: list[bool],
        order: Random,
    ) -> None:
        """Alone, among others or in any order, the same: what is shared between items (the
        schedule of a priority and deadline) never carries one item's verdict to another."""
        closure = POLICY.closure.model_copy(update={"on_violation": on_violation})
        escalation = POLICY.escalation
        if not reminder:
            escalation = escalation.model_copy(update={"reminder": None})
        policy = POLICY.model_copy(update={"closure": closure, "escalation": escalation})
        items = [
            i.model_copy(update={"data_problems": ("owner field unreadable",)}) if bad else i
            for i, bad in zip(items, problems + [False] * len(items), strict=False)
        ]
        now = NOW + timedelta(days=days_later)
        together = evaluate(items, policy, now)
        assert together == [evaluate([one], policy, now)[0] for one in items]
        shuffled = list(range(len(items)))
        order.shuffle(shuffled)
        reordered = evaluate([items[i] for i in shuffled], policy, now)
        assert [reordered[shuffled.index(i)] for i in range(len(items))] == together


class TestBudget:
    @SETTINGS
    @given(items=backlogs(), budget=st.integers(0, 12))
    def test_a_plan_never_exceeds_the_budget_and_drops_nothing(
        self, items: list[ActionItem], budget: int
    ) -> None:
        assessments = evaluate(items, POLICY, NOW)
        unlimited = plan(assessments, POLICY.managed_labels)
        limited = plan(assessments, POLICY.managed_labels, budget=budget)
        assert limited.write_count <= budget
        assert limited.write_count + limited.backlog_count == unlimited.write_count
        # The most urgent changes that fit, in order: what a scan of the full order takes.
        left, expected = budget, []
        for change in unlimited.changes:
            if change.cost <= left:
                expected.append(change.key)
                left -= change.cost
        assert [c.key for c in limited.changes] == expected
        assert [d.key for d in limited.backlog_by_urgency] == [
            c.key for c in unlimited.changes if c.key not in expected
        ]


class TestLabels:
    @SETTINGS
    @given(items=backlogs())
    def test_escalation_and_de_escalation_never_fight_over_a_label(
        self, items: list[ActionItem]
    ) -> None:
        """No change adds and removes the same label, and at most one tier label is desired."""
        tier_labels = {t.label for t in POLICY.escalation.tiers}
        assessments = evaluate(items, POLICY, NOW)
        for a in assessments:
            assert len(a.desired_labels & tier_labels) <= 1
            if POLICY.waivers.label in a.desired_labels or a.item.labels & set(POLICY.pause.labels):
                assert not a.desired_labels & tier_labels
        for change in plan(assessments, POLICY.managed_labels).changes:
            added = {lbl for a in change.actions if a.kind == "add_labels" for lbl in a.labels}  # type: ignore[union-attr]
            removed = {lbl for a in change.actions if a.kind == "remove_labels" for lbl in a.labels}  # type: ignore[union-attr]
            assert not added & removed
