"""An in-memory tracker implementing the filing Protocol and recording every write."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from connectors.github.renderer import render_document
from syncer.core.document import Document
from syncer.postmortem.filing import slug_of
from syncer.postmortem.filing_model import FiledIssue


class InMemoryFiler:
    """Issues in a dict; ``writes`` lists (verb, key, fields) in order."""

    def __init__(self, today: date) -> None:
        self.today = today
        self.issues: dict[str, FiledIssue] = {}
        self.writes: list[tuple[str, str, tuple[str, ...]]] = []
        self.reads = 0

    def render_form(self, document: Document) -> str:
        """Bodies as a GitHub filer writes them, so tests compare with what GitHub holds."""
        return render_document(document)

    def find_filed(self, incident_id: str) -> dict[str, FiledIssue]:
        self.reads += 1
        found = {}
        for issue in self.issues.values():
            slug = slug_of(incident_id, issue.body)
            if slug is not None:
                found[slug] = issue
        return found

    def create_issue(
        self, title: str, body: str, labels: Sequence[str], assignees: Sequence[str]
    ) -> FiledIssue:
        key = str(len(self.issues) + 1)
        issue = FiledIssue(
            key=key,
            url=f"https://tracker.test/acme/api/issues/{key}",
            title=title,
            body=body,
            labels=frozenset(labels),
            assignees=frozenset(assignees),
            created=self.today,
        )
        self.issues[key] = issue
        self.writes.append(("create", key, ("title", "body", "labels", "assignees")))
        return issue

    def update_issue(
        self,
        key: str,
        *,
        title: str | None = None,
        body: str | None = None,
        labels: Sequence[str] | None = None,
        assignees: Sequence[str] | None = None,
    ) -> FiledIssue:
        issue = self.issues[key]
        changed: list[str] = []
        if title is not None:
            issue, changed = replace(issue, title=title), [*changed, "title"]
        if body is not None:
            issue, changed = replace(issue, body=body), [*changed, "body"]
        if labels is not None:
            issue, changed = replace(issue, labels=frozenset(labels)), [*changed, "labels"]
        if assignees is not None:
            issue = replace(issue, assignees=frozenset(assignees))
            changed.append("assignees")
        self.issues[key] = issue
        self.writes.append(("update", key, tuple(changed)))
        return issue

    def edit_by_hand(self, key: str, **changes: object) -> None:
        """A person changes the issue in the tracker (not a pmsync write)."""
        self.issues[key] = replace(self.issues[key], **changes)  # type: ignore[arg-type]
