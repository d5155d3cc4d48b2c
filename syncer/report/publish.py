"""From a ``WeeklyReport`` to the writes that publish it: the review issue and the log entry.

Pure: it returns ``ItemChange`` values that ``plan(..., extra=...)`` puts in the budgeted plan
and the applier executes like any other write. The connectors find the week's issue by label
and week key (GitHub: the hidden ``<!-- pmsync:report:2026-W48 -->`` marker; Jira: an issue
property), update it in place, and close the previous week's; the log issue gets one comment
per week, edited on rerun. The body depends only on the report, so a rerun with the same data
produces the same body and the tracker sees no change. Every body passes the secret
redactor (after the model did, in ``build_report``), which is deterministic too.

The Jira review's PNG chart needs the ``charts`` extra (matplotlib). Without it the review is
published all the same, with the trend table, and a note where the chart would stand says
what to install; a warning in the log says it too. The only side effect here is that line.
"""

from __future__ import annotations

import structlog

from syncer.actions import ADF, MARKDOWN, WIKI, ItemChange, UpsertLogEntry, UpsertReport
from syncer.extras import CHARTS, MissingExtra
from syncer.markdown import escape
from syncer.messages import html_marker
from syncer.policy import Policy
from syncer.redaction import redact
from syncer.report import text
from syncer.report.layout import Block, Heading, Paragraph, Span, Table, linked, plain
from syncer.report.model import Decision, ItemBrief, WeeklyReport
from syncer.report.render_jira import adf_document, fit_adf, fit_wiki, render_wiki_blocks
from syncer.report.render_markdown import fit_markdown, link

# Published before item writes (they are what the weekly meeting opens); the review issue
# before the log entry, so a budget of one write publishes the review.
REPORT_URGENCY, LOG_URGENCY = (-2,), (-1,)
CHART_MISSING_NOTE = (
    "The trend chart is not attached: this pmsync installation has no chart support "
    f"(install {CHARTS.install.removeprefix('pip install ')}). "
    "The table below has the same figures."
)

log = structlog.get_logger(__name__)


def target_kind(policy: Policy, tracker_name: str) -> str:
    """``github``, ``jira_v2`` or ``jira_v3`` for the tracker instance named ``tracker_name``."""
    for g in policy.trackers.github:
        if g.name == tracker_name:
            return "github"
    for j in policy.trackers.jira:
        if j.name == tracker_name:
            return "jira_v3" if j.rest_api_version == "3" else "jira_v2"
    return "github"


def report_tracker(policy: Policy) -> str | None:
    """The tracker the report goes to: ``report.tracker``, else the first one configured."""
    return policy.report_target()


CHART_FILE = "risk-trend.png"


def markups_for(kind: str) -> tuple[str, ...]:
    """The markups a tracker family may publish: GitHub Markdown; Jira wiki (v2) and ADF (v3)."""
    return (MARKDOWN,) if kind == "github" else (WIKI, ADF)


def trend_chart(report: WeeklyReport, kind: str) -> dict[str, bytes]:
    """The trend as a PNG attachment for Jira (GitHub shows the Mermaid chart instead).

    Empty, with a warning, when the ``charts`` extra is not installed.
    """
    if kind == "github":
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


def report_bodies(
    report: WeeklyReport,
    policy: Policy,
    tracker_name: str,
    *,
    chart: str | None = None,
    chart_note: str | None = None,
) -> dict[str, str]:
    """The review issue body in each markup the tracker may use, within its size limit.

    No trailing whitespace: trackers may trim it, and a body that comes back different from
    what was sent would be rewritten on every rerun. ``chart`` names the attached PNG;
    without one, ``chart_note`` (if any) stands where the chart would.
    """
    rows = policy.report.max_rows
    render = {
        MARKDOWN: lambda: fit_markdown(report, rows),
        WIKI: lambda: fit_wiki(report, rows, chart_attachment=chart, chart_note=chart_note),
        ADF: lambda: fit_adf(report, rows, chart_attachment=chart, chart_note=chart_note),
    }
    kind = target_kind(policy, tracker_name)
    return {m: redact(render[m]().rstrip()) for m in markups_for(kind)}


