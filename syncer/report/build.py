"""From assessments, the policy, ``now`` and the decision ledger to one ``WeeklyReport``.

Pure: ``now`` is passed in and nothing here reads a clock or a tracker. The history behind the
trend and last week's KPIs is rebuilt from the items' own timestamps (created, closed, due),
so the very first report already shows twelve weeks; where the state store recorded daily
counts for a day, the recorded figures replace the rebuilt ones, because they saw what
timestamps cannot (reopenings, items since deleted, due dates since moved).

Definitions (also in the README):
- a week is an ISO week in the policy's ``deadlines.timezone``; the review for week W is built
  at ``now`` (some moment of W) and covers the seven full days before ``now``'s day;
- an action is *overdue* on day D when it is open and D is after its deadline, waived and
  paused ones included (a waiver stops escalation, not the risk);
- the *risk score* on day D is the sum over overdue actions of weight x days overdue, with
  weights SEV-1 4, SEV-2 2, SEV-3 1, SEV-4 0.5, unknown severity 1.
"""

from __future__ import annotations

import itertools
import re
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Literal, NamedTuple
from zoneinfo import ZoneInfo

from syncer.evaluate import Assessment, Status
from syncer.ledger import LedgerEntry
from syncer.model import ActionItem, EvidenceKind, Severity
from syncer.policy import Policy
from syncer.report.model import (
    RISK_WEIGHTS,
    TREND_WEEKS,
    ActionRow,
    Decision,
    DecisionKind,
    EscalationRow,
    Header,
    IncidentGroup,
    ItemBrief,
    Kpi,
    MonthGroup,
    RoadmapChanges,
    TeamGroup,
    TrackerScope,
    TrendPoint,
    WeeklyReport,
)
from syncer.templates import resolve_mentions

_WEEK_RE = re.compile(r"^(\d{4})-W(\d{2})$")
_TIER_RE = re.compile(r"pmsync:escalation:tier-(\d+)")
KPI_WINDOW = timedelta(days=28)
CRITICAL = frozenset({Severity.SEV1, Severity.SEV2})
DECISION_KINDS: dict[str, DecisionKind] = {
    "closure_accepted": "closure_accepted",
    "closure_rejected": "closure_rejected",
    "waiver_granted": "waiver_granted",
    "waiver_lapsed": "waiver_lapsed",
}
NO_INCIDENT = "(no incident recorded)"
NO_TEAM = "(no team recorded)"


# ----- weeks -------------------------------------------------------------------------------
def week_key(day: date) -> str:
    """``2026-W48`` for any day of that ISO week."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def parse_week(key: str) -> date:
    """The Monday of ISO week ``key`` (``2026-W48``); ValueError when it is not one."""
    match = _WEEK_RE.match(key)
    if not match:
        raise ValueError(f"week {key!r} is not an ISO week such as 2026-W48")
    try:
        return date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
    except ValueError:
        raise ValueError(f"week {key!r} does not exist") from None


def report_timezone(policy: Policy) -> ZoneInfo:
    return ZoneInfo(policy.deadlines.timezone)


def moment_for_week(policy: Policy, week: str, now: datetime) -> datetime:
    """The moment to build week ``week``'s review at.

    This week: ``now``. A past week: when the schedule would have published it (e.g. Monday
    09:00 Europe/Berlin of that week), so a rebuilt review covers the same days as the
    published one did. A future week is a ValueError.
    """
    tz = report_timezone(policy)
    monday = parse_week(week)
    today = now.astimezone(tz).date()
    if week == week_key(today):
        return now
    if monday > today:
        raise ValueError(f"week {week} has not started yet")
    schedule = policy.report.schedule
    hour, minute = (int(x) for x in schedule.time.split(":"))
    offset = ("mon", "tue", "wed", "thu", "fri", "sat", "sun").index(schedule.weekday)
    scheduled = datetime.combine(
        monday + timedelta(days=offset), time(hour, minute), ZoneInfo(schedule.timezone)
    )
    if week_key(scheduled.astimezone(tz).date()) != week:
        scheduled = datetime.combine(monday, time(12), tz)
    return scheduled.astimezone(UTC)


def report_period(policy: Policy, now: datetime) -> tuple[datetime, datetime]:
    """The half-open span the week's decisions come from: the 7 full days before today."""
    tz = report_timezone(policy)
    today = now.astimezone(tz).date()
    start = datetime.combine(today - timedelta(days=7), time(), tz)
    end = datetime.combine(today, time(), tz)
    return start.astimezone(UTC), end.astimezone(UTC)


