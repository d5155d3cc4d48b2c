"""Publishing on GitHub: the weekly review issue and the operating log's weekly comment.

Both are found before they are written, so reruns and restarts edit instead of doubling: the
review issue by its label and a hidden ``pmsync:report:<week>`` marker in its body, the log
issue by its label and ``pmsync:log`` marker, and the week's log comment by a
``pmsync:log:<week>`` marker. Unchanged text costs no write.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.github.mapper import is_pull_request
from connectors.github.renderer import with_marker
from connectors.github.session import PER_PAGE
from connectors.github.transport import Transport, rows_of
from connectors.github.writes import ItemWriter
from syncer.core.errors import PermanentError
from syncer.core.messages import markers_in
from syncer.core.tracker import ReportRef
from syncer.report.weeks import parse_week

REPORT_MARKER = "pmsync:report:"
LOG_MARKER = "pmsync:log"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ReportPublisher:
    """The review issue and log entries of one GitHub configuration, in one repository."""

    def __init__(
        self,
        http: Transport,
        writer: ItemWriter,
        repositories: Callable[[], list[str]],
        name: str,
        report_repository: str | None = None,
    ) -> None:
        self.http = http
        self.writer = writer
        self.repositories = repositories
        self.name = name
        self.report_repository = report_repository

    def report_repo(self) -> str:
        """The configured report repository, else the first repository in scope."""
        repo = self.report_repository or next(iter(self.repositories()), None)
        if repo is None:
            raise PermanentError(f"GitHub tracker {self.name} has no repository for reports")
        return repo

    def _issues_with_label(self, repo: str, label: str, direction: str) -> list[Mapping[str, Any]]:
        first = self.http.call(
            "GET",
            f"/repos/{repo}/issues",
            f"find issues labelled {label!r} in {repo}",
            params={
                "labels": label,
                "state": "all",
                "sort": "created",
                "direction": direction,
                "per_page": PER_PAGE,
            },
        )
        return [
            r
            for r in rows_of(first, "list issues")
            if isinstance(r, Mapping) and not is_pull_request(r)
        ]

    def upsert_report(
        self, *, week_key: str, label: str, title: str, body: str, close_previous: bool
    ) -> ReportRef:
        """The week's review issue, found by label and marker, created or updated in place."""
        repo = self.report_repo()
        marker = f"{REPORT_MARKER}{week_key}"
        full_body = with_marker(body, marker)
        self.writer.ensure_labels(repo, [label])
        issues = self._issues_with_label(repo, label, "desc")
        current = next((i for i in issues if marker in markers_in(_body(i))), None)
        changed = current is None or _body(current) != full_body or current.get("title") != title
        if current is None:
            created = self.writer.create(
                f"/repos/{repo}/issues",
                f"create report {week_key} in {repo}",
                {"title": title, "body": full_body, "labels": [label]},
            )
            current = created.data if isinstance(created.data, Mapping) else {}
        elif changed:
            self.http.call(
                "PATCH",
                f"/repos/{repo}/issues/{current['number']}",
                f"update report {week_key} in {repo}",
                body={"title": title, "body": full_body},
            )
        number = current.get("number")
        if close_previous and isinstance(number, int):
            for issue in issues:
                weeks = [
                    m.removeprefix(REPORT_MARKER)
                    for m in markers_in(_body(issue))
                    if m.startswith(REPORT_MARKER)
                ]
                older = [w for w in weeks if w < week_key]
                if issue.get("state") == "open" and older and issue.get("number") != number:
                    changed = True
                    link = f"Superseded by #{number}."
                    old_body = _body(issue)
                    new_body = old_body if link in old_body else f"{old_body.rstrip()}\n\n{link}"
                    self.http.call(
                        "PATCH",
                        f"/repos/{repo}/issues/{issue['number']}",
                        f"close report {older[0]} in {repo}",
                        body={"state": "closed", "state_reason": "completed", "body": new_body},
                    )
        return ReportRef(
            key=f"{repo}#{number}", url=str(current.get("html_url") or ""), changed=changed
        )

    def upsert_log_entry(
        self, *, log_label: str, log_title: str, week_key: str, body: str
    ) -> ReportRef:
        """One comment per week on the long-lived log issue: edited on rerun, never doubled."""
        repo = self.report_repo()
        self.writer.ensure_labels(repo, [log_label])
        issues = self._issues_with_label(repo, log_label, "asc")
        log_issue = next((i for i in issues if LOG_MARKER in markers_in(_body(i))), None)
        changed = log_issue is None
        if log_issue is None:
            intro = "Reliability operating log: one comment per week, written by pmsync."
            created = self.writer.create(
                f"/repos/{repo}/issues",
                f"create operating log in {repo}",
                {"title": log_title, "body": with_marker(intro, LOG_MARKER), "labels": [log_label]},
            )
            log_issue = created.data if isinstance(created.data, Mapping) else {}
        number = log_issue.get("number")
        key = f"{repo}#{number}"
        marker = f"{LOG_MARKER}:{week_key}"
        full_body = with_marker(body, marker)
        params: dict[str, Any] = {"per_page": PER_PAGE}
        try:
            monday = parse_week(week_key)
        except ValueError:
            pass  # not an ISO week key: read all comments
        else:
            since = datetime.combine(monday - timedelta(days=7), datetime.min.time(), UTC)
            params["since"] = iso(since)
        rows = self.http.get_all(
            f"/repos/{repo}/issues/{number}/comments", f"read comments of {key}", params
        )
        existing = next(
            (r for r in rows if isinstance(r, Mapping) and marker in markers_in(_body(r))), None
        )
        changed = changed or existing is None or _body(existing) != full_body
        if existing is None:
            created = self.writer.create(
                f"/repos/{repo}/issues/{number}/comments",
                f"log entry {week_key} on {key}",
                {"body": full_body},
                key=key,
            )
            existing = created.data if isinstance(created.data, Mapping) else {}
        elif _body(existing) != full_body:
            self.http.call(
                "PATCH",
                f"/repos/{repo}/issues/comments/{existing['id']}",
                f"edit log entry {week_key} on {key}",
                body={"body": full_body},
            )
        return ReportRef(key=key, url=str(existing.get("html_url") or ""), changed=changed)


def _body(raw: Mapping[str, Any]) -> str:
    body = raw.get("body")
    return body if isinstance(body, str) else ""
