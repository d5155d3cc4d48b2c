"""Checks across fields of an incident record, each naming its key and line.

The schema checks one value at a time; these check that the story holds together (milestones and
timeline in order, inside the incident window) and that every action item has a deadline the
policy accepts. Deadlines come from the core's ``DeadlineCalendar`` so that a date accepted here
is the date ``pmsync run`` enforces; the start of the SLO clock is passed in.
"""

from __future__ import annotations

from datetime import date, datetime, time
from itertools import pairwise
from zoneinfo import ZoneInfo

from syncer.core.deadlines import DeadlineCalendar
from syncer.core.durations import Span
from syncer.core.model import ActionItem, ItemRef, Priority, Severity
from syncer.core.policy import Policy
from syncer.postmortem.schema import SLO, ActionItemSpec, Incident
from syncer.postmortem.source import Problem, Source

MILESTONES = ("started", "detected", "mitigated", "resolved")


def _probe(
    priority: Priority, severity: Severity, start: date, calendar: DeadlineCalendar
) -> ActionItem:
    """A stand-in item created on ``start``, so deadlines come from the core's own calendar."""
    moment = datetime.combine(start, time(12), tzinfo=calendar.tz)
    return ActionItem(
        ref=ItemRef(tracker="postmortem", key="new"),
        priority=priority,
        severity=severity,
        created_at=moment,
        updated_at=moment,
        incident_date=start,
    )


def slo_deadline(
    policy: Policy, priority: Priority, severity: Severity, start: date
) -> date | None:
    """The last day the SLO allows for a new item whose clock starts on ``start``.

    Computed by ``syncer.core.deadlines.DeadlineCalendar``, exactly as ``pmsync run`` will
    compute it (business days, holidays, timezone and ``combine`` included).
    """
    calendar = DeadlineCalendar(policy.deadlines)
    deadline, _ = calendar.deadline(_probe(priority, severity, start, calendar))
    return deadline


def slo_span(policy: Policy, priority: Priority, severity: Severity) -> Span | None:
    """The span that applies, for messages (``None`` when the strictest of two applies)."""
    calendar = DeadlineCalendar(policy.deadlines)
    span, _ = calendar.slo_span(_probe(priority, severity, date(2000, 1, 3), calendar))
    return span


def clock_start(incident: Incident, policy: Policy, today: date) -> date:
    """Where the SLO clock starts for a new item: the incident date or the filing date."""
    if policy.deadlines.count_from == "incident":
        zone = ZoneInfo(policy.deadlines.timezone)
        return incident.timestamps.started.astimezone(zone).date()
    return today


def resolve_due(
    item: ActionItemSpec, incident: Incident, policy: Policy, start: date
) -> date | None:
    """The concrete due date of an item: its own date, or the SLO deadline for ``slo``."""
    if isinstance(item.due, date):
        return item.due
    if item.due == SLO:
        return slo_deadline(policy, item.priority, incident.severity, start)
    return None


def check(
    incident: Incident, source: Source, policy: Policy | None = None, today: date | None = None
) -> list[Problem]:
    """Every cross-field problem; SLO checks only when a policy (and today) are given."""
    problems = _check_milestones(incident, source)
    problems += _check_timeline(incident, source)
    problems += _check_slugs(incident, source)
    if policy is not None and today is not None:
        problems += _check_deadlines(incident, source, policy, today)
    return sorted(problems, key=lambda p: p.line)


def _fmt(moment: datetime) -> str:
    return moment.isoformat(timespec="minutes")


def _check_milestones(incident: Incident, source: Source) -> list[Problem]:
    stamps = incident.timestamps
    problems = []
    for earlier, later in pairwise(MILESTONES):
        first, second = getattr(stamps, earlier), getattr(stamps, later)
        if second < first:
            problems.append(
                source.problem(
                    ("timestamps", later),
                    f"{later} ({_fmt(second)}) is before {earlier} ({_fmt(first)}); "
                    f"the order is {' <= '.join(MILESTONES)}",
                )
            )
    return problems


def _check_timeline(incident: Incident, source: Source) -> list[Problem]:
    stamps = incident.timestamps
    problems = []
    previous: datetime | None = None
    for index, event in enumerate(incident.timeline):
        loc = ("timeline", index, "time")
        if event.time < stamps.started:
            problems.append(
                source.problem(
                    loc,
                    f"{_fmt(event.time)} is before the incident started ({_fmt(stamps.started)}); "
                    "if impact began earlier, move timestamps.started, otherwise describe "
                    "earlier events under trigger",
                )
            )
        elif event.time > stamps.resolved:
            problems.append(
                source.problem(
                    loc,
                    f"{_fmt(event.time)} is after the incident was resolved "
                    f"({_fmt(stamps.resolved)}); follow-up work belongs in action_items",
                )
            )
        if previous is not None and event.time < previous:
            problems.append(
                source.problem(
                    loc,
                    f"out of order: {_fmt(event.time)} comes after {_fmt(previous)} in the list; "
                    "sort the timeline by time",
                )
            )
        previous = event.time if previous is None else max(previous, event.time)
    return problems


def _check_slugs(incident: Incident, source: Source) -> list[Problem]:
    problems = []
    seen: dict[str, int] = {}
    for index, item in enumerate(incident.action_items):
        if item.slug is None:
            continue
        if item.slug in seen:
            problems.append(
                source.problem(
                    ("action_items", index, "slug"),
                    f"slug {item.slug!r} is already used by action_items[{seen[item.slug]}]; "
                    "each filed issue needs its own",
                )
            )
        seen.setdefault(item.slug, index)
    return problems


def _check_deadlines(
    incident: Incident, source: Source, policy: Policy, today: date
) -> list[Problem]:
    start = clock_start(incident, policy, today)
    incident_day = incident.timestamps.started.date()
    problems = []
    for index, item in enumerate(incident.action_items):
        loc = ("action_items", index, "due")
        span = slo_span(policy, item.priority, incident.severity)
        limit = slo_deadline(policy, item.priority, incident.severity, start)
        if item.due is None:
            suggestion = f"by {limit.isoformat()} or `slo`" if limit else "a date or `slo`"
            problems.append(
                source.problem(loc, f"no deadline; write {suggestion} for this {item.priority}")
            )
        elif isinstance(item.due, date):
            if item.due < incident_day:
                problems.append(
                    source.problem(
                        loc, f"{item.due} is before the incident ({incident_day}); a typo?"
                    )
                )
            elif limit is not None and item.due > limit:
                problems.append(
                    source.problem(
                        loc,
                        f"{item.due} is after the {item.priority} SLO deadline {limit} "
                        f"({f'{span} ' if span else ''}from {start}, "
                        f"the {policy.deadlines.count_from} date); "
                        "bring it forward, or lower the priority if that is honest",
                    )
                )
        elif limit is None:
            problems.append(
                source.problem(
                    loc,
                    f"`slo` but the policy has no SLO for {item.priority} / "
                    f"{incident.severity}; write a date",
                )
            )
    return problems
