"""The weekly review as one standalone HTML file, with the trend drawn as inline SVG.

No scripts, no external stylesheets, fonts or images: the file reads the same when mailed,
attached or hosted anywhere. It renders the same ``Document`` as the trackers
(``syncer.report.layout``): every string from an issue passes through ``esc``, the one HTML
escaper, and links are kept only for ``safe_url`` targets, so a title holding ``<script>``
stays text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from syncer.core.document import (
    Bullets,
    Cell,
    Chart,
    ChartPoint,
    Document,
    Facts,
    Heading,
    Inline,
    Mention,
    Paragraph,
    Prose,
    Table,
    safe_url,
)
from syncer.report.layout import layout
from syncer.report.model import WeeklyReport
from syncer.report.text import (
    RECONSTRUCTED_NOTE,
    TREND_SERIES,
    number,
    spread_labels,
    week_label,
)

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
_DASH = {"solid": "", "dashed": ' stroke-dasharray="7 4"'}


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


def _span(span: Inline) -> str:
    if isinstance(span, Mention):
        return esc("@" + span.handle)
    label = esc(span.text)
    url = safe_url(span.url) if span.url else None
    if url:
        return f'<a href="{esc(url)}">{label or "link"}</a>'
    if span.strong:
        return f"<strong>{label}</strong>"
    return label


def _cell(cell: Cell) -> str:
    return "".join(_span(s) for s in cell)


def _marker(shape: str, x: float, y: float, colour: str) -> str:
    if shape == "dashed":  # squares on the dashed line, circles on the solid one
        return f'<rect x="{x - 3.5:.1f}" y="{y - 3.5:.1f}" width="7" height="7" fill="{colour}"/>'
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4.5" fill="{colour}"/>'


def _count_series(
    out: list[str],
    points: tuple[ChartPoint, ...],
    x_of: Callable[[int], float],
    base: float,
    scale: float,
    bar_w: float,
) -> list[tuple[float, str, str]]:
    """Draw the bars and the two overdue lines; return (y, label, colour) of each last point."""
    ends: list[tuple[float, str, str]] = []
    for name, label, colour, style in TREND_SERIES:
        ys = [base - scale * getattr(p, name) for p in points]
        if style == "bar":
            for i, p in enumerate(points):
                faded = ' fill-opacity="0.35"' if p.source == "reconstructed" else ""
                out.append(
                    f'<rect x="{x_of(i) - bar_w / 2:.1f}" y="{ys[i]:.1f}" width="{bar_w:.1f}" '
                    f'height="{base - ys[i]:.1f}" fill="{colour}" opacity="0.75"{faded}/>'
                )
        else:
            coords = " ".join(f"{x_of(i):.1f},{y:.1f}" for i, y in enumerate(ys))
            thickness = "3.5" if style == "solid" else "2"
            out.append(
                f'<polyline points="{coords}" fill="none" stroke="{colour}" '
                f'stroke-width="{thickness}"{_DASH[style]}/>'
            )
            out.extend(_marker(style, x_of(i), y, colour) for i, y in enumerate(ys))
        if points:
            ends.append((ys[-1], f"{label}: {number(getattr(points[-1], name))}", colour))
    return ends


def _svg_chart(points: tuple[ChartPoint, ...]) -> str:
    """Two panels: counts (bars and lines), then the risk score; axes labelled by week.

    The series differ in form as well as colour (bars; a solid line with circles; a dashed
    line with squares), each is named by a label at its last point, and weeks reconstructed
    from timestamps are shaded, starred under the axis and explained below it.
    """
    width, panel, gap, left, right, top = 900, 190, 60, 56, 190, 30
    height = top + 2 * panel + gap + 62
    n = max(len(points), 1)
    step = (width - left - right) / n
    rebuilt = [i for i, p in enumerate(points) if p.source == "reconstructed"]
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" '
        'aria-label="Risk trend over the last 12 weeks" font-family="Helvetica,Arial,sans-serif" '
        'font-size="11">',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]

    def x_of(i: int) -> float:
        return left + step * i + step / 2

    def panel_frame(y0: int, title: str, ymax: float) -> None:
        if rebuilt:
            x0 = left + step * min(rebuilt)
            span = step * (max(rebuilt) - min(rebuilt) + 1)
            out.append(
                f'<rect x="{x0:.1f}" y="{y0}" width="{span:.1f}" height="{panel}" fill="#eaeef2"/>'
            )
            out.append(
                f'<text x="{x0 + span / 2:.1f}" y="{y0 + 12}" text-anchor="middle" '
                'fill="#59636e" font-size="10">reconstructed</text>'
            )
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

    def end_labels(ends: list[tuple[float, str, str]]) -> None:
        """Each series' name and last value beside its last point, pushed apart to read."""
        placed = spread_labels([-y for y, _, _ in ends], 14.0)
        for (y, label, colour), moved in zip(ends, placed, strict=True):
            ly = -moved
            out.append(
                f'<line x1="{x_of(n - 1) + 6:.1f}" y1="{y:.1f}" x2="{width - right + 8}" '
                f'y2="{ly:.1f}" stroke="{colour}" stroke-width="0.8"/>'
            )
            out.append(
                f'<text x="{width - right + 12}" y="{ly + 4:.1f}" fill="{colour}">'
                f"{esc(label)}</text>"
            )

    counts_top = max([p.open_sev12 for p in points] + [p.overdue for p in points] + [1])
    counts_max = 4 * nice_step(float(counts_top), whole=True)
    y0 = top
    panel_frame(y0, "Open and overdue actions", counts_max)
    ends = _count_series(out, points, x_of, y0 + panel, panel / counts_max, step * 0.5)
    end_labels(ends)

    risk_max = 4 * nice_step(max([p.risk_score for p in points] + [1.0]))
    y1 = top + panel + gap
    panel_frame(y1, "Risk score (severity-weighted days overdue)", risk_max)
    ys = [y1 + panel - panel * p.risk_score / risk_max for p in points]
    coords = " ".join(f"{x_of(i):.1f},{y:.1f}" for i, y in enumerate(ys))
    out.append(f'<polyline points="{coords}" fill="none" stroke="#8250df" stroke-width="2.5"/>')
    for i, p in enumerate(points):
        out.append(f'<circle cx="{x_of(i):.1f}" cy="{ys[i]:.1f}" r="3" fill="#8250df"/>')
        out.append(
            f'<text x="{x_of(i):.1f}" y="{y1 + panel + 16}" text-anchor="middle">'
            f"{esc(week_label(p))}</text>"
        )
    if points:
        end_labels([(ys[-1], f"Risk score: {number(points[-1].risk_score)}", "#8250df")])
    if rebuilt:
        out.append(
            f'<text x="{left}" y="{height - 12}" fill="#59636e" font-size="10">'
            f"{esc(RECONSTRUCTED_NOTE)}</text>"
        )
    out.append("</svg>")
    return "".join(out)


