"""Webhook deliveries from the GitHub emulator, signed and shaped as GitHub sends them.

Why this module exists: pmsync's webhook receiver must be proved against deliveries that look
like GitHub's, not like what the receiver expects. What this follows (docs.github.com, "Webhook
events and payloads" and "Validating webhook deliveries"):

* every delivery is a ``POST`` of ``application/json`` with ``X-GitHub-Event`` (the event),
  ``X-GitHub-Delivery`` (a GUID, kept when a delivery is redelivered), ``X-GitHub-Hook-ID``,
  ``X-GitHub-Hook-Installation-Target-Type``/``-ID`` and ``User-Agent: GitHub-Hookshot/...``;
* with a secret, ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`` and the legacy
  ``X-Hub-Signature: sha1=<hex HMAC-SHA1>``; without one, neither header;
* the body: ``action``, the ``issue`` (or ``pull_request`` and ``number``), ``repository``,
  ``sender`` and, by event, ``label``, ``assignee``, ``milestone``, ``changes``, ``comment``;
  an organisation's repository adds ``organization``. The issue is the REST issue without
  ``closed_by`` and ``issue_dependencies_summary``, which real deliveries of 2025 do not carry
  (octokit/webhooks.net ``issues/typed.payload.json``); ``type`` and ``sub_issues_summary``
  they do carry. The repository (also a pull request's ``head.repo`` and ``base.repo``) is
  the REST repository without the token's ``permissions``, plus ``custom_properties``
  (octokit/webhooks ``issues/opened.payload.json``);
* a ``ping`` when a repository hook is created;
* GitHub does not redeliver a failed delivery by itself (the docs say so): one attempt, and
  :meth:`GitHubHooks.redeliver` repeats one by hand with the same GUID, as the "Redeliver"
  button does. A delivery must be answered within 10 seconds.

Deliveries are rendered under the state lock at the moment of the change (so each carries the
issue as it was then) and sent in order by one background thread.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import queue
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from connectors.emulators.github_model import JSON, HookEvent, Issue, Label, Repo
from connectors.emulators.github_render import Renderer
from connectors.emulators.github_state import GitHubState

DELIVERY_TIMEOUT_S = 10.0
"""GitHub gives a receiver 10 seconds to answer a delivery."""

USER_AGENT = "GitHub-Hookshot/emulator"

REPOSITORY_DROPPED = ("permissions",)
ISSUE_DROPPED = ("closed_by", "issue_dependencies_summary")
ORGANIZATION_KEYS = (
    "login",
    "id",
    "node_id",
    "url",
    "repos_url",
    "events_url",
    "hooks_url",
    "issues_url",
    "members_url",
    "public_members_url",
    "avatar_url",
    "description",
)
"""A delivery's ``organization`` is the short organisation object (octokit/webhooks
``issues/opened.with-organization.payload.json``), not the REST organisation."""

ZEN = "Design for failure."


@dataclass(frozen=True)
class Hook:
    """A webhook: where to POST, the secret to sign with, which events, which repositories."""

    id: int
    url: str
    secret: str | None
    events: frozenset[str]
    repos: frozenset[str] | None  # lower-case full names; None: every repository

    def wants(self, event: str, repo: Repo) -> bool:
        if "*" not in self.events and event not in self.events:
            return False
        return self.repos is None or repo.full_name.lower() in self.repos


@dataclass
class Delivery:
    """One delivery as sent: its GUID, event, action, body and what the receiver answered
    (``status`` 0: no answer, or not sent yet)."""

    guid: str
    hook_id: int
    event: str
    action: str
    url: str
    headers: dict[str, str]
    body: bytes
    status: int = 0
    attempts: int = 0
    answered: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def payload(self) -> JSON:
        loaded: JSON = json.loads(self.body)
        return loaded


class GitHubHooks:
    """The emulator's webhooks: registered hooks, rendering, signing and the sender thread."""

    def __init__(self, state: GitHubState, render: Callable[[], Renderer]) -> None:
        self.state = state
        self.render = render
        self.hooks: list[Hook] = []
        self.deliveries: list[Delivery] = []
        self._queue: queue.Queue[Delivery | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._next_id = 1
        state.observers.append(self.observe)

    # ------------------------------------------------------------------ hooks
    def add(
        self,
        url: str,
        secret: str | None,
        events: Iterable[str] = ("*",),
        repos: Iterable[str] | None = None,
    ) -> int:
        """Register a hook (caller holds the state lock); a repository hook is pinged."""
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"a webhook URL is http:// or https://, got {url!r}")
        hook = Hook(
            self._next_id,
            url,
            secret,
            frozenset(events),
            None if repos is None else frozenset(r.lower() for r in repos),
        )
        self._next_id += 1
        self.hooks.append(hook)
        for name in sorted(hook.repos or ()):
            repo = self.state.repos.get(name)
            if repo is not None:
                self._enqueue(hook, "ping", "", repo, self._ping(hook, repo))
        return hook.id

    def _ping(self, hook: Hook, repo: Repo) -> JSON:
        render = self.render()
        api = f"{render.repo_api(repo)}/hooks/{hook.id}"
        return {
            "zen": ZEN,
            "hook_id": hook.id,
            "hook": {
                "type": "Repository",
                "id": hook.id,
                "name": "web",
                "active": True,
                "events": sorted(hook.events),
                "config": {
                    "content_type": "json",
                    "insecure_ssl": "0",
                    "url": hook.url,
                    **({"secret": "********"} if hook.secret else {}),
                },
                "updated_at": _ts(self.state),
                "created_at": _ts(self.state),
                "url": api,
                "test_url": f"{api}/test",
                "ping_url": f"{api}/pings",
                "deliveries_url": f"{api}/deliveries",
                "last_response": {"code": None, "status": "unused", "message": None},
            },
            "repository": self.repository(repo),
            "sender": render.simple_user(self.state.ensure_user(self.state.bot_login)),
        }

    # ------------------------------------------------------------------ rendering
    def repository(self, repo: Repo) -> JSON:
        body = {
            k: v for k, v in self.render().minimal_repo(repo).items() if k not in REPOSITORY_DROPPED
        }
        body["custom_properties"] = {}
        return body

    def issue(self, repo: Repo, issue: Issue) -> JSON:
        return {k: v for k, v in self.render().issue(repo, issue).items() if k not in ISSUE_DROPPED}

    def payload(self, change: HookEvent) -> JSON:
        """The body GitHub sends for ``change``."""
        render = self.render()
        repo, issue = change.repo, change.issue
        body: JSON = {"action": change.action}
        if change.event == "pull_request" and issue is not None:
            body["number"] = issue.number
            pull = render.pull(repo, issue)
            for side in ("head", "base"):
                if isinstance(pull.get(side), dict) and pull[side].get("repo") is not None:
                    pull[side] = {**pull[side], "repo": self.repository(repo)}
            body["pull_request"] = pull
        elif issue is not None:
            body["issue"] = self.issue(repo, issue)
        extra = change.extra
        if "changes" in extra:
            body["changes"] = extra["changes"]
        label = extra.get("label")
        if isinstance(label, Label):
            body["label"] = render.label(repo, label)
        if "assignee" in extra:
            body["assignee"] = render.simple_user(self.state.ensure_user(extra["assignee"]))
        milestone = extra.get("milestone")
        if isinstance(milestone, int) and milestone in repo.milestones:
            body["milestone"] = render.milestone(repo, repo.milestones[milestone])
        if "comment" in extra:
            body["comment"] = render.comment(repo, extra["comment"])
        body["repository"] = self.repository(repo)
        owner = self.state.ensure_user(repo.owner)
        if owner.type == "Organization":
            org = render.organization(owner)
            body["organization"] = {k: org.get(k) for k in ORGANIZATION_KEYS}
        body["sender"] = render.simple_user(self.state.ensure_user(change.sender))
        return body

    # ------------------------------------------------------------------ delivering
    def observe(self, change: HookEvent) -> None:
        """A change happened (state lock held): render it for every hook that wants it."""
        for hook in self.hooks:
            if hook.wants(change.event, change.repo):
                self._enqueue(hook, change.event, change.action, change.repo, self.payload(change))

    def _enqueue(self, hook: Hook, event: str, action: str, repo: Repo, payload: JSON) -> None:
        body = json.dumps(payload, separators=(",", ":")).encode()
        guid = str(uuid.uuid4())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": guid,
            "X-GitHub-Hook-ID": str(hook.id),
            "X-GitHub-Hook-Installation-Target-Type": "repository",
            "X-GitHub-Hook-Installation-Target-ID": str(repo.id),
        }
        if hook.secret:
            key = hook.secret.encode()
            headers["X-Hub-Signature-256"] = "sha256=" + hmac.new(key, body, "sha256").hexdigest()
            headers["X-Hub-Signature"] = "sha1=" + hmac.new(key, body, hashlib.sha1).hexdigest()
        delivery = Delivery(guid, hook.id, event, action, hook.url, headers, body)
        self.deliveries.append(delivery)
        self._send_later(delivery)

    def redeliver(self, guid: str) -> Delivery:
        """Send a delivery again, same GUID and body (GitHub's "Redeliver")."""
        for delivery in self.deliveries:
            if delivery.guid == guid:
                delivery.answered.clear()
                self._send_later(delivery)
                return delivery
        raise KeyError(guid)

    def _send_later(self, delivery: Delivery) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(
                target=self._run, name="github-emulator-hooks", daemon=True
            )
            self._thread.start()
        self._queue.put(delivery)

    def _run(self) -> None:
        while True:
            delivery = self._queue.get()
            if delivery is None:
                return
            delivery.status = post(delivery.url, delivery.headers, delivery.body)
            delivery.attempts += 1
            delivery.answered.set()

    def wait_sent(self, timeout: float) -> bool:
        """Whether every delivery made so far was answered (or failed) within ``timeout``."""
        return all(d.answered.wait(timeout) for d in list(self.deliveries))

    def close(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout=DELIVERY_TIMEOUT_S + 1)
        self._thread = None


def post(url: str, headers: dict[str, str], body: bytes) -> int:
    """POST one delivery; the status the receiver answered, 0 when it did not."""
    # The scheme was checked when the hook was added: http or https only.
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=DELIVERY_TIMEOUT_S) as answer:  # noqa: S310
            answer.read()
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        exc.read()
        return int(exc.code)
    except (OSError, ValueError):
        return 0


def _ts(state: GitHubState) -> str:
    return state.now().strftime("%Y-%m-%dT%H:%M:%SZ")