# ----- per-item facts ----------------------------------------------------------------------
class _Fact(NamedTuple):
    """What the history needs from one item, computed once."""

    assessment: Assessment
    created: datetime
    closed: datetime | None
    deadline: date | None
    weight: float
    critical: bool
    severity: str
    one_owner: bool
    counted_close: bool  # closed as done (not won't-do/duplicate) and not rejected
    close_attempt: datetime | None  # closed as done, accepted or not (for the evidence KPI)
    measurable: bool


def measurable_evidence(item: ActionItem, policy: Policy) -> tuple[int, int]:
    """(links that count as measurable evidence under the policy, all evidence links)."""
    rule = policy.closure.evidence
    kinds = frozenset(rule.measurable_kinds)
    good = 0
    for evidence in item.evidence:
        if evidence.kind not in kinds:
            continue
        if (
            evidence.kind is EvidenceKind.PULL_REQUEST
            and rule.pull_requests_must_be_merged
            and evidence.verified is not True
        ):
            continue
        good += 1
    return good, len(item.evidence)


def _facts(assessments: Iterable[Assessment], policy: Policy) -> list[_Fact]:
    exempt_resolutions = frozenset(policy.closure.exempt_resolutions)
    min_links = policy.closure.evidence.min_links
    facts: list[_Fact] = []
    for a in assessments:
        if a.status is Status.EXEMPT:
            continue
        item = a.item
        # A closure about to be undone by a reopen never counted as closed.
        closed = None if item.is_open or a.reopen else (item.closed_at or item.updated_at)
        attempt = item.closed_at if item.resolution not in exempt_resolutions else None
        good, _ = measurable_evidence(item, policy)
        facts.append(
            _Fact(
                a,
                item.created_at,
                closed,
                a.deadline,
                RISK_WEIGHTS[item.severity.value],
                item.severity in CRITICAL,
                item.severity.value,
                len(item.owners) == 1,
                closed is not None
                and item.resolution not in exempt_resolutions
                and a.status is not Status.CLOSED_REJECTED,
                None if item.is_open else attempt,
                good >= min_links,
            )
        )
    return facts


class _Snapshot(NamedTuple):
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
_Line = tuple[float, float, int, int | None, int, bool, bool, str]


def _timeline(facts: Sequence[_Fact], tz: tzinfo) -> list[_Line]:
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


def _snapshot(lines: Sequence[_Line], at: datetime, day: date, *, ages: bool = False) -> _Snapshot:
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
    return _Snapshot(
        open_, open_sev12, overdue, overdue_sev12, risk_x2, one_owner, dict(by_sev), age_list
    )


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
        one_owner += len(item.owners) == 1
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
    counts.update({f"overdue_{sev.lower().replace('-', '')}": n for sev, n in by_sev.items()})
    return counts


# ----- sections ----------------------------------------------------------------------------
def _scope(policy: Policy) -> tuple[TrackerScope, ...]:
    out = [
        TrackerScope(
            name=g.name,
            kind="github",
            where=tuple(g.repositories) or ((f"org {g.org}",) if g.org else ()),
        )
        for g in policy.trackers.github
    ]
    out.extend(TrackerScope(name=j.name, kind="jira", where=(j.jql,)) for j in policy.trackers.jira)
    return tuple(out)


def _tier_name(policy: Policy, tier: int) -> str:
    tiers = policy.escalation.tiers
    return tiers[tier - 1].name if 0 < tier <= len(tiers) else ""


def _owner_names(item: ActionItem) -> tuple[str, ...]:
    return tuple(o.display_name or o.handle for o in item.owners)


