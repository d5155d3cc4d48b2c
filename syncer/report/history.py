"""The numbers over time: open and overdue counts at any instant, the twelve-week trend.

The history is rebuilt from the items' own timestamps (created, closed, due), so the very
first report already shows twelve weeks; where the state store recorded daily counts for a
day, the recorded figures replace the rebuilt ones, because they saw what timestamps cannot
(reopenings, items since deleted, due dates since moved). ``daily_counts_for`` produces those
recorded figures.

An action is *overdue* on day D when it is open and D is after its deadline, waived and
paused ones included (a waiver stops escalation, not the risk). The *risk score* on day D is
the sum over overdue actions of weight x days overdue, with weights SEV-1 4, SEV-2 2, SEV-3 1,
SEV-4 0.5, unknown severity 1.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta, tzinfo
from typing import NamedTuple

from syncer.core.evaluate import Assessment, Status
from syncer.core.model import Severity
from syncer.report.facts import CRITICAL, Fact
from syncer.report.model import RISK_WEIGHTS, TREND_WEEKS, TrendPoint
from syncer.report.weeks import day_end, week_key


class Snapshot(NamedTuple):
    """Counts at one instant; ``ages`` (days since creation) only when asked for."""

    open: int
    open_sev12: int
    overdue: int
    overdue_sev12: int
    risk_x2: int
    one_owner: int
    overdue_by_severity: dict[str, int]
    ages: list[int]


# Per item, as plain numbers: created and closed as POSIX seconds (closed: +inf while open),
# local creation day and deadline as ordinals, twice the risk weight, and flags. The trend
# takes 14 snapshots of every item; comparing numbers is several times cheaper than datetimes.
Line = tuple[float, float, int, int | None, int, bool, bool, str]


def timeline(facts: Sequence[Fact], tz: tzinfo) -> list[Line]:
    inf = float("inf")
    return [
        (
            f.created.timestamp(),
            f.closed.timestamp() if f.closed is not None else inf,
            f.created.astimezone(tz).date().toordinal(),
            f.deadline.toordinal() if f.deadline is not None else None,
            int(2 * f.weight),
            f.critical,
            f.one_owner,
            f.severity,
        )
        for f in facts
    ]


def snapshot(lines: Sequence[Line], at: datetime, day: date, *, ages: bool = False) -> Snapshot:
    """Counts at instant ``at`` (open = created by then and not yet closed), overdue by ``day``."""
    open_ = open_sev12 = overdue = overdue_sev12 = risk_x2 = one_owner = 0
    by_sev: dict[str, int] = defaultdict(int)
    age_list: list[int] = []
    at_ts, today = at.timestamp(), day.toordinal()
    for created, closed, created_day, deadline, weight2, critical, single, severity in lines:
        if created > at_ts or closed <= at_ts:
            continue
        open_ += 1
        one_owner += single
        if ages:
            age_list.append(today - created_day)
        if critical:
            open_sev12 += 1
        if deadline is not None and today > deadline:
            overdue += 1
            by_sev[severity] += 1
            risk_x2 += weight2 * (today - deadline)
            if critical:
                overdue_sev12 += 1
    return Snapshot(
        open_, open_sev12, overdue, overdue_sev12, risk_x2, one_owner, dict(by_sev), age_list
    )


def trend(
    lines: Sequence[Line],
    now: datetime,
    tz: tzinfo,
    daily_counts: Mapping[date, Mapping[str, int]] | None,
) -> tuple[TrendPoint, ...]:
    """One point per week, oldest first, each with its change from the week before."""
    raw: list[TrendPoint] = []
    today = now.astimezone(tz).date()
    for k in range(TREND_WEEKS - 1, -1, -1):
        day = today - timedelta(days=7 * k)
        at = day_end(day, tz)
        measured = daily_counts.get(day) if daily_counts and k else None
        if measured is not None and {"open_sev12", "overdue", "risk_score_x2"} <= set(measured):
            raw.append(
                TrendPoint(
                    week=week_key(day),
                    day=day,
                    open_sev12=measured["open_sev12"],
                    overdue_sev12=measured.get("overdue_sev12", 0),
                    overdue=measured["overdue"],
                    risk_score=measured["risk_score_x2"] / 2,
                    source="measured",
                )
            )
            continue
        snap = snapshot(lines, at, day)
        raw.append(
            TrendPoint(
                week=week_key(day),
                day=day,
                open_sev12=snap.open_sev12,
                overdue_sev12=snap.overdue_sev12,
                overdue=snap.overdue,
                risk_score=snap.risk_x2 / 2,
                source="live" if k == 0 else "reconstructed",
            )
        )
    points = [raw[0]]
    for before, point in itertools.pairwise(raw):
        points.append(
            point.model_copy(
                update={
                    "delta_open_sev12": point.open_sev12 - before.open_sev12,
                    "delta_overdue_sev12": point.overdue_sev12 - before.overdue_sev12,
                    "delta_overdue": point.overdue - before.overdue,
                    "delta_risk_score": point.risk_score - before.risk_score,
                }
            )
        )
    return tuple(points)


def daily_counts_for(assessments: Iterable[Assessment], day: date) -> dict[str, int]:
    """The figures the daemon records once a day, from the items as they are now.

    ``risk_score_x2`` is twice the risk score, so that SEV-4's half weight stays an integer.
    """
    open_ = open_sev12 = overdue = overdue_sev12 = risk_x2 = one_owner = 0
    by_sev: dict[str, int] = {s.value: 0 for s in Severity}
    for a in assessments:
        item = a.item
        if a.status is Status.EXEMPT or not (item.is_open or a.reopen):
            continue
        critical = item.severity in CRITICAL
        open_ += 1
        one_owner += sum(o.accountable for o in item.owners) == 1
        open_sev12 += critical
        if a.deadline is not None and day > a.deadline:
            overdue += 1
            overdue_sev12 += critical
            by_sev[item.severity.value] += 1
            risk_x2 += round(2 * RISK_WEIGHTS[item.severity.value] * (day - a.deadline).days)
    counts = {
        "open": open_,
        "open_sev12": open_sev12,
        "overdue": overdue,
        "overdue_sev12": overdue_sev12,
        "risk_score_x2": risk_x2,
        "open_one_owner": one_owner,
    }
    counts.update({overdue_key(sev): n for sev, n in by_sev.items()})
    return counts


def overdue_key(severity: str) -> str:
    """The daily-counts name of ``severity``'s overdue count: ``SEV-1`` -> ``overdue_sev1``."""
    return f"overdue_{severity.lower().replace('-', '')}"
