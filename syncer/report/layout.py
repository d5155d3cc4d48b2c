"""The weekly review and its operating-log entry as documents (``syncer.core.document``).

GitHub Markdown, Jira wiki, ADF and HTML all draw the same sections in the same order; this
module decides that order and the cell contents once, with every string raw. Each renderer
then escapes spans for its own target, so the escaping is the only thing a renderer can get
wrong, and the property tests aim at exactly that.
"""

from __future__ import annotations

from syncer.core.document import (
    Block,
    Cell,
    Chart,
    Document,
    Facts,
    Heading,
    Marker,
    Paragraph,
    Span,
    Table,
    linked,
    plain,
)
from syncer.core.gcpause import gc_paused
from syncer.report import text
from syncer.report.model import Decision, IncidentGroup, ItemBrief, WeeklyReport


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


def layout(
    report: WeeklyReport, *, max_rows: int | None = None, chart_attachment: str | None = None
) -> Document:
    """The review issue: every section, at most ``max_rows`` rows per table (all: ``None``).

    ``chart_attachment`` names the PNG the tracker attaches in place of drawing the chart.
    The collector is paused while the blocks are built (``syncer.core.gcpause``): a review of
    10,000 items is some 40,000 acyclic spans and cells, built three times per publish, and
    generation-2 passes over the process's items and ledger cost more than the building.
    ``tests/bench/bench_report.py`` in one run (load 6-7 on 2 cores): 0.425 s CPU paused
    against 0.56-0.62 s running (0.36-0.41 s before the layout was a document).
    """
    with gc_paused():
        return _review(report, max_rows, chart_attachment)


def _review(report: WeeklyReport, max_rows: int | None, chart_attachment: str | None) -> Document:
    cap = max_rows if max_rows is not None else 10**9
    h = report.header
    blocks: list[Block] = [
        Heading(1, h.title),
        Facts(
            (
                ("Period", text.period_line(report)),
                ("Scope", text.scope_line(report)),
                ("Policy version", h.policy_version),
            )
        ),
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
    blocks.append(Chart(report.trend, chart_attachment))
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
    blocks.append(Marker(report.marker))
    return Document(h.title, tuple(blocks))


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


def log_layout(report: WeeklyReport) -> Document:
    """This week's operating-log entry: closure decisions and roadmap changes, then the
    week's hidden marker."""
    h = report.header
    blocks: list[Block] = [
        Heading(3, f"{h.week}: {h.period_start.isoformat()} to {h.period_end.isoformat()}"),
    ]

    def none(title: str) -> Paragraph:
        return Paragraph((Span(f"{title}: ", strong=True), Span("none")))

    def counted(title: str, count: int) -> Paragraph:
        return Paragraph((Span(f"{title} ({count})", strong=True),))

    for kind, title in text.DECISION_TITLES.items():
        chosen: list[Decision] = [d for d in report.decisions if d.kind == kind]
        if not chosen:
            blocks.append(none(title))
            continue
        blocks.append(counted(title, len(chosen)))
        blocks.append(
            Table(
                ("Item", *text.decision_headers(kind)[1:]),
                tuple(
                    (linked(d.key, d.url), *(plain(c) for c in text.decision_cells(d)))
                    for d in chosen
                ),
            )
        )

    def briefs(title: str, chosen: tuple[ItemBrief, ...]) -> None:
        if not chosen:
            blocks.append(none(title))
            return
        blocks.append(counted(title, len(chosen)))
        blocks.append(
            Table(
                ("Item", "Title", "Incident", "On"),
                tuple(
                    (
                        linked(b.key, b.url),
                        plain(b.title),
                        plain(b.incident or "none"),
                        plain(text.day(b.day)),
                    )
                    for b in chosen
                ),
            )
        )

    briefs("Roadmap: actions added", report.roadmap_changes.added)
    briefs("Roadmap: actions completed", report.roadmap_changes.completed)
    blocks.append(Marker(f"pmsync:log:{h.week}"))
    return Document(f"{h.week} operating log", tuple(blocks))
