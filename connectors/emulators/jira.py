"""A stateful Jira REST emulator (Cloud or Data Center) on 127.0.0.1, for tests, demos and benches.

pmsync's Jira connector runs the real ``jira`` library against it, so the emulator answers what
Jira answers: the same shapes (checked against Atlassian's OpenAPI description and recorded real
traffic), the same search endpoints per deployment (``/search/jql`` with ``nextPageToken`` on
Cloud, legacy ``/search`` answering 410 there and working on Data Center), the same 429s with
``Retry-After``/``RateLimit-Reason``, and the same failure modes (5xx, timeouts,
commit-then-drop) on demand. Time comes from an injected clock, never from sleeping.

Usage::

    with JiraEmulator(mode="cloud", email="bot@acme.test", token="t0ken", clock=clock) as emu:
        emu.add_project("REL", name="Reliability")
        key = emu.add_issue("REL", summary="Add a circuit breaker", labels=["postmortem-action"])
        JIRA(server=emu.base_url, basic_auth=("bot@acme.test", "t0ken"), timeout=10)
        emu.faults = JiraFaults(drop_after_commit_rate=1)   # or exhaust_hourly_quota()
        gate = emu.gate_after_commit("POST", "/issue/{issueIdOrKey}/comment")
        emu.counters[("PUT", "/rest/api/2/issue/{issueIdOrKey}", 204)]

Deliberate choices: the per-issue write limit applies on Cloud only (it is Cloud's limit);
every write, entity properties included, bumps ``updated``; ``notifyUsers`` (the real PUT
parameter, ``notifyEditingUsers`` accepted too) is recorded in ``notify_log``; a request
answered by dropping the connection, or too late, is counted with status 0. Comment entity
properties sent in a comment's create or edit body are stored with the comment in the same
write, and returned only where Atlassian documents them: ``POST /comment/list`` with
``expand=properties`` and ``/comment/{commentId}/properties`` (``jira_comment_routes``); the
issue comment endpoints document ``expand=renderedBody`` only and never return them. Faults
can commit a write and then drop, 502 or delay its answer, and can be limited to chosen routes;
``gate_after_commit`` signals a committed write and holds its answer, for kill tests.

Seed format (YAML or JSON; ``load_seed``)::

    mode: cloud                # optional, informative only
    projects:
      - {key: REL, name: Reliability}
    users:
      - {account_id: 5b10ac8d82e05b22cc7d4ef5, name: alice, display_name: Alice A., email: a@x}
      - {account_id: 5b10a2844c20165700ede21f, name: frank, active: false}   # deactivated
    custom_fields:
      - {name: Evidence, schema_type: string}          # string | option | user | url | date
    workflow:                  # optional; default To Do -> In Progress -> Done, Done -> To Do
      - {id: "31", name: Done, from: [To Do, In Progress], to: Done}   # e.g. no "Reopen"
      - {name: Severity, schema_type: option, options: [SEV-1, SEV-2]}
    issues:
      - project: REL
        summary: Add a circuit breaker
        description: wiki text
        labels: [postmortem-action]
        priority: Highest      # Highest High Medium Low Lowest
        status: To Do          # To Do | In Progress | Done
        resolution: null       # Done | Won't Do | Duplicate | Cannot Reproduce
        assignee: alice        # account id, user name or email
        duedate: -3d           # ISO date or relative to the emulator clock (d, w)
        created: -40d          # ISO timestamp or relative (m, h, d, w)
        updated: -2d
        fields: {Evidence: "https://...", Severity: SEV-1, Sponsor: bob}
        comments: [{author: alice, body: "text", created: -1d, properties: {key: {any: json}}}]
        properties: {key: {any: json}}
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

from connectors.emulators.jira_edit import ApiError, FieldEditor
from connectors.emulators.jira_hooks import JiraDelivery, JiraHooks
from connectors.emulators.jira_limits import (
    CommitGate,
    JiraFaults,
    WriteLimiter,
    top_of_next_hour,
)
from connectors.emulators.jira_render import Renderer
from connectors.emulators.jira_state import (
    CUSTOM_PREFIX,
    CUSTOM_TYPES,
    DEFAULT_LINK_TYPES,
    PERMISSIONS,
    PRIORITIES,
    RESOLUTIONS,
    STATUSES,
    TRANSITIONS,
    Clock,
    Comment,
    CustomField,
    Issue,
    IssueLink,
    Json,
    LinkType,
    Mode,
    Project,
    User,
    now_utc,
)

__all__ = ["ApiError", "CommitGate", "JiraEmulator", "JiraFaults"]

_RELATIVE = re.compile(r"^([+-])(\d+)([mhdw])$")
_UNIT = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


class JiraEmulator:
    """One emulated Jira site. Use as a context manager or call ``start``/``stop``."""

    def __init__(
        self,
        mode: Mode = "cloud",
        email: str = "bot@acme.test",
        token: str = "t0ken",  # noqa: S107 - a test credential, not a secret
        clock: Clock | None = None,
        *,
        port: int = 0,
    ) -> None:
        if mode not in ("cloud", "datacenter"):
            raise ValueError(f"mode must be 'cloud' or 'datacenter', not {mode!r}")
        self.mode: Mode = mode
        self.email = email
        self.token = token
        self.clock: Clock = clock or now_utc
        self.port = port
        self.faults = JiraFaults()
        self.gates: list[CommitGate] = []
        self.counters: Counter[tuple[str, str, int]] = Counter()
        self.limiter = WriteLimiter()
        self.lock = threading.RLock()
        self.permissions = set(PERMISSIONS)
        # The project workflow: (transition id, name, from statuses, to status). Sites differ
        # here more than anywhere (many have no "Reopen"); ``set_workflow`` replaces it.
        self.transitions: list[tuple[str, str, tuple[str, ...], str]] = list(TRANSITIONS)
        self.notify_log: list[tuple[str, bool]] = []
        self.users: dict[str, User] = {}
        self.projects: dict[str, Project] = {}
        self.custom_fields: dict[str, CustomField] = {}
        self.issues: dict[str, Issue] = {}
        # Bumped by every change; search results are cached per (jql, revision, minute).
        self.revision = 0
        self.search_cache: dict[tuple[str, int, datetime], list[Issue]] = {}
        self._keys: dict[str, str] = {}
        self._next_issue_id = 10001
        self._next_comment_id = 10100
        self._next_attachment_id = 10300
        self._next_field = 10050
        self._next_option = 10100
        self.link_types: dict[str, LinkType] = {t.id: t for t in DEFAULT_LINK_TYPES}
        self.links: dict[str, IssueLink] = {}
        self._next_link_id = 10500
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self.stopping = threading.Event()
        self.hooks = JiraHooks(self)
        self.bot = self.add_user(
            account_id="712020:5f0c2a4e-9b1d-4c55-8e2a-000000000b07",
            name="pmsync-bot",
            display_name="pmsync bot",
            email=email,
        )

    # ----------------------------------------------------------------- lifecycle
    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the emulator is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> JiraEmulator:
        from connectors.emulators.jira_server import make_server

        self.stopping.clear()
        self._server = make_server(self, self.port)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="jira-emulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.hooks.close()
        self.stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> JiraEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ----------------------------------------------------------------- setup
    def add_project(self, key: str, name: str = "") -> Project:
        with self.lock:
            project = Project(id=str(10000 + len(self.projects)), key=key, name=name or key)
            self.projects[key] = project
            return project

    def add_user(
        self,
        account_id: str,
        name: str,
        display_name: str = "",
        email: str = "",
        *,
        key: str = "",
        active: bool = True,
    ) -> User:
        with self.lock:
            user = User(
                account_id=account_id,
                name=name,
                display_name=display_name or name,
                email=email or f"{name}@acme.test",
                key=key,
                active=active,
            )
            self.users[account_id] = user
            return user

    def find_user(self, ident: str) -> User | None:
        """A user by account id, name, key or email (the emulator's own look-up, any mode)."""
        for user in self.users.values():
            if ident in (user.account_id, user.name, user.key, user.email):
                return user
        return None

    def add_custom_field(
        self,
        name: str,
        schema_type: str = "string",
        custom_type: str | None = None,
        options: list[str] | None = None,
    ) -> str:
        """Add a custom field; returns its id (``customfield_10050``, ``..51``...)."""
        if schema_type not in CUSTOM_TYPES:
            raise ValueError(f"schema_type must be one of {sorted(CUSTOM_TYPES)}")
        with self.lock:
            fid = f"customfield_{self._next_field}"
            self._next_field += 1
            full = custom_type or CUSTOM_TYPES[schema_type][0]
            if ":" not in full:
                full = CUSTOM_PREFIX + full
            opts: dict[str, str] = {}
            for value in options or []:
                opts[value] = str(self._next_option)
                self._next_option += 1
            self.custom_fields[fid] = CustomField(fid, name, schema_type, full, opts)
            return fid

    def field_id(self, name_or_id: str) -> str:
        """The custom field id for a field name (or id)."""
        if name_or_id in self.custom_fields:
            return name_or_id
        for cf in self.custom_fields.values():
            if cf.name.lower() == name_or_id.lower():
                return cf.id
        raise KeyError(f"no custom field named {name_or_id!r}")

    def resolve_time(self, value: Any, default: datetime | None = None) -> datetime | None:
        """A datetime from a datetime, an ISO string or a relative ``-40d`` on the clock."""
        if value is None:
            return default
        if isinstance(value, datetime):
            return value
        if isinstance(value, date):
            return datetime(value.year, value.month, value.day, tzinfo=self.clock().tzinfo)
        text = str(value).strip()
        rel = _RELATIVE.match(text)
        if rel:
            seconds = int(rel.group(2)) * _UNIT[rel.group(3)]
            return self.clock() + timedelta(seconds=seconds if rel.group(1) == "+" else -seconds)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return moment if moment.tzinfo else moment.replace(tzinfo=self.clock().tzinfo)

    def resolve_date(self, value: Any) -> date | None:
        if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
            return value
        moment = self.resolve_time(value)
        return moment.date() if moment else None

    def add_issue(
        self,
        project: str,
        summary: str,
        *,
        description: str | Json | None = None,
        labels: list[str] | None = None,
        priority: str = "Medium",
        status: str = "To Do",
        resolution: str | None = None,
        assignee: str | None = None,
        duedate: date | str | None = None,
        fields: dict[str, Any] | None = None,
        created: datetime | str | None = None,
        updated: datetime | str | None = None,
        resolutiondate: datetime | str | None = None,
        reporter: str | None = None,
        announce: bool = True,
    ) -> str:
        """Add an issue directly (no limits, no counters); returns its key. Webhooks hear of
        it unless ``announce`` is False (the REST route announces it once its fields are set).
        """
        if status not in STATUSES:
            raise ValueError(f"status must be one of {sorted(STATUSES)}")
        if priority not in {p[1] for p in PRIORITIES}:
            raise ValueError(f"priority must be one of {[p[1] for p in PRIORITIES]}")
        if status == "Done" and resolution is None:
            resolution = "Done"
        if resolution is not None and resolution not in {r[1] for r in RESOLUTIONS}:
            raise ValueError(f"resolution must be one of {[r[1] for r in RESOLUTIONS]}")
        with self.lock:
            proj = self.projects[project]
            now = self.clock()
            # Jira never has updated < created: without a created, it is the updated time.
            updated_given = self.resolve_time(updated, None)
            created_at = self.resolve_time(created, updated_given or now) or now
            updated_at = updated_given or created_at
            resolved_at = self.resolve_time(resolutiondate, None)
            if resolution and resolved_at is None:
                resolved_at = updated_at
            issue = Issue(
                id=str(self._next_issue_id),
                key=f"{proj.key}-{proj.next_number}",
                project=proj,
                summary=summary,
                description=description,
                labels=list(labels or []),
                priority=priority,
                status=status,
                resolution=resolution,
                assignee=self._user_or_fail(assignee),
                reporter=self._user_or_fail(reporter) or self.bot,
                duedate=self.resolve_date(duedate),
                created=created_at,
                updated=updated_at,
                resolutiondate=resolved_at,
                statuscategorychangedate=resolved_at or created_at,
            )
            for name, value in (fields or {}).items():
                issue.custom[self.field_id(name)] = self._custom_seed(self.field_id(name), value)
            self._next_issue_id += 1
            proj.next_number += 1
            self.issues[issue.id] = issue
            self._keys[issue.key] = issue.id
            self.revision += 1
            if announce:
                self.hooks.created(issue, issue.reporter)
            return issue.key

    def _user_or_fail(self, ident: str | None) -> User | None:
        if ident is None:
            return None
        user = self.find_user(ident)
        if user is None:
            raise KeyError(f"no user {ident!r}")
        return user

    def _custom_seed(self, fid: str, value: Any) -> Any:
        cf = self.custom_fields[fid]
        if value is None:
            return None
        if cf.schema_type == "option":
            if value not in cf.options:
                raise ValueError(f"{value!r} is not an option of {cf.name}")
            return value
        if cf.schema_type == "user":
            return self._user_or_fail(str(value))
        if cf.schema_type == "date":
            return self.resolve_date(value)
        return value

    def add_comment(
        self,
        key: str,
        body: str | Json,
        author: str | None = None,
        created: Any = None,
        properties: dict[str, Any] | None = None,
    ) -> str:
        """Add a comment directly (seed helper; does not bump ``updated``)."""
        with self.lock:
            issue = self.get_issue(key)
            when = self.resolve_time(created, self.clock()) or self.clock()
            user = self._user_or_fail(author) or self.bot
            return self.new_comment(issue, body, user, when, properties).id

    # ----------------------------------------------------------------- people acting
    def transition(self, key: str, status: str, user: str | None = None) -> None:
        """Move an issue to ``status`` as ``user`` would in the UI (Done sets the resolution
        Done, leaving Done clears it); ``updated`` moves and webhooks hear of it."""
        if status not in STATUSES:
            raise ValueError(f"status must be one of {sorted(STATUSES)}")
        with self.lock:
            issue = self.get_issue(key)
            before = self.hooks.snapshot(issue)
            now = self.clock()
            if STATUSES[issue.status][2] != STATUSES[status][2]:
                issue.statuscategorychangedate = now
            issue.status = status
            issue.resolution = "Done" if status == "Done" else None
            issue.resolutiondate = now if status == "Done" else None
            issue.updated = now
            self.revision += 1
            self.hooks.updated(issue, self._user_or_fail(user) or self.bot, before, "issue_generic")

    def comment(self, key: str, body: str | Json, author: str | None = None) -> str:
        """A comment written now by ``author`` (``updated`` moves; webhooks hear of it)."""
        with self.lock:
            issue = self.get_issue(key)
            now = self.clock()
            made = self.new_comment(issue, body, self._user_or_fail(author) or self.bot, now)
            issue.updated = now
            self.hooks.commented(issue, made)
            return made.id

    def add_webhook(
        self, url: str, secret: str | None = None, *, events: tuple[str, ...] = ("*",)
    ) -> int:
        """An admin webhook (saved with ``secret``) for ``events`` (``*``: all); its id."""
        with self.lock:
            return self.hooks.add(url, secret, events)

    @property
    def deliveries(self) -> list[JiraDelivery]:
        with self.lock:
            return list(self.hooks.deliveries)

    def wait_for_deliveries(self, timeout: float = 10.0) -> bool:
        return self.hooks.wait_sent(timeout)

    def redeliver(self, identifier: str) -> JiraDelivery:
        with self.lock:
            return self.hooks.redeliver(identifier)

    def new_comment(
        self,
        issue: Issue,
        body: str | Json,
        author: User,
        when: datetime,
        properties: dict[str, Any] | None = None,
    ) -> Comment:
        comment = Comment(
            str(self._next_comment_id), author, body, when, when, author, dict(properties or {})
        )
        self._next_comment_id += 1
        self.revision += 1
        issue.comments.append(comment)
        return comment

    def new_attachment_id(self) -> str:
        self._next_attachment_id += 1
        return str(self._next_attachment_id)

    def attachments_of(self, key: str) -> list[tuple[str, bytes]]:
        """(file name, bytes) of every attachment of ``key``, oldest first."""
        with self.lock:
            return [(a.filename, a.content) for a in self.get_issue(key).attachments]

    def set_workflow(self, transitions: list[tuple[str, str, tuple[str, ...], str]]) -> None:
        """Replace the workflow's transitions: (id, name, from statuses, to status) each,
        statuses among To Do, In Progress and Done (e.g. a workflow without "Reopen")."""
        for tid, name, sources, target in transitions:
            unknown = sorted({*sources, target} - set(STATUSES))
            if unknown or not tid or not name:
                raise ValueError(f"transition {name!r}: unknown statuses {unknown}")
        with self.lock:
            self.transitions = [(t, n, tuple(f), to) for t, n, f, to in transitions]

    def revoke_permission(self, key: str) -> None:
        """Make ``/mypermissions`` (and the matching writes) deny ``key`` for the bot."""
        self.permissions.discard(key)

    def exhaust_hourly_quota(self, until: datetime | None = None) -> None:
        """Writes answer 429 ``jira-quota-tenant-based`` until ``until`` (default: top of the
        next UTC hour on the emulator clock)."""
        with self.lock:
            self.limiter.quota_until = until or top_of_next_hour(self.clock())

    def gate_after_commit(self, method: str, template: str, hold_s: float = 60.0) -> CommitGate:
        """Hold the answer of every ``method`` ``template`` write once it is applied.

        ``template`` is the route without ``/rest/api/N`` (``/issue/{issueIdOrKey}/comment``).
        Wait on the gate's ``committed``, do what the test needs (kill the client), then set
        ``release``; ``ungate`` removes it.
        """
        gate = CommitGate(method, template, hold_s)
        with self.lock:
            self.gates.append(gate)
        return gate

    def ungate(self, gate: CommitGate) -> None:
        gate.release.set()
        with self.lock:
            if gate in self.gates:
                self.gates.remove(gate)

    def reset_counters(self) -> None:
        with self.lock:
            self.counters.clear()

    # ----------------------------------------------------------------- inspection
    def get_issue(self, key_or_id: str) -> Issue:
        issue = self.issues.get(self._keys.get(key_or_id.upper(), key_or_id))
        if issue is None:
            raise ApiError(404, ["Issue does not exist or you do not have permission to see it."])
        return issue

    def issue_of_comment(self, comment_id: str) -> Issue:
        """The issue a comment belongs to; 404 as Jira words it when there is none."""
        for issue in self.issues.values():
            if any(c.id == comment_id for c in issue.comments):
                return issue
        raise ApiError(404, [f"Can not find a comment for the id: {comment_id}."])

    def renderer(self, version: str = "2") -> Renderer:
        base = self.base_url if self._server is not None else "http://127.0.0.1:0"
        return Renderer(base, self.mode, version)

    def all_field_ids(self) -> list[str]:
        from connectors.emulators.jira_state import SYSTEM_FIELD_IDS

        return [*SYSTEM_FIELD_IDS, *self.custom_fields]

    def field_names(self) -> dict[str, str]:
        from connectors.emulators.jira_state import SYSTEM_FIELDS

        names = {f[0]: f[1] for f in SYSTEM_FIELDS}
        names.update({cf.id: cf.name for cf in self.custom_fields.values()})
        return names

    def field_schemas(self) -> dict[str, Json]:
        from connectors.emulators.jira_state import SYSTEM_FIELDS

        schemas = {f[0]: f[2] for f in SYSTEM_FIELDS if f[2]}
        for cf in self.custom_fields.values():
            schemas[cf.id] = {
                "type": cf.json_type,
                "custom": cf.custom_type,
                "customId": cf.number,
            }
        return schemas

    def issue(self, key: str) -> Json:
        """The issue as ``GET /rest/api/2/issue/{key}`` returns it (all fields)."""
        with self.lock:
            issue = self.get_issue(key)
            return self.renderer("2").issue(
                issue,
                self.all_field_ids(),
                customs=self.custom_fields,
                expand=set(),
                names={},
                schemas={},
            )

    def add_link_type(self, name: str, inward: str, outward: str) -> str:
        """Add an issue link type (as an administrator would); returns its id."""
        with self.lock:
            type_id = str(10000 + len(self.link_types))
            self.link_types[type_id] = LinkType(type_id, name, inward, outward)
            return type_id

    def link_issues(self, type_name: str, *, inward: str, outward: str) -> str:
        """Link two issues as ``POST /issueLink`` would, without HTTP; returns the link id."""
        with self.lock:
            link_type = next(t for t in self.link_types.values() if t.name == type_name)
            return self.new_link(link_type, self.get_issue(inward), self.get_issue(outward)).id

    def new_link(self, link_type: LinkType, inward: Issue, outward: Issue) -> IssueLink:
        """Store a link on both issues (caller holds the lock); an identical link is kept
        once: Atlassian (``linkIssues``): "If the link request duplicates a link, the response
        indicates that the issue link was created"."""
        for link in outward.links:
            if (link.type, link.inward, link.outward) == (link_type, inward, outward):
                return link
        self._next_link_id += 1
        link = IssueLink(str(self._next_link_id), link_type, inward, outward)
        self.links[link.id] = link
        for issue in (inward, outward):
            issue.links.append(link)
            issue.updated = self.clock()
        self.revision += 1
        return link

    def delete_link(self, link: IssueLink) -> None:
        """Remove a link from both issues (caller holds the lock)."""
        del self.links[link.id]
        for issue in (link.inward, link.outward):
            if link in issue.links:
                issue.links.remove(link)
            issue.updated = self.clock()
        self.revision += 1

    def links_of(self, key: str) -> list[tuple[str, str, str]]:
        """The links of an issue as (type name, inward key, outward key), oldest first."""
        with self.lock:
            return [
                (link.type.name, link.inward.key, link.outward.key)
                for link in self.get_issue(key).links
            ]

    def issue_keys(self) -> list[str]:
        """Every issue key, in creation order."""
        with self.lock:
            return [issue.key for issue in self.issues.values()]

    def comments(self, key: str) -> list[Json]:
        """The comments (v2 shape) with each ``body`` exactly as it was sent."""
        with self.lock:
            issue = self.get_issue(key)
            rendered = []
            for comment in issue.comments:
                body = self.renderer("2").comment(issue, comment)
                body["body"] = comment.body
                rendered.append(body)
            return rendered

    def comment_properties(self, key: str) -> list[dict[str, Any]]:
        """Each comment's entity properties (key -> value), in comment order."""
        with self.lock:
            copied: list[dict[str, Any]] = json.loads(
                json.dumps([c.properties for c in self.get_issue(key).comments])
            )
            return copied

    def labels_of(self, key: str) -> list[str]:
        with self.lock:
            return list(self.get_issue(key).labels)

    def properties(self, key: str) -> dict[str, Any]:
        with self.lock:
            copied: dict[str, Any] = json.loads(json.dumps(self.get_issue(key).properties))
            return copied

    def editor(self, *, transition: bool = False) -> FieldEditor:
        return FieldEditor(
            self.mode,
            self.custom_fields,
            self._find_for_mode,
            frozenset({"resolution"}) if transition else frozenset(),
        )

    def _find_for_mode(self, ident: str) -> User | None:
        """Users as the API identifies them: account id on Cloud, name or key on DC."""
        for user in self.users.values():
            if self.mode == "cloud" and ident == user.account_id:
                return user
            if self.mode == "datacenter" and ident in (user.name, user.key):
                return user
        return None

    # ----------------------------------------------------------------- seeds
    def load_seed(self, seed: str | Path | dict[str, Any]) -> list[str]:
        """Load projects, users, fields and issues (format in the module docstring), checked
        and located by ``jira_seed``; the keys of the issues added."""
        from connectors.emulators.jira_seed import load_jira_seed

        return load_jira_seed(self, seed)