def _action_row(a: Assessment, policy: Policy) -> ActionRow:
    item = a.item
    good, links = measurable_evidence(item, policy)
    if good >= policy.closure.evidence.min_links:
        evidence = "measurable"
    elif links:
        evidence = "unverified"
    else:
        evidence = "missing"
    hold = ""
    if a.status is Status.WAIVED and a.waiver is not None:
        hold = f"waived until {a.waiver.until.isoformat()} ({a.waiver.approver})"
    elif a.status is Status.PAUSED:
        hold = "paused"
    return ActionRow(
        tracker=item.ref.tracker,
        key=item.ref.key,
        url=item.url,
        title=item.title,
        severity=item.severity.value,
        priority=item.priority.value,
        owners=_owner_names(item),
        due=a.deadline,
        days_overdue=max(a.days_overdue or 0, 0),
        status=a.status.value,
        evidence=evidence,
        evidence_required=item.priority in policy.closure.evidence.required_for,
        tier=a.tier,
        tier_name=_tier_name(policy, a.tier),
        hold=hold,
        incident=item.incident or "",
        team=item.team or "",
    )


def _open_critical(facts: Sequence[_Fact], policy: Policy) -> tuple[ActionRow, ...]:
    chosen = [
        f.assessment
        for f in facts
        if f.critical and (f.assessment.item.is_open or f.assessment.reopen)
    ]
    chosen.sort(
        key=lambda a: (
            a.item.severity.rank,
            a.item.priority.rank,
            -(a.days_overdue or 0),
            a.item.ref.tracker,
            a.item.ref.key,
        )
    )
    return tuple(_action_row(a, policy) for a in chosen)


def _trend(
    lines: Sequence[_Line],
    now: datetime,
    tz: tzinfo,
    daily_counts: Mapping[date, Mapping[str, int]] | None,
) -> tuple[TrendPoint, ...]:
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
        snap = _snapshot(lines, at, day)
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


def day_end(day: date, tz: tzinfo) -> datetime:
    """The first instant after local ``day``: snapshots are taken there, so that reruns on
    the same day see the same history."""
    return datetime.combine(day + timedelta(days=1), time(), tz)


def _local_day(moment: datetime | None, tz: tzinfo) -> date | None:
    return moment.astimezone(tz).date() if moment is not None else None


def _decisions(
    assessments_by_key: Mapping[tuple[str, str], Assessment],
    facts: Sequence[_Fact],
    entries: Sequence[LedgerEntry],
    start: datetime,
    end: datetime,
    tz: tzinfo,
) -> tuple[Decision, ...]:
    found: dict[tuple[str, str, str], Decision] = {}
    reopened = {
        (e.tracker, e.item_key) for e in entries if e.kind == "reopen" and e.outcome == "done"
    }

    def describe(tracker: str, key: str) -> tuple[str, str]:
        a = assessments_by_key.get((tracker, key))
        return (a.item.url, a.item.title) if a is not None else ("", "")

    for e in entries:
        kind = DECISION_KINDS.get(e.kind)
        if kind is None:
            continue
        slot = (kind, e.tracker, e.item_key)
        if slot in found:
            continue
        url, title = describe(e.tracker, e.item_key)
        inputs = e.inputs
        until = None
        if kind.startswith("waiver"):
            match = re.search(r"\d{4}-\d{2}-\d{2}", e.detail)
            until = date.fromisoformat(match.group(0)) if match else None
        found[slot] = Decision(
            kind=kind,
            tracker=e.tracker,
            key=e.item_key,
            url=url,
            title=title,
            day=e.at.astimezone(tz).date(),
            detail=e.detail,
            evidence=tuple(str(x) for x in inputs.get("evidence") or () if x),
            approver=str(inputs.get("approver") or ""),
            until=until,
            reopened=(e.tracker, e.item_key) in reopened,
        )
    # Items judged now whose closure or waiver end fell in the period, even without a ledger.
    for f in facts:
        a = f.assessment
        item = a.item
        tracker, key = item.ref.tracker, item.ref.key
        for finding in a.findings:
            if finding.rule in ("closure.accepted", "closure.rejected"):
                if item.closed_at is None or not (start <= item.closed_at < end):
                    continue
                kind = (
                    "closure_accepted" if finding.rule == "closure.accepted" else "closure_rejected"
                )
                if (kind, tracker, key) in found:
                    continue
                found[(kind, tracker, key)] = Decision(
                    kind=kind,
                    tracker=tracker,
                    key=key,
                    url=item.url,
                    title=item.title,
                    day=_local_day(item.closed_at, tz),
                    detail=finding.message,
                    evidence=tuple(e.url or e.text for e in item.evidence if e.url or e.text),
                    reopened=a.reopen or (tracker, key) in reopened,
                )
            elif finding.rule == "waiver.lapsed" and a.waiver is not None:
                lapsed_on = a.waiver.until + timedelta(days=1)
                first = start.astimezone(tz).date()
                last = end.astimezone(tz).date()
                if not (first <= lapsed_on < last) or ("waiver_lapsed", tracker, key) in found:
                    continue
                found[("waiver_lapsed", tracker, key)] = Decision(
                    kind="waiver_lapsed",
                    tracker=tracker,
                    key=key,
                    url=item.url,
                    title=item.title,
                    day=lapsed_on,
                    detail=finding.message,
                    approver=a.waiver.approver,
                    until=a.waiver.until,
                )
    order = {k: i for i, k in enumerate(DECISION_KINDS)}
    return tuple(
        sorted(
            found.values(),
            key=lambda d: (order[d.kind], d.day or date.min, d.tracker, d.key),
        )
    )