def _paragraph(paragraph: Paragraph) -> str:
    css = ' class="note"' if paragraph.style == "note" else ""
    return f"<p{css}>{''.join(_span(s) for s in paragraph.spans)}</p>"


def _table(table: Table) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in table.headers)
    rows = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{_cell(c)}</td>' if i in table.numeric else f"<td>{_cell(c)}</td>"
            for i, c in enumerate(row)
        )
        + "</tr>"
        for row in table.rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def render_html_document(document: Document) -> str:
    """``document`` as a standalone page; a chart is drawn as inline SVG from its data."""
    body: list[str] = []
    for block in document.blocks:
        if isinstance(block, Heading):
            body.append(f"<h{block.level}>{esc(block.text)}</h{block.level}>")
        elif isinstance(block, Paragraph):
            body.append(_paragraph(block))
        elif isinstance(block, Prose):
            body.extend(f"<p>{'<br>'.join(esc(x) for x in p)}</p>" for p in block.paragraphs())
        elif isinstance(block, Bullets):
            items = "".join(f"<li>{''.join(_span(s) for s in i)}</li>" for i in block.items)
            body.append(f"<ul>{items}</ul>")
        elif isinstance(block, Facts):
            body.extend(_paragraph(p) for p in block.paragraphs())
        elif isinstance(block, Table):
            body.append(_table(block))
        elif isinstance(block, Chart):
            body.append(f"<figure>{_svg_chart(block.points)}</figure>")
    title = esc(document.title)
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
    return render_html_document(layout(report))
