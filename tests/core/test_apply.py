"""The applier: writes exactly once, honours the budget, and converges with the planner."""

from datetime import UTC, datetime

from syncer.core.apply import Applier, DryRun
from syncer.core.cycle import run_cycle
from syncer.core.errors import (
    LeadershipLost,
    RateLimited,
    TrackerError,
    TransientError,
    TransitionUnavailable,
)
from syncer.core.exit_codes import ExitCode
from syncer.core.ledger import MemoryLedger
from syncer.core.model import ActionItem, Priority, Severity
from syncer.core.policy import Policy
from tests.builders import NOW, example_policy, item
from tests.fakes import FakeTracker

POLICY = example_policy()
SCENARIO = [
    item("acme/api#1", priority=Priority.P0, severity=Severity.SEV1, owners=(), age_days=40),
    item("acme/api#2", closed_days_ago=2),
    item("acme/api#7", age_days=80),
    item("acme/web#4", age_days=80, labels=frozenset({"blocked-external"})),
    item("acme/web#5", age_days=31, severity=Severity.SEV3),
    item("acme/web#6", age_days=3),
]


def fake_with(items: list[ActionItem], policy: Policy = POLICY) -> FakeTracker:
    return FakeTracker("github", clock=lambda: NOW).load(items)


def cycle(fake: FakeTracker, ledger: MemoryLedger, policy: Policy = POLICY, dry: bool = False):  # type: ignore[no-untyped-def]
    executor = (
        DryRun()
        if dry
        else Applier(
            {fake.name: fake}, ledger, lambda: NOW, cycle_id="c", policy_version=policy.version
        )
    )
    return run_cycle(
        trackers=[fake], policy=policy, now=NOW, executor=executor, cycle_id="c", ledger=ledger
    )


class TestConvergence:
    def test_applying_the_plan_then_planning_again_gives_an_empty_plan(self) -> None:
        fake, ledger = fake_with(SCENARIO), MemoryLedger()
        first = cycle(fake, ledger)
        assert first.result.writes == first.plan.write_count > 0
        assert cycle(fake, ledger).plan.is_empty()

    def test_the_expected_writes_for_the_reference_scenario(self) -> None:
        fake = fake_with(SCENARIO)
        cycle(fake, MemoryLedger())
        kinds = [(kind, key) for kind, key, _ in fake.writes]
        assert kinds == [
            ("comment", "acme/api#1"),
            ("comment", "acme/api#1"),
            ("add_labels", "acme/api#1"),
            ("add_labels", "acme/api#7"),
            ("comment", "acme/web#5"),
            ("add_labels", "acme/web#5"),
            ("comment", "acme/api#2"),
            ("reopen", "acme/api#2"),
            ("add_labels", "acme/api#2"),
        ]
        assert fake.items["acme/api#1"].labels == {
            "pmsync/escalated-executive",
            "pmsync/needs-owner",
        }
        assert fake.items["acme/api#2"].is_open

    def test_a_dry_run_writes_nothing_and_reports_the_same_plan(self) -> None:
        fake = fake_with(SCENARIO)
        outcome = cycle(fake, MemoryLedger(), dry=True)
        assert fake.writes == []
        assert outcome.result.count("planned") == outcome.plan.write_count


class TestExactlyOnce:
    def test_a_crash_between_comment_and_label_ends_with_one_comment(self) -> None:
        late = item("acme/web#5", age_days=31, severity=Severity.SEV3)
        fake, ledger = fake_with([late]), MemoryLedger()
        fake.fail_on = lambda kind, _key: (
            TransientError("connection reset") if kind == "add_labels" else None
        )
        failed = cycle(fake, ledger)
        assert [f.action.kind for f in failed.result.failed] == ["add_labels"]
        fake.fail_on = lambda _kind, _key: None
        cycle(fake, ledger)
        assert [c.marker for c in fake.comments] == ["pmsync:escalation:owner:due-2026-11-22"]
        assert "pmsync/overdue" in fake.items["acme/web#5"].labels
        assert cycle(fake, ledger).plan.is_empty()

    def test_a_failed_comment_stops_that_items_labels_but_not_other_items(self) -> None:
        fake = fake_with(SCENARIO)
        fake.fail_on = lambda kind, key: (
            TrackerError("boom") if (kind, key) == ("comment", "acme/api#2") else None
        )
        outcome = cycle(fake, MemoryLedger())
        assert [(f.change.key, f.action.kind) for f in outcome.result.failed] == [
            ("github:acme/api#2", "comment")
        ]
        assert not any(key == "acme/api#2" for _, key, _ in fake.writes)
        assert any(key == "acme/web#5" for _, key, _ in fake.writes)


