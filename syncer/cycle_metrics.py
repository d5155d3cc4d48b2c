"""Turn one cycle's outcome into metric updates, so the daemon loop needs a single call.

The loop measures how long :func:`syncer.cycle.run_cycle` took and hands the outcome here;
this module knows which parts of a :class:`~syncer.cycle.CycleOutcome` feed which series of
:class:`~syncer.metrics.Metrics`. Kept apart from ``metrics.py`` so the metric definitions do
not depend on the shape of the cycle's result.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from syncer.actions import action_tracker
from syncer.cycle import CycleOutcome
from syncer.evaluate import Status
from syncer.metrics import Metrics
from syncer.model import Severity, State
from syncer.tracker import CountsRequests


def record_outcome(
    metrics: Metrics,
    outcome: CycleOutcome,
    *,
    seconds: float,
    finished_at: float,
    full_view: bool,
) -> None:
    """Record a finished cycle: duration, writes, errors, backlog and, for a full view, items.

    ``finished_at`` is the Unix time the cycle ended (from the loop's clock). ``full_view`` says
    whether the cycle fetched every item (a full resync, or the first cycle); item and overdue
    gauges are replaced only then, because an incremental cycle sees only what changed.
    Planned (dry-run) and skipped actions are not writes and are not counted.
    """
    metrics.observe_cycle(seconds, success=outcome.ok)
    if outcome.ok:
        metrics.mark_success(finished_at)

    for done in outcome.result.done:
        if done.outcome == "done":
            metrics.count_write(done.action.kind)
    for failed in outcome.result.failed:
        kind = "write_transient" if failed.transient else "write_permanent"
        metrics.count_error(action_tracker(failed.action), kind)
    for tracker in outcome.fetch_errors:
        metrics.count_error(tracker, "fetch")
    for tracker in outcome.result.rate_limited:
        metrics.count_error(tracker, "rate_limited")
    if outcome.result.fenced:
        metrics.count_error("none", "fenced")
    metrics.set_backlog(sum(change.cost for change in outcome.result.backlog))

    if full_view:
        items = Counter((item.state.value, item.severity.value) for item in outcome.items)
        metrics.set_items(items)
        overdue = Counter(
            a.item.severity.value
            for a in outcome.assessments
            if a.status is Status.OVERDUE and a.item.state is State.OPEN
        )
        # Every severity gets a series (0 included) so alerts on `> 0` see a steady signal.
        metrics.set_overdue({severity.value: overdue[severity.value] for severity in Severity})


def record_traffic(metrics: Metrics, trackers: Iterable[object]) -> None:
    """Requests sent and rate limit left, for every tracker that counts them."""
    for tracker in trackers:
        if not isinstance(tracker, CountsRequests):
            continue
        metrics.observe_request_totals(tracker.name, tracker.requests)
        remaining = tracker.rate_limit_remaining
        if remaining is not None:
            metrics.set_rate_limit_remaining(tracker.name, remaining)
