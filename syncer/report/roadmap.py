"""The open work and where it is going: the SEV-1/2 table, roadmap groupings, the week's changes.

Open actions are grouped three ways (by incident, by month due, by team) so the review can
ask "which incident is still not closed out, what is due when, and who carries the risk";
the changes list what was added and completed during the review period.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, tzinfo
from urllib.parse import unquote, urlsplit

from syncer.core.evaluate import Assessment, Status
from syncer.core.model import ActionItem
from syncer.core.policy import Policy
from syncer.core.policy_operations import DEFAULT_INCIDENT_ID
from syncer.report.facts import Fact, measurable_evidence, open_facts, tier_name
from syncer.report.model import (
    ActionRow,
    IncidentGroup,
    ItemBrief,
    MonthGroup,
    RoadmapChanges,
    TeamGroup,
)
from syncer.report.weeks import local_day

NO_INCIDENT = "(no incident recorded)"
NO_TEAM = "(no team recorded)"
_JIRA_BROWSE = re.compile(r"/browse/([A-Za-z][A-Za-z0-9_]*-\d+)/?$")


def incident_group(reference: str | None, pattern: re.Pattern[str]) -> tuple[str, str]:
    """(group key, label) of an item's incident reference.

    The same incident is referenced many ways: the postmortem's URL on GitHub, its wiki page,
    its Jira key. The incident id (``pattern``'s ``id`` group or whole match, searched in the
    URL's path or in the text) names the group when there is one: ``.../INC-2041-checkout.md``
    and ``INC-2041`` are one row. Otherwise a Jira browse URL groups by its key, another URL
    by itself (scheme and host in lower case, no trailing slash, no fragment), and text by
    itself, case and spacing aside.
    """
    text = " ".join((reference or "").split())
    if not text:
        return NO_INCIDENT, NO_INCIDENT
    url = urlsplit(text) if text.lower().startswith(("http://", "https://")) else None
    where = unquote(url.path + (f"?{url.query}" if url.query else "")) if url else text
    found = pattern.search(where)
    if found is not None:
        ident = (found.groupdict().get("id") or found.group(0)).upper()
        return ident, ident
    if url is None:
        return text.casefold(), reference or text
    browse = _JIRA_BROWSE.search(url.path)
    if browse is not None:
        key = browse.group(1).upper()
        return key, key
    normal = f"{url.scheme.lower()}://{url.netloc.lower()}{url.path.rstrip('/')}"
    return normal + (f"?{url.query}" if url.query else ""), reference or text


def _owner_names(item: ActionItem) -> tuple[str, ...]:
    """Owners by name; one whose account is inactive is named so, not as if still there."""
    return tuple(
        f"{o.display_name or o.handle}{'' if o.accountable else ' (inactive)'}" for o in item.owners
    )


def action_row(a: Assessment, policy: Policy) -> ActionRow:
    """One row of the open-actions table: owners, due date, evidence and escalation state."""
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
        tier_name=tier_name(policy, a.tier),
        hold=hold,
        incident=item.incident or "",
        team=item.team or "",
    )


def open_critical(facts: Sequence[Fact], policy: Policy) -> tuple[ActionRow, ...]:
    """Open SEV-1/2 actions, most severe and most overdue first."""
    chosen = [f.assessment for f in open_facts(facts) if f.critical]
    chosen.sort(
        key=lambda a: (
            a.item.severity.rank,
            a.item.priority.rank,
            -(a.days_overdue or 0),
            a.item.ref.tracker,
            a.item.ref.key,
        )
    )
    return tuple(action_row(a, policy) for a in chosen)


def roadmap(
    open_now: Sequence[Fact], today: date, incident_id: re.Pattern[str] | None = None
) -> tuple[tuple[IncidentGroup, ...], tuple[MonthGroup, ...], tuple[TeamGroup, ...]]:
    """Open actions by incident (soonest due first), by month due, and by team.

    Incidents are grouped by ``incident_group`` (``incident_id`` finds the id; default
    ``report.incident_id_pattern``'s default), so one incident is one row however its items
    reference it.
    """
    pattern = incident_id or re.compile(DEFAULT_INCIDENT_ID, re.IGNORECASE)
    by_incident: dict[str, list[Fact]] = defaultdict(list)
    by_month: dict[str, list[Fact]] = defaultdict(list)
    by_team: dict[str, list[Fact]] = defaultdict(list)
    labels: dict[str, str] = {}
    group_of: dict[str, str] = {}
    for f in open_now:
        item = f.assessment.item
        incident, label = incident_group(item.incident, pattern)
        labels.setdefault(incident, label)
        group_of[str(item.ref)] = incident
        by_incident[incident].append(f)
        by_team[item.team or NO_TEAM].append(f)
        if f.deadline is None:
            by_month["no deadline"].append(f)
        elif f.deadline < today:
            by_month["overdue"].append(f)
        else:
            by_month[f.deadline.strftime("%Y-%m")].append(f)

    def overdue(f: Fact) -> bool:
        return f.deadline is not None and today > f.deadline

    incidents = []
    for name, group in by_incident.items():
        deadlines = [f.deadline for f in group if f.deadline is not None]
        references = sorted(
            {
                ref
                for f in group
                if (ref := (f.assessment.item.incident or "").strip())
                .lower()
                .startswith(("http://", "https://"))
            }
        )
        incidents.append(
            IncidentGroup(
                incident=labels[name],
                references=tuple(references),
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
            incidents=len({group_of[str(f.assessment.item.ref)] for f in group}),
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


def _brief(item: ActionItem, day: date | None) -> ItemBrief:
    return ItemBrief(
        tracker=item.ref.tracker,
        key=item.ref.key,
        url=item.url,
        title=item.title,
        incident=item.incident or "",
        day=day,
    )


def roadmap_changes(
    facts: Sequence[Fact], start: datetime, end: datetime, tz: tzinfo
) -> RoadmapChanges:
    """Actions created, and actions closed as done, in ``[start, end)``."""
    added = [f for f in facts if start <= f.created < end]
    completed = [f for f in facts if f.counted_close and f.closed and start <= f.closed < end]
    added.sort(key=lambda f: (f.created, f.assessment.item.ref.key))
    completed.sort(key=lambda f: (f.closed or end, f.assessment.item.ref.key))
    return RoadmapChanges(
        added=tuple(_brief(f.assessment.item, local_day(f.created, tz)) for f in added),
        completed=tuple(_brief(f.assessment.item, local_day(f.closed, tz)) for f in completed),
    )
