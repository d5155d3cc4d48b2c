"""From a ``WeeklyReport`` to the writes that publish it: the review issue and the log entry.

Pure: it returns ``ItemChange`` values that ``plan(..., extra=...)`` puts in the budgeted plan
and the applier executes like any other write. The connectors find the week's issue by label
and week key (GitHub: the hidden ``<!-- pmsync:report:2026-W48 -->`` marker; Jira: an issue
property), update it in place, and close the previous week's; the log issue gets one comment
per week, edited on rerun. The body depends only on the report, so a rerun with the same data
produces the same body and the tracker sees no change.
"""

from __future__ import annotations

from syncer.actions import ItemChange, UpsertLogEntry, UpsertReport
from syncer.markdown import escape
from syncer.messages import html_marker
from syncer.policy import Policy
from syncer.report import text
from syncer.report.layout import Block, Heading, Paragraph, Span, Table, linked, plain
from syncer.report.model import Decision, ItemBrief, WeeklyReport
from syncer.report.render_jira import adf_document, fit_adf, fit_wiki, render_wiki_blocks
from syncer.report.render_markdown import fit_markdown, link

# Published before item writes (they are what the weekly meeting opens); the review issue
# before the log entry, so a budget of one write publishes the review.
REPORT_URGENCY, LOG_URGENCY = (-2,), (-1,)


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
    if policy.report.tracker:
        return policy.report.tracker
    names = [g.name for g in policy.trackers.github] + [j.name for j in policy.trackers.jira]
    return names[0] if names else None


def report_body(report: WeeklyReport, policy: Policy, tracker_name: str) -> str:
    """The review issue body in the tracker's own markup, within its size limit."""
    kind = target_kind(policy, tracker_name)
    rows = policy.report.max_rows
    if kind == "jira_v2":
        return fit_wiki(report, rows)
    if kind == "jira_v3":
        return fit_adf(report, rows)
    return fit_markdown(report, rows)


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


def log_body(report: WeeklyReport, policy: Policy, tracker_name: str) -> str:
    """This week's operating-log comment: closure decisions and roadmap changes."""
    blocks = _log_blocks(report)
    kind = target_kind(policy, tracker_name)
    if kind == "jira_v2":
        return render_wiki_blocks(blocks)
    if kind == "jira_v3":
        return adf_document(blocks)
    marker = html_marker(f"pmsync:log:{report.header.week}")
    return f"{_markdown_blocks(blocks).rstrip()}\n\n{marker}"


def report_changes(report: WeeklyReport, policy: Policy, tracker_name: str) -> list[ItemChange]:
    """One change for the review issue and one for the operating-log entry."""
    week = report.header.week
    # No trailing whitespace: trackers may trim it, and a body that comes back different from
    # what was sent would be rewritten on every rerun.
    body = report_body(report, policy, tracker_name).rstrip()
    upsert = UpsertReport(
        tracker=tracker_name,
        week_key=week,
        label=policy.report.label,
        title=report.header.title,
        body=body,
        close_previous=policy.report.close_previous,
        reason="weekly review",
    )
    entry = UpsertLogEntry(
        tracker=tracker_name,
        log_label=policy.report.log_label,
        log_title=policy.report.log_title,
        week_key=week,
        body=log_body(report, policy, tracker_name).rstrip(),
        reason="operating log",
    )
    return [
        ItemChange(key=f"report:{tracker_name}:{week}", actions=(upsert,), urgency=REPORT_URGENCY),
        ItemChange(key=f"log:{tracker_name}:{week}", actions=(entry,), urgency=LOG_URGENCY),
    ]
