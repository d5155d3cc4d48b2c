"""Data held by the GitHub emulator, and the error answers shared by all its modules.

Why this module exists: the objects (users, repositories, labels, milestones, issues, comments)
and the error bodies GitHub sends are used by the state rules, the renderer and the server
alike; keeping them in one small module avoids import cycles between those layers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

JSON = dict[str, Any]

DOCS = "https://docs.github.com/rest"
PERMISSIONS = ("none", "read", "triage", "write", "maintain", "admin")


def utc_seconds(value: datetime) -> datetime:
    """GitHub stores timestamps with second resolution, in UTC."""
    if value.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return value.astimezone(UTC).replace(microsecond=0)


class ApiError(Exception):
    """An error answer: HTTP status plus the JSON body GitHub would send."""

    def __init__(self, status: int, body: JSON, headers: dict[str, str] | None = None) -> None:
        super().__init__(status, body.get("message"))
        self.status = status
        self.body = body
        self.headers = headers or {}


def not_found(doc: str = "") -> ApiError:
    return ApiError(
        404, {"message": "Not Found", "documentation_url": f"{DOCS}{doc}", "status": "404"}
    )


def validation_failed(errors: Sequence[JSON], doc: str = "") -> ApiError:
    return ApiError(
        422,
        {
            "message": "Validation Failed",
            "errors": list(errors),
            "documentation_url": f"{DOCS}{doc}",
            "status": "422",
        },
    )


@dataclass
class User:
    login: str
    id: int
    name: str | None
    created_at: datetime
    type: str = "User"
    email: str | None = None
    suspended_at: datetime | None = None  # only an Enterprise Server site admin suspends


@dataclass
class Label:
    id: int
    name: str
    color: str
    description: str | None
    default: bool = False


@dataclass
class Milestone:
    id: int
    number: int
    title: str
    description: str | None
    state: str
    due_on: datetime | None
    creator: str
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None = None


@dataclass
class Comment:
    id: int
    issue_number: int
    body: str
    user: str
    created_at: datetime
    updated_at: datetime


@dataclass
class PullInfo:
    merged: bool
    merged_at: datetime | None
    merged_by: str | None
    head_ref: str
    base_ref: str
    draft: bool = False


@dataclass
class Commit:
    """A commit of a repository's history, as far as ``GET .../commits/{ref}`` shows it."""

    sha: str
    message: str
    author: str
    committed_at: datetime
    parents: list[str] = field(default_factory=list)


@dataclass
class Issue:
    id: int
    number: int
    title: str
    body: str | None
    user: str
    labels: list[str]  # lower-cased keys into Repo.labels, in the order they were applied
    assignees: list[str]
    state: str
    state_reason: str | None
    milestone: int | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    closed_by: str | None
    comment_ids: list[int] = field(default_factory=list)
    pull: PullInfo | None = None
    gone: bool = False
    parent_id: int | None = None  # the id (not number) of the parent issue, for a sub-issue
    sub_issue_ids: list[int] = field(default_factory=list)  # children's ids, in priority order


@dataclass(frozen=True)
class HookEvent:
    """A change GitHub would deliver to webhooks: ``event`` (``X-GitHub-Event``), ``action``,
    the repository and issue (or pull request) it concerns, who did it, and the event's own
    fields (``label``, ``assignee``, ``milestone``, ``changes``, ``comment``)."""

    event: str
    action: str
    repo: Repo
    issue: Issue | None
    sender: str
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class App:
    """A GitHub App: JWTs signed with its private key may mint installation tokens."""

    app_id: str
    public_key: bytes
    installations: set[int] = field(default_factory=set)


@dataclass
class Repo:
    id: int
    owner: str
    name: str
    created_at: datetime
    updated_at: datetime
    description: str | None = None
    labels: dict[str, Label] = field(default_factory=dict)
    milestones: dict[int, Milestone] = field(default_factory=dict)
    issues: dict[int, Issue] = field(default_factory=dict)
    comments: dict[int, Comment] = field(default_factory=dict)
    permissions: dict[str, str] = field(default_factory=dict)
    commits: dict[str, Commit] = field(default_factory=dict)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    def next_number(self) -> int:
        return max(self.issues, default=0) + 1