def _reached_on(deadline: date, after_days: int, business: bool, policy: Policy) -> date:
    """The day an item reached a tier: its deadline plus the tier's delay, and never before
    the first day it was overdue (the day after its deadline)."""
    if not business:
        return deadline + timedelta(days=max(after_days, 1))
    workdays = set(policy.deadlines.business_days)
    holidays = set(policy.deadlines.holidays)
    names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    day, left = deadline, after_days
    while left > 0:
        day += timedelta(days=1)
        if names[day.weekday()] in workdays and day not in holidays:
            left -= 1
    return max(day, deadline + timedelta(days=1))


def _escalations(
    assessments_by_key: Mapping[tuple[str, str], Assessment],
    facts: Sequence[_Fact],
    entries: Sequence[LedgerEntry],
    policy: Policy,
    start: datetime,
    end: datetime,
    tz: tzinfo,
) -> tuple[EscalationRow, ...]:
    rows: dict[tuple[str, str, int], EscalationRow] = {}
    for e in entries:
        if e.kind != "comment" or e.rule != "escalation" or e.outcome != "done":
            continue
        match = _TIER_RE.search(str(e.inputs.get("marker", "")))
        if match is None:
            continue
        tier = int(match.group(1))
        a = assessments_by_key.get((e.tracker, e.item_key))
        rows.setdefault(
            (e.tracker, e.item_key, tier),
            EscalationRow(
                tracker=e.tracker,
                key=e.item_key,
                url=a.item.url if a else "",
                title=a.item.title if a else "",
                tier=tier,
                tier_name=_tier_name(policy, tier),
                asked=tuple(str(m) for m in e.inputs.get("mentions") or ()),
                day=e.at.astimezone(tz).date(),
                source="ledger",
            ),
        )
    logged = {(t, k) for t, k, _ in rows}
    first, last = start.astimezone(tz).date(), end.astimezone(tz).date()
    fallback = tuple(policy.escalation.fallback_mention)
    for f in facts:
        a = f.assessment
        item = a.item
        if a.tier == 0 or a.deadline is None or (item.ref.tracker, item.ref.key) in logged:
            continue
        for index in range(1, a.tier + 1):
            rung = policy.escalation.tiers[index - 1]
            day = _reached_on(a.deadline, rung.after.days, rung.after.business, policy)
            if not (first <= day < last):
                continue
            people = resolve_mentions(item, rung.mention, fallback)
            rows[(item.ref.tracker, item.ref.key, index)] = EscalationRow(
                tracker=item.ref.tracker,
                key=item.ref.key,
                url=item.url,
                title=item.title,
                tier=index,
                tier_name=rung.name,
                asked=tuple(p.handle for p in people),
                day=day,
                source="derived",
            )
    return tuple(sorted(rows.values(), key=lambda r: (r.day, -r.tier, r.tracker, r.key)))


