"""Tests for service.cycle_metrics: a real cycle against the in-memory tracker feeds the metrics."""

from __future__ import annotations

import math
from collections import Counter
from datetime import timedelta

from syncer.core.apply import Applier, DryRun, Executor
from syncer.core.cycle import CycleOutcome, run_cycle
from syncer.core.errors import RateLimited, TrackerError, TransientError
from syncer.core.idle import Reuse
from syncer.core.ledger import MemoryLedger
from syncer.core.model import ActionItem, Priority, Severity
from syncer.core.tracker import FetchResult
from syncer.report.build import build_report
from syncer.service.cycle_metrics import (
    record_follow_through,
    record_items,
    record_outcome,
    record_traffic,
    tier_label,
)
from syncer.service.metrics import Metrics
from tests.builders import NOW, example_policy, item
from tests.fakes import FakeTracker

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
    return FakeTracker(name, clock=lambda: NOW).load(items)


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


VIEWED = ("github",)


def value(metrics: Metrics, name: str, **labels: str) -> float | None:
    """The sample value of ``name`` with exactly ``labels``."""
    return metrics.registry.get_sample_value(name, labels)


def items_by(metrics: Metrics, *labels: str, name: str = "pmsync_items") -> dict[str, float]:
    """The samples of ``name`` summed by the values of ``labels`` (joined by '/')."""
    sums: Counter[str] = Counter()
    for family in metrics.registry.collect():
        for sample in family.samples:
            if sample.name == name:
                sums["/".join(sample.labels[label] for label in labels)] += sample.value
    return dict(sums)


class TestSuccessfulCycle:
    """A clean full cycle records duration, success time, writes, items and overdue counts."""

    def test_writes_are_counted_by_kind_as_the_tracker_received_them(self) -> None:
        """The writes counter matches what the in-memory tracker recorded, kind by kind."""
        fake, metrics = fake_with(SCENARIO), Metrics(process_metrics=False)
        outcome = run([fake])
        record_outcome(
            metrics, outcome, POLICY, seconds=12.0, finished_at=FINISHED_AT, viewed=VIEWED
        )
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
        record_outcome(
            metrics, outcome, POLICY, seconds=1.0, finished_at=FINISHED_AT, viewed=VIEWED
        )
        assert items_by(metrics, "state", "severity") == {
            "open/SEV-1": 1.0,
            "open/SEV-2": 3.0,
            "open/SEV-3": 1.0,
            "closed/SEV-2": 1.0,
        }

    def test_items_carry_tracker_status_and_priority(self) -> None:
        """Each series names tracker, state, status and priority; the rejected closure
        (api#2, closed without evidence, about to be reopened) is judged as open work."""
        metrics = Metrics(process_metrics=False)
        outcome = run([fake_with(SCENARIO)])
        record_outcome(
            metrics, outcome, POLICY, seconds=1.0, finished_at=FINISHED_AT, viewed=VIEWED
        )
        assert items_by(metrics, "tracker", "state", "status", "priority") == {
            "github/open/overdue/P0": 1.0,
            "github/closed/on_track/P1": 1.0,
            "github/open/waived/P1": 1.0,
            "github/open/paused/P1": 1.0,
            "github/open/overdue/P1": 1.0,
            "github/open/on_track/P1": 1.0,
        }

    def test_overdue_counts_every_severity_including_zeros(self) -> None:
        """api#1 (SEV-1) and web#5 (SEV-3) are overdue; the waived and paused SEV-2s are not."""
        metrics = Metrics(process_metrics=False)
        outcome = run([fake_with(SCENARIO)])
        record_outcome(
            metrics, outcome, POLICY, seconds=1.0, finished_at=FINISHED_AT, viewed=VIEWED
        )
        overdue = items_by(metrics, "severity", name="pmsync_items_overdue")
        assert overdue == {"SEV-1": 1.0, "SEV-2": 0.0, "SEV-3": 1.0, "SEV-4": 0.0, "unknown": 0.0}

    def test_overdue_items_are_labelled_with_priority_and_the_tier_they_reached(self) -> None:
        """The P0 item 26 days late is at the executive tier; the P1 one day late at owner."""
        metrics = Metrics(process_metrics=False)
        outcome = run([fake_with(SCENARIO)])
        record_outcome(
            metrics, outcome, POLICY, seconds=1.0, finished_at=FINISHED_AT, viewed=VIEWED
        )
        late = {
            key: n
            for key, n in items_by(
                metrics, "tracker", "priority", "tier", name="pmsync_items_overdue"
            ).items()
            if n
        }
        assert late == {"github/P0/executive": 1.0, "github/P1/owner": 1.0}
        every_tier = {
            key.split("/")[2]
            for key in items_by(metrics, "tracker", "priority", "tier", name="pmsync_items_overdue")
        }
        assert every_tier == {"none", "owner", "sponsor", "executive"}

    def test_an_incremental_cycle_leaves_the_item_gauges_alone(self) -> None:
        """Only a full view replaces item counts; an incremental one sees only changes."""
        metrics = Metrics(process_metrics=False)
        record_outcome(
            metrics, run([fake_with(SCENARIO)]), POLICY, seconds=1, finished_at=1, viewed=VIEWED
        )
        partial = run([fake_with([item("acme/web#6", age_days=3)])])
        record_outcome(metrics, partial, POLICY, seconds=1, finished_at=2, viewed=())
        assert items_by(metrics, "state", "severity")["open/SEV-2"] == 3.0
        assert value(metrics, "pmsync_last_success_timestamp_seconds") == 2.0

    def test_a_dry_run_counts_no_writes(self) -> None:
        """Planned actions are not writes."""
        metrics = Metrics(process_metrics=False)
        outcome = run([fake_with(SCENARIO)], dry=True)
        record_outcome(
            metrics, outcome, POLICY, seconds=1.0, finished_at=FINISHED_AT, viewed=VIEWED
        )
        assert outcome.result.count("planned") > 0
        assert value(metrics, "pmsync_writes_total", kind="comment") is None


