"""The report laid out as plain blocks (headings, paragraphs, tables, the chart).

Jira wiki, ADF and HTML all draw the same sections in the same order; this module decides that
order and the cell contents once, with every string raw. Each renderer then escapes spans for
its own target, so the escaping is the only thing a renderer can get wrong, and the property
tests aim at exactly that.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from syncer.report import text
from syncer.report.model import IncidentGroup, WeeklyReport


@dataclass(frozen=True, slots=True)
class Span:
    text: str
    url: str | None = None
    strong: bool = False


Cell = tuple[Span, ...]


@dataclass(frozen=True, slots=True)
class Heading:
    level: int
    text: str


@dataclass(frozen=True, slots=True)
class Paragraph:
    spans: tuple[Span, ...]
    style: Literal["plain", "note"] = "plain"


@dataclass(frozen=True, slots=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    numeric: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class Chart:
    """Where the trend chart goes; each renderer draws it its own way (or not at all)."""


Block = Heading | Paragraph | Table | Chart


def plain(value: str) -> Cell:
    return (Span(value),)


def linked(label: str, url: str) -> Cell:
    return (Span(label, url or None),)


def _more(hidden: int) -> list[Block]:
    if hidden <= 0:
        return []
    return [
        Paragraph(
            (Span(f"… and {hidden} more; the HTML and JSON reports list every row."),), "note"
        )
    ]


def _none(message: str) -> Paragraph:
    return Paragraph((Span(message),), "note")


def layout(report: WeeklyReport, *, max_rows: int | None = None) -> list[Block]:
    cap = max_rows if max_rows is not None else 10**9
    h = report.header
    blocks: list[Block] = [
        Heading(1, h.title),
        Paragraph(
            (
                Span("Period: ", strong=True),
                Span(text.period_line(report)),
            )
        ),
        Paragraph((Span("Scope: ", strong=True), Span(text.scope_line(report)))),
        Paragraph((Span("Policy version: ", strong=True), Span(h.policy_version))),
    ]

    rows = report.open_critical
    blocks.append(Heading(2, f"{text.SECTION_TITLES['open']} ({len(rows)})"))
    if rows:
        blocks.append(
            Table(
                text.OPEN_HEADERS,
                tuple(
                    (linked(r.key, r.url), *(plain(c) for c in text.open_cells(r)))
                    for r in rows[:cap]
                ),
                frozenset({6, 8}),
            )
        )
        blocks += _more(len(rows) - cap)
    else:
        blocks.append(_none("No open SEV-1 or SEV-2 actions."))

    blocks.append(Heading(2, text.SECTION_TITLES["trend"]))
    blocks.append(Chart())
    blocks.append(
        Table(
            text.TREND_HEADERS,
            tuple(tuple(plain(c) for c in text.trend_cells(p)) for p in report.trend),
            frozenset(range(1, 9)),
        )
    )
    blocks.append(Paragraph((Span(text.RISK_DEFINITION),), "note"))

    blocks += _decisions(report, cap)
    blocks += _escalations(report, cap)
    blocks += _roadmap(report, cap)
    blocks.append(Heading(2, text.SECTION_TITLES["kpis"]))
    blocks.append(
        Table(
            text.KPI_HEADERS,
            tuple(tuple(plain(c) for c in text.kpi_cells(k)) for k in report.kpis),
            frozenset({1, 2, 3}),
        )
    )
    blocks.append(Paragraph((Span(text.BLAMELESS_NOTE),), "note"))
    blocks.extend(Paragraph((Span(note),), "note") for note in report.notes)
    return blocks


def _decisions(report: WeeklyReport, cap: int) -> list[Block]:
    blocks: list[Block] = [Heading(2, text.SECTION_TITLES["decisions"])]
    for kind, title in text.DECISION_TITLES.items():
        chosen = [d for d in report.decisions if d.kind == kind]
        blocks.append(Heading(3, f"{title} ({len(chosen)})"))
        if not chosen:
            blocks.append(_none("None this week."))
            continue
        table_rows = []
        for d in chosen[:cap]:
            cells = [plain(c) for c in text.decision_cells(d)]
            if kind == "closure_accepted" and d.evidence:
                spans: list[Span] = []
                for index, url in enumerate(d.evidence):
                    if index:
                        spans.append(Span(", "))
                    spans.append(Span(url, url))
                cells[2] = tuple(spans)
            table_rows.append((linked(d.key, d.url), *cells))
        blocks.append(Table(text.decision_headers(kind), tuple(table_rows)))
        blocks += _more(len(chosen) - cap)
    return blocks


def _escalations(report: WeeklyReport, cap: int) -> list[Block]:
    blocks: list[Block] = [
        Heading(2, f"{text.SECTION_TITLES['escalations']} ({len(report.escalations)})")
    ]
    if report.escalations:
        blocks.append(
            Table(
                ("Item", "Title", "Tier", "Asked", "On"),
                tuple(
                    (
                        linked(e.key, e.url),
                        plain(e.title),
                        plain(f"{e.tier} {e.tier_name}".strip()),
                        plain(", ".join(e.asked) or "nobody resolved"),
                        plain(e.day.isoformat() + (" (derived)" if e.source == "derived" else "")),
                    )
                    for e in report.escalations[:cap]
                ),
            )
        )
        blocks += _more(len(report.escalations) - cap)
    else:
        blocks.append(_none("No escalations this week."))
    return blocks


def _incident_cell(group: IncidentGroup) -> Cell:
    """The incident id, then its postmortem links; a row whose label is its URL links it."""
    if group.references == (group.incident,):
        return linked(group.incident, group.incident)
    links = text.incident_links(group)
    if not links:
        return plain(group.incident)
    spans: list[Span] = [Span(group.incident), Span(" (")]
    for index, (label, url) in enumerate(links):
        if index:
            spans.append(Span(", "))
        spans.append(Span(label, url))
    spans.append(Span(")"))
    return tuple(spans)


def _roadmap(report: WeeklyReport, cap: int) -> list[Block]:
    blocks: list[Block] = [Heading(2, text.SECTION_TITLES["roadmap"]), Heading(3, "By incident")]
    if report.roadmap_by_incident:
        blocks.append(
            Table(
                ("Incident", "Open", "SEV-1/2", "Overdue", "Next due", "Teams"),
                tuple(
                    (
                        _incident_cell(g),
                        plain(str(g.open)),
                        plain(str(g.sev12)),
                        plain(str(g.overdue)),
                        plain(text.day(g.next_due)),
                        plain(", ".join(g.teams)),
                    )
                    for g in report.roadmap_by_incident[:cap]
                ),
                frozenset({1, 2, 3}),
            )
        )
        blocks += _more(len(report.roadmap_by_incident) - cap)
    else:
        blocks.append(_none("No open actions."))
    blocks.append(Heading(3, "By due month"))
    blocks.append(
        Table(
            ("Due", "Open", "SEV-1/2", "Incidents"),
            tuple(
                (plain(m.month), plain(str(m.open)), plain(str(m.sev12)), plain(str(m.incidents)))
                for m in report.roadmap_by_month
            ),
            frozenset({1, 2, 3}),
        )
    )
    blocks.append(Heading(3, "By team"))
    blocks.append(
        Table(
            ("Team", "Open", "SEV-1/2", "Overdue", "Risk score"),
            tuple(
                (
                    plain(t.team),
                    plain(str(t.open)),
                    plain(str(t.sev12)),
                    plain(str(t.overdue)),
                    plain(text.number(t.risk_score)),
                )
                for t in report.by_team[:cap]
            ),
            frozenset({1, 2, 3, 4}),
        )
    )
    blocks += _more(len(report.by_team) - cap)
    return blocks
