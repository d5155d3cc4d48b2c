"""Words and number formats shared by every renderer, so all formats read the same.

Nothing here escapes: values are plain strings that each renderer escapes for its target.
"""

from __future__ import annotations

from datetime import date
from urllib.parse import urlsplit

from syncer.core.document import ChartPoint
from syncer.report.model import (
    ActionRow,
    Decision,
    IncidentGroup,
    Kpi,
    TrendPoint,
    WeeklyReport,
)

SECTION_TITLES = {
    "open": "Open SEV-1 and SEV-2 actions",
    "trend": "Risk trend, last 12 weeks",
    "decisions": "Closure decisions this week",
    "escalations": "Escalations this week",
    "roadmap": "Prevention roadmap",
    "kpis": "KPIs",
}
DECISION_TITLES = {
    "closure_accepted": "Closures accepted",
    "closure_rejected": "Closures rejected",
    "closure_flagged": "Closures kept but flagged",
    "waiver_granted": "Waivers granted",
    "waiver_lapsed": "Waivers lapsed",
}
RISK_DEFINITION = (
    "Risk score: sum over open actions past their deadline of days overdue x severity weight "
    "(SEV-1 4, SEV-2 2, SEV-3 1, SEV-4 0.5, unknown 1); waived and paused actions count."
)
BLAMELESS_NOTE = (
    "Owners are named so work can move; this review never ranks people. Aggregates are by "
    "incident, team and severity."
)
OPEN_HEADERS = (
    "Item",
    "Title",
    "Owner",
    "Sev",
    "Prio",
    "Due",
    "Days overdue",
    "Evidence",
    "Tier",
    "Waiver/pause",
)
TREND_HEADERS = (
    "Week",
    "Open SEV-1/2",
    "Δ",
    "Overdue SEV-1/2",
    "Δ",
    "Overdue (all)",
    "Δ",
    "Risk score",
    "Δ",
    "Source",
)
KPI_HEADERS = ("KPI", "This week", "Last week", "Change")
# The trend chart's series, told apart by more than colour in every renderer that can:
# (attribute, label, colour, line style) where the style is "bar", "solid" or "dashed".
TREND_SERIES = (
    ("open_sev12", "Open SEV-1/2", "#0969da", "bar"),
    ("overdue_sev12", "Overdue SEV-1/2", "#cf222e", "solid"),
    ("overdue", "Overdue, any severity", "#9a6700", "dashed"),
)
RECONSTRUCTED_NOTE = (
    "* reconstructed from the items' timestamps: no daily counts were recorded that week"
)


def day(value: date | None) -> str:
    return value.isoformat() if value is not None else "none"


def number(value: float | None) -> str:
    if value is None:
        return "n/a"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.1f}"


def delta(value: float | None) -> str:
    if value is None:
        return ""
    if value == 0:
        return "±0"
    return ("+" if value > 0 else "−") + number(abs(value))


def kpi_value(kpi: Kpi, value: float | None) -> str:
    if value is None:
        return "n/a"
    if kpi.unit == "%":
        return f"{number(value)}%"
    if kpi.unit == "days":
        return f"{number(value)} d"
    return number(value)


def kpi_change(kpi: Kpi) -> str:
    change = kpi.delta
    if change is None:
        return ""
    suffix = " pp" if kpi.unit == "%" else " d" if kpi.unit == "days" else ""
    return delta(change) + (suffix if change else "")


def owners(row: ActionRow) -> str:
    """Owner names, without any mention sign: the weekly review must not ping everybody."""
    if not row.owners:
        return "none"
    return ", ".join(row.owners)


def evidence(row: ActionRow) -> str:
    if row.evidence == "measurable":
        return "measurable"
    if row.evidence == "unverified":
        return "unverified" + (" (required)" if row.evidence_required else "")
    return "missing" + (" (required)" if row.evidence_required else "")


def tier(row: ActionRow) -> str:
    return f"{row.tier} {row.tier_name}".strip() if row.tier else "0"