def cannot_reopen(kind: str, _key: str) -> TrackerError | None:
    """The fake's answer on a tracker whose workflow has no way back from Done."""
    if kind == "reopen":
        return TransitionUnavailable("no transition named 'Reopen'", wanted="Reopen")
    return None


class TestClosureThatCannotBeReopened:
    """A rejected closure the tracker cannot reopen: labelled and commented, never escalated."""

    def late_and_closed(self, **extra: object) -> ActionItem:
        """Closed two days ago without evidence, twenty days past its P0 deadline."""
        return item(
            "acme/api#2",
            priority=Priority.P0,
            severity=Severity.SEV1,
            age_days=40,
            closed_days_ago=2,
            **extra,  # type: ignore[arg-type]
        )

    def test_the_rejection_is_commented_and_labelled_and_nothing_escalates(self) -> None:
        fake, ledger = fake_with([self.late_and_closed()]), MemoryLedger()
        fake.fail_on = cannot_reopen
        outcome = cycle(fake, ledger)
        assert fake.writes == [
            ("comment", "acme/api#2", ("pmsync:closure-rejected:20261121T090000Z",)),
            ("add_labels", "acme/api#2", ("pmsync/closure-rejected",)),
        ]
        assert not fake.items["acme/api#2"].is_open
        assert [(f.key, f.wanted) for f in outcome.result.fallbacks] == [("acme/api#2", "Reopen")]
        assert outcome.result.failed == []
        assert outcome.exit_code(writing=True) is ExitCode.OK
        fallback = next(e for e in ledger.entries if e.kind == "reopen")
        assert (fallback.outcome, fallback.detail) == ("fallback", "no transition named 'Reopen'")

    def test_later_cycles_only_retry_the_reopen(self) -> None:
        fake, ledger = fake_with([self.late_and_closed()]), MemoryLedger()
        fake.fail_on = cannot_reopen
        cycle(fake, ledger)
        for _ in range(3):
            cycle(fake, ledger)
        assert [c.marker for c in fake.comments] == ["pmsync:closure-rejected:20261121T090000Z"]
        assert fake.items["acme/api#2"].labels == {"pmsync/closure-rejected"}

    def test_once_the_workflow_allows_it_the_item_is_reopened_and_escalated(self) -> None:
        fake, ledger = fake_with([self.late_and_closed()]), MemoryLedger()
        fake.fail_on = cannot_reopen
        cycle(fake, ledger)
        fake.fail_on = lambda _kind, _key: None
        cycle(fake, ledger)
        assert fake.items["acme/api#2"].is_open
        assert "pmsync/escalated-executive" in fake.items["acme/api#2"].labels
        assert len(fake.comments) == 2

    def test_tier_labels_left_from_before_the_closure_are_taken_off(self) -> None:
        """Escalated before it was closed: the fallback removes the tier label, and the
        budget counts that write although reopening would not have needed it."""
        closed = self.late_and_closed(labels=frozenset({"pmsync/escalated-executive"}))
        fake = fake_with([closed])
        fake.fail_on = cannot_reopen
        outcome = cycle(fake, MemoryLedger())
        assert fake.items["acme/api#2"].labels == {"pmsync/closure-rejected"}
        [change] = outcome.plan.changes
        assert [a.kind for a in change.actions] == ["comment", "reopen", "add_labels"]
        assert change.cost == outcome.plan.write_count == 4

    def test_a_reopen_that_fails_otherwise_stops_the_change_and_exits_3(self) -> None:
        fake = fake_with([self.late_and_closed()])
        fake.fail_on = lambda kind, _key: TransientError("503") if kind == "reopen" else None
        outcome = cycle(fake, MemoryLedger())
        assert [kind for kind, _, _ in fake.writes] == ["comment"]
        assert outcome.result.fallbacks == []
        assert outcome.exit_code(writing=True) is ExitCode.TRACKER_FAILED


