"""Evidence links typed from their URL, the same way for every tracker.

Rules only ask "is this measurable evidence?" (a merged pull request, a commit, a dashboard,
a test run), so the kind is decided here once from the URL shape. Jira keeps evidence in a URL
or free-text field, so this module also pulls every link out of such text.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from syncer.model import Evidence, EvidenceKind

_URL_RE = re.compile(r"https?://[^\s<>\"'|\]\[{}]+", re.IGNORECASE)
_TRAILING = ".,;:!?)"

_PULL = re.compile(r"/pull/\d+|/merge_requests/\d+|/pull-requests/\d+|/\+/\d+|/D\d+$")
_COMMIT = re.compile(r"/commits?/[0-9a-f]{7,40}\b|/-/commit/[0-9a-f]{7,40}\b", re.IGNORECASE)
_TEST_RUN = re.compile(
    r"/actions/runs/\d+|/job/[^/]+/\d+|/builds?/\d+|/pipelines/\d+|/workflows/|test[-_ ]?runs?",
    re.IGNORECASE,
)
_DASHBOARD_HOSTS = ("grafana", "datadoghq", "kibana", "newrelic", "honeycomb", "signalfx")
_DASHBOARD = re.compile(r"/d/[^/]+|dashboards?|/goto/", re.IGNORECASE)
_RUNBOOK = re.compile(r"runbook|playbook", re.IGNORECASE)
_DOCUMENT_HOSTS = ("docs.google.com", "notion.so", "atlassian.net", "sharepoint.com", "quip.com")
_DOCUMENT = re.compile(r"/wiki/|/display/|\.(md|pdf|docx?|rst)$|/blob/", re.IGNORECASE)


def classify_url(url: str) -> EvidenceKind:
    """The kind of evidence a URL points at (runbooks before documents, PRs before commits)."""
    parts = urlsplit(url)
    host = parts.netloc.lower()
    path = parts.path
    if _PULL.search(path):
        return EvidenceKind.PULL_REQUEST
    if _COMMIT.search(path):
        return EvidenceKind.COMMIT
    if _RUNBOOK.search(path) or _RUNBOOK.search(host):
        return EvidenceKind.RUNBOOK
    if _TEST_RUN.search(path) or host.startswith(("ci.", "jenkins.", "buildkite.")):
        return EvidenceKind.TEST_RUN
    if any(h in host for h in _DASHBOARD_HOSTS):
        return EvidenceKind.DASHBOARD
    if any(host.endswith(h) for h in _DOCUMENT_HOSTS):
        return EvidenceKind.DOCUMENT
    if _DASHBOARD.search(path):
        return EvidenceKind.DASHBOARD
    if _DOCUMENT.search(path):
        return EvidenceKind.DOCUMENT
    return EvidenceKind.OTHER


def urls_in(text: str) -> list[str]:
    """Every http(s) URL in free text (wiki ``[label|url]`` included), in order, unique."""
    seen: list[str] = []
    for match in _URL_RE.finditer(text):
        url = match.group(0).rstrip(_TRAILING)
        if url not in seen:
            seen.append(url)
    return seen


def evidence_from_text(text: str) -> tuple[Evidence, ...]:
    """Typed evidence for each link in ``text``; text without links is one OTHER item."""
    urls = urls_in(text)
    if not urls:
        stripped = text.strip()
        return (Evidence(kind=EvidenceKind.OTHER, text=stripped),) if stripped else ()
    return tuple(Evidence(kind=classify_url(u), url=u) for u in urls)
