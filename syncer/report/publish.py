"""From a ``WeeklyReport`` to the writes that publish it: the review issue and the log entry.

Pure: it returns ``ItemChange`` values that ``plan(..., extra=...)`` puts in the budgeted plan
and the applier executes like any other write. The connectors find the week's issue by label
and week key (GitHub: the hidden ``<!-- pmsync:report:2026-W48 -->`` marker; Jira: an issue
property), update it in place, and close the previous week's; the log issue gets one comment
per week, edited on rerun. The body depends only on the report, so a rerun with the same data
produces the same body and the tracker sees no change. Every body passes the secret
redactor (after the model did, in ``build_report``), which is deterministic too.

The core lays the review and the log entry out once, as documents (``syncer.report.layout``);
the tracker's connector hands in the ``DocumentRenderer`` that turns them into its markup, so
nothing here knows a tracker's markup, family or API version. A tracker that draws no chart
(``attaches_charts``: Jira) gets the trend as a PNG attachment.

The PNG chart needs the ``charts`` extra (matplotlib). Without it the review is
published all the same, with the trend table, and a note where the chart would stand says
what to install; a warning in the log says it too. The only side effect here is that line.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog

from syncer.core.actions import ItemChange, UpsertLogEntry, UpsertReport
from syncer.core.document import Chart, Document, DocumentRenderer, Paragraph, Span
from syncer.core.extras import CHARTS, MissingExtra
from syncer.core.policy import Policy
from syncer.core.redaction import redact
from syncer.report.layout import layout, log_layout
from syncer.report.model import WeeklyReport

# Published before item writes (they are what the weekly meeting opens); the review issue
# before the log entry, so a budget of one write publishes the review.
REPORT_URGENCY, LOG_URGENCY = (-2,), (-1,)
CHART_MISSING_NOTE = (
    "The trend chart is not attached: this pmsync installation has no chart support "
    f"(install {CHARTS.install.removeprefix('pip install ')}). "
    "The table below has the same figures."
)
CHART_FILE = "risk-trend.png"

log = structlog.get_logger(__name__)


def report_tracker(policy: Policy) -> str | None:
    """The tracker the report goes to: ``report.tracker``, else the first one configured."""
    return policy.report_target()


def trend_chart(report: WeeklyReport, renderer: DocumentRenderer) -> dict[str, bytes]:
    """The trend as a PNG attachment for a tracker that draws no chart (GitHub draws Mermaid).

    Empty, with a warning, when the ``charts`` extra is not installed.
    """
    if not renderer.attaches_charts:
        return {}
    from syncer.report.render_png import render_png

    try:
        return {CHART_FILE: render_png(report)}
    except MissingExtra as exc:
        log.warning(
            "weekly review published without its trend chart",
            week=report.header.week,
            reason=str(exc),
        )
        return {}


def without_chart(document: Document, note: str | None) -> Document:
    """``document`` with each chart that has no attachment replaced by ``note`` (if any)."""
    blocks = [
        (Paragraph((Span(note),), "note") if note else b)
        if isinstance(b, Chart) and not b.attachment
        else b
        for b in document.blocks
    ]
    return document.replaced(blocks)


def fit(
    build: Callable[[int], Document], renderer: DocumentRenderer, markup: str, max_rows: int
) -> str:
    """``build(rows)`` rendered, with rows per table halved until it fits the tracker's limit."""
    rows = max_rows
    body = renderer.render(build(rows), markup)
    while len(body) > renderer.body_limit and rows > 1:
        rows //= 2
        body = renderer.render(build(rows), markup)
    return body


def report_bodies(
    report: WeeklyReport,
    policy: Policy,
    tracker_name: str,
    *,
    chart: str | None = None,
    chart_note: str | None = None,
    renderer: DocumentRenderer,
) -> dict[str, str]:
    """The review issue body in each markup the tracker may use, within its size limit.

    No trailing whitespace: trackers may trim it, and a body that comes back different from
    what was sent would be rewritten on every rerun. ``chart`` names the attached PNG;
    without one, ``chart_note`` (if any) stands where the chart would.
    """

    def build(rows: int) -> Document:
        document = layout(report, max_rows=rows, chart_attachment=chart)
        return without_chart(document, chart_note) if renderer.attaches_charts else document

    rows = policy.report.max_rows
    return {m: redact(fit(build, renderer, m, rows)) for m in renderer.markups}


def report_body(
    report: WeeklyReport, policy: Policy, tracker_name: str, renderer: DocumentRenderer
) -> str:
    """The review issue body in the markup the tracker's configuration publishes."""
    return report_bodies(report, policy, tracker_name, renderer=renderer)[renderer.published]


def log_bodies(
    report: WeeklyReport,
    policy: Policy,
    tracker_name: str,
    *,
    renderer: DocumentRenderer,
) -> dict[str, str]:
    """This week's operating-log comment (closure decisions, roadmap changes) per markup."""
    document = log_layout(report)
    return {m: redact(renderer.render(document, m)) for m in renderer.markups}


def log_body(
    report: WeeklyReport, policy: Policy, tracker_name: str, renderer: DocumentRenderer
) -> str:
    """The log comment in the markup the tracker's configuration publishes."""
    return log_bodies(report, policy, tracker_name, renderer=renderer)[renderer.published]


def report_changes(
    report: WeeklyReport,
    policy: Policy,
    tracker_name: str,
    renderer: DocumentRenderer,
) -> list[ItemChange]:
    """One change for the review issue (with the chart, where the tracker attaches charts)
    and one for the log entry, rendered by the tracker's connector (``renderer``: the entry
    point that wired the connectors hands it in; the report package imports none)."""
    week = report.header.week
    attachments = trend_chart(report, renderer)
    chart = CHART_FILE if attachments else None
    chart_note = CHART_MISSING_NOTE if renderer.attaches_charts and not attachments else None
    upsert = UpsertReport(
        tracker=tracker_name,
        week_key=week,
        label=policy.report.label,
        title=report.header.title,
        bodies=report_bodies(
            report, policy, tracker_name, chart=chart, chart_note=chart_note, renderer=renderer
        ),
        attachments=attachments,
        close_previous=policy.report.close_previous,
        reason="weekly review",
    )
    entry = UpsertLogEntry(
        tracker=tracker_name,
        log_label=policy.report.log_label,
        log_title=policy.report.log_title,
        week_key=week,
        bodies=log_bodies(report, policy, tracker_name, renderer=renderer),
        reason="operating log",
    )
    return [
        ItemChange(key=f"report:{tracker_name}:{week}", actions=(upsert,), urgency=REPORT_URGENCY),
        ItemChange(key=f"log:{tracker_name}:{week}", actions=(entry,), urgency=LOG_URGENCY),
    ]
