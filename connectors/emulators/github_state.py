"""GitHub's write rules over the emulator's in-memory data (see ``github_model``).

Why this module exists: the emulator must behave like GitHub where the connector depends on it
(label names are case-insensitive, pulls share the issue number space, every write bumps the
issue's ``updated_at``, validation failures carry GitHub's ``errors`` entries). Keeping those rules
here, free of HTTP, lets the server module stay a thin transport and lets the facade seed data
without going through sockets. All methods expect the caller to hold :attr:`GitHubState.lock`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from connectors.emulators.github_model import (
    DOCS,
    JSON,
    PERMISSIONS,
    ApiError,
    App,
    Comment,
    Commit,
    HookEvent,
    Issue,
    Label,
    Milestone,
    PullInfo,
    Repo,
    User,
    not_found,
    utc_seconds,
    validation_failed,
)


class GitHubState:
    """All emulated objects, with GitHub's write rules; guard every call with ``lock``."""

    def __init__(
        self, clock: Callable[[], datetime], bot_login: str, *, enterprise_server: bool = False
    ) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.bot_login = bot_login
        # Plays GitHub Enterprise Server where it differs from github.com (user suspension).
        self.enterprise_server = enterprise_server
        self.users: dict[str, User] = {}
        self.deleted_logins: set[str] = set()  # lower-case; GET /users/{login} answers 404
        self.repos: dict[str, Repo] = {}  # key: lower-case "owner/name"
        self.tokens: dict[str, str] = {}  # token -> login it acts as
        self.apps: dict[str, App] = {}  # app id (as text) -> GitHub App
        # Every issue by its id: sub-issues are named by id, in any repository of the owner.
        self.issues_by_id: dict[int, tuple[Repo, Issue]] = {}
        # Called with every change a webhook would report, under ``lock`` (see github_hooks).
        self.observers: list[Callable[[HookEvent], None]] = []
        self._ids = 1000
        self.ensure_user(bot_login, name="pmsync bot")

    # ------------------------------------------------------------------ basics
    def emit(
        self, event: str, action: str, repo: Repo, issue: Issue | None, sender: str, **extra: Any
    ) -> None:
        """Tell the observers (the webhook dispatcher) about a change, as it happens."""
        if not self.observers:
            return
        change = HookEvent(event, action, repo, issue, sender, dict(extra))
        for observer in list(self.observers):
            observer(change)

    def now(self) -> datetime:
        return utc_seconds(self.clock())

    def new_id(self) -> int:
        self._ids += 1
        return self._ids

    def ensure_user(self, login: str, name: str | None = None, kind: str = "User") -> User:
        user = self.users.get(login.lower())
        if user is None and login.lower() in self.deleted_logins:
            raise ValueError(
                f"{login} is a deleted account: it cannot author, comment or be assigned "
                "(GitHub shows a deleted account's content as @ghost)"
            )
        if user is None:
            user = User(login=login, id=self.new_id(), name=name, created_at=self.now(), type=kind)
            self.users[login.lower()] = user
        elif name is not None:
            user.name = name
        return user

    def user(self, login: str) -> User:
        user = self.users.get(login.lower())
        if user is None:
            raise not_found("/users/users#get-a-user")
        return user

    def add_repo(self, full_name: str, description: str | None = None) -> Repo:
        owner, _, name = full_name.partition("/")
        if not owner or not name or "/" in name:
            raise ValueError(f"repository must be 'owner/name', got {full_name!r}")
        existing = self.repos.get(full_name.lower())
        if existing is not None:
            return existing
        owner_user = self.users.get(owner.lower())
        if owner_user is None:
            self.ensure_user(owner, kind="Organization")
        now = self.now()
        repo = Repo(self.new_id(), owner, name, now, now, description)
        self.repos[full_name.lower()] = repo
        return repo

    def repo(self, owner: str, name: str, login: str | None = None) -> Repo:
        repo = self.repos.get(f"{owner}/{name}".lower())
        if repo is None or (login is not None and self.permission(repo, login) == "none"):
            raise not_found("/repos/repos#get-a-repository")
        return repo

    def repo_by_id(self, repo_id: int) -> Repo:
        for repo in self.repos.values():
            if repo.id == repo_id:
                return repo
        raise not_found()

    def permission(self, repo: Repo, login: str) -> str:
        explicit = repo.permissions.get(login.lower())
        if explicit is not None:
            return explicit
        if login.lower() == self.bot_login.lower() or login.lower() == repo.owner.lower():
            return "admin"
        return "read"

    def require_write(self, repo: Repo, login: str) -> None:
        if PERMISSIONS.index(self.permission(repo, login)) < PERMISSIONS.index("triage"):
            raise ApiError(
                403,
                {
                    "message": "Resource not accessible by personal access token",
                    "documentation_url": f"{DOCS}/issues/issues#update-an-issue",
                    "status": "403",
                },
            )

    # ------------------------------------------------------------------ labels
    def add_label(
        self, repo: Repo, name: str, color: str = "ededed", description: str | None = None
    ) -> Label:
        key = name.lower()
        label = repo.labels.get(key)
        if label is None:
            label = Label(self.new_id(), name, color.lower(), description)
            repo.labels[key] = label
        return label

    def create_label(self, repo: Repo, name: Any, color: Any, description: Any) -> Label:
        doc = "/issues/labels#create-a-label"
        if not isinstance(name, str) or not name.strip():
            raise validation_failed(
                [{"resource": "Label", "code": "missing_field", "field": "name"}], doc
            )
        if name.lower() in repo.labels:
            raise validation_failed(
                [{"resource": "Label", "code": "already_exists", "field": "name"}], doc
            )
        color_value = "ededed" if color is None else color
        if not valid_color(color_value):
            raise validation_failed(
                [{"resource": "Label", "code": "invalid", "field": "color"}], doc
            )
        if description is not None and not isinstance(description, str):
            raise validation_failed(
                [{"resource": "Label", "code": "invalid", "field": "description"}], doc
            )
        return self.add_label(repo, name, str(color_value).lstrip("#"), description)

    def label(self, repo: Repo, name: str) -> Label:
        label = repo.labels.get(name.lower())
        if label is None:
            raise not_found("/issues/labels#get-a-label")
        return label

    def edit_label(self, repo: Repo, name: str, changes: JSON) -> Label:
        doc = "/issues/labels#update-a-label"
        label = self.label(repo, name)
        new_name = changes.get("new_name")
        if new_name is not None:
            if not isinstance(new_name, str) or not new_name.strip():
                raise validation_failed(
                    [{"resource": "Label", "code": "invalid", "field": "name"}], doc
                )
            clash = repo.labels.get(new_name.lower())
            if clash is not None and clash is not label:
                raise validation_failed(
                    [{"resource": "Label", "code": "already_exists", "field": "name"}], doc
                )
        if "color" in changes and not valid_color(changes["color"]):
            raise validation_failed(
                [{"resource": "Label", "code": "invalid", "field": "color"}], doc
            )
        if "color" in changes:
            label.color = str(changes["color"]).lstrip("#")
        if "description" in changes:
            label.description = changes["description"]
        if new_name is not None and new_name != label.name:
            old_key, new_key = label.name.lower(), new_name.lower()
            del repo.labels[old_key]
            label.name = new_name
            repo.labels[new_key] = label
            for issue in repo.issues.values():
                issue.labels = [new_key if key == old_key else key for key in issue.labels]
        return label

    def delete_label(self, repo: Repo, name: str) -> None:
        label = self.label(repo, name)
        key = label.name.lower()
        del repo.labels[key]
        for issue in repo.issues.values():
            if key in issue.labels:
                issue.labels.remove(key)

    # ------------------------------------------------------------------ milestones
    def add_milestone(
        self,
        repo: Repo,
        title: str,
        due_on: datetime | None = None,
        description: str | None = None,
        state: str = "open",
    ) -> Milestone:
        now = self.now()
        number = max(repo.milestones, default=0) + 1
        milestone = Milestone(
            self.new_id(),
            number,
            title,
            description,
            state,
            utc_seconds(due_on) if due_on else None,
            self.bot_login,
            now,
            now,
            now if state == "closed" else None,
        )
        repo.milestones[number] = milestone
        return milestone

    def milestone(self, repo: Repo, number: int) -> Milestone:
        milestone = repo.milestones.get(number)
        if milestone is None:
            raise not_found("/issues/milestones#get-a-milestone")
        return milestone

    # ------------------------------------------------------------------ issues
    def issue(self, repo: Repo, number: int, allow_pull: bool = True) -> Issue:
        issue = repo.issues.get(number)
        if issue is None or (issue.pull is not None and not allow_pull):
            raise not_found("/issues/issues#get-an-issue")
        if issue.gone:
            raise ApiError(
                410,
                {
                    "message": "This issue was deleted",
                    "documentation_url": f"{DOCS}/issues/issues#get-an-issue",
                    "status": "410",
                },
            )
        return issue

    def pull(self, repo: Repo, number: int) -> Issue:
        issue = repo.issues.get(number)
        if issue is None or issue.pull is None:
            raise not_found("/pulls/pulls#get-a-pull-request")
        return issue

    def add_commit(
        self,
        repo: Repo,
        sha: str,
        *,
        message: str,
        author: str,
        committed_at: datetime | None = None,
    ) -> Commit:
        if len(sha) != 40 or any(c not in "0123456789abcdef" for c in sha.lower()):
            raise ValueError(f"a commit sha is 40 hexadecimal digits, got {sha!r}")
        parents = (
            [max(repo.commits.values(), key=lambda c: c.committed_at).sha] if repo.commits else []
        )
        commit = Commit(
            sha.lower(),
            message,
            self.ensure_user(author).login,
            utc_seconds(committed_at) if committed_at else self.now(),
            parents,
        )
        repo.commits[commit.sha] = commit
        return commit

    def commit(self, repo: Repo, ref: str) -> Commit:
        """The commit a full or abbreviated SHA names.

        GitHub answers a SHA the repository does not have with 422 "No commit found for SHA"
        (not 404, which is for a repository the token cannot see); an abbreviation that names
        no single commit is read the same way (the less convenient reading: the docs are
        silent). Branch and tag names are not emulated.
        """
        wanted = ref.lower()
        found = [
            c for sha, c in repo.commits.items() if len(wanted) >= 4 and sha.startswith(wanted)
        ]
        if len(found) != 1:
            raise ApiError(
                422,
                {
                    "message": f"No commit found for SHA: {ref}",
                    "documentation_url": f"{DOCS}/commits/commits#get-a-commit",
                    "status": "422",
                },
            )
        return found[0]

    def create_issue(
        self,
        repo: Repo,
        *,
        title: str,
        body: str | None = None,
        labels: Iterable[str] = (),
        assignees: Iterable[str] = (),
        milestone: int | None = None,
        user: str | None = None,
        state: str = "open",
        state_reason: str | None = None,
        created_at: datetime | None = None,
        closed_at: datetime | None = None,
        number: int | None = None,
        pull: PullInfo | None = None,
    ) -> Issue:
        created = utc_seconds(created_at) if created_at else self.now()
        author = self.ensure_user(user or self.bot_login).login
        if number is None:
            number = repo.next_number()
        elif number in repo.issues:
            raise ValueError(f"{repo.full_name}#{number} already exists")
        if milestone is not None:
            self.milestone(repo, milestone)
        closed: datetime | None = None
        if state == "closed":
            closed = utc_seconds(closed_at) if closed_at else created
            state_reason = state_reason or ("completed" if pull is None else None)
        issue = Issue(
            id=self.new_id(),
            number=number,
            title=title,
            body=body,
            user=author,
            labels=[],
            assignees=[self.ensure_user(login).login for login in assignees],
            state=state,
            state_reason=state_reason,
            milestone=milestone,
            created_at=created,
            updated_at=max(created, closed) if closed else created,
            closed_at=closed,
            closed_by=author if closed else None,
            pull=pull,
        )
        for name in labels:
            key = self.add_label(repo, name).name.lower()
            if key not in issue.labels:
                issue.labels.append(key)
        repo.issues[number] = issue
        self.issues_by_id[issue.id] = (repo, issue)
        if pull is None:
            self.emit("issues", "opened", repo, issue, author)
        return issue

    def create_issue_from_api(self, repo: Repo, payload: Any, login: str) -> Issue:
        doc = "/issues/issues#create-an-issue"
        if not isinstance(payload, dict):
            raise invalid_body(doc)
        title = payload.get("title")
        if isinstance(title, int) and not isinstance(title, bool):
            title = str(title)
        if not isinstance(title, str) or not title:
            raise validation_failed(
                [{"resource": "Issue", "code": "missing_field", "field": "title"}], doc
            )
        body = payload.get("body")
        if body is not None and not isinstance(body, str):
            raise validation_failed(
                [{"resource": "Issue", "code": "invalid", "field": "body"}], doc
            )
        assignees = self._assignees_from(repo, payload, doc) or []
        milestone = self._milestone_from(repo, payload.get("milestone"), doc)
        labels = label_names(payload.get("labels", []), doc)
        return self.create_issue(
            repo,
            title=title,
            body=body,
            labels=labels,
            assignees=assignees,
            milestone=milestone,
            user=login,
        )

    def edit_issue(self, repo: Repo, issue: Issue, payload: Any, login: str) -> None:
        doc = "/issues/issues#update-an-issue"
        if not isinstance(payload, dict):
            raise invalid_body(doc)
        errors: list[JSON] = []
        if "title" in payload and (not isinstance(payload["title"], str) or not payload["title"]):
            errors.append({"resource": "Issue", "code": "missing_field", "field": "title"})
        if (
            "body" in payload
            and payload["body"] is not None
            and not isinstance(payload["body"], str)
        ):
            errors.append({"resource": "Issue", "code": "invalid", "field": "body"})
        state = payload.get("state")
        if state is not None and state not in ("open", "closed"):
            errors.append(
                {"resource": "Issue", "code": "invalid", "field": "state", "value": state}
            )
        reason = payload.get("state_reason")
        if reason is not None and reason not in (
            "completed",
            "not_planned",
            "reopened",
            "duplicate",
        ):
            errors.append(
                {"resource": "Issue", "code": "invalid", "field": "state_reason", "value": reason}
            )
        if errors:
            raise validation_failed(errors, doc)
        assignees = self._assignees_from(repo, payload, doc)
        milestone = (
            self._milestone_from(repo, payload["milestone"], doc)
            if "milestone" in payload
            else issue.milestone
        )
        labels = label_names(payload["labels"], doc) if "labels" in payload else None
        now = self.now()
        before = (issue.title, issue.body, list(issue.assignees), issue.milestone, issue.state)
        if "title" in payload:
            issue.title = payload["title"]
        if "body" in payload:
            issue.body = payload["body"]
        if assignees is not None:
            issue.assignees = assignees
        issue.milestone = milestone
        if labels is not None:
            self.set_labels(repo, issue, labels, touch=False, sender=login)
        if state == "closed" and issue.state != "closed":
            issue.state, issue.closed_at, issue.closed_by = "closed", now, login
            issue.state_reason = (
                reason if reason in ("completed", "not_planned", "duplicate") else "completed"
            )
        elif state == "open" and issue.state != "open":
            issue.state, issue.closed_at, issue.closed_by = "open", None, None
            issue.state_reason = "reopened"
        elif reason is not None and issue.state == "closed" and reason != "reopened":
            issue.state_reason = reason
        issue.updated_at = now
        self._emit_edit(repo, issue, login, before)

    def _emit_edit(
        self,
        repo: Repo,
        issue: Issue,
        login: str,
        before: tuple[str, str | None, list[str], int | None, str],
    ) -> None:
        """The events one PATCH of an issue makes GitHub send, one per kind of change."""
        title, body, assignees, milestone, state = before
        changes: JSON = {}
        if issue.title != title:
            changes["title"] = {"from": title}
        if issue.body != body:
            changes["body"] = {"from": body}
        if changes:
            self.emit("issues", "edited", repo, issue, login, changes=changes)
        for added in (a for a in issue.assignees if a not in assignees):
            self.emit("issues", "assigned", repo, issue, login, assignee=added)
        for removed in (a for a in assignees if a not in issue.assignees):
            self.emit("issues", "unassigned", repo, issue, login, assignee=removed)
        if issue.milestone != milestone and issue.milestone is not None:
            self.emit("issues", "milestoned", repo, issue, login, milestone=issue.milestone)
        elif issue.milestone != milestone and milestone is not None:
            self.emit("issues", "demilestoned", repo, issue, login, milestone=milestone)
        if issue.state != state:
            action = "closed" if issue.state == "closed" else "reopened"
            self.emit("issues", action, repo, issue, login)

    def _assignees_from(self, repo: Repo, payload: JSON, doc: str) -> list[str] | None:
        logins: list[Any] | None = None
        if "assignees" in payload:
            raw = payload["assignees"]
            logins = [] if raw is None else raw
        elif "assignee" in payload:
            logins = [] if payload["assignee"] is None else [payload["assignee"]]
        if logins is None:
            return None
        result: list[str] = []
        for login in logins:
            user = self.users.get(login.lower()) if isinstance(login, str) else None
            if user is None or self.permission(repo, user.login) == "none":
                raise validation_failed(
                    [
                        {
                            "value": login,
                            "resource": "Issue",
                            "field": "assignees",
                            "code": "invalid",
                        }
                    ],
                    doc,
                )
            if user.login not in result:
                result.append(user.login)
        return result

    def _milestone_from(self, repo: Repo, raw: Any, doc: str) -> int | None:
        if raw is None:
            return None
        number = raw if isinstance(raw, int) and not isinstance(raw, bool) else None
        if isinstance(raw, str) and raw.isdigit():
            number = int(raw)
        if number is None or number not in repo.milestones:
            raise validation_failed(
                [{"value": raw, "resource": "Issue", "field": "milestone", "code": "invalid"}], doc
            )
        return number

    def add_labels(
        self, repo: Repo, issue: Issue, names: Sequence[str], sender: str | None = None
    ) -> None:
        before = list(issue.labels)
        for name in names:
            key = self.add_label(repo, name).name.lower()
            if key not in issue.labels:
                issue.labels.append(key)
        issue.updated_at = self.now()
        self._emit_labels(repo, issue, before, sender)

    def set_labels(
        self,
        repo: Repo,
        issue: Issue,
        names: Sequence[str],
        touch: bool = True,
        sender: str | None = None,
    ) -> None:
        before = list(issue.labels)
        issue.labels = []
        for name in names:
            key = self.add_label(repo, name).name.lower()
            if key not in issue.labels:
                issue.labels.append(key)
        if touch:
            issue.updated_at = self.now()
        self._emit_labels(repo, issue, before, sender)

    def _emit_labels(self, repo: Repo, issue: Issue, before: list[str], sender: str | None) -> None:
        """``labeled`` per label added and ``unlabeled`` per label removed, as GitHub sends."""
        who = sender or self.bot_login
        for key in issue.labels:
            if key not in before:
                self.emit("issues", "labeled", repo, issue, who, label=repo.labels[key])
        for key in before:
            if key not in issue.labels and key in repo.labels:
                self.emit("issues", "unlabeled", repo, issue, who, label=repo.labels[key])

    def remove_label(
        self, issue: Issue, name: str, repo: Repo | None = None, sender: str | None = None
    ) -> None:
        key = name.lower()
        if key not in issue.labels:
            raise ApiError(
                404,
                {
                    "message": "Label does not exist",
                    "documentation_url": f"{DOCS}/issues/labels#remove-a-label-from-an-issue",
                    "status": "404",
                },
            )
        issue.labels.remove(key)
        issue.updated_at = self.now()
        if repo is not None and key in repo.labels:
            who = sender or self.bot_login
            self.emit("issues", "unlabeled", repo, issue, who, label=repo.labels[key])

    # ------------------------------------------------------------------ comments
    def add_comment(
        self,
        repo: Repo,
        issue: Issue,
        body: str,
        user: str | None = None,
        created_at: datetime | None = None,
    ) -> Comment:
        created = utc_seconds(created_at) if created_at else self.now()
        author = self.ensure_user(user or self.bot_login).login
        comment = Comment(self.new_id(), issue.number, body, author, created, created)
        repo.comments[comment.id] = comment
        issue.comment_ids.append(comment.id)
        issue.updated_at = max(issue.updated_at, created)
        self.emit("issue_comment", "created", repo, issue, author, comment=comment)
        return comment

    def comment(self, repo: Repo, comment_id: int) -> Comment:
        comment = repo.comments.get(comment_id)
        if comment is None:
            raise not_found("/issues/comments#get-an-issue-comment")
        return comment

    def edit_comment(
        self, repo: Repo, comment: Comment, body: str, sender: str | None = None
    ) -> None:
        now = self.now()
        old = comment.body
        comment.body = body
        comment.updated_at = now
        issue = repo.issues.get(comment.issue_number)
        if issue is not None:
            issue.updated_at = now
            changes = {"body": {"from": old}}
            who = sender or comment.user
            self.emit("issue_comment", "edited", repo, issue, who, comment=comment, changes=changes)


def valid_color(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    hex_part = value.lstrip("#")
    return len(hex_part) == 6 and all(c in "0123456789abcdefABCDEF" for c in hex_part)


def invalid_body(doc: str) -> ApiError:
    return ApiError(
        400,
        {"message": "Problems parsing JSON", "documentation_url": f"{DOCS}{doc}", "status": "400"},
    )


def label_names(raw: Any, doc: str) -> list[str]:
    """Label names from a request body: an array of names or of ``{"name": ...}`` objects."""
    if not isinstance(raw, list):
        raise validation_failed([{"resource": "Label", "code": "invalid", "field": "labels"}], doc)
    names: list[str] = []
    for entry in raw:
        name = entry.get("name") if isinstance(entry, dict) else entry
        if not isinstance(name, str) or not name.strip():
            raise validation_failed(
                [{"resource": "Label", "code": "invalid", "field": "name", "value": entry}], doc
            )
        names.append(name)
    return names