class TestFailingCycle:
    """Failures are counted by tracker and kind and do not move the success time."""

    def test_a_failed_fetch_counts_an_error_and_marks_the_cycle_failed(self) -> None:
        """The broken tracker's fetch error is counted; the healthy tracker still writes."""
        broken = BrokenTracker("jira", clock=lambda: NOW)
        metrics = Metrics(process_metrics=False)
        outcome = run([fake_with(SCENARIO), broken])
        record_outcome(
            metrics, outcome, POLICY, seconds=3.0, finished_at=FINISHED_AT, viewed=("github",)
        )
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
        record_outcome(
            metrics, outcome, POLICY, seconds=1.0, finished_at=FINISHED_AT, viewed=VIEWED
        )
        failed = value(metrics, "pmsync_errors_total", tracker="github", kind="write_transient")
        assert failed == len(outcome.result.failed) == 1
        assert not outcome.ok
        assert value(metrics, "pmsync_cycles_total", outcome="failure") == 1.0


class RateLimitedTracker(FakeTracker):
    """A tracker whose fetch stops at an exhausted quota."""

    def fetch(self, *, full: bool) -> FetchResult:
        raise RateLimited("GET issues: primary rate limit", NOW, reason="primary")


class TestRateLimitedFetch:
    def test_a_fetch_stopped_by_a_rate_limit_counts_as_fetch_error_and_rate_limit(self) -> None:
        """Both series move once, and the outcome keeps the RateLimited with its reset."""
        metrics = Metrics(process_metrics=False)
        outcome = run([RateLimitedTracker("github", clock=lambda: NOW)])
        record_outcome(metrics, outcome, POLICY, seconds=1.0, finished_at=FINISHED_AT, viewed=())
        assert value(metrics, "pmsync_errors_total", tracker="github", kind="fetch") == 1.0
        assert value(metrics, "pmsync_errors_total", tracker="github", kind="rate_limited") == 1.0
        limit = outcome.fetch_rate_limits["github"]
        assert (limit.reset_at, limit.reason) == (NOW, "primary")


class CountingTracker(FakeTracker):
    """An in-memory tracker that reports traffic as the HTTP connectors do."""

    def __init__(self, remaining: int | None) -> None:
        super().__init__("jira", clock=lambda: NOW)
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


