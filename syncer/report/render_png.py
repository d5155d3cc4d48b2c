"""The risk trend as a PNG chart, for Jira (which renders neither Mermaid nor SVG).

matplotlib is imported inside the function with the Agg backend, so importing the report
package costs nothing and no display is ever needed. The PNG carries no timestamp, so the
same numbers give the same bytes.
"""

from __future__ import annotations

import io

from syncer.report.model import WeeklyReport


def render_png(report: WeeklyReport, *, dpi: int = 110) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    points = report.trend
    weeks = [p.week[-3:] for p in points]
    xs = list(range(len(points)))
    figure = Figure(figsize=(9, 5.5), dpi=dpi, layout="constrained")
    counts, risk = figure.subplots(2, 1, sharex=True)
    counts.bar(
        xs, [p.open_sev12 for p in points], color="#0969da", alpha=0.75, label="Open SEV-1/2"
    )
    counts.plot(
        xs, [p.overdue_sev12 for p in points], color="#cf222e", marker="o", label="Overdue SEV-1/2"
    )
    counts.plot(xs, [p.overdue for p in points], color="#bf8700", marker="o", label="Overdue (all)")
    counts.set_title("Open and overdue actions")
    counts.set_ylabel("Actions")
    counts.legend(loc="upper left", fontsize=8)
    counts.grid(axis="y", color="#d0d7de")
    counts.yaxis.set_major_locator(MaxNLocator(integer=True))
    risk.plot(xs, [p.risk_score for p in points], color="#8250df", marker="o")
    risk.set_title("Risk score (severity-weighted days overdue)")
    risk.set_ylabel("Risk score")
    risk.grid(axis="y", color="#d0d7de")
    risk.set_xticks(xs, weeks)
    figure.suptitle(report.header.title)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()
