"""The risk trend as a PNG chart, for Jira (which renders neither Mermaid nor SVG).

matplotlib is the ``charts`` extra (172 MB with numpy, Pillow and fontTools, for this one
picture), imported inside the function with the Agg backend, so importing the report package
costs nothing and no display is ever needed; without it ``render_png`` (and ``trend_figure``)
raises ``MissingExtra`` with the pip command. The PNG carries no timestamp, so the same
numbers give the same bytes.

The series are told apart by more than colour (a printout or a colour-blind reader sees
them too): bars, a solid line with round markers and a dashed line with square ones, each
named by a label at its last point. Weeks rebuilt from the items' timestamps rather than
measured are shaded, and starred under the axis.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from syncer.core.extras import CHARTS, require
from syncer.report.model import WeeklyReport
from syncer.report.text import RECONSTRUCTED_NOTE, TREND_SERIES, spread_labels, week_label

# (line style, marker, width): the dashed line is drawn thinner over the solid one, so both
# stay visible where they coincide.
if TYPE_CHECKING:
    from matplotlib.figure import Figure

_LINES = {"solid": ("-", "o", 3.2), "dashed": ("--", "s", 1.6)}

NEEDED_FOR = "the PNG trend chart (the Jira review's attachment, report.formats: png)"


def render_png(report: WeeklyReport, *, dpi: int = 110) -> bytes:
    """The trend chart as PNG bytes; ``MissingExtra`` when matplotlib is not installed."""
    figure = trend_figure(report, dpi=dpi)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def trend_figure(report: WeeklyReport, *, dpi: int = 110) -> Figure:
    """The chart as a matplotlib figure (``render_png`` saves it)."""
    require(CHARTS, NEEDED_FOR)
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    points = report.trend
    xs = list(range(len(points)))
    last = len(points) - 1
    rebuilt = [i for i, p in enumerate(points) if p.source == "reconstructed"]
    figure = Figure(figsize=(9.5, 6), dpi=dpi, layout="constrained")
    counts, risk = figure.subplots(2, 1, sharex=True)
    for axes in (counts, risk):
        if rebuilt:
            axes.axvspan(min(rebuilt) - 0.5, max(rebuilt) + 0.5, color="#eaeef2", zorder=0)
        axes.grid(axis="y", color="#d0d7de")
        axes.set_xlim(-0.6, last + 3.4)  # room on the right for the direct labels
    ends: list[tuple[float, str, str]] = []
    for name, label, colour, style in TREND_SERIES:
        values = [getattr(p, name) for p in points]
        if style == "bar":
            counts.bar(
                xs,
                values,
                color=colour,
                alpha=0.45,
                edgecolor=colour,
                hatch=["//" if p.source == "reconstructed" else "" for p in points],
                zorder=2,
            )
        else:
            line, marker, width = _LINES[style]
            counts.plot(
                xs,
                values,
                color=colour,
                linestyle=line,
                marker=marker,
                markersize=7 if style == "solid" else 4,
                linewidth=width,
                zorder=3,
            )
        ends.append((float(values[-1]) if values else 0.0, label, colour))
    top = max([float(v) for v, _, _ in ends] + [float(p.open_sev12) for p in points] + [1.0])
    for y, (value, label, colour) in zip(
        spread_labels([v for v, _, _ in ends], top * 0.09), ends, strict=True
    ):
        counts.annotate(
            f"{label}: {value:g}",
            xy=(last, value),
            xytext=(last + 0.35, y),
            color=colour,
            fontsize=8,
            va="center",
            arrowprops={"arrowstyle": "-", "color": colour, "linewidth": 0.6},
        )
    counts.set_ylim(0, top * 1.2)
    counts.set_title("Open and overdue actions")
    counts.set_ylabel("Actions")
    counts.yaxis.set_major_locator(MaxNLocator(integer=True))
    if rebuilt:
        counts.text(
            (min(rebuilt) + max(rebuilt)) / 2,
            top * 1.13,
            "reconstructed",
            ha="center",
            va="center",
            fontsize=8,
            color="#59636e",
        )
    scores = [p.risk_score for p in points]
    risk.plot(xs, scores, color="#8250df", marker="D", markersize=4, linewidth=2)
    if scores:
        risk.annotate(
            f"Risk score: {scores[-1]:g}",
            xy=(last, scores[-1]),
            xytext=(last + 0.35, scores[-1]),
            color="#8250df",
            fontsize=8,
            va="center",
        )
    risk.set_title("Risk score (severity-weighted days overdue)")
    risk.set_ylabel("Risk score")
    risk.set_ylim(0, max([*scores, 1.0]) * 1.15)
    risk.set_xticks(xs, [week_label(p) for p in points])
    figure.suptitle(report.header.title)
    if rebuilt:
        figure.supxlabel(RECONSTRUCTED_NOTE, fontsize=8, color="#59636e")
    return figure
