"""The review's key figures, now and a week ago, so each shows its direction.

Both columns are computed the same way from the items' facts, at the end of today and of the
same day last week; for last week, counts the daemon recorded that day replace the rebuilt
open, one-owner and overdue-by-severity figures. Rates over closures use the last 28 days.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta, tzinfo
from typing import Literal

from syncer.core.model import Severity
from syncer.report.facts import Fact
from syncer.report.history import Line, overdue_key, snapshot, timeline
from syncer.report.model import Kpi
from syncer.report.weeks import day_end

KPI_WINDOW = timedelta(days=28)
KPI_LABELS: tuple[tuple[str, str, Literal["%", "days", "count"], str], ...] = (
    ("on_time_rate", "On-time completion", "%", "actions closed as done in the last 28 days"),
    ("median_open_age", "Median age of open actions", "days", "from creation"),
    ("one_owner_share", "Open actions with exactly one owner", "%", ""),
    ("evidence_share", "Closures with measurable evidence", "%", "closed as done, last 28 days"),
    ("median_time_to_close", "Median time to close", "days", "closed as done, last 28 days"),
)


def _closed_in(facts: Sequence[Fact], start: datetime, end: datetime) -> list[Fact]:
    return [
        f for f in facts if f.counted_close and f.closed is not None and start < f.closed <= end
    ]


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _kpi_values(
    facts: Sequence[Fact],
    lines: Sequence[Line],
    at: datetime,
    tz: tzinfo,
    measured: Mapping[str, int] | None,
) -> dict[str, float | None]:
    day = (at - timedelta(seconds=1)).astimezone(tz).date()
    snap = snapshot(lines, at, day, ages=True)
    closed = _closed_in(facts, at - KPI_WINDOW, at)
    attempts = [
        f for f in facts if f.close_attempt is not None and at - KPI_WINDOW < f.close_attempt <= at
    ]
    on_time = with_deadline = 0
    for f in closed:
        if f.deadline is not None and f.closed is not None:
            with_deadline += 1
            on_time += f.closed.astimezone(tz).date() <= f.deadline
    durations = [
        (f.closed - f.created).total_seconds() / 86400 for f in closed if f.closed is not None
    ]
    open_count, one_owner = snap.open, snap.one_owner
    overdue_by_sev = {s.value: snap.overdue_by_severity.get(s.value, 0) for s in Severity}
    if measured is not None and {"open", "open_one_owner"} <= set(measured):
        open_count, one_owner = measured["open"], measured["open_one_owner"]
    if measured is not None:
        for sev in Severity:
            name = overdue_key(sev.value)
            if name in measured:
                overdue_by_sev[sev.value] = measured[name]
    values: dict[str, float | None] = {
        "on_time_rate": _pct(on_time, with_deadline),
        "median_open_age": float(statistics.median(snap.ages)) if snap.ages else None,
        "one_owner_share": _pct(one_owner, open_count),
        "evidence_share": _pct(sum(f.measurable for f in attempts), len(attempts)),
        "median_time_to_close": round(statistics.median(durations), 1) if durations else None,
    }
    for severity_name, n in overdue_by_sev.items():
        values[f"overdue.{severity_name}"] = float(n)
    return values


def kpis(
    facts: Sequence[Fact],
    lines: Sequence[Line],
    now: datetime,
    tz: tzinfo,
    daily_counts: Mapping[date, Mapping[str, int]] | None,
) -> tuple[Kpi, ...]:
    """Each KPI with its value today and seven days before, then overdue counts by severity."""
    today = now.astimezone(tz).date()
    current = _kpi_values(facts, lines, day_end(today, tz), tz, None)
    before = today - timedelta(days=7)
    measured = daily_counts.get(before) if daily_counts else None
    previous = _kpi_values(facts, lines, day_end(before, tz), tz, measured)
    result: list[Kpi] = []
    for name, label, unit, note in KPI_LABELS:
        result.append(
            Kpi(
                name=name,
                label=label,
                unit=unit,
                value=current[name],
                previous=previous[name],
                note=note,
            )
        )
    for sev in Severity:
        name = f"overdue.{sev.value}"
        result.append(
            Kpi(
                name=name,
                label=f"Overdue {sev.value}"
                if sev is not Severity.UNKNOWN
                else "Overdue, severity unknown",
                unit="count",
                value=current[name],
                previous=previous[name],
            )
        )
    return tuple(result)


def current_kpis(facts: Sequence[Fact], now: datetime, tz: tzinfo) -> dict[str, float | None]:
    """The key figures as the review would show them today (its "now" column), by name.

    For the daemon's metrics: the same numbers as the review, between reviews. Percentages
    are 0-100 and durations days, as in ``KPI_LABELS``.
    """
    today = now.astimezone(tz).date()
    values = _kpi_values(facts, timeline(facts, tz), day_end(today, tz), tz, None)
    return {name: values[name] for name, _, _, _ in KPI_LABELS}
