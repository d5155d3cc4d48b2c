"""From assessments, the policy, ``now`` and the decision ledger to one ``WeeklyReport``.

Pure: ``now`` is passed in and nothing here reads a clock or a tracker. This module is the
entry point; each section is computed by the module responsible for it:
- ``weeks``: which ISO week the review covers, from its Monday up to ``now``;
- ``facts``: what every section needs from each item, computed once;
- ``history``: counts at any instant and the twelve-week trend (rebuilt from timestamps,
  replaced by the daemon's recorded daily counts where there are any);
- ``decisions``: closures, waivers and escalations of the period, from the ledger or derived;
- ``roadmap``: the open SEV-1/2 table, open work by incident, month and team, the changes;
- ``kpis``: the key figures now and a week ago.

Definitions (also in the README):
- a week is an ISO week in the policy's ``deadlines.timezone``; the review titled W covers W
  from its Monday 00:00 up to ``now`` (built during W), or all of W (built at its last
  instant, ``moment_for_week``, once it is over);
- an action is *overdue* on day D when it is open and D is after its deadline, waived and
  paused ones included (a waiver stops escalation, not the risk);
- the *risk score* on day D is the sum over overdue actions of weight x days overdue, with
  weights SEV-1 4, SEV-2 2, SEV-3 1, SEV-4 0.5, unknown severity 1.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime

from syncer.core.evaluate import Assessment
from syncer.core.ledger import LedgerEntry
from syncer.core.policy import Policy
from syncer.core.redaction import redact_object
from syncer.report.decisions import DECISION_KINDS, decisions, escalations
from syncer.report.facts import item_facts, open_facts
from syncer.report.history import daily_counts_for, timeline, trend
from syncer.report.kpis import kpis
from syncer.report.model import Header, TrackerScope, WeeklyReport
from syncer.report.people import Names, names_in_ledger, names_on_items
from syncer.report.roadmap import open_critical, roadmap, roadmap_changes
from syncer.report.weeks import (
    moment_for_week,
    parse_week,
    report_period,
    report_timezone,
    scheduled_week,
    week_key,
)

__all__ = [
    "build_report",
    "daily_counts_for",
    "moment_for_week",
    "parse_week",
    "report_period",
    "report_timezone",
    "scheduled_week",
    "week_key",
]


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


def build_report(
    assessments: Sequence[Assessment],
    policy: Policy,
    now: datetime,
    ledger_entries: Iterable[LedgerEntry] = (),
    daily_counts: Mapping[date, Mapping[str, int]] | None = None,
    week: str | None = None,
    scope: Sequence[TrackerScope] | None = None,
    directory: Names | None = None,
) -> WeeklyReport:
    """The weekly review of ``week`` (default: the ISO week of ``now``) as of ``now``.

    ``assessments`` come from ``evaluate(items, policy, now)``; ``ledger_entries`` need cover
    at least ``report_period(policy, now)`` (others are ignored); ``daily_counts`` maps days
    to the figures ``daily_counts_for`` produced on them; ``directory`` holds display names an
    entry point looked up for the handles ``people.unnamed`` listed.
    """
    tz = report_timezone(policy)
    today = now.astimezone(tz).date()
    key = week_key(today)
    if week is not None and week != key:
        parse_week(week)
        raise ValueError(
            f"now ({now.isoformat()}) is in {key}, not {week}; build at moment_for_week()"
        )
    start, end = report_period(policy, now, key)
    every_entry = list(ledger_entries)
    entries = [e for e in every_entry if start <= e.at < end]
    names = {**names_in_ledger(every_entry), **(directory or {}), **names_on_items(assessments)}
    facts = item_facts(assessments, policy)
    lines = timeline(facts, tz)
    by_key = {(a.item.ref.tracker, a.item.ref.key): a for a in assessments}
    incidents, months, teams = roadmap(open_facts(facts), today, policy.report.incident_id())
    notes = []
    # Only what decisions and escalations read counts: the review's own publishing writes do not.
    if not any(e.kind in DECISION_KINDS or e.kind in ("comment", "reopen") for e in entries):
        notes.append(
            "No ledger entries for this period: decisions and escalations are derived from the "
            "items' current state."
        )
    header = Header(
        week=key,
        title=f"{policy.report.title} {key}",
        period_start=parse_week(key),
        period_end=today,
        as_of=now,
        as_of_day=today,
        timezone=policy.deadlines.timezone,
        scope=tuple(scope) if scope is not None else _scope(policy),
        policy_version=policy.version,
    )
    # Issue text and ledger details are quoted in the review: no secret may ride along.
    return redact_object(
        WeeklyReport(
            header=header,
            open_critical=open_critical(facts, policy),
            trend=trend(lines, now, tz, daily_counts),
            decisions=decisions(by_key, facts, entries, start, end, tz),
            escalations=escalations(by_key, facts, entries, policy, start, end, tz, names),
            roadmap_by_incident=incidents,
            roadmap_by_month=months,
            by_team=teams,
            kpis=kpis(facts, lines, now, tz, daily_counts),
            roadmap_changes=roadmap_changes(facts, start, end, tz),
            notes=tuple(notes),
        )
    )
