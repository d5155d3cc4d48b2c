"""Turn one cycle's outcome into metric updates, so the daemon loop needs a single call.

The loop measures how long :func:`syncer.core.cycle.run_cycle` took and hands the outcome here;
this module knows which parts of a :class:`~syncer.core.cycle.CycleOutcome` feed which series
of :class:`~syncer.service.metrics.Metrics`. Kept apart from ``metrics.py`` so the metric
definitions do not depend on the shape of the cycle's result.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime

from syncer.core.actions import action_tracker
from syncer.core.cycle import CycleOutcome
from syncer.core.evaluate import Assessment, Status
from syncer.core.idle import Reuse
from syncer.core.model import Priority, Severity, State
from syncer.core.policy import Policy
from syncer.core.tracker import CountsRequests
from syncer.report.facts import item_facts
from syncer.report.kpis import current_kpis
from syncer.report.weeks import report_timezone
from syncer.service.metric_families import FollowThrough, ItemKey, OverdueKey
from syncer.service.metrics import Metrics

NO_TIER = "none"
"""The ``tier`` label of an overdue item below the first escalation tier."""

DAY_S = 86_400.0


def tier_label(policy: Policy, tier: int) -> str:
    """The ``tier`` label value for escalation tier ``tier`` (1-based; 0 = below the first).

    The one place that decides how a tier is named in metrics: its stable ``id`` (the label
    in slug form unless set), which survives renaming, reordering and inserting tiers, so the
    alert rules and dashboards that match it keep working.
    """
    tiers = policy.escalation.tiers
    return tiers[tier - 1].id if 0 < tier <= len(tiers) else NO_TIER


def tier_labels(policy: Policy) -> tuple[str, ...]:
    """Every ``tier`` label value the policy can produce, 'none' first."""
    return tuple(tier_label(policy, n) for n in range(len(policy.escalation.tiers) + 1))


def record_outcome(
    metrics: Metrics,
    outcome: CycleOutcome,
    policy: Policy,
    *,
    seconds: float,
    finished_at: float,
    viewed: Collection[str],
    gauges: Reuse[bool] | None = None,
) -> None:
    """Record a finished cycle: duration, writes, errors, backlog, and item gauges.

    ``finished_at`` is the Unix time the cycle ended (from the loop's clock). ``viewed`` names
    the trackers whose every item is in the outcome (fetched without error); only their item
    and overdue series are replaced, so a tracker that failed keeps its last view. Planned
    (dry-run) and skipped actions are not writes and are not counted. With ``gauges`` (kept
    by the daemon, forgotten whenever anything else sets the item gauges) the item gauges
    are not counted again from the very same assessments (``syncer.core.idle``).
    """
    metrics.observe_cycle(seconds, success=outcome.ok)
    if outcome.ok:
        metrics.mark_success(finished_at)
    record_writes(metrics, outcome)
    metrics.set_backlog(sum(change.cost for change in outcome.result.backlog))

    if not viewed:
        return

    def count() -> bool:
        record_items(metrics, outcome.assessments, policy, viewed)
        return True

    if gauges is None:
        count()
    else:
        gauges.answer(outcome.assessments, (policy.version, tuple(sorted(viewed))), count)


def record_writes(metrics: Metrics, outcome: CycleOutcome) -> None:
    """Count a cycle's writes and errors (a webhook cycle's too, which sets no gauges)."""
    for done in outcome.result.done:
        if done.outcome == "done":
            metrics.count_write(done.action.kind)
    for failed in outcome.result.failed:
        kind = "write_transient" if failed.transient else "write_permanent"
        metrics.count_error(action_tracker(failed.action), kind)
    for tracker in outcome.fetch_errors:
        metrics.count_error(tracker, "fetch")
    # A fetch stopped by a rate limit is a fetch error and a rate limit.
    for tracker in {*outcome.result.rate_limited, *outcome.fetch_rate_limits}:
        metrics.count_error(tracker, "rate_limited")
    if outcome.result.fenced:
        metrics.count_error("none", "fenced")


def record_items(
    metrics: Metrics, assessments: Iterable[Assessment], policy: Policy, viewed: Collection[str]
) -> None:
    """Replace the item and overdue gauges of the ``viewed`` trackers from their assessments.

    Every (priority, severity, tier) of a viewed tracker gets an overdue series, 0 included,
    so an alert on ``> 0`` sees a steady signal and a dashboard shows zeros, not gaps.
    """
    items: Counter[ItemKey] = Counter()
    overdue: Counter[OverdueKey] = Counter()
    for a in assessments:
        item = a.item
        tracker = item.ref.tracker
        if tracker not in viewed:
            continue
        items[
            ItemKey(
                tracker,
                item.state.value,
                a.status.value,
                item.priority.value,
                item.severity.value,
            )
        ] += 1
        if a.status is Status.OVERDUE and item.state is State.OPEN:
            key = OverdueKey(
                tracker, item.priority.value, item.severity.value, tier_label(policy, a.tier)
            )
            overdue[key] += 1
    tiers = tier_labels(policy)
    zeros = {
        OverdueKey(tracker, priority.value, severity.value, tier): 0
        for tracker in viewed
        for priority in Priority
        for severity in Severity
        for tier in tiers
    }
    metrics.set_items(items, viewed)
    metrics.set_overdue(zeros | overdue, viewed)


def record_follow_through(
    metrics: Metrics,
    assessments: Sequence[Assessment],
    policy: Policy,
    now: datetime,
    memo: Reuse[bool] | None = None,
) -> None:
    """Publish the weekly review's key figures, computed as the review computes them.

    They depend on ``now`` only through the day in the review's timezone, so with ``memo``
    (kept by the daemon) they are not computed again from the very same assessments on the
    same day (``syncer.core.idle``).
    """
    tz = report_timezone(policy)

    def publish() -> bool:
        _publish_follow_through(metrics, assessments, policy, now)
        return True

    if memo is None:
        publish()
    else:
        memo.answer(assessments, (policy.version, now.astimezone(tz).date()), publish)


def _publish_follow_through(
    metrics: Metrics, assessments: Sequence[Assessment], policy: Policy, now: datetime
) -> None:
    values = current_kpis(item_facts(assessments, policy), now, report_timezone(policy))

    def ratio(name: str) -> float | None:
        value = values[name]
        return None if value is None else value / 100

    def seconds(name: str) -> float | None:
        value = values[name]
        return None if value is None else value * DAY_S

    metrics.set_follow_through(
        FollowThrough(
            on_time_ratio=ratio("on_time_rate"),
            open_age_median_seconds=seconds("median_open_age"),
            single_owner_ratio=ratio("one_owner_share"),
            evidence_ratio=ratio("evidence_share"),
            time_to_close_median_seconds=seconds("median_time_to_close"),
        )
    )


def record_traffic(metrics: Metrics, trackers: Iterable[object]) -> None:
    """Requests sent and rate limit left, for every tracker that counts them."""
    for tracker in trackers:
        if not isinstance(tracker, CountsRequests):
            continue
        metrics.observe_request_totals(tracker.name, tracker.requests)
        remaining = tracker.rate_limit_remaining
        if remaining is not None:
            metrics.set_rate_limit_remaining(tracker.name, remaining)
