"""Seed files for the GitHub emulator: YAML or JSON, with dates relative to the emulator's clock.

Why this module exists: the demo and the tests need a realistic backlog that stays meaningful
whatever day it runs (an item "overdue by 5 days" must stay overdue), so seed dates are written
relative to "now" and resolved against the emulator clock when the seed is loaded.

Format (every key optional unless marked)::

    enterprise_server: false                          # true: play GitHub Enterprise Server
    users:
      - {login: alice, name: Alice Anders}            # login required
      - {login: dana, suspended: -10d}                # suspended (Enterprise Server only)
      - {login: frank, deleted: true}                 # GET /users/frank answers 404
    repos:
      - name: acme/api                                # required, "owner/name"
        description: Public API
        permissions: {alice: write, bob: read}        # none/read/triage/write/maintain/admin
        labels:
          - {name: P0, color: b60205, description: Drop everything}
        milestones:
          - {title: 2026-12, due_on: +30d, description: ..., state: open}
        pulls:
          - {number: 12, title: Fix retries, merged: true, merged_at: -3d, created: -6d, user: bob}
        commits:                                      # GET .../commits/{sha} answers these
          - {sha: 3f9c2ab7d1e04c5b8a6f0e2d9c1b7a4e5f6d8c0b, message: Fix, user: bob, created: -5d}
        issues:
          - number: 3                                 # default: smallest unused number
            title: Add a circuit breaker              # required
            body: "### Due date\n\n{{date -5d}}"     # {{date X}} becomes YYYY-MM-DD
            # {{web}} anywhere becomes the emulator's own address (links it can serve)
            labels: [postmortem-action, sev-1, P0]    # created (colour ededed) when missing
            assignees: [alice]
            state: closed                             # open (default) or closed
            state_reason: completed                   # completed / not_planned
            milestone: 2026-12                        # title or number
            user: alice                               # author, default the token's user
            created: -40d
            updated: -2d                              # default: latest of created/closed/comments
            closed: -3d
            comments:
              - {user: bob, body: Working on it, created: -10d}

Top-level keys starting with ``x-`` are ignored (a place for YAML anchors such as a shared label
list). Dates are ``now``, ``-40d``/``+3d`` (units ``d``, ``h``, ``m``, ``w``), an ISO date
(midnight UTC) or an ISO timestamp. Explicitly numbered issues and pulls are placed first; the
rest take the smallest free numbers in file order (issues, then pulls).

A seed file is read by pmsync's safe loader (``syncer.core.config_loader``: size, UTF-8, nesting,
aliases and duplicate keys) and checked against :class:`GitHubSeed` before anything is added,
so every problem is ``FILE:LINE:COL: dotted.key: problem`` (:class:`SeedError`), never a
traceback.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from connectors.emulators.github_model import PERMISSIONS, ApiError
from connectors.emulators.seed_files import (
    SeedError,
    check_seed,
    read_document,
    refused_at,
    seeding,
)
from syncer.core.config_document import Document

__all__ = ["GitHubSeed", "SeedError", "load_seed"]

if TYPE_CHECKING:
    from connectors.emulators.github import GitHubEmulator

_RELATIVE = re.compile(r"^([+-])\s*(\d+)\s*([wdhm])$")
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}
_DATE_TOKEN = re.compile(r"\{\{\s*date\s+([^}]+?)\s*\}\}")


Scalar = str | int | float
Moment = str | date | datetime
Permission = Literal["none", "read", "triage", "write", "maintain", "admin"]
assert set(PERMISSIONS) == set(Permission.__args__)  # type: ignore[attr-defined]


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SeedUser(_Entry):
    login: Scalar
    name: str | None = None
    email: str | None = None
    suspended: Moment | None = None
    deleted: bool = False


class SeedLabel(_Entry):
    name: Scalar
    color: Scalar = "ededed"
    description: str | None = None


class SeedMilestone(_Entry):
    title: Scalar
    due_on: Moment | None = None
    description: str | None = None
    state: Literal["open", "closed"] = "open"


class SeedPull(_Entry):
    number: int | None = None
    title: Scalar | None = None
    body: str | None = None
    merged: bool = True
    merged_at: Moment | None = None
    created: Moment = "now"
    user: str | None = None


class SeedCommit(_Entry):
    sha: str | None = None
    message: Scalar = "A commit"
    user: str | None = None
    created: Moment = "now"


class SeedComment(_Entry):
    body: Scalar
    user: Scalar | None = None
    created: Moment = "now"


class SeedIssue(_Entry):
    number: int | None = None
    title: Scalar
    body: str | None = None
    labels: list[Scalar] | None = None
    assignees: list[Scalar] | None = None
    state: Literal["open", "closed"] = "open"
    state_reason: Literal["completed", "not_planned", "reopened"] | None = None
    milestone: Scalar | None = None
    user: str | None = None
    created: Moment = "now"
    updated: Moment | None = None
    closed: Moment | None = None
    comments: list[SeedComment] | None = None


class SeedRepo(_Entry):
    name: str = Field(pattern=r"^[^/\s]+/[^/\s]+$")
    description: str | None = None
    permissions: dict[str, Permission] | None = None
    labels: list[SeedLabel] | None = None
    milestones: list[SeedMilestone] | None = None
    pulls: list[SeedPull] | None = None
    commits: list[SeedCommit] | None = None
    issues: list[SeedIssue] | None = None


class GitHubSeed(_Entry):
    """The seed format of the module docstring; top-level ``x-...`` keys are ignored."""

    enterprise_server: bool = False
    users: list[SeedUser] | None = None
    repos: list[SeedRepo] | None = None

    @model_validator(mode="before")
    @classmethod
    def _ignore_x_keys(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            return {k: v for k, v in data.items() if not str(k).startswith("x-")}
        return data


def resolve_time(value: Any, now: datetime, where: str) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if not isinstance(value, str):
        raise SeedError(f"expected a date, got {value!r}", where)
    text = value.strip()
    if text == "now":
        return now
    relative = _RELATIVE.match(text)
    if relative:
        sign, amount, unit = relative.groups()
        delta = timedelta(**{_UNITS[unit]: int(amount)})
        return now + delta if sign == "+" else now - delta
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as error:
        raise SeedError(f"{value!r} is not 'now', '-40d', '+3h' or an ISO date", where) from error
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def expand_dates(text: str | None, now: datetime, where: str) -> str | None:
    if text is None:
        return None
    return _DATE_TOKEN.sub(lambda m: resolve_time(m.group(1), now, where).date().isoformat(), text)


def read_seed(source: str | Path | Mapping[str, Any]) -> Document:
    """The seed as a document: read by the safe loader (YAML, or JSON for ``.json``)."""
    return read_document(source)


def with_web_base(value: Any, base: Callable[[], str]) -> Any:
    """Replace ``{{web}}`` in every string by the emulator's own address.

    Links in a seed (evidence pull requests, postmortems) must be on the emulator's host for a
    connector to follow them, as real links are on github.com or the GHES host; the port is
    only known once the emulator listens.
    """
    if isinstance(value, str):
        if "{{web}}" not in value:
            return value
        try:
            return value.replace("{{web}}", base())
        except RuntimeError as error:
            raise SeedError(
                "{{web}} needs a started emulator: start() before load_seed()"
            ) from error
    if isinstance(value, Mapping):
        return {k: with_web_base(v, base) for k, v in value.items()}
    if isinstance(value, list):
        return [with_web_base(v, base) for v in value]
    return value


def load_seed(emulator: GitHubEmulator, source: str | Path | Mapping[str, Any]) -> None:
    """Seed ``emulator``; ``SeedError`` (file, line, key) for any problem, nothing half-told."""
    document = read_seed(source)
    check_seed(GitHubSeed, document, "a mapping with 'repos' and 'users'")
    data = with_web_base(document.data, lambda: emulator.base_url)
    now = emulator.now()
    with seeding(document):
        if "enterprise_server" in data:
            emulator.enterprise_server = bool(data["enterprise_server"])
        deleted: list[str] = []
        for i, user in enumerate(data.get("users") or []):
            login = str(user["login"])
            if user.get("deleted"):
                deleted.append(login)
                continue
            emulator.add_user(login, name=user.get("name"), email=user.get("email"))
            if user.get("suspended") is not None:
                at = resolve_time(user["suspended"], now, f"users[{i}].suspended")
                with refused_at(f"users[{i}].suspended", ApiError):
                    emulator.suspend_user(login, at)
        for login in deleted:
            emulator.delete_user(login)
        for r, repo in enumerate(data.get("repos") or []):
            with refused_at(f"repos[{r}]", ApiError):
                _load_repo(emulator, repo, now, f"repos[{r}]")


def _load_repo(emulator: GitHubEmulator, repo: Any, now: datetime, where: str) -> None:
    name = str(repo["name"])
    emulator.add_repo(name, description=repo.get("description"))
    for login, permission in (repo.get("permissions") or {}).items():
        emulator.set_permission(name, str(login), str(permission))
    for label in repo.get("labels") or []:
        emulator.add_label(
            name,
            str(label["name"]),
            color=str(label.get("color", "ededed")),
            description=label.get("description"),
        )
    milestones: dict[str, int] = {}
    for m, milestone in enumerate(repo.get("milestones") or []):
        title = str(milestone["title"])
        due = milestone.get("due_on")
        milestones[title] = emulator.add_milestone(
            name,
            title=title,
            due_on=resolve_time(due, now, f"{where}.milestones[{m}].due_on")
            if due is not None
            else None,
            description=milestone.get("description"),
            state=str(milestone.get("state", "open")),
        )
    issues = list(repo.get("issues") or [])
    pulls = list(repo.get("pulls") or [])
    taken = {int(item["number"]) for item in issues + pulls if item.get("number") is not None}
    numbers: list[int] = []
    candidate = 1
    for item in issues + pulls:
        if item.get("number") is not None:
            numbers.append(int(item["number"]))
            continue
        while candidate in taken:
            candidate += 1
        taken.add(candidate)
        numbers.append(candidate)
    for c, commit in enumerate(repo.get("commits") or []):
        at = f"{where}.commits[{c}]"
        created = resolve_time(commit.get("created", "now"), now, f"{at}.created")
        with refused_at(f"{at}.sha", ApiError):
            emulator.add_commit(
                name,
                str(commit["sha"]) if commit.get("sha") is not None else None,
                message=str(commit.get("message", "A commit")),
                user=commit.get("user"),
                committed_at=created,
            )
    for p, (pull, number) in enumerate(zip(pulls, numbers[len(issues) :], strict=True)):
        at = f"{where}.pulls[{p}]"
        created = resolve_time(pull.get("created", "now"), now, f"{at}.created")
        merged_at = pull.get("merged_at")
        emulator.add_pull(
            name,
            number=number,
            merged=bool(pull.get("merged", True)),
            title=str(pull.get("title", f"Pull request {number}")),
            body=expand_dates(pull.get("body"), now, f"{at}.body"),
            user=pull.get("user"),
            created_at=created,
            merged_at=resolve_time(merged_at, now, f"{at}.merged_at") if merged_at else None,
        )
    for i, (issue, number) in enumerate(zip(issues, numbers[: len(issues)], strict=True)):
        with refused_at(f"{where}.issues[{i}]", ApiError):
            _load_issue(
                emulator,
                name,
                issue=issue,
                number=number,
                milestones=milestones,
                now=now,
                where=f"{where}.issues[{i}]",
            )


def _load_issue(
    emulator: GitHubEmulator,
    repo: str,
    *,
    issue: Mapping[str, Any],
    number: int,
    milestones: dict[str, int],
    now: datetime,
    where: str,
) -> None:
    milestone = issue.get("milestone")
    milestone_number: int | None = None
    if milestone is not None:
        if str(milestone) in milestones:
            milestone_number = milestones[str(milestone)]
        elif isinstance(milestone, int):
            milestone_number = milestone
        else:
            raise SeedError(f"no milestone titled {milestone!r} in {repo}", f"{where}.milestone")
    created = resolve_time(issue.get("created", "now"), now, f"{where}.created")
    closed = issue.get("closed")
    emulator.add_issue(
        repo,
        number=number,
        title=str(issue["title"]),
        body=expand_dates(issue.get("body"), now, f"{where}.body"),
        labels=[str(label) for label in issue.get("labels") or []],
        assignees=[str(login) for login in issue.get("assignees") or []],
        state=str(issue.get("state", "open")),
        state_reason=issue.get("state_reason"),
        milestone=milestone_number,
        created_at=created,
        closed_at=resolve_time(closed, now, f"{where}.closed") if closed else None,
        user=issue.get("user"),
    )
    for c, comment in enumerate(issue.get("comments") or []):
        emulator.add_comment(
            repo,
            number,
            str(expand_dates(str(comment["body"]), now, f"{where}.comments[{c}].body")),
            user=str(comment.get("user", emulator.login)),
            created_at=resolve_time(
                comment.get("created", "now"), now, f"{where}.comments[{c}].created"
            ),
        )
    if issue.get("updated") is not None:
        emulator.set_updated_at(
            repo, number, resolve_time(issue["updated"], now, f"{where}.updated")
        )