def hold(row: ActionRow) -> str:
    return row.hold or "none"


def open_cells(row: ActionRow) -> tuple[str, ...]:
    """Every plain cell of an open-action row except the first (the linked item)."""
    return (
        row.title,
        owners(row),
        row.severity,
        row.priority,
        day(row.due),
        str(row.days_overdue),
        evidence(row),
        tier(row),
        hold(row),
    )


def trend_cells(point: TrendPoint) -> tuple[str, ...]:
    return (
        point.week,
        str(point.open_sev12),
        delta(point.delta_open_sev12),
        str(point.overdue_sev12),
        delta(point.delta_overdue_sev12),
        str(point.overdue),
        delta(point.delta_overdue),
        number(point.risk_score),
        delta(point.delta_risk_score),
        point.source,
    )


def kpi_cells(kpi: Kpi) -> tuple[str, ...]:
    label = f"{kpi.label} ({kpi.note})" if kpi.note else kpi.label
    return (label, kpi_value(kpi, kpi.value), kpi_value(kpi, kpi.previous), kpi_change(kpi))


def decision_headers(kind: str) -> tuple[str, ...]:
    if kind == "closure_accepted":
        return ("Item", "Title", "Closed", "Evidence")
    if kind == "closure_rejected":
        return ("Item", "Title", "Closed", "Why", "Reopened")
    if kind == "closure_flagged":
        return ("Item", "Title", "Closed", "Why")
    return ("Item", "Title", "Until", "Approver", "Note")


def decision_cells(d: Decision) -> tuple[str, ...]:
    """Cells after the linked item; evidence URLs are plain text here (renderers may link)."""
    if d.kind == "closure_accepted":
        return (d.title, day(d.day), ", ".join(d.evidence) or "none")
    if d.kind == "closure_rejected":
        return (d.title, day(d.day), d.detail, "yes" if d.reopened else "no")
    if d.kind == "closure_flagged":
        return (d.title, day(d.day), d.detail)
    return (d.title, day(d.until), d.approver or "unknown", d.detail)


def scope_line(report: WeeklyReport) -> str:
    parts = []
    for t in report.header.scope:
        where = ", ".join(t.where) if t.where else "all"
        parts.append(f"{t.name} ({t.kind}): {where}")
    return "; ".join(parts) or "no trackers configured"


def period_line(report: WeeklyReport) -> str:
    h = report.header
    return (
        f"{h.period_start.isoformat()} to {h.period_end.isoformat()} ({h.timezone}); "
        f"open actions as of {h.as_of_day.isoformat()}"
    )


def incident_links(group: IncidentGroup) -> list[tuple[str, str]]:
    """(label, url) of each postmortem link of an incident row, shown after its id: the host
    names the link (``github.com``, ``wiki.acme.test``), numbered when two share one. Empty
    when the row's label is its only link already."""
    if group.references == (group.incident,):
        return []
    hosts = [urlsplit(url).hostname or "link" for url in group.references]
    out = []
    for index, (host, url) in enumerate(zip(hosts, group.references, strict=True)):
        label = f"{host} {hosts[:index].count(host) + 1}" if hosts.count(host) > 1 else host
        out.append((label, url))
    return out


def week_label(point: ChartPoint) -> str:
    """``W38``, or ``W38*`` when the week was reconstructed rather than measured."""
    return point.week[-3:] + ("*" if point.source == "reconstructed" else "")


def spread_labels(positions: list[float], gap: float) -> list[float]:
    """Label positions at least ``gap`` apart and in the same order: the lowest stays where
    it is, each next one moves up only as far as it must (direct labels at the end of lines
    that end close together)."""
    order = sorted(range(len(positions)), key=lambda i: positions[i])
    placed = [positions[i] for i in order]
    for k in range(1, len(placed)):
        placed[k] = max(placed[k], placed[k - 1] + gap)
    out = [0.0] * len(positions)
    for k, i in enumerate(order):
        out[i] = placed[k]
    return out