def _open_facts(facts: Sequence[_Fact]) -> list[_Fact]:
    return [f for f in facts if f.assessment.item.is_open or f.assessment.reopen]


def _roadmap(
    open_facts: Sequence[_Fact], today: date
) -> tuple[tuple[IncidentGroup, ...], tuple[MonthGroup, ...], tuple[TeamGroup, ...]]:
    by_incident: dict[str, list[_Fact]] = defaultdict(list)
    by_month: dict[str, list[_Fact]] = defaultdict(list)
    by_team: dict[str, list[_Fact]] = defaultdict(list)
    for f in open_facts:
        item = f.assessment.item
        by_incident[item.incident or NO_INCIDENT].append(f)
        by_team[item.team or NO_TEAM].append(f)
        if f.deadline is None:
            by_month["no deadline"].append(f)
        elif f.deadline < today:
            by_month["overdue"].append(f)
        else:
            by_month[f.deadline.strftime("%Y-%m")].append(f)

    def overdue(f: _Fact) -> bool:
        return f.deadline is not None and today > f.deadline

    incidents = []
    for name, group in by_incident.items():
        deadlines = [f.deadline for f in group if f.deadline is not None]
        incidents.append(
            IncidentGroup(
                incident=name,
                open=len(group),
                sev12=sum(f.critical for f in group),
                overdue=sum(overdue(f) for f in group),
                next_due=min(deadlines) if deadlines else None,
                teams=tuple(sorted({f.assessment.item.team or NO_TEAM for f in group})),
                keys=tuple(sorted(f.assessment.item.ref.key for f in group)),
            )
        )
    incidents.sort(key=lambda g: (g.next_due or date.max, g.incident))

    def month_order(name: str) -> tuple[int, str]:
        return (0, "") if name == "overdue" else (2, "") if name == "no deadline" else (1, name)

    months = [
        MonthGroup(
            month=name,
            open=len(group),
            sev12=sum(f.critical for f in group),
            incidents=len({f.assessment.item.incident or NO_INCIDENT for f in group}),
            keys=tuple(sorted(f.assessment.item.ref.key for f in group)),
        )
        for name, group in sorted(by_month.items(), key=lambda kv: month_order(kv[0]))
    ]
    teams = [
        TeamGroup(
            team=name,
            open=len(group),
            sev12=sum(f.critical for f in group),
            overdue=sum(overdue(f) for f in group),
            risk_score=sum(
                f.weight * (today - f.deadline).days
                for f in group
                if f.deadline is not None and today > f.deadline
            ),
        )
        for name, group in sorted(by_team.items())
    ]
    return tuple(incidents), tuple(months), tuple(teams)


def _closed_in(facts: Sequence[_Fact], start: datetime, end: datetime) -> list[_Fact]:
    return [
        f for f in facts if f.counted_close and f.closed is not None and start < f.closed <= end
    ]


def _kpi_values(
    facts: Sequence[_Fact],
    lines: Sequence[_Line],
    at: datetime,
    tz: tzinfo,
    measured: Mapping[str, int] | None,
) -> dict[str, float | None]:
    day = (at - timedelta(seconds=1)).astimezone(tz).date()
    snap = _snapshot(lines, at, day, ages=True)
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
            name = f"overdue_{sev.value.lower().replace('-', '')}"
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


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


KPI_LABELS: tuple[tuple[str, str, Literal["%", "days", "count"], str], ...] = (
    ("on_time_rate", "On-time completion", "%", "actions closed as done in the last 28 days"),
    ("median_open_age", "Median age of open actions", "days", "from creation"),
    ("one_owner_share", "Open actions with exactly one owner", "%", ""),
    ("evidence_share", "Closures with measurable evidence", "%", "closed as done, last 28 days"),
    ("median_time_to_close", "Median time to close", "days", "closed as done, last 28 days"),
)


