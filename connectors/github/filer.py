"""Filing postmortems in GitHub: the ``syncer.postmortem.filing.Filer`` Protocol over PyGithub.

Cost: finding what was filed for an incident is ONE list request (``labels=incident:ID``,
``state=all``, 100 per page); creating is one POST per issue and updating one PATCH per changed
issue, on a lazily built issue object so no hidden GET is fired. The PyGithub client, its
credentials (token or GitHub App) and the error classification are the connector's own
(``connectors.github.session`` and ``connectors.github.transport``): writes are never retried,
since a retried POST would file a duplicate, and errors leave this module typed by status code
and headers only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from github import Github, GithubException
from github.Issue import Issue
from github.Repository import Repository

from connectors.github import transport
from connectors.github.session import make_auth, make_github
from syncer.clock import system_clock
from syncer.errors import TrackerError
from syncer.policy import Policy
from syncer.postmortem.filing import FiledIssue, FilingLabels, slug_of
from syncer.tracker_config import GitHubTracker, named_tracker


def typed_error(exc: GithubException, what: str, now: datetime | None = None) -> TrackerError:
    """The pmsync error for a GitHub answer, decided by the connector's status/header rules."""
    return transport.typed_error(exc, what, now or system_clock())


class GitHubFiler:
    """Files and finds postmortem issues in one repository."""

    def __init__(self, github: Github, repo: str, labels: FilingLabels) -> None:
        self.github = github
        self.repo_name = repo
        self.labels = labels
        self._repo: Repository = github.get_repo(repo)  # lazy client: no request

    def find_filed(self, incident_id: str) -> dict[str, FiledIssue]:
        """Every issue with the incident label whose marker names this incident, by slug."""
        label = self.labels.incident(incident_id)
        found: dict[str, FiledIssue] = {}
        try:
            for issue in self._repo.get_issues(state="all", labels=[label]):
                if "/pull/" in (issue.html_url or ""):
                    continue  # the issues list includes pull requests
                slug = slug_of(incident_id, issue.body or "")
                if slug is not None and slug not in found:
                    found[slug] = _filed(issue)
        except GithubException as exc:
            raise typed_error(exc, f"{self.repo_name}: list issues labelled {label}") from None
        return found

    def create_issue(
        self, title: str, body: str, labels: Sequence[str], assignees: Sequence[str]
    ) -> FiledIssue:
        try:
            issue = self._repo.create_issue(
                title=title, body=body, labels=list(labels), assignees=list(assignees)
            )
        except GithubException as exc:
            raise typed_error(exc, f"{self.repo_name}: create issue {title!r}") from None
        return _filed(issue)

    def update_issue(
        self,
        key: str,
        *,
        title: str | None = None,
        body: str | None = None,
        labels: Sequence[str] | None = None,
        assignees: Sequence[str] | None = None,
    ) -> FiledIssue:
        changes: dict[str, Any] = {}
        if title is not None:
            changes["title"] = title
        if body is not None:
            changes["body"] = body
        if labels is not None:
            changes["labels"] = list(labels)
        if assignees is not None:
            changes["assignees"] = list(assignees)
        issue = self._repo.get_issue(int(key))  # lazy: no request until edit()
        try:
            issue.edit(**changes)
        except GithubException as exc:
            raise typed_error(exc, f"{self.repo_name}#{key}: edit") from None
        return _filed(issue)


def _filed(issue: Issue) -> FiledIssue:
    """A ``FiledIssue`` from attributes present in list and write answers (no lazy GET)."""
    created = issue.created_at
    return FiledIssue(
        key=str(issue.number),
        url=issue.html_url,
        title=issue.title,
        body=issue.body or "",
        labels=frozenset(label.name for label in issue.labels),
        assignees=frozenset(user.login for user in issue.assignees),
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
    github = make_github(tracker, make_auth(tracker))
    return GitHubFiler(github, target, FilingLabels.for_tracker(tracker)), tracker
