"""The weekly review as one standalone HTML file, with the trend drawn as inline SVG.

No scripts, no external stylesheets, fonts or images: the file reads the same when mailed,
attached or hosted anywhere. Every string from an issue passes through ``html.escape``, and
links are kept only for http(s) URLs, so a title holding ``<script>`` stays text.
"""

from __future__ import annotations

import html
import re

from syncer.report.layout import Block, Cell, Chart, Heading, Paragraph, Span, Table, layout
from syncer.report.model import TrendPoint, WeeklyReport
from syncer.report.text import number

_SAFE_URL = re.compile(r"^https?://[^\s<>\"']+$", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

STYLE = """
body{font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;color:#1f2328;
max-width:1100px;margin:24px auto;padding:0 16px;line-height:1.45;background:#fff}
h1{font-size:26px;border-bottom:1px solid #d0d7de;padding-bottom:6px}
h2{font-size:20px;margin-top:28px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
h3{font-size:16px;margin-top:18px}
table{border-collapse:collapse;margin:8px 0;font-size:13px}
th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa}
td.n{text-align:right;font-variant-numeric:tabular-nums}
p.note{color:#59636e;font-style:italic;font-size:13px}
a{color:#0969da}
svg{max-width:100%;height:auto}
"""
SERIES = (
    ("open_sev12", "Open SEV-1/2", "#0969da"),
    ("overdue_sev12", "Overdue SEV-1/2", "#cf222e"),
    ("overdue", "Overdue (all)", "#bf8700"),
)


def nice_step(top: float, ticks: int = 4, *, whole: bool = False) -> float:
    """A round tick step (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 x 10^k, at least 1) covering ``top``;
    ``whole`` keeps steps whole numbers (counts of actions)."""
    raw = max(top / ticks, 1.0)
    scale = 10 ** (len(str(int(raw))) - 1)
    factors = (
        (1, 2, 3, 4, 5, 6, 8, 10) if whole and scale == 1 else (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10)
    )
    for factor in factors:
        if factor * scale >= raw:
            return float(factor * scale)
    return float(10 * scale)


def esc(value: str) -> str:
    return html.escape(_CONTROL.sub("", value), quote=True)


def _span(span: Span) -> str:
    label = esc(span.text)
    if span.url and _SAFE_URL.match(span.url):
        return f'<a href="{esc(span.url)}">{label or "link"}</a>'
    if span.strong:
        return f"<strong>{label}</strong>"
    return label


def _cell(cell: Cell) -> str:
    return "".join(_span(s) for s in cell)


def _svg_chart(points: tuple[TrendPoint, ...]) -> str:
    """Two panels: counts (bars and lines), then the risk score; axes labelled by week."""
    width, panel, gap, left, right, top = 900, 190, 60, 56, 170, 30
    height = top + 2 * panel + gap + 40
    n = max(len(points), 1)
    step = (width - left - right) / n
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" '
        'aria-label="Risk trend over the last 12 weeks" font-family="Helvetica,Arial,sans-serif" '
        'font-size="11">',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]

    def panel_frame(y0: int, title: str, ymax: float) -> None:
        out.append(
            f'<text x="{left}" y="{y0 - 10}" font-size="13" font-weight="bold">{esc(title)}</text>'
        )
        for i in range(5):
            value = ymax * i / 4
            y = y0 + panel - panel * i / 4
            out.append(
                f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
                'stroke="#d0d7de" stroke-width="1"/>'
            )
            out.append(
                f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{number(value)}</text>'
            )

    def x_of(i: int) -> float:
        return left + step * i + step / 2

    counts_top = max([p.open_sev12 for p in points] + [p.overdue for p in points] + [1])
    counts_max = 4 * nice_step(float(counts_top), whole=True)
    y0 = top
    panel_frame(y0, "Open and overdue actions", counts_max)
    bar_w = step * 0.5
    for i, p in enumerate(points):
        h = panel * p.open_sev12 / counts_max
        out.append(
            f'<rect x="{x_of(i) - bar_w / 2:.1f}" y="{y0 + panel - h:.1f}" width="{bar_w:.1f}" '
            f'height="{h:.1f}" fill="{SERIES[0][2]}" opacity="0.75"/>'
        )
    for name, _label, colour in SERIES[1:]:
        coords = " ".join(
            f"{x_of(i):.1f},{y0 + panel - panel * getattr(p, name) / counts_max:.1f}"
            for i, p in enumerate(points)
        )
        out.append(
            f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2.5"/>'
        )
        for i, p in enumerate(points):
            cy = y0 + panel - panel * getattr(p, name) / counts_max
            out.append(f'<circle cx="{x_of(i):.1f}" cy="{cy:.1f}" r="3" fill="{colour}"/>')
    for k, (_name, label, colour) in enumerate(SERIES):
        ly = y0 + 12 + 18 * k
        out.append(
            f'<rect x="{width - right + 14}" y="{ly - 9}" width="12" height="12" fill="{colour}"/>'
        )
        out.append(f'<text x="{width - right + 32}" y="{ly + 1}">{esc(label)}</text>')

    risk_max = 4 * nice_step(max([p.risk_score for p in points] + [1.0]))
    y1 = top + panel + gap
    panel_frame(y1, "Risk score (severity-weighted days overdue)", risk_max)
    coords = " ".join(
        f"{x_of(i):.1f},{y1 + panel - panel * p.risk_score / risk_max:.1f}"
        for i, p in enumerate(points)
    )
    out.append(f'<polyline points="{coords}" fill="none" stroke="#8250df" stroke-width="2.5"/>')
    for i, p in enumerate(points):
        cy = y1 + panel - panel * p.risk_score / risk_max
        out.append(f'<circle cx="{x_of(i):.1f}" cy="{cy:.1f}" r="3" fill="#8250df"/>')
        out.append(
            f'<text x="{x_of(i):.1f}" y="{y1 + panel + 16}" text-anchor="middle">'
            f"{esc(p.week[-3:])}</text>"
        )
    out.append("</svg>")
    return "".join(out)


def render_html_blocks(blocks: list[Block], report: WeeklyReport) -> str:
    body: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            body.append(f"<h{block.level}>{esc(block.text)}</h{block.level}>")
        elif isinstance(block, Paragraph):
            css = ' class="note"' if block.style == "note" else ""
            body.append(f"<p{css}>{''.join(_span(s) for s in block.spans)}</p>")
        elif isinstance(block, Table):
            head = "".join(f"<th>{esc(h)}</th>" for h in block.headers)
            rows = "".join(
                "<tr>"
                + "".join(
                    f'<td class="n">{_cell(c)}</td>'
                    if i in block.numeric
                    else f"<td>{_cell(c)}</td>"
                    for i, c in enumerate(row)
                )
                + "</tr>"
                for row in block.rows
            )
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        elif isinstance(block, Chart):
            body.append(f"<figure>{_svg_chart(report.trend)}</figure>")
    title = esc(report.header.title)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><style>{STYLE}</style></head>\n<body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


def render_html(report: WeeklyReport) -> str:
    """The whole report, every row, as one self-contained page."""
    return render_html_blocks(layout(report), report)
