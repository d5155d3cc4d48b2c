"""Webhook deliveries from the Jira emulator, as an admin webhook with a secret sends them.

Why this module exists: pmsync's Jira receiver must be proved against deliveries shaped and
signed like Jira's. What this follows:

* the body of ``jira:issue_created`` / ``jira:issue_updated``: ``timestamp`` (epoch ms),
  ``webhookEvent``, ``issue_event_type_name``, ``user`` (who acted), the ``issue`` with all its
  fields, and for an update the ``changelog`` (``id``, ``items`` of ``field``, ``fieldtype``,
  ``from``, ``fromString``, ``to``, ``toString``); ``comment_created``: ``timestamp``,
  ``webhookEvent``, the ``comment`` and a trimmed ``issue`` (``summary``, ``status``,
  ``priority``, ``assignee``, ``issuetype``, ``project``). Shapes from the recorded Cloud
  deliveries in zulip's fixtures (``change_status_v2.json``, ``comment_created.json``). A
  comment also changes the issue, so it is delivered twice, as ``comment_created`` and as
  ``jira:issue_updated`` with ``issue_event_type_name: issue_commented`` (the docs are silent on
  whether both reach one webhook: the less convenient reading, more deliveries, is taken).
  Entity property writes are ``issue_property_set`` events, which these hooks do not send;
* an admin webhook saved with a secret signs each delivery ``X-Hub-Signature: sha256=<hex
  HMAC-SHA256 of the body>`` (developer.atlassian.com/cloud/jira/platform/webhooks, "secure
  admin webhooks"; see ../shared/fixtures/MANIFEST.md); every delivery carries
  ``X-Atlassian-Webhook-Identifier``, the id Jira's failed-webhook API reports for it (the
  ``FailedWebhook`` schema of the Cloud OpenAPI), unchanged when it is retried;
* Jira retries a delivery that failed; here one attempt is made and :meth:`JiraHooks.redeliver`
  repeats one by hand with the same identifier and ``X-Atlassian-Webhook-Retry: <n>``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import queue
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from connectors.emulators.github_hooks import post
from connectors.emulators.jira_state import (
    PRIORITIES,
    RESOLUTIONS,
    STATUSES,
    Comment,
    Issue,
    Json,
    User,
)

if TYPE_CHECKING:
    from connectors.emulators.jira import JiraEmulator

USER_AGENT = "Atlassian Webhook HTTP Client"
COMMENT_ISSUE_FIELDS = ("summary", "status", "priority", "assignee", "issuetype", "project")

Snapshot = dict[str, tuple[Any, str | None]]
"""Field id -> (raw value, display string) of one issue, to diff into a changelog."""


@dataclass(frozen=True)
class JiraHook:
    id: int
    url: str
    secret: str | None
    events: frozenset[str]

    def wants(self, event: str) -> bool:
        return "*" in self.events or event in self.events


@dataclass
class JiraDelivery:
    """One delivery as sent, with what the receiver answered (``status`` 0: no answer yet)."""

    identifier: str
    hook_id: int
    event: str
    url: str
    headers: dict[str, str]
    body: bytes
    status: int = 0
    attempts: int = 0
    answered: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def payload(self) -> Json:
        loaded: Json = json.loads(self.body)
        return loaded


class JiraHooks:
    """The emulator's admin webhooks: snapshots, changelogs, signing and the sender thread."""

    def __init__(self, emu: JiraEmulator) -> None:
        self.emu = emu
        self.hooks: list[JiraHook] = []
        self.deliveries: list[JiraDelivery] = []
        self._queue: queue.Queue[JiraDelivery | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._next_hook = 1
        self._next_delivery = 7_000_001
        self._next_changelog = 10_000

    def add(self, url: str, secret: str | None, events: Iterable[str]) -> int:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"a webhook URL is http:// or https://, got {url!r}")
        hook = JiraHook(self._next_hook, url, secret, frozenset(events))
        self._next_hook += 1
        self.hooks.append(hook)
        return hook.id

    # ------------------------------------------------------------------ rendering
    def snapshot(self, issue: Issue) -> Snapshot:
        """What a changelog compares: each field's raw value and how Jira shows it."""
        if not self.hooks:
            return {}
        found: Snapshot = {
            "summary": (issue.summary, issue.summary),
            "status": (issue.status, issue.status),
            "resolution": (issue.resolution, issue.resolution),
            "priority": (issue.priority, issue.priority),
            "labels": (tuple(issue.labels), " ".join(issue.labels)),
            "assignee": _user_pair(issue.assignee, self.emu.mode),
            "duedate": (issue.duedate, issue.duedate.isoformat() if issue.duedate else None),
            "description": (json.dumps(issue.description), _text(issue.description)),
        }
        for fid, value in issue.custom.items():
            found[fid] = (json.dumps(value, default=str), _shown(value))
        return found

    def _issue(self, issue: Issue, fields: Iterable[str] | None = None) -> Json:
        emu = self.emu
        wanted = list(fields) if fields is not None else emu.all_field_ids()
        rendered = emu.renderer("2").issue(
            issue,
            wanted,
            customs=emu.custom_fields,
            expand=set(),
            names=emu.field_names(),
            schemas=emu.field_schemas(),
        )
        # A delivery's issue is id, self, key and fields: no ``expand`` (recorded deliveries).
        return {k: v for k, v in rendered.items() if k != "expand"}

    def _changelog(self, issue: Issue, before: Snapshot) -> list[Json]:
        after = self.snapshot(issue)
        items: list[Json] = []
        system = {c for c in after if not c.startswith("customfield_")}
        for fid in sorted(set(before) | set(after)):
            old, new = before.get(fid, (None, None)), after.get(fid, (None, None))
            if old[0] == new[0]:
                continue
            custom = fid not in system
            name = self.emu.field_names().get(fid, fid) if custom else fid
            item: Json = {
                "field": name,
                "fieldtype": "custom" if custom else "jira",
                "from": _id_of(fid, old[0]),
                "fromString": old[1],
                "to": _id_of(fid, new[0]),
                "toString": new[1],
            }
            items.append(item)
        return items

    # ------------------------------------------------------------------ events
    def created(self, issue: Issue, user: User) -> None:
        """``jira:issue_created`` for a new issue (caller holds the emulator lock)."""
        if self.hooks:
            self._deliver(
                "jira:issue_created",
                {
                    "timestamp": self._timestamp(),
                    "webhookEvent": "jira:issue_created",
                    "issue_event_type_name": "issue_created",
                    "user": self.emu.renderer("2").user(user),
                    "issue": self._issue(issue),
                },
            )

    def updated(self, issue: Issue, user: User, before: Snapshot, kind: str) -> None:
        """``jira:issue_updated`` with the changelog since ``before``; nothing if unchanged."""
        if not self.hooks:
            return
        items = self._changelog(issue, before)
        if not items:
            return
        self._next_changelog += 1
        self._deliver(
            "jira:issue_updated",
            {
                "timestamp": self._timestamp(),
                "webhookEvent": "jira:issue_updated",
                "issue_event_type_name": kind,
                "user": self.emu.renderer("2").user(user),
                "issue": self._issue(issue),
                "changelog": {"id": str(self._next_changelog), "items": items},
            },
        )

    def commented(self, issue: Issue, comment: Comment) -> None:
        """``comment_created``, then ``jira:issue_updated`` (``issue_commented``)."""
        if not self.hooks:
            return
        render = self.emu.renderer("2")
        rendered = render.comment(issue, comment)
        self._deliver(
            "comment_created",
            {
                "timestamp": self._timestamp(),
                "webhookEvent": "comment_created",
                "comment": rendered,
                "issue": self._issue(issue, COMMENT_ISSUE_FIELDS),
            },
        )
        self._deliver(
            "jira:issue_updated",
            {
                "timestamp": self._timestamp(),
                "webhookEvent": "jira:issue_updated",
                "issue_event_type_name": "issue_commented",
                "user": render.user(comment.author),
                "issue": self._issue(issue),
                "comment": rendered,
            },
        )

    def _timestamp(self) -> int:
        return int(self.emu.clock().timestamp() * 1000)

    # ------------------------------------------------------------------ delivering
    def _deliver(self, event: str, payload: Json) -> None:
        body = json.dumps(payload, separators=(",", ":")).encode()
        for hook in self.hooks:
            if not hook.wants(event):
                continue
            identifier = str(self._next_delivery)
            self._next_delivery += 1
            headers = {
                "Content-Type": "application/json; charset=UTF-8",
                "User-Agent": USER_AGENT,
                "X-Atlassian-Webhook-Identifier": identifier,
            }
            if hook.secret:
                digest = hmac.new(hook.secret.encode(), body, hashlib.sha256).hexdigest()
                headers["X-Hub-Signature"] = f"sha256={digest}"
            delivery = JiraDelivery(identifier, hook.id, event, hook.url, headers, body)
            self.deliveries.append(delivery)
            self._send_later(delivery)

    def redeliver(self, identifier: str) -> JiraDelivery:
        """Send a delivery again: same identifier and body, ``X-Atlassian-Webhook-Retry``."""
        for delivery in self.deliveries:
            if delivery.identifier == identifier:
                delivery.headers["X-Atlassian-Webhook-Retry"] = str(max(delivery.attempts, 1))
                delivery.answered.clear()
                self._send_later(delivery)
                return delivery
        raise KeyError(identifier)

    def _send_later(self, delivery: JiraDelivery) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(
                target=self._run, name="jira-emulator-hooks", daemon=True
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
        return all(d.answered.wait(timeout) for d in list(self.deliveries))

    def close(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout=11)
        self._thread = None


def _user_pair(user: User | None, mode: str) -> tuple[Any, str | None]:
    if user is None:
        return None, None
    return (user.account_id if mode == "cloud" else user.name), user.display_name


def _id_of(fid: str, raw: Any) -> str | None:
    """The changelog's ``from``/``to``: the id of the value for fields whose values have one
    (status ``10000`` -> ``3`` in the recorded delivery), the date for ``duedate``, else null."""
    if raw is None:
        return None
    if fid == "status":
        return STATUSES[raw][0] if raw in STATUSES else None
    if fid == "priority":
        return next((p[0] for p in PRIORITIES if p[1] == raw), None)
    if fid == "resolution":
        return next((r[0] for r in RESOLUTIONS if r[1] == raw), None)
    if fid == "duedate" and isinstance(raw, date):
        return raw.isoformat()
    return str(raw) if fid == "assignee" else None


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value)


def _shown(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, User):
        return value.display_name
    return str(value)
