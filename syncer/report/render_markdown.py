"""The weekly review as GitHub-flavoured Markdown: tables, and the trend as Mermaid charts.

This is the body of the review issue on GitHub, so issue text must stay inert: a title can
hold ``|``, ``@someone``, backticks, ``<script>``, ``-->`` or newlines and still neither break a
table, mention anybody, open a code span nor close the hidden marker. Owners are named
without ``@`` (a weekly report that pings every owner would be noise). The core may not import
the GitHub connector, so the escaping rules are repeated here; they are the same ones.
"""

from __future__ import annotations

from collections.abc import Sequence

from syncer.markdown import escape, safe_url
from syncer.messages import html_marker
from syncer.report import text
from syncer.report.model import IncidentGroup, WeeklyReport

GITHUB_BODY_LIMIT = 65_536


def link(label: str, url: str) -> str:
    shown = escape(label) or "link"
    target = safe_url(url)
    return f"[{shown}]({target})" if target else shown


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Rows are already-escaped cells; an empty cell shows as a space."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines.extend("| " + " | ".join(c or " " for c in row) + " |" for row in rows)
    return lines


def _more(hidden: int) -> list[str]:
    if hidden <= 0:
        return []
    return ["", f"_… and {hidden} more; the HTML and JSON reports list every row._"]


def _mermaid(report: WeeklyReport) -> list[str]:
    """The trend as Mermaid ``xychart-beta``, as far as Mermaid allows telling series apart.

    Mermaid draws no legend and no dashed lines: the series get fixed, distinct colours
    (``plotColorPalette``, in the order the series are declared), a line under the chart
    names each colour, and reconstructed weeks are starred on the axis and explained.
    """
    points = report.trend
    weeks = ", ".join(f'"{text.week_label(p)}"' for p in points)
    top = max([p.open_sev12 for p in points] + [p.overdue for p in points] + [1])
    risk_top = max([p.risk_score for p in points] + [1.0])
    palette = ", ".join(colour for _n, _l, colour, _s in text.TREND_SERIES)
    last = points[-1] if points else None
    legend = "; ".join(
        f"{'bars' if style == 'bar' else 'line'} {_COLOUR_NAMES[colour]}: {label}"
        + (f" ({text.number(getattr(last, name))} now)" if last is not None else "")
        for name, label, colour, style in text.TREND_SERIES
    )
    out = [
        "```mermaid",
        f'%%{{init: {{"themeVariables": {{"xyChart": {{"plotColorPalette": "{palette}"}}}}}}}}%%',
        "xychart-beta",
        '    title "Open SEV-1/SEV-2 (bars), overdue SEV-1/SEV-2 and overdue of any severity"',
        f"    x-axis [{weeks}]",
        f'    y-axis "Actions" 0 --> {top}',
        "    bar [" + ", ".join(str(p.open_sev12) for p in points) + "]",
        "    line [" + ", ".join(str(p.overdue_sev12) for p in points) + "]",
        "    line [" + ", ".join(str(p.overdue) for p in points) + "]",
        "```",
        "",
        f"_{escape(legend[:1].upper() + legend[1:])}. The any-severity line is never below "
        "the SEV-1/2 one; where they meet, every overdue action is SEV-1/2._",
        "",
        "```mermaid",
        '%%{init: {"themeVariables": {"xyChart": {"plotColorPalette": "#8250df"}}}}%%',
        "xychart-beta",
        '    title "Risk score (severity-weighted days overdue)"',
        f"    x-axis [{weeks}]",
        f'    y-axis "Risk score" 0 --> {text.number(risk_top)}',
        "    line [" + ", ".join(text.number(p.risk_score) for p in points) + "]",
        "```",
    ]
    if any(p.source == "reconstructed" for p in points):
        out += ["", f"_{escape(text.RECONSTRUCTED_NOTE)}._"]
    return out


_COLOUR_NAMES = {"#0969da": "blue", "#cf222e": "red", "#9a6700": "amber"}


