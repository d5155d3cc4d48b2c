"""A stateful GitHub REST emulator on 127.0.0.1 for connector tests, benchmarks and the demo.

Why this module exists: pmsync's GitHub connector must be proved with the real PyGithub client
against something that behaves like GitHub where it matters (pagination, ETags and free 304s,
primary and secondary rate limits, error bodies, ``updated_at`` bumps, dropped responses), with
no token and no network. This is the public face; the pieces live next to it:
``github_model`` (data and error bodies), ``github_state`` (write rules), ``github_render``
(JSON shapes), ``github_api`` (operations), ``github_server`` (HTTP, limits, faults, counters),
``github_seed`` (seed files, format documented there).

Usage::

    with GitHubEmulator(token="t0ken", clock=clock) as emu:
        emu.add_issue("acme/api", title="Add a breaker", labels=["P0"])
        gh = Github(base_url=emu.base_url, auth=Auth.Token("t0ken"), retry=None,
                    seconds_between_requests=0, seconds_between_writes=0)

Notes on fidelity:

* List answers link further pages as GitHub does today: ``{base}/repositories/{id}/issues?...``
  with rels in the order prev, next, last, first. Those follow-up pages are counted under the
  template ``/repositories/{repository_id}/issues``.
* ``counters`` keys are ``(method, path_template, status)``; status 0 means the connection was
  closed without an answer (injected timeout or drop after commit). ``request_log()`` keeps
  each request in arrival order with the token it presented (``add_token`` accepts more
  tokens, so several writers can be told apart) and the emulator time it was handled.
* The token belongs to ``login`` (default ``pmsync-bot``), admin on every repository unless
  :meth:`set_permission` says otherwise.
* ``html_url`` values live on the emulator base too (``{base}/acme/api/issues/3``).
* Webhooks (:meth:`GitHubEmulator.add_webhook`): every change, through the API or the methods
  here, is delivered to the hooks that want it, signed as GitHub signs it
  (``github_hooks``).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from connectors.emulators.github_api import GitHubApi
from connectors.emulators.github_hooks import Delivery, GitHubHooks
from connectors.emulators.github_model import (
    PERMISSIONS,
    App,
    HookEvent,
    PullInfo,
    Repo,
    utc_seconds,
)
from connectors.emulators.github_seed import load_seed
from connectors.emulators.github_server import Faults, LoggedRequest, Refusal, Server, Transport
from connectors.emulators.github_state import GitHubState

__all__ = ["Delivery", "Faults", "GitHubEmulator", "LoggedRequest", "Refusal"]

JSONDict = dict[str, Any]


def _real_clock() -> datetime:
    return datetime.now(UTC)


class GitHubEmulator:
    """GitHub REST emulator; see the module docstring for the behaviours it keeps."""

    def __init__(
        self,
        token: str = "t0ken",  # noqa: S107 - a fake credential for a local emulator
        clock: Callable[[], datetime] | None = None,
        login: str = "pmsync-bot",
        *,
        enterprise_server: bool = False,
    ) -> None:
        self.token = token
        self.login = login
        self._state = GitHubState(clock or _real_clock, login, enterprise_server=enterprise_server)
        self._api = GitHubApi(self._state)
        self._transport = Transport(self._state, token, self._api.routes())
        self._api.quota = self._quota
        self._hooks = GitHubHooks(self._state, lambda: self._api.render)
        self._server: Server | None = None
        self._base_url: str | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self, port: int = 0) -> None:
        if self._server is not None:
            return
        server = Server(self._transport)
        self._base_url = server.start(port)
        self._api.base = self._base_url
        self._server = server

    def stop(self) -> None:
        self._hooks.close()
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> GitHubEmulator:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._base_url is None:
            raise RuntimeError("the emulator has no URL until start() is called")
        return self._base_url

    def now(self) -> datetime:
        return self._state.now()

    # ------------------------------------------------------------------ seeding
    def add_repo(self, full_name: str, description: str | None = None) -> None:
        with self._state.lock:
            self._state.add_repo(full_name, description)

    @property
    def enterprise_server(self) -> bool:
        """Whether this emulator plays GitHub Enterprise Server (users carry suspended_at)."""
        return self._state.enterprise_server

    @enterprise_server.setter
    def enterprise_server(self, value: bool) -> None:
        with self._state.lock:
            self._state.enterprise_server = value

    def add_user(self, login: str, name: str | None = None, email: str | None = None) -> None:
        with self._state.lock:
            user = self._state.ensure_user(login, name=name)
            if email is not None:
                user.email = email

    def suspend_user(self, login: str, at: datetime | None = None) -> None:
        """Suspend an account (at ``at``, default now), as an Enterprise Server site admin does.

        Only on Enterprise Server: github.com documents no suspended accounts on the users API.
        """
        if not self._state.enterprise_server:
            raise ValueError(
                "suspended accounts are an Enterprise Server feature; start the emulator with "
                "enterprise_server=True (seed: enterprise_server: true)"
            )
        with self._state.lock:
            self._state.ensure_user(login).suspended_at = utc_seconds(at or self._state.now())

    def unsuspend_user(self, login: str) -> None:
        with self._state.lock:
            self._state.ensure_user(login).suspended_at = None

    def delete_user(self, login: str) -> None:
        """Delete an account: ``GET /users/{login}`` answers 404 from now on, and the account
        is no longer assigned anywhere (GitHub shows what it wrote as @ghost)."""
        with self._state.lock:
            self._state.users.pop(login.lower(), None)
            self._state.deleted_logins.add(login.lower())
            for repo in self._state.repos.values():
                for issue in repo.issues.values():
                    issue.assignees = [a for a in issue.assignees if a.lower() != login.lower()]

    def add_token(self, token: str, login: str | None = None) -> None:
        """Accept another token, acting as ``login`` (default: the bot, like the first one).

        Give each writer its own token and ``request_log`` tells their requests apart.
        """
        with self._state.lock:
            self._state.tokens[token] = login or self.login
            self._state.ensure_user(login or self.login)

    def add_app(self, app_id: int | str, installation_id: int, public_key: str | bytes) -> None:
        """Register a GitHub App (PEM public key) and an installation it may mint tokens for.

        Installation tokens act as this emulator's ``login`` and expire an hour after issue on
        the emulator clock.
        """
        key = public_key.encode() if isinstance(public_key, str) else public_key
        with self._state.lock:
            app = self._state.apps.setdefault(str(app_id), App(str(app_id), key))
            app.public_key = key
            app.installations.add(installation_id)

    def set_permission(self, repo: str, login: str, permission: str) -> None:
        """Set ``login``'s role on ``repo`` (none/read/triage/write/maintain/admin)."""
        if permission not in PERMISSIONS:
            raise ValueError(f"permission must be one of {PERMISSIONS}, got {permission!r}")
        with self._state.lock:
            self._state.ensure_user(login)
            self._repo(repo).permissions[login.lower()] = permission

    def add_label(
        self, repo: str, name: str, color: str = "ededed", description: str | None = None
    ) -> None:
        with self._state.lock:
            label = self._state.add_label(self._repo(repo), name, color, description)
            label.color, label.description = color.lstrip("#").lower(), description

    def add_milestone(
        self,
        repo: str,
        title: str,
        due_on: datetime | None = None,
        description: str | None = None,
        state: str = "open",
    ) -> int:
        with self._state.lock:
            return self._state.add_milestone(
                self._repo(repo), title, due_on, description, state
            ).number

    def add_issue(
        self,
        repo: str,
        title: str,
        *,
        body: str | None = None,
        labels: Iterable[str] = (),
        assignees: Iterable[str] = (),
        state: str = "open",
        state_reason: str | None = None,
        milestone: int | None = None,
        created_at: datetime | None = None,
        closed_at: datetime | None = None,
        user: str | None = None,
        number: int | None = None,
        updated_at: datetime | None = None,
    ) -> int:
        if state not in ("open", "closed"):
            raise ValueError(f"state must be 'open' or 'closed', got {state!r}")
        with self._state.lock:
            target = self._repo(repo)
            issue = self._state.create_issue(
                target,
                title=title,
                body=body,
                labels=labels,
                assignees=assignees,
                milestone=milestone,
                user=user,
                state=state,
                state_reason=state_reason,
                created_at=created_at,
                closed_at=closed_at,
                number=number,
            )
            if updated_at is not None:
                issue.updated_at = utc_seconds(updated_at)
            return issue.number

    def add_commit(
        self,
        repo: str,
        sha: str | None = None,
        *,
        message: str = "A commit",
        user: str | None = None,
        committed_at: datetime | None = None,
    ) -> str:
        """A commit in ``repo``'s history (the sha is made up when not given); returns it."""
        with self._state.lock:
            target = self._repo(repo)
            full = sha or hashlib.sha1(f"{repo}/{len(target.commits)}".encode()).hexdigest()  # noqa: S324
            commit = self._state.add_commit(
                target, full, message=message, author=user or self.login, committed_at=committed_at
            )
            return commit.sha

    def add_pull(
        self,
        repo: str,
        number: int | None = None,
        *,
        merged: bool = True,
        title: str = "A pull request",
        body: str | None = None,
        user: str | None = None,
        created_at: datetime | None = None,
        merged_at: datetime | None = None,
        state: str | None = None,
        head: str = "fix",
        base: str = "main",
    ) -> int:
        with self._state.lock:
            target = self._repo(repo)
            created = utc_seconds(created_at) if created_at else self._state.now()
            merged_time = (
                (utc_seconds(merged_at) if merged_at else max(created, self._state.now()))
                if merged
                else None
            )
            author = user or self.login
            info = PullInfo(
                merged, merged_time, author if merged else None, f"{head}-{number or 'x'}", base
            )
            issue = self._state.create_issue(
                target,
                title=title,
                body=body,
                user=author,
                state=state or ("closed" if merged else "open"),
                created_at=created,
                closed_at=merged_time,
                number=number,
                pull=info,
            )
            info.head_ref = f"{head}-{issue.number}"
            return issue.number

    def merge_pull(self, repo: str, number: int, user: str | None = None) -> None:
        """Merge an open pull request now (it closes, ``merged`` turns true; webhook:
        ``pull_request`` ``closed`` with ``merged: true``)."""
        with self._state.lock:
            target = self._repo(repo)
            pull = self._state.pull(target, number)
            assert pull.pull is not None
            now = self._state.now()
            pull.pull.merged, pull.pull.merged_at = True, now
            pull.pull.merged_by = user or self.login
            pull.state, pull.closed_at, pull.updated_at = "closed", now, now
            self._state.emit("pull_request", "closed", target, pull, user or self.login)

    # ------------------------------------------------------------------ webhooks
    def add_webhook(
        self,
        url: str,
        secret: str | None = None,
        *,
        events: Iterable[str] = ("*",),
        repos: Iterable[str] | None = None,
    ) -> int:
        """Deliver ``events`` (``*``: all) of ``repos`` (None: every repository, as an
        organisation hook) to ``url``, signed with ``secret``; a repository hook is pinged.
        Returns the hook id."""
        with self._state.lock:
            return self._hooks.add(url, secret, events, repos)

    @property
    def deliveries(self) -> list[Delivery]:
        """Every delivery made so far, oldest first, with the receiver's answer."""
        with self._state.lock:
            return list(self._hooks.deliveries)

    def wait_for_deliveries(self, timeout: float = 10.0) -> bool:
        """Whether every delivery made so far has been answered within ``timeout`` seconds."""
        return self._hooks.wait_sent(timeout)

    def redeliver(self, guid: str) -> Delivery:
        """Send a delivery again with the same GUID and body (GitHub's "Redeliver")."""
        with self._state.lock:
            return self._hooks.redeliver(guid)

    def on_change(self, observer: Callable[[HookEvent], None]) -> None:
        """Also tell ``observer`` about every change (under the emulator's lock: be quick)."""
        with self._state.lock:
            self._state.observers.append(observer)

    def edit_issue(self, repo: str, number: int, user: str, **changes: Any) -> None:
        """Change an issue as ``user`` would through ``PATCH .../issues/{n}`` (same rules,
        same webhook events): ``state``, ``state_reason``, ``title``, ``body``,
        ``assignees``, ``milestone``, ``labels``."""
        with self._state.lock:
            target = self._repo(repo)
            issue = self._state.issue(target, number)
            self._state.ensure_user(user)
            self._state.edit_issue(target, issue, changes, user)

    def close_issue(
        self, repo: str, number: int, user: str, state_reason: str = "completed"
    ) -> None:
        """Close an issue as ``user`` (webhook: ``issues`` ``closed``)."""
        self.edit_issue(repo, number, user, state="closed", state_reason=state_reason)

    def reopen_issue(self, repo: str, number: int, user: str) -> None:
        """Reopen an issue as ``user`` (webhook: ``issues`` ``reopened``)."""
        self.edit_issue(repo, number, user, state="open")

    def add_comment(
        self,
        repo: str,
        number: int,
        body: str,
        user: str = "pmsync-bot",
        created_at: datetime | None = None,
    ) -> int:
        with self._state.lock:
            target = self._repo(repo)
            issue = self._state.issue(target, number)
            return self._state.add_comment(target, issue, body, user, created_at).id

    def set_updated_at(self, repo: str, number: int, when: datetime) -> None:
        with self._state.lock:
            self._state.issue(self._repo(repo), number).updated_at = utc_seconds(when)

    def delete_issue(self, repo: str, number: int) -> None:
        """Mark an issue deleted: GitHub then answers 410 Gone for it."""
        with self._state.lock:
            self._state.issue(self._repo(repo), number).gone = True

    def load_seed(self, source: str | Path | Mapping[str, Any]) -> None:
        """Load a YAML/JSON seed file or an already parsed mapping (format: ``github_seed``)."""
        with self._state.lock:
            load_seed(self, source)

    # ------------------------------------------------------------------ inspection
    def issue(self, repo: str, number: int) -> JSONDict:
        with self._state.lock:
            target = self._repo(repo)
            return self._api.render.issue(target, self._state.issue(target, number))

    def comments(self, repo: str, number: int) -> list[JSONDict]:
        with self._state.lock:
            target = self._repo(repo)
            issue = self._state.issue(target, number)
            return [self._api.render.comment(target, target.comments[c]) for c in issue.comment_ids]

    def labels_of(self, repo: str, number: int) -> list[str]:
        with self._state.lock:
            target = self._repo(repo)
            issue = self._state.issue(target, number)
            return [target.labels[key].name for key in issue.labels]

    def repo_labels(self, repo: str) -> list[JSONDict]:
        with self._state.lock:
            target = self._repo(repo)
            return [self._api.render.label(target, label) for label in target.labels.values()]

    # ------------------------------------------------------------------ faults, limits, counters
    @property
    def faults(self) -> Faults:
        return self._transport.faults

    @faults.setter
    def faults(self, value: Faults) -> None:
        with self._state.lock:
            self._transport.faults = value

    @property
    def counters(self) -> Counter[tuple[str, str, int]]:
        with self._state.lock:
            return Counter(self._transport.counters)

    def reset_counters(self) -> None:
        with self._state.lock:
            self._transport.counters.clear()

    def request_log(self, since_seq: int = 0) -> list[LoggedRequest]:
        """Every request handled after ``since_seq``, in arrival order (see ``LoggedRequest``)."""
        with self._state.lock:
            return list(self._transport.log[since_seq:])

    def request_count(self, method: str | None = None, status: int | None = None) -> int:
        """Requests seen, optionally only one method and/or one status."""
        return sum(
            n
            for (m, _, s), n in self.counters.items()
            if (method is None or m == method) and (status is None or s == status)
        )

    @property
    def rate_limit_remaining(self) -> int:
        with self._state.lock:
            self._transport.limits.refresh(self._state.clock())
            return self._transport.limits.remaining

    def set_rate_limit(
        self, limit: int = 5000, remaining: int | None = None, reset_at: datetime | None = None
    ) -> None:
        with self._state.lock:
            self._transport.limits.set(limit, remaining, reset_at)

    def _quota(self) -> tuple[int, int, int]:
        limits = self._transport.limits
        return limits.limit, limits.remaining, int(limits.reset_at.timestamp())

    def _repo(self, full_name: str) -> Repo:
        repo = self._state.repos.get(full_name.lower())
        if repo is None:
            raise ValueError(f"no repository {full_name!r}: call add_repo({full_name!r}) first")
        return repo