def report_body(report: WeeklyReport, policy: Policy, tracker_name: str) -> str:
    """The review issue body in the markup the tracker's configuration publishes."""
    kind = target_kind(policy, tracker_name)
    return report_bodies(report, policy, tracker_name)[_markup_of(kind)]


def _markup_of(kind: str) -> str:
    return {"github": MARKDOWN, "jira_v2": WIKI, "jira_v3": ADF}[kind]


def _log_blocks(report: WeeklyReport) -> list[Block]:
    h = report.header
    blocks: list[Block] = [
        Heading(3, f"{h.week}: {h.period_start.isoformat()} to {h.period_end.isoformat()}"),
    ]

    def decisions(kind: str) -> list[Decision]:
        return [d for d in report.decisions if d.kind == kind]

    for kind, title in text.DECISION_TITLES.items():
        chosen = decisions(kind)
        if not chosen:
            blocks.append(Paragraph((Span(f"{title}: ", strong=True), Span("none"))))
            continue
        blocks.append(Paragraph((Span(f"{title} ({len(chosen)})", strong=True),)))
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
            blocks.append(Paragraph((Span(f"{title}: ", strong=True), Span("none"))))
            return
        blocks.append(Paragraph((Span(f"{title} ({len(chosen)})", strong=True),)))
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
    return blocks


def _markdown_blocks(blocks: list[Block]) -> str:
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            out += ["#" * block.level + " " + escape(block.text), ""]
        elif isinstance(block, Paragraph):
            out += [
                "".join(
                    f"**{escape(s.text.strip())}** " if s.strong else escape(s.text)
                    for s in block.spans
                ).strip(),
                "",
            ]
        elif isinstance(block, Table):
            out.append("| " + " | ".join(escape(h) for h in block.headers) + " |")
            out.append("|" + "---|" * len(block.headers))
            for row in block.rows:
                cells = [
                    "".join(link(s.text, s.url) if s.url else escape(s.text) for s in cell) or " "
                    for cell in row
                ]
                out.append("| " + " | ".join(cells) + " |")
            out.append("")
    return "\n".join(out)


def log_bodies(report: WeeklyReport, policy: Policy, tracker_name: str) -> dict[str, str]:
    """This week's operating-log comment (closure decisions, roadmap changes) per markup."""
    blocks = _log_blocks(report)
    marker = html_marker(f"pmsync:log:{report.header.week}")
    render = {
        MARKDOWN: lambda: f"{_markdown_blocks(blocks).rstrip()}\n\n{marker}",
        WIKI: lambda: render_wiki_blocks(blocks),
        ADF: lambda: adf_document(blocks),
    }
    kind = target_kind(policy, tracker_name)
    return {m: redact(render[m]().rstrip()) for m in markups_for(kind)}


def log_body(report: WeeklyReport, policy: Policy, tracker_name: str) -> str:
    """The log comment in the markup the tracker's configuration publishes."""
    return log_bodies(report, policy, tracker_name)[_markup_of(target_kind(policy, tracker_name))]


def report_changes(report: WeeklyReport, policy: Policy, tracker_name: str) -> list[ItemChange]:
    """One change for the review issue (with the chart for Jira) and one for the log entry."""
    week = report.header.week
    kind = target_kind(policy, tracker_name)
    attachments = trend_chart(report, kind)
    chart = CHART_FILE if attachments else None
    chart_note = CHART_MISSING_NOTE if kind != "github" and not attachments else None
    upsert = UpsertReport(
        tracker=tracker_name,
        week_key=week,
        label=policy.report.label,
        title=report.header.title,
        bodies=report_bodies(report, policy, tracker_name, chart=chart, chart_note=chart_note),
        attachments=attachments,
        close_previous=policy.report.close_previous,
        reason="weekly review",
    )
    entry = UpsertLogEntry(
        tracker=tracker_name,
        log_label=policy.report.log_label,
        log_title=policy.report.log_title,
        week_key=week,
        bodies=log_bodies(report, policy, tracker_name),
        reason="operating log",
    )
    return [
        ItemChange(key=f"report:{tracker_name}:{week}", actions=(upsert,), urgency=REPORT_URGENCY),
        ItemChange(key=f"log:{tracker_name}:{week}", actions=(entry,), urgency=LOG_URGENCY),
    ]
