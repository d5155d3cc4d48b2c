"""The weekly review as frozen values, before any markup.

``build_report`` computes one ``WeeklyReport``; each renderer (Markdown, Jira wiki, ADF, HTML,
JSON, PNG) only formats it. Keeping the numbers here means every format shows the same
figures, and the JSON for dashboards is simply this model dumped. Issue text (titles, owner
names) is stored raw: escaping is the renderers' job, each for its own target.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import computed_field

from syncer.core.model import Frozen

# Severity-weighted days overdue: the risk score (see the README).
RISK_WEIGHTS: dict[str, float] = {
    "SEV-1": 4.0,
    "SEV-2": 2.0,
    "SEV-3": 1.0,
    "SEV-4": 0.5,
    "unknown": 1.0,
}
TREND_WEEKS = 12


class TrackerScope(Frozen):
    """One tracker instance the report covers and where it looks."""

    name: str
    kind: Literal["github", "jira", "other"]
    where: tuple[str, ...] = ()


class Header(Frozen):
    week: str
    title: str
    period_start: date
    period_end: date  # inclusive: the last day covered
    as_of: datetime
    as_of_day: date
    timezone: str
    scope: tuple[TrackerScope, ...]
    policy_version: str


class ActionRow(Frozen):
    """One open SEV-1/SEV-2 action as the review table shows it."""

    tracker: str
    key: str
    url: str
    title: str
    severity: str
    priority: str
    owners: tuple[str, ...]
    due: date | None
    days_overdue: int
    status: str
    evidence: Literal["measurable", "unverified", "missing"]
    evidence_required: bool
    tier: int
    tier_name: str
    hold: str  # "waived until ... (approver)", "paused", "" when neither
    incident: str
    team: str


class TrendPoint(Frozen):
    week: str
    day: date
    open_sev12: int
    overdue_sev12: int
    overdue: int
    risk_score: float
    source: Literal["live", "measured", "reconstructed"]
    delta_open_sev12: int | None = None
    delta_overdue_sev12: int | None = None
    delta_overdue: int | None = None
    delta_risk_score: float | None = None


DecisionKind = Literal[
    "closure_accepted", "closure_rejected", "closure_flagged", "waiver_granted", "waiver_lapsed"
]


class Decision(Frozen):
    kind: DecisionKind
    tracker: str
    key: str
    url: str
    title: str
    day: date | None
    detail: str
    evidence: tuple[str, ...] = ()
    approver: str = ""
    until: date | None = None
    reopened: bool = False


class EscalationRow(Frozen):
    tracker: str
    key: str
    url: str
    title: str
    tier: int  # place in the ladder now; 0 when the tier has since been removed
    tier_name: str
    tier_id: str = ""
    asked: tuple[str, ...]  # display names where known (never mentions)
    day: date
    source: Literal["ledger", "derived"]
    asked_handles: tuple[str, ...] = ()  # the same people as the tracker knows them


class IncidentGroup(Frozen):
    incident: str  # the incident id, or the one reference the group's items share
    references: tuple[str, ...] = ()  # the distinct postmortem URLs the items link
    open: int
    sev12: int
    overdue: int
    next_due: date | None
    teams: tuple[str, ...]
    keys: tuple[str, ...]


class MonthGroup(Frozen):
    month: str  # "overdue", "2026-12", "no deadline"
    open: int
    sev12: int
    incidents: int
    keys: tuple[str, ...]


class TeamGroup(Frozen):
    team: str
    open: int
    sev12: int
    overdue: int
    risk_score: float


class Kpi(Frozen):
    name: str
    label: str
    unit: Literal["%", "days", "count"]
    value: float | None
    previous: float | None
    note: str = ""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def delta(self) -> float | None:
        if self.value is None or self.previous is None:
            return None
        return round(self.value - self.previous, 1)


class ItemBrief(Frozen):
    tracker: str
    key: str
    url: str
    title: str
    incident: str
    day: date | None


class RoadmapChanges(Frozen):
    added: tuple[ItemBrief, ...] = ()
    completed: tuple[ItemBrief, ...] = ()


class WeeklyReport(Frozen):
    header: Header
    open_critical: tuple[ActionRow, ...]
    trend: tuple[TrendPoint, ...]
    decisions: tuple[Decision, ...]
    escalations: tuple[EscalationRow, ...]
    roadmap_by_incident: tuple[IncidentGroup, ...]
    roadmap_by_month: tuple[MonthGroup, ...]
    by_team: tuple[TeamGroup, ...]
    kpis: tuple[Kpi, ...]
    roadmap_changes: RoadmapChanges
    notes: tuple[str, ...] = ()

    @property
    def marker(self) -> str:
        """The hidden marker that finds this week's issue again."""
        return f"pmsync:report:{self.header.week}"