class TestBudgetAndLimits:
    def test_a_budget_defers_whole_changes_to_the_backlog_most_urgent_first(self) -> None:
        small = POLICY.model_copy(
            update={"operations": POLICY.operations.model_copy(update={"max_writes_per_cycle": 3})}
        )
        fake, ledger = fake_with(SCENARIO, small), MemoryLedger()
        outcome = cycle(fake, ledger, small)
        assert outcome.plan.write_count == 3
        assert [c.key for c in outcome.plan.changes] == ["github:acme/api#1"]
        assert outcome.plan.backlog_count == 6
        for _ in range(5):
            cycle(fake, ledger, small)
        assert cycle(fake, ledger, small).plan.is_empty()
        assert len(fake.comments) == 4

    def test_a_rate_limit_stops_writes_and_keeps_the_rest_as_backlog(self) -> None:
        fake, ledger = fake_with(SCENARIO), MemoryLedger()
        reset = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
        fake.fail_on = lambda kind, key: (
            RateLimited("quota", reset) if key == "acme/api#7" else None
        )
        outcome = cycle(fake, ledger)
        assert outcome.result.rate_limited == {"github": reset}
        assert {c.key for c in outcome.result.backlog} == {
            "github:acme/api#7",
            "github:acme/api#2",
            "github:acme/web#5",
        }
        fake.fail_on = lambda _kind, _key: None
        cycle(fake, ledger)
        assert cycle(fake, ledger).plan.is_empty()
        assert len(fake.comments) == 4

    def test_a_lost_leadership_stops_every_write(self) -> None:
        fake, ledger = fake_with(SCENARIO), MemoryLedger()
        applier = Applier(
            {"github": fake},
            ledger,
            lambda: NOW,
            cycle_id="c",
            policy_version="v",
            fence=lambda: len(fake.writes) < 2,
        )
        outcome = run_cycle(trackers=[fake], policy=POLICY, now=NOW, executor=applier, cycle_id="c")
        assert len(fake.writes) == 2
        assert outcome.result.fenced
        assert outcome.result.backlog

    def test_a_write_refused_at_the_last_moment_stops_the_cycle_and_is_not_recorded(
        self,
    ) -> None:
        """LeadershipLost from a connector (its fence said no) fences the cycle: backlog, no
        failure, no ledger line for the write that was not sent."""
        fake, ledger = fake_with(SCENARIO), MemoryLedger()
        fake.fail_on = lambda kind, key: (
            LeadershipLost("not sent") if (kind, key) == ("add_labels", "acme/api#1") else None
        )
        outcome = cycle(fake, ledger)
        assert [(kind, key) for kind, key, _ in fake.writes] == [
            ("comment", "acme/api#1"),
            ("comment", "acme/api#1"),
        ]
        assert outcome.result.fenced
        assert outcome.result.failed == []
        assert {c.key for c in outcome.result.backlog} >= {"github:acme/api#1", "github:acme/web#5"}
        assert [e.kind for e in ledger.entries if e.item_key == "acme/api#1"] == [
            "comment",
            "comment",
        ]


