"""Filing postmortems in GitHub: the ``syncer.postmortem.filing.Filer`` Protocol over the
connector's own transport.

Cost: finding what was filed for an incident is ONE list request (``labels=incident:ID``,
``state=all``, 100 per page); creating is one POST per issue and updating one PATCH per
changed issue. Every request goes through the ``GitHubConnector``'s transport: its fenced
connection, its write spacing, its typed errors (status code and headers only) and its
request counts; each issue created is reserved in the content-creation windows first, like
a comment. Writes are never retried, since a retried POST would file a duplicate: an issue
whose answer was lost is found by its marker on the next run. The applier executes the
filing (``syncer.postmortem.filing_apply``) and charges ``write_requests`` to the budget.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from connectors.github.client import GitHubConnector
from connectors.github.mapper import is_pull_request, parse_timestamp
from connectors.github.renderer import render_document
from connectors.github.session import PER_PAGE
from syncer.core.actions import Action
from syncer.core.clock import system_clock
from syncer.core.cursors import MemoryCursorStore
from syncer.core.document import Document
from syncer.core.errors import TransientError
from syncer.core.model import ItemRef
from syncer.core.policy import Policy
from syncer.core.tracker_config import GitHubTracker, named_tracker
from syncer.postmortem.filing import slug_of
from syncer.postmortem.filing_model import FiledIssue, FilingLabels


class GitHubFiler:
    """Files and finds postmortem issues in one repository, through ``connector``."""

    def __init__(self, connector: GitHubConnector, repo: str, labels: FilingLabels) -> None:
        self.connector = connector
        self.repo_name = repo
        self.labels = labels

    @property
    def name(self) -> str:
        return self.connector.name

    @property
    def hierarchy(self) -> GitHubConnector:
        """The connector attaches the filed items as sub-issues (``LinksFiledIssues``)."""
        return self.connector

    def item_ref(self, issue: FiledIssue) -> ItemRef:
        return ItemRef(tracker=self.connector.name, key=f"{self.repo_name}#{issue.key}")

    def render_form(self, document: Document) -> str:
        """Issue-form bodies are GitHub Markdown: the connector's own renderer writes them."""
        return render_document(document)

    def find_filed(self, incident_id: str) -> dict[str, FiledIssue]:
        """Every issue with the incident label whose marker names this incident, by slug."""
        label = self.labels.incident(incident_id)
        rows = self.connector.http.get_all(
            f"/repos/{self.repo_name}/issues",
            f"{self.repo_name}: list issues labelled {label}",
            {"state": "all", "labels": label, "per_page": PER_PAGE},
        )
        found: dict[str, FiledIssue] = {}
        for row in rows:
            if not isinstance(row, Mapping) or is_pull_request(row):
                continue  # the issues list includes pull requests
            slug = slug_of(incident_id, _text(row.get("body")))
            if slug is not None and slug not in found:
                found[slug] = _filed(row, "list issues")
        return found

    def create_issue(
        self, title: str, body: str, labels: Sequence[str], assignees: Sequence[str]
    ) -> FiledIssue:
        """One content-creating POST, paced and fenced like a comment."""
        answer = self.connector.writer.create(
            f"/repos/{self.repo_name}/issues",
            f"{self.repo_name}: create issue {title!r}",
            {"title": title, "body": body, "labels": list(labels), "assignees": list(assignees)},
        )
        return _filed(answer.data, "create issue")

    def update_issue(
        self,
        key: str,
        *,
        title: str | None = None,
        body: str | None = None,
        labels: Sequence[str] | None = None,
        assignees: Sequence[str] | None = None,
    ) -> FiledIssue:
        """One PATCH of the fields that differ."""
        changes: dict[str, Any] = {}
        if title is not None:
            changes["title"] = title
        if body is not None:
            changes["body"] = body
        if labels is not None:
            changes["labels"] = list(labels)
        if assignees is not None:
            changes["assignees"] = list(assignees)
        answer = self.connector.http.call(
            "PATCH",
            f"/repos/{self.repo_name}/issues/{int(key)}",
            f"{self.repo_name}#{key}: edit",
            body=changes,
        )
        return _filed(answer.data, "edit issue")

    def write_cost(self, action: Action) -> int:
        """One POST to file an issue, one PATCH to edit one (``core.tracker.PricesWrites``)."""
        return 1

    @property
    def write_requests(self) -> int:
        return self.connector.write_requests


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _filed(raw: object, what: str) -> FiledIssue:
    """A ``FiledIssue`` from an issue as GitHub answers it (list, create and edit alike)."""
    if not isinstance(raw, Mapping) or not isinstance(raw.get("number"), int):
        raise TransientError(f"{what}: answer without an issue number")
    created = parse_timestamp(raw.get("created_at"))
    return FiledIssue(
        key=str(raw["number"]),
        url=_text(raw.get("html_url")),
        title=_text(raw.get("title")),
        body=_text(raw.get("body")),
        labels=frozenset(
            _text(label.get("name"))
            for label in raw.get("labels") or ()
            if isinstance(label, Mapping)
        ),
        assignees=frozenset(
            _text(user.get("login"))
            for user in raw.get("assignees") or ()
            if isinstance(user, Mapping)
        ),
        created=created.date() if created is not None else None,
    )


def select_tracker(policy: Policy, name: str | None) -> GitHubTracker:
    """The named GitHub tracker of the policy, or the first one."""
    return named_tracker(policy.trackers.github, name, "trackers.github")


def filer_from_policy(
    policy: Policy, tracker_name: str | None = None, repo: str | None = None
) -> tuple[GitHubFiler, GitHubTracker]:
    """The filer for the policy's GitHub tracker and repository (first ones by default)."""
    tracker = select_tracker(policy, tracker_name)
    target = repo or (tracker.repositories[0] if tracker.repositories else None)
    if target is None:
        raise LookupError(f"trackers.github[{tracker.name}]: no repository; pass --repo owner/name")
    connector = GitHubConnector(tracker, policy, MemoryCursorStore(), system_clock)
    return GitHubFiler(connector, target, FilingLabels.for_tracker(tracker)), tracker
