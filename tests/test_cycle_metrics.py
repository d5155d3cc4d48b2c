"""Tests for syncer.cycle_metrics: a real cycle against the in-memory tracker feeds the metrics."""

from __future__ import annotations

from collections import Counter

from syncer.apply import Applier, DryRun, Executor
from syncer.cycle import CycleOutcome, run_cycle
from syncer.cycle_metrics import record_outcome, record_traffic
from syncer.errors import TrackerError, TransientError
from syncer.fake import FakeTracker
from syncer.ledger import MemoryLedger
from syncer.metrics import Metrics
from syncer.model import ActionItem, Priority, Severity
from syncer.tracker import FetchResult
from tests.builders import NOW, example_policy, item

POLICY = example_policy()
FINISHED_AT = NOW.timestamp() + 12.0
SCENARIO = [
    item("acme/api#1", priority=Priority.P0, severity=Severity.SEV1, owners=(), age_days=40),
    item("acme/api#2", closed_days_ago=2),
    item("acme/api#7", age_days=80),
    item("acme/web#4", age_days=80, labels=frozenset({"blocked-external"})),
    item("acme/web#5", age_days=31, severity=Severity.SEV3),
    item("acme/web#6", age_days=3),
]


class BrokenTracker(FakeTracker):
    """A tracker whose fetch always fails with a transient error."""

    def fetch(self, *, full: bool) -> FetchResult:
        raise TransientError("502 from upstream", retry_after=30)


def fake_with(items: list[ActionItem], name: str = "github") -> FakeTracker:
    """An in-memory tracker holding ``items``."""
    return FakeTracker(name, clock=lambda: NOW, tier_of=POLICY.escalation.tier_of).load(items)


def run(trackers: list[FakeTracker], *, dry: bool = False) -> CycleOutcome:
    """One cycle through the applier (or a dry run) at NOW."""
    executor: Executor = (
        DryRun()
        if dry
        else Applier(
            {t.name: t for t in trackers},
            MemoryLedger(),
            lambda: NOW,
            cycle_id="c1",
            policy_version=POLICY.version,
        )
    )
    return run_cycle(trackers=trackers, policy=POLICY, now=NOW, executor=executor, cycle_id="c1")


def value(metrics: Metrics, name: str, **labels: str) -> float | None:
    """The sample value of ``name`` with exactly ``labels``."""
    return metrics.registry.get_sample_value(name, labels)


class TestSuccessfulCycle:
    """A clean full cycle records duration, success time, writes, items and overdue counts."""

    def test_writes_are_counted_by_kind_as_the_tracker_received_them(self) -> None:
        """The writes counter matches what the in-memory tracker recorded, kind by kind."""
        fake, metrics = fake_with(SCENARIO), Metrics(process_metrics=False)
        outcome = run([fake])
        record_outcome(metrics, outcome, seconds=12.0, finished_at=FINISHED_AT, full_view=True)
        received = Counter(kind for kind, _, _ in fake.writes)
        assert received
        for kind, count in received.items():
            assert value(metrics, "pmsync_writes_total", kind=kind) == count
        assert value(metrics, "pmsync_cycles_total", outcome="success") == 1.0
        assert value(metrics, "pmsync_cycle_duration_seconds_sum") == 12.0
        assert value(metrics, "pmsync_last_success_timestamp_seconds") == FINISHED_AT
        assert value(metrics, "pmsync_backlog_actions") == 0.0

    def test_items_are_counted_by_state_and_severity(self) -> None:
        """Five open items (one SEV-1, three SEV-2, one SEV-3) and one closed SEV-2."""
        metrics = Metrics(process_metrics=False)
        outcome = run([fake_with(SCENARIO)])
        record_outcome(metrics, outcome, seconds=1.0, finished_at=FINISHED_AT, full_view=True)
        assert value(metrics, "pmsync_items", state="open", severity="SEV-1") == 1.0
        assert value(metrics, "pmsync_items", state="open", severity="SEV-2") == 3.0
        assert value(metrics, "pmsync_items", state="open", severity="SEV-3") == 1.0
        assert value(metrics, "pmsync_items", state="closed", severity="SEV-2") == 1.0

    def test_overdue_counts_every_severity_including_zeros(self) -> None:
        """api#1 (SEV-1) and web#5 (SEV-3) are overdue; the waived and paused SEV-2s are not."""
        metrics = Metrics(process_metrics=False)
        outcome = run([fake_with(SCENARIO)])
        record_outcome(metrics, outcome, seconds=1.0, finished_at=FINISHED_AT, full_view=True)
        overdue = {
            severity.value: value(metrics, "pmsync_items_overdue", severity=severity.value)
            for severity in Severity
        }
        assert overdue == {"SEV-1": 1.0, "SEV-2": 0.0, "SEV-3": 1.0, "SEV-4": 0.0, "unknown": 0.0}

    def test_an_incremental_cycle_leaves_the_item_gauges_alone(self) -> None:
        """Only a full view replaces item counts; an incremental one sees only changes."""
        metrics = Metrics(process_metrics=False)
        record_outcome(
            metrics, run([fake_with(SCENARIO)]), seconds=1, finished_at=1, full_view=True
        )
        partial = run([fake_with([item("acme/web#6", age_days=3)])])
        record_outcome(metrics, partial, seconds=1, finished_at=2, full_view=False)
        assert value(metrics, "pmsync_items", state="open", severity="SEV-2") == 3.0
        assert value(metrics, "pmsync_last_success_timestamp_seconds") == 2.0

    def test_a_dry_run_counts_no_writes(self) -> None:
        """Planned actions are not writes."""
        metrics = Metrics(process_metrics=False)
        outcome = run([fake_with(SCENARIO)], dry=True)
        record_outcome(metrics, outcome, seconds=1.0, finished_at=FINISHED_AT, full_view=True)
        assert outcome.result.count("planned") > 0
        assert value(metrics, "pmsync_writes_total", kind="comment") is None


