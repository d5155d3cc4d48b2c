"""A postmortem issue as the parent of its action items: GitHub sub-issues.

The REST sub-issue endpoints (https://docs.github.com/rest/issues/sub-issues) name the child
by its numeric issue *id*, not by its number, so attaching one takes a read of the child
first. That read is also the idempotency check: the issue carries ``parent_issue_url`` when
it is a sub-issue, so a child already under this parent is left alone (no write), and a rerun
after a POST whose answer was lost sends nothing twice. An issue has one parent at most;
pmsync never moves one (``replace_parent`` is never sent): a child under another parent is a
``PermanentError`` naming both.

Costs: one GET and one POST per child attached (one GET when it already is); listing a
parent's children is one GET per 100 of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from connectors.github.session import PER_PAGE
from connectors.github.transport import ContentPacer, Transport
from connectors.github.writes import ItemWriter
from syncer.core.actions import LinkChild
from syncer.core.errors import PermanentError, TransientError
from syncer.core.model import ItemRef


def issue_key(api_url: str) -> str | None:
    """``owner/repo#N`` from an issue's API URL (``.../repos/owner/repo/issues/N``)."""
    path = urlsplit(api_url).path
    _, sep, tail = path.rpartition("/repos/")
    parts = tail.split("/") if sep else []
    if len(parts) != 4 or parts[2] != "issues" or not parts[3].isdigit():
        return None
    return f"{parts[0]}/{parts[1]}#{parts[3]}"


class SubIssues:
    """Read and attach sub-issues through the connector's transport (fenced, counted,
    typed errors). Attaching is content creation on GitHub ("Creating content too quickly
    using this endpoint may result in secondary rate limiting": OpenAPI
    ``issues/add-sub-issue``), so it is paced in the content windows like a comment."""

    def __init__(self, http: Transport, pacer: ContentPacer, writer: ItemWriter) -> None:
        self.http = http
        self.pacer = pacer
        self.writer = writer

    def children(self, parent: ItemRef) -> tuple[ItemRef, ...]:
        """The parent's sub-issues in GitHub's order (``issues/list-sub-issues``)."""
        repo, number = self.writer.split(parent)
        rows = self.http.get_all(
            f"/repos/{repo}/issues/{number}/sub_issues",
            f"list sub-issues of {parent.key}",
            {"per_page": PER_PAGE},
        )
        keys = [issue_key(str(row.get("url", ""))) for row in rows if isinstance(row, Mapping)]
        return tuple(ItemRef(tracker=parent.tracker, key=key) for key in keys if key)

    def link_child(self, action: LinkChild) -> bool:
        """Attach ``action.child`` under ``action.parent`` (``issues/add-sub-issue``) unless
        the child already is there; True when the POST was sent."""
        parent_repo, parent_number = self.writer.split(action.parent)
        child_repo, child_number = self.writer.split(action.child)
        child = self._issue(child_repo, child_number, action.child)
        current = child.get("parent_issue_url")
        if isinstance(current, str) and current:
            if (issue_key(current) or "").casefold() == action.parent.key.casefold():
                return False
            raise PermanentError(
                f"{action.child.key} is already a sub-issue of {issue_key(current) or current}; "
                f"pmsync does not move it under {action.parent.key}"
            )
        issue_id = child.get("id")
        if not isinstance(issue_id, int) or isinstance(issue_id, bool):
            raise TransientError(f"read {action.child.key}: the answer has no issue id")
        self.pacer.reserve()
        self.http.call(
            "POST",
            f"/repos/{parent_repo}/issues/{parent_number}/sub_issues",
            f"add {action.child.key} as a sub-issue of {action.parent.key}",
            body={"sub_issue_id": issue_id},
        )
        return True

    def _issue(self, repo: str, number: int, ref: ItemRef) -> Mapping[str, Any]:
        answer = self.http.call("GET", f"/repos/{repo}/issues/{number}", f"read {ref.key}")
        if not isinstance(answer.data, Mapping):
            raise TransientError(f"read {ref.key}: expected a JSON object")
        return answer.data
