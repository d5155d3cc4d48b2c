"""One outcome for the metrics out of the per-tracker cycles of one tick.

The daemon runs one cycle per tracker; the metrics and ``/readyz`` want one outcome per tick.
Merging is kept apart from the loop because it is where the idle tick's saving lives
(``MergedViews`` hands back the very lists of the last tick) and is tested on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from syncer.core.apply import ApplyResult
from syncer.core.cycle import CycleOutcome
from syncer.core.evaluate import Assessment
from syncer.core.idle import Joined
from syncer.core.model import ActionItem


@dataclass
class MergedViews:
    """The merged items and assessments of the last tick, kept by the daemon (``Joined``)."""

    items: Joined[ActionItem] = field(default_factory=Joined)
    assessments: Joined[Assessment] = field(default_factory=Joined)


def merge_outcomes(
    cycle_id: str, now: datetime, outcomes: list[CycleOutcome], views: MergedViews | None = None
) -> CycleOutcome:
    """One outcome for the metrics out of the per-tracker cycles of one tick.

    With ``views`` (the daemon's, kept across ticks) the merged items and assessments are
    the last tick's very lists when every tracker's are the very lists they were, as after an
    idle cycle (``syncer.core.idle``): nothing is joined, and the item gauges behind it see the
    very list (one comparison, not one per item). At 100,000 items that saves joining both
    lists, whose reference counts touch every item: 6.6 ms CPU against 0.04 ms, measured in
    one run on one tracker's 100,000 items (``tests/bench/bench_idle_cycle.py`` measures the
    whole idle tick).
    """
    views = views or MergedViews()
    result = ApplyResult()
    merged = CycleOutcome(
        cycle_id,
        now,
        views.items.join([o.items for o in outcomes]),
        views.assessments.join([o.assessments for o in outcomes]),
        outcomes[0].plan,
        result,
    )
    for o in outcomes:
        merged.skipped.extend(o.skipped)
        merged.fetch_errors.update(o.fetch_errors)
        result.done.extend(o.result.done)
        result.failed.extend(o.result.failed)
        result.backlog.extend(o.result.backlog)
        merged.fetch_rate_limits.update(o.fetch_rate_limits)
        result.rate_limited.update(o.result.rate_limited)
        result.rate_limit_reasons.update(o.result.rate_limit_reasons)
        result.fallbacks.extend(o.result.fallbacks)
        result.fenced = result.fenced or o.result.fenced
    return merged