class TestFailingCycle:
    """Failures are counted by tracker and kind and do not move the success time."""

    def test_a_failed_fetch_counts_an_error_and_marks_the_cycle_failed(self) -> None:
        """The broken tracker's fetch error is counted; the healthy tracker still writes."""
        broken = BrokenTracker("jira", clock=lambda: NOW)
        metrics = Metrics(process_metrics=False)
        outcome = run([fake_with(SCENARIO), broken])
        record_outcome(metrics, outcome, seconds=3.0, finished_at=FINISHED_AT, full_view=True)
        assert value(metrics, "pmsync_errors_total", tracker="jira", kind="fetch") == 1.0
        assert value(metrics, "pmsync_cycles_total", outcome="failure") == 1.0
        assert value(metrics, "pmsync_cycles_total", outcome="success") is None
        assert value(metrics, "pmsync_last_success_timestamp_seconds") == 0.0
        assert (value(metrics, "pmsync_writes_total", kind="comment") or 0) > 0

    def test_a_transient_write_failure_is_counted_against_its_tracker(self) -> None:
        """A comment that fails with a 503 counts one write_transient error for github."""

        def fail_comments(kind: str, key: str) -> TrackerError | None:
            return TransientError("503", retry_after=5) if kind == "comment" else None

        fake = fake_with([item("acme/web#5", age_days=31, severity=Severity.SEV3)])
        fake.fail_on = fail_comments
        metrics = Metrics(process_metrics=False)
        outcome = run([fake])
        record_outcome(metrics, outcome, seconds=1.0, finished_at=FINISHED_AT, full_view=True)
        failed = value(metrics, "pmsync_errors_total", tracker="github", kind="write_transient")
        assert failed == len(outcome.result.failed) == 1
        assert not outcome.ok
        assert value(metrics, "pmsync_cycles_total", outcome="failure") == 1.0


class CountingTracker(FakeTracker):
    """An in-memory tracker that reports traffic as the HTTP connectors do."""

    def __init__(self, remaining: int | None) -> None:
        super().__init__("jira", clock=lambda: NOW, tier_of=POLICY.escalation.tier_of)
        self.requests: Counter[tuple[str, int]] = Counter({("GET", 200): 3, ("PUT", 429): 1})
        self.rate_limit_remaining = remaining


class TestTraffic:
    def test_counting_trackers_feed_requests_and_quota_and_others_are_skipped(self) -> None:
        """Totals per verb and status, the quota when known; a tracker without counts adds none."""
        metrics = Metrics(process_metrics=False)
        record_traffic(metrics, [CountingTracker(remaining=4321), fake_with([])])
        name = "pmsync_tracker_requests_total"
        assert value(metrics, name, tracker="jira", method="GET", status="200") == 3.0
        assert value(metrics, name, tracker="jira", method="PUT", status="429") == 1.0
        assert value(metrics, name, tracker="github", method="GET", status="200") is None
        assert value(metrics, "pmsync_rate_limit_remaining", tracker="jira") == 4321.0

    def test_an_unknown_quota_leaves_the_gauge_unset(self) -> None:
        metrics = Metrics(process_metrics=False)
        record_traffic(metrics, [CountingTracker(remaining=None)])
        assert value(metrics, "pmsync_rate_limit_remaining", tracker="jira") is None
