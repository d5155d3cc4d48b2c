"""The weekly review's document rendered by each connector's renderer, for the report tests.

The core lays the review out once (``syncer.report.layout``); these are the renderers the
GitHub and Jira connectors hand in, called the way ``syncer.report.publish`` calls them.
"""

from __future__ import annotations

from typing import Any

from connectors.github.renderer import GitHubDocuments, render_document
from connectors.jira.renderer_document import adf_json, render_adf_document, render_wiki_document
from syncer.core.actions import MARKDOWN
from syncer.report.layout import layout
from syncer.report.model import WeeklyReport
from syncer.report.publish import fit


def render_markdown(report: WeeklyReport, *, max_rows: int | None = None) -> str:
    return render_document(layout(report, max_rows=max_rows))


def fit_markdown(report: WeeklyReport, max_rows: int) -> str:
    return fit(lambda rows: layout(report, max_rows=rows), GitHubDocuments(), MARKDOWN, max_rows)


def render_wiki(report: WeeklyReport, *, chart_attachment: str | None = None) -> str:
    return render_wiki_document(layout(report, chart_attachment=chart_attachment))


def render_adf(report: WeeklyReport) -> dict[str, Any]:
    return render_adf_document(layout(report))


def render_adf_json(report: WeeklyReport) -> str:
    return adf_json(render_adf(report))