def render_markdown(report: WeeklyReport, *, max_rows: int | None = None) -> str:
    """The review issue body, ending with the hidden week marker."""
    h = report.header
    cap = max_rows if max_rows is not None else 10**9
    out: list[str] = [
        f"# {escape(h.title)}",
        "",
        f"**Period:** {escape(text.period_line(report))}  ",
        f"**Scope:** {escape(text.scope_line(report))}  ",
        f"**Policy version:** {escape(h.policy_version)}",
        "",
    ]

    rows = report.open_critical
    out += [f"## {text.SECTION_TITLES['open']} ({len(rows)})", ""]
    if rows:
        out += _table(
            text.OPEN_HEADERS,
            [(link(r.key, r.url), *(escape(c) for c in text.open_cells(r))) for r in rows[:cap]],
        )
        out += _more(len(rows) - cap)
    else:
        out.append("_No open SEV-1 or SEV-2 actions._")

    out += ["", f"## {text.SECTION_TITLES['trend']}", ""]
    out += _mermaid(report)
    out += [""]
    out += _table(
        text.TREND_HEADERS, [[escape(c) for c in text.trend_cells(p)] for p in report.trend]
    )
    out += ["", f"_{escape(text.RISK_DEFINITION)}_"]

    out += ["", f"## {text.SECTION_TITLES['decisions']}", ""]
    out += _decisions(report, cap)

    out += ["", f"## {text.SECTION_TITLES['escalations']} ({len(report.escalations)})", ""]
    if report.escalations:
        out += _table(
            ("Item", "Title", "Tier", "Asked", "On"),
            [
                (
                    link(e.key, e.url),
                    escape(e.title),
                    escape(f"{e.tier} {e.tier_name}".strip()),
                    escape(", ".join(e.asked) or "nobody resolved"),
                    escape(e.day.isoformat() + (" (derived)" if e.source == "derived" else "")),
                )
                for e in report.escalations[:cap]
            ],
        )
        out += _more(len(report.escalations) - cap)
    else:
        out.append("_No escalations this week._")

    out += ["", f"## {text.SECTION_TITLES['roadmap']}", "", "### By incident", ""]
    if report.roadmap_by_incident:
        out += _table(
            ("Incident", "Open", "SEV-1/2", "Overdue", "Next due", "Teams"),
            [
                (
                    _incident(g),
                    str(g.open),
                    str(g.sev12),
                    str(g.overdue),
                    escape(text.day(g.next_due)),
                    escape(", ".join(g.teams)),
                )
                for g in report.roadmap_by_incident[:cap]
            ],
        )
        out += _more(len(report.roadmap_by_incident) - cap)
    else:
        out.append("_No open actions._")
    out += ["", "### By due month", ""]
    out += _table(
        ("Due", "Open", "SEV-1/2", "Incidents"),
        [
            (escape(m.month), str(m.open), str(m.sev12), str(m.incidents))
            for m in report.roadmap_by_month
        ],
    )
    out += ["", "### By team", ""]
    out += _table(
        ("Team", "Open", "SEV-1/2", "Overdue", "Risk score"),
        [
            (escape(t.team), str(t.open), str(t.sev12), str(t.overdue), text.number(t.risk_score))
            for t in report.by_team[:cap]
        ],
    )
    out += _more(len(report.by_team) - cap)

    out += ["", f"## {text.SECTION_TITLES['kpis']}", ""]
    out += _table(text.KPI_HEADERS, [[escape(c) for c in text.kpi_cells(k)] for k in report.kpis])
    out += ["", f"_{escape(text.BLAMELESS_NOTE)}_"]
    for note in report.notes:
        out += ["", f"_{escape(note)}_"]
    out += ["", html_marker(report.marker), ""]
    return "\n".join(out)


def _incident(group: IncidentGroup) -> str:
    """The incident id, then its postmortem links by host; a lone URL label links itself."""
    if group.references == (group.incident,):
        return link(group.incident, group.incident)
    links = text.incident_links(group)
    if not links:
        return escape(group.incident)
    return f"{escape(group.incident)} ({', '.join(link(label, url) for label, url in links)})"


def _decisions(report: WeeklyReport, cap: int) -> list[str]:
    out: list[str] = []
    for kind, title in text.DECISION_TITLES.items():
        chosen = [d for d in report.decisions if d.kind == kind]
        out += [f"### {title} ({len(chosen)})", ""]
        if not chosen:
            out += ["_None this week._", ""]
            continue
        body = []
        for d in chosen[:cap]:
            cells = [escape(c) for c in text.decision_cells(d)]
            if kind == "closure_accepted" and d.evidence:
                cells[2] = ", ".join(link(e, e) for e in d.evidence)
            body.append((link(d.key, d.url), *cells))
        out += _table(text.decision_headers(kind), body)
        out += _more(len(chosen) - cap)
        out.append("")
    return out


def fit_markdown(report: WeeklyReport, max_rows: int, limit: int = GITHUB_BODY_LIMIT) -> str:
    """The body with at most ``max_rows`` rows per table, cut further to fit ``limit``."""
    rows = max_rows
    body = render_markdown(report, max_rows=rows)
    while len(body) > limit and rows > 1:
        rows //= 2
        body = render_markdown(report, max_rows=rows)
    return body