class TestTierLabel:
    """One function names tiers in metrics: by their stable id."""

    def test_tiers_are_named_by_the_policy_and_below_the_first_is_none(self) -> None:
        """0 is 'none'; 1..3 are the example policy's tier ids (not its names, which may
        change); out of range is 'none'."""
        names = [tier_label(POLICY, n) for n in range(5)]
        assert names == ["none", "owner", "sponsor", "executive", "none"]
        assert POLICY.escalation.tiers[2].name == "executive sponsor"


class TestPartialViews:
    """A tracker that did not give a full view keeps its last series."""

    def test_only_viewed_trackers_are_replaced(self) -> None:
        """jira's series survive a github-only update; github's are replaced."""
        metrics = Metrics(process_metrics=False)
        jira_items = [item("REL-1", tracker="jira", age_days=80)]
        both = run([fake_with(SCENARIO), fake_with(jira_items, name="jira")])
        record_items(metrics, both.assessments, POLICY, ["github", "jira"])
        record_items(metrics, run([fake_with([])]).assessments, POLICY, ["github"])
        assert items_by(metrics, "tracker") == {"jira": 1.0}
        overdue = items_by(metrics, "tracker", name="pmsync_items_overdue")
        assert overdue == {"github": 0.0, "jira": 1.0}


class TestFollowThrough:
    """The review's key figures reach the gauges as ratios and seconds."""

    def test_the_figures_match_the_reviews_own_computation(self) -> None:
        """The rejected closure is the one attempt (no measurable evidence) and counts as
        open: six open, five with one owner; no closure counted, so no on-time figure."""
        metrics = Metrics(process_metrics=False)
        outcome = run([fake_with(SCENARIO)])
        record_follow_through(metrics, outcome.assessments, POLICY, NOW)
        kpis = {k.name: k.value for k in build_report(outcome.assessments, POLICY, NOW).kpis}
        assert kpis["one_owner_share"] == 83.3
        assert value(metrics, "pmsync_open_single_owner_ratio") == 0.833
        assert kpis["evidence_share"] == 0.0
        assert value(metrics, "pmsync_closure_evidence_ratio") == 0.0
        assert kpis["median_open_age"] == 35.5
        assert value(metrics, "pmsync_open_age_median_seconds") == 35.5 * 86_400.0
        assert kpis["on_time_rate"] is None
        assert math.isnan(value(metrics, "pmsync_on_time_completion_ratio") or 0.0)
        assert math.isnan(value(metrics, "pmsync_time_to_close_median_seconds") or 0.0)


class TestIdleReuse:
    """A daemon's memo skips recounting the very same assessments, never a changed view."""

    def test_the_same_assessments_on_the_same_day_are_not_recounted(self) -> None:
        """Same objects, same day: reused; the next day in the review's timezone: computed."""
        metrics = Metrics(process_metrics=False)
        memo: Reuse[bool] = Reuse()
        assessments = run([fake_with(SCENARIO)]).assessments
        record_follow_through(metrics, assessments, POLICY, NOW, memo)
        assert not memo.reused
        record_follow_through(metrics, list(assessments), POLICY, NOW + timedelta(hours=1), memo)
        assert memo.reused
        record_follow_through(metrics, assessments, POLICY, NOW + timedelta(days=1), memo)
        assert not memo.reused

    def test_item_gauges_follow_a_changed_view(self) -> None:
        """Equal but new assessments are counted again, and the gauges show the new view."""
        metrics = Metrics(process_metrics=False)
        gauges: Reuse[bool] = Reuse()
        first = run([fake_with(SCENARIO)])
        record_outcome(
            metrics,
            first,
            POLICY,
            seconds=1.0,
            finished_at=FINISHED_AT,
            viewed=VIEWED,
            gauges=gauges,
        )
        record_outcome(
            metrics,
            first,
            POLICY,
            seconds=1.0,
            finished_at=FINISHED_AT,
            viewed=VIEWED,
            gauges=gauges,
        )
        assert gauges.reused
        fewer = run([fake_with(SCENARIO[:2])])
        record_outcome(
            metrics,
            fewer,
            POLICY,
            seconds=1.0,
            finished_at=FINISHED_AT,
            viewed=VIEWED,
            gauges=gauges,
        )
        assert not gauges.reused
        assert sum(items_by(metrics, "tracker").values()) == 2.0