class TestLabelCreation:
    """Labels a tracker must create before use are writes like any other."""

    def test_creating_a_label_is_a_ledgered_write_ahead_of_the_labelling(self) -> None:
        """The first item needing pmsync/overdue creates it, then labels; later ones only label."""
        late = [item(f"acme/web#{n}", age_days=31, severity=Severity.SEV3) for n in (5, 6)]
        fake, ledger = fake_with(late), MemoryLedger()
        fake.repo_labels = {"postmortem-action"}
        outcome = cycle(fake, ledger)
        assert [(kind, key, labels) for kind, key, labels in fake.writes] == [
            ("comment", "acme/web#5", ("pmsync:escalation:owner:due-2026-11-22",)),
            ("create_labels", "acme/web", ("pmsync/overdue",)),
            ("add_labels", "acme/web#5", ("pmsync/overdue",)),
            ("comment", "acme/web#6", ("pmsync:escalation:owner:due-2026-11-22",)),
            ("add_labels", "acme/web#6", ("pmsync/overdue",)),
        ]
        assert outcome.result.writes == 5
        created = [e for e in ledger.entries if e.kind == "create_labels"]
        assert [(e.item_key, e.inputs) for e in created] == [
            ("acme/web", {"labels": ["pmsync/overdue"]})
        ]

    def test_a_label_to_create_counts_against_the_budget(self) -> None:
        """Budget 4, two items of 2 writes each, one label to create: the second item waits."""
        late = [item(f"acme/web#{n}", age_days=31, severity=Severity.SEV3) for n in (5, 6)]
        small = POLICY.model_copy(
            update={"operations": POLICY.operations.model_copy(update={"max_writes_per_cycle": 4})}
        )
        fake, ledger = fake_with(late, small), MemoryLedger()
        fake.repo_labels = set()
        outcome = cycle(fake, ledger, small)
        assert outcome.plan.write_count == 4
        assert len(fake.writes) == 3
        assert [c.key for c in outcome.result.backlog] == ["github:acme/web#6"]
        second = cycle(fake, ledger, small)
        assert second.result.writes == 2
        assert cycle(fake, ledger, small).plan.is_empty()

    def test_a_budget_that_cannot_hold_the_change_and_its_labels_creates_the_labels_first(
        self,
    ) -> None:
        """Budget 2, a change of 2 writes needing a new label: cycle 1 creates the label and
        the change waits; cycle 2 does it. Never more than 2 writes a cycle, never starved."""
        late = item("acme/web#5", age_days=31, severity=Severity.SEV3)
        small = POLICY.model_copy(
            update={"operations": POLICY.operations.model_copy(update={"max_writes_per_cycle": 2})}
        )
        fake, ledger = fake_with([late], small), MemoryLedger()
        fake.repo_labels = set()
        first = cycle(fake, ledger, small)
        assert [kind for kind, _, _ in fake.writes] == ["create_labels"]
        assert [c.key for c in first.result.backlog] == ["github:acme/web#5"]
        second = cycle(fake, ledger, small)
        assert [kind for kind, _, _ in fake.writes] == ["create_labels", "comment", "add_labels"]
        assert second.result.writes == 2
        assert cycle(fake, ledger, small).plan.is_empty()

    def test_a_failed_label_creation_stops_the_item_before_its_labels(self) -> None:
        """A label that could not be created is retried next cycle; the item's labels wait."""
        late = item("acme/web#5", age_days=31, severity=Severity.SEV3)
        fake, ledger = fake_with([late]), MemoryLedger()
        fake.repo_labels = set()
        fake.fail_on = lambda kind, _key: TransientError("502") if kind == "create_labels" else None
        outcome = cycle(fake, ledger)
        assert [f.action.kind for f in outcome.result.failed] == ["create_labels"]
        assert [kind for kind, _, _ in fake.writes] == ["comment"]
        fake.fail_on = lambda _kind, _key: None
        cycle(fake, ledger)
        assert [kind for kind, _, _ in fake.writes] == ["comment", "create_labels", "add_labels"]


class TestLedger:
    def test_every_write_and_closure_decision_is_recorded_with_the_policy_version(self) -> None:
        fake, ledger = fake_with(SCENARIO), MemoryLedger()
        cycle(fake, ledger)
        kinds = [e.kind for e in ledger.entries]
        assert kinds.count("comment") == 4
        assert "closure_rejected" in kinds
        assert "waiver_granted" in kinds
        assert {e.policy_version for e in ledger.entries} == {POLICY.version}
        rejected = next(e for e in ledger.entries if e.kind == "closure_rejected")
        assert rejected.inputs["evidence"] == []
        assert rejected.item_key == "acme/api#2"

    def test_decisions_are_recorded_once_across_cycles(self) -> None:
        fake, ledger = fake_with(SCENARIO), MemoryLedger()
        cycle(fake, ledger)
        before = sum(1 for e in ledger.entries if e.kind == "waiver_granted")
        cycle(fake, ledger)
        assert sum(1 for e in ledger.entries if e.kind == "waiver_granted") == before == 1