def _kpis(
    facts: Sequence[_Fact],
    lines: Sequence[_Line],
    now: datetime,
    tz: tzinfo,
    daily_counts: Mapping[date, Mapping[str, int]] | None,
) -> tuple[Kpi, ...]:
    today = now.astimezone(tz).date()
    current = _kpi_values(facts, lines, day_end(today, tz), tz, None)
    before = today - timedelta(days=7)
    measured = daily_counts.get(before) if daily_counts else None
    previous = _kpi_values(facts, lines, day_end(before, tz), tz, measured)
    kpis: list[Kpi] = []
    for name, label, unit, note in KPI_LABELS:
        kpis.append(
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
        kpis.append(
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
    return tuple(kpis)


def _brief(item: ActionItem, day: date | None) -> ItemBrief:
    return ItemBrief(
        tracker=item.ref.tracker,
        key=item.ref.key,
        url=item.url,
        title=item.title,
        incident=item.incident or "",
        day=day,
    )


def _roadmap_changes(
    facts: Sequence[_Fact], start: datetime, end: datetime, tz: tzinfo
) -> RoadmapChanges:
    added = [f for f in facts if start <= f.created < end]
    completed = [f for f in facts if f.counted_close and f.closed and start <= f.closed < end]
    added.sort(key=lambda f: (f.created, f.assessment.item.ref.key))
    completed.sort(key=lambda f: (f.closed or end, f.assessment.item.ref.key))
    return RoadmapChanges(
        added=tuple(_brief(f.assessment.item, _local_day(f.created, tz)) for f in added),
        completed=tuple(_brief(f.assessment.item, _local_day(f.closed, tz)) for f in completed),
    )


def build_report(
    assessments: Sequence[Assessment],
    policy: Policy,
    now: datetime,
    ledger_entries: Iterable[LedgerEntry] = (),
    daily_counts: Mapping[date, Mapping[str, int]] | None = None,
    week: str | None = None,
    scope: Sequence[TrackerScope] | None = None,
) -> WeeklyReport:
    """The weekly review of ``week`` (default: the ISO week of ``now``) as of ``now``.

    ``assessments`` come from ``evaluate(items, policy, now)``; ``ledger_entries`` need cover
    at least ``report_period(policy, now)`` (others are ignored); ``daily_counts`` maps days
    to the figures ``daily_counts_for`` produced on them.
    """
    tz = report_timezone(policy)
    today = now.astimezone(tz).date()
    key = week_key(today)
    if week is not None and week != key:
        parse_week(week)
        raise ValueError(
            f"now ({now.isoformat()}) is in {key}, not {week}; build at moment_for_week()"
        )
    start, end = report_period(policy, now)
    entries = [e for e in ledger_entries if start <= e.at < end]
    facts = _facts(assessments, policy)
    lines = _timeline(facts, tz)
    by_key = {(a.item.ref.tracker, a.item.ref.key): a for a in assessments}
    open_facts = _open_facts(facts)
    incidents, months, teams = _roadmap(open_facts, today)
    notes = []
    if not entries:
        notes.append(
            "No ledger entries for this period: decisions and escalations are derived from the "
            "items' current state."
        )
    header = Header(
        week=key,
        title=f"{policy.report.title} {key}",
        period_start=today - timedelta(days=7),
        period_end=today - timedelta(days=1),
        as_of=now,
        as_of_day=today,
        timezone=policy.deadlines.timezone,
        scope=tuple(scope) if scope is not None else _scope(policy),
        policy_version=policy.version,
    )
    return WeeklyReport(
        header=header,
        open_critical=_open_critical(facts, policy),
        trend=_trend(lines, now, tz, daily_counts),
        decisions=_decisions(by_key, facts, entries, start, end, tz),
        escalations=_escalations(by_key, facts, entries, policy, start, end, tz),
        roadmap_by_incident=incidents,
        roadmap_by_month=months,
        by_team=teams,
        kpis=_kpis(facts, lines, now, tz, daily_counts),
        roadmap_changes=_roadmap_changes(facts, start, end, tz),
        notes=tuple(notes),
    )
