"""The Jira connector's I/O: the ``Tracker`` Protocol over the real ``jira`` library.

What the library does by default and this module does not let it do:

- no timeout: every request gets ``config.request_timeout_s``;
- ``ResilientSession`` retries every method, POST included, so a comment whose answer was
  lost is posted twice: ``max_retries=0``, and only GETs are retried here (bounded, growing
  backoff, honouring ``Retry-After``); a POST whose outcome is unknown is checked by reading
  the comments back, never resent;
- ``fields="*all"``: searches ask for the mapped fields only;
- ``Issue.update()`` PUTs then reloads the issue: labels are edited with one PUT of
  ``update`` verbs through the library's session, with no reload;
- the ``/field`` list would be fetched again inside the search helpers: it is read once and
  handed to the library's cache.

Idempotency (``connectors.jira.markers``): every comment pmsync posts carries its marker as the
comment entity property ``pmsync.marker`` and as a visible grey last line, both sent in the
same ``POST /comment`` request, so the comment and its marker are stored together or not at
all. An index of the markers lives in the issue entity property ``pmsync.markers``, read only
for items about to be written. Write order per item is comment (with its marker), then index
PUT, then labels. A marker missing from the index is looked for on the issue's recent comments
through documented endpoints only (the comment list, then ``POST /comment/list`` with
``expand=properties`` for pmsync's own unindexed comments); a comment POST whose answer is lost
(timeout, dropped connection, 5xx) is never resent but found that way. With this, a process
dying at any point converges on exactly one comment.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import os
import re
import time
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
import structlog
from jira import JIRA
from pydantic import SecretStr
from urllib3 import encode_multipart_formdata

from connectors.fencing import Fence, always_allowed, fence_session
from connectors.jira.costs import is_write, write_cost
from connectors.jira.errors import translate
from connectors.jira.mapper import (
    FieldResolution,
    MappingContext,
    map_issue,
    resolve_fields,
)
from connectors.jira.markers import (
    COMMENT_PROPERTY,
    MARKERS_PROPERTY,
    CommentMarkers,
    marker_property,
)
from connectors.jira.renderer import (
    AdfNode,
    publish_document,
    render_comment,
    text_document,
    with_marker_line,
)
from syncer.actions import Action
from syncer.cursors import (
    Cursor,
    CursorStore,
    ViewEntry,
    decode_entry,
    encode_entry,
    view_fingerprint,
)
from syncer.deliveries import same_link
from syncer.durations import parse_span
from syncer.errors import (
    ConfigError,
    PermanentError,
    TransientError,
    TransitionUnavailable,
)
from syncer.evidence import classifier_for
from syncer.logging_setup import register_secret
from syncer.messages import Message
from syncer.model import ActionItem, ItemRef
from syncer.policy import Policy
from syncer.tracker import FetchResult, ReportRef, SkippedItem
from syncer.tracker_config import JiraTracker

log = structlog.get_logger(__name__)

T = TypeVar("T")
__all__ = ["COMMENT_PROPERTY", "MARKERS_PROPERTY", "JiraConnector", "marker_property"]
REPORT_PROPERTY = "pmsync.report"
# Reads Atlassian sends as POST (a body of ids): retried like GETs, never fenced as writes.
READS_SENT_AS_POST = frozenset({"comment/list"})
PAGE_SIZE = 100
GET_ATTEMPTS = 4
BACKOFF_START_S = 1.0
BACKOFF_MAX_S = 60.0
NAME_TTL = timedelta(days=1)
JQL_TIME_FORMAT = "%Y-%m-%d %H:%M"
_ISSUE_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_]*-[1-9][0-9]*$")
"""An issue key (project key, dash, number): nothing else reaches a JQL query."""


def jql_string(value: str) -> str:
    """A JQL string literal: double quotes with backslash and quote escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def read_credentials(
    config: JiraTracker, token: SecretStr | None, email: str | None
) -> tuple[SecretStr, str | None]:
    """The token (argument, then ``token_file``, then ``token_env``) and the Cloud email."""
    if token is None and config.token_file is not None:
        try:
            token = SecretStr(config.token_file.read_text(encoding="utf-8").strip())
        except OSError as exc:
            raise ConfigError(
                [
                    f"trackers.jira[{config.name}].token_file: cannot read "
                    f"{config.token_file} ({exc.strerror}); fix the path or its permissions"
                ]
            ) from None
    if token is None and os.environ.get(config.token_env):
        token = SecretStr(os.environ[config.token_env])
    if token is None or not token.get_secret_value():
        raise ConfigError(
            [
                f"trackers.jira[{config.name}]: no token; set {config.token_env} or token_file "
                "(an API token on Cloud, a personal access token on Data Center)"
            ]
        )
    if email is None:
        email = os.environ.get(config.email_env) or None
    register_secret(token.get_secret_value(), users=(email,) if email else ())
    if config.deployment == "cloud" and not email:
        raise ConfigError(
            [
                f"trackers.jira[{config.name}]: Cloud needs the account email with the API "
                f"token; set {config.email_env}"
            ]
        )
    return token, email


def open_jira(config: JiraTracker, token: SecretStr, email: str | None) -> JIRA:
    """A ``jira.JIRA`` with a timeout, no library retries and Cloud or DC auth."""
    options = {"rest_api_version": config.rest_api_version, "check_update": False}
    common: dict[str, Any] = {
        "server": config.server.rstrip("/"),
        "options": options,
        "timeout": config.request_timeout_s,
        "max_retries": 0,
        "get_server_info": True,
    }
    use_basic = config.deployment == "cloud" or (config.deployment == "auto" and email)
    if use_basic:
        return JIRA(basic_auth=(email or "", token.get_secret_value()), **common)
    return JIRA(token_auth=token.get_secret_value(), **common)


class JiraConnector:
    """One Jira Cloud or Data Center source, behind the ``Tracker`` Protocol."""

    def __init__(
        self,
        config: JiraTracker,
        policy: Policy,
        cursors: CursorStore,
        clock: Callable[[], datetime],
        token: SecretStr | None = None,
        email: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        *,
        fence: Fence = always_allowed,
    ) -> None:
        self.config = config
        self.fence = fence
        self.policy = policy
        self.cursors = cursors
        self.clock = clock
        self.sleep = sleep
        self._token, self._email = read_credentials(config, token, email)
        self._jira: JIRA | None = None
        self._cloud = config.deployment == "cloud"
        self._resolution: FieldResolution | None = None
        self._ctx: MappingContext | None = None
        # The last answers per issue key (items and skipped records), and the stored cursor
        # this view matches (another process sharing the store may move it).
        self._view: dict[str, ViewEntry] | None = None
        self._seen: Cursor | None = None
        self._fingerprint: str | None = None
        self._fields_read_here = False
        self._names: dict[str, tuple[str | None, datetime]] = {}
        self._server = config.server.rstrip("/")
        self.requests: Counter[tuple[str, int]] = Counter()
        self.write_requests = 0
        """Write requests sent so far, answered or not (``syncer.tracker.PricesWrites``)."""
        self.marks = CommentMarkers(self._request, clock, config.name)

    # -- plumbing -------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def cursor_source(self) -> str:
        return f"jira:{self.config.name}"

    @property
    def fields_source(self) -> str:
        """Where the site's field list is cached between processes (next to the view)."""
        return f"jira:{self.config.name}:fields"

    @property
    def fingerprint(self) -> str:
        """The view fingerprint of this configuration and policy (``syncer.cursors``)."""
        if self._fingerprint is None:
            self._fingerprint = view_fingerprint(self.config, self.policy)
        return self._fingerprint

    def write_cost(self, action: Action) -> int:
        """Write requests ``action`` takes here (``connectors.jira.costs``)."""
        return write_cost(action)

    @property
    def rate_limit_remaining(self) -> int | None:
        """Always None: Jira says only when a limit is near (``X-RateLimit-NearLimit``)."""
        return None

    def _count_answer(self, response: requests.Response, *_: Any, **__: Any) -> None:
        """Session hook: one answered request, by (verb, status)."""
        method = response.request.method or "GET"
        self.requests[(method, response.status_code)] += 1
        path = urlsplit(response.request.url or "").path
        self.write_requests += is_write(method, path, READS_SENT_AS_POST)

    def _count_unanswered(self, what: str, exc: Exception) -> None:
        """Requests the session hook cannot see: no answer came back, or the library was
        still being built (its serverInfo GET) when the answer was an error."""
        status = getattr(exc, "status_code", None)
        if isinstance(exc, requests.exceptions.RequestException) and exc.response is None:
            method, _, path = what.partition(" ")
            self.requests[(method, 0)] += 1
            self.write_requests += is_write(method, path, READS_SENT_AS_POST)
        elif self._jira is None and isinstance(status, int):
            self.requests[(what.split(" ", 1)[0], status)] += 1

    def _call(self, what: str, fn: Callable[[], T], *, write: bool) -> T:
        """Run one library call; GETs retry transient failures with growing backoff."""
        attempts = 1 if write else GET_ATTEMPTS
        delay = BACKOFF_START_S
        for attempt in range(1, attempts + 1):
            try:
                return fn()
            except Exception as exc:
                self._count_unanswered(what, exc)
                error = translate(exc, what=what, write=write, now=self.clock())
                if error is None:
                    raise
                if not isinstance(error, TransientError) or attempt == attempts:
                    raise error from None
                wait = min(BACKOFF_MAX_S, max(delay, error.retry_after or 0.0))
                log.info("jira GET failed; retrying", what=what, attempt=attempt, wait_s=wait)
                self.sleep(wait)
                delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover

    def _client(self) -> JIRA:
        if self._jira is None:
            jira = self._call(
                "GET serverInfo",
                lambda: open_jira(self.config, self._token, self._email),
                write=False,
            )
            self.requests[("GET", 200)] += 1  # serverInfo, asked while the library was built
            server_cloud = jira.deploymentType == "Cloud"
            if self.config.deployment != "auto" and server_cloud != self._cloud:
                actual = "Cloud" if server_cloud else "Data Center/Server"
                raise PermanentError(
                    f"{self.config.server} is {actual} but trackers.jira[{self.name}]."
                    f"deployment is {self.config.deployment}; fix the deployment setting"
                )
            self._cloud = server_cloud
            if self.config.rest_api_version == "3" and not self._cloud:
                raise PermanentError(
                    "REST v3 (ADF) exists on Cloud only; set rest_api_version: '2' for Data Center"
                )
            jira._session.hooks["response"].append(self._count_answer)
            # Every request of the library's session, ``_request``'s and ``_call``'s alike,
            # leaves through an adapter that asks the fence right before a write is sent.
            fence_session(jira._session, self.fence)
            self._jira = jira
        return self._jira

    def _url(self, path: str, version: str | None = None) -> str:
        return f"{self._server}/rest/api/{version or self.config.rest_api_version}/{path}"

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: object = None,
        version: str | None = None,
    ) -> Any:
        """One REST call through the library's session; JSON answer or None.

        ``version`` overrides the configured REST version for this call (``"2"`` to send wiki
        markup on a v3 site, which Jira Cloud converts to ADF).
        """
        jira = self._client()
        write = method != "GET" and path not in READS_SENT_AS_POST

        def send() -> Any:
            data = json.dumps(body) if body is not None else None
            url = self._url(path, version)
            response = jira._session.request(method, url, params=params, data=data)
            if not response.content:
                return None
            return response.json()

        return self._call(f"{method} {path}", send, write=write)

    def _fields(self, *, fresh: bool = False) -> FieldResolution:
        """The configured fields resolved against the site's field list.

        The list is read once per process, and cached in the store with the view, so an
        incremental run in a new process does not ask for it again; ``fresh`` (a full read)
        reads it again unless this process already did, so a renamed field is picked up at
        the next full resync at the latest.
        """
        if self._resolution is not None and not (fresh and not self._fields_read_here):
            return self._resolution
        jira = self._client()
        field_list = None if fresh else self._stored_fields()
        if field_list is None:
            field_list = self._call("GET field", jira.fields, write=False)
            self._fields_read_here = True
            self.cursors.save_view(
                self.fields_source,
                Cursor(full_sync_at=self.clock(), view=self.fingerprint),
                {"fields": json.dumps(field_list)},
                replace=True,
            )
        cache: dict[str, str] = {}
        for f in field_list:
            fid = f.get("id")
            if isinstance(fid, str):
                cache[fid] = fid
                for clause in f.get("clauseNames") or ():
                    cache[clause] = fid
        # The search helpers translate names through this cache and would GET /field
        # again to fill it; hand them the list already read.
        jira._fields_cache_value = cache
        resolution = resolve_fields(self.config.fields, field_list)
        if resolution != self._resolution:
            self._ctx = None
        self._resolution = resolution
        for problem in resolution.problems:
            log.warning("jira field mapping problem", tracker=self.name, problem=problem)
        return resolution

    def _stored_fields(self) -> list[dict[str, Any]] | None:
        """The field list cached by an earlier process under this fingerprint, if any."""
        cursor = self.cursors.get_cursor(self.fields_source)
        if cursor is None or cursor.view != self.fingerprint:
            return None
        text = self.cursors.load_view(self.fields_source).get("fields")
        try:
            value = json.loads(text) if text is not None else None
        except ValueError:
            return None
        if not isinstance(value, list):
            return None
        return [f for f in value if isinstance(f, dict)]

    def _context(self) -> MappingContext:
        if self._ctx is None:
            resolution = self._fields()
            self._ctx = MappingContext.build(
                self.config,
                resolution,
                cloud=self._cloud,
                links=classifier_for(self.policy.closure.evidence),
            )
        return self._ctx

    # -- reading --------------------------------------------------------------------------

    def incremental_jql(self, since: datetime) -> str:
        """The scope plus ``updated >= since - overlap`` (minute resolution, UTC)."""
        start = since.astimezone(UTC) - timedelta(minutes=self.config.overlap_minutes)
        return (
            f'({self.config.jql}) AND updated >= "{start.strftime(JQL_TIME_FORMAT)}" '
            "ORDER BY updated ASC"
        )

    def _search(
        self, jql: str, fields: list[str], properties: str | None = None
    ) -> list[dict[str, Any]]:
        """Every issue matching ``jql``: Cloud pages by token, Data Center by offset."""
        jira = self._client()
        issues: list[dict[str, Any]] = []
        if self._cloud:
            token: str | None = None
            while True:
                page: dict[str, Any] = self._call(
                    "GET search/jql",
                    lambda t=token: jira.enhanced_search_issues(  # type: ignore[misc]
                        jql,
                        nextPageToken=t,
                        maxResults=PAGE_SIZE,
                        fields=list(fields),
                        properties=properties,
                        json_result=True,
                    ),
                    write=False,
                )
                issues.extend(page.get("issues") or [])
                token = page.get("nextPageToken")
                if not token or page.get("isLast") is True:
                    return issues
        start = 0
        while True:
            page = self._call(
                "GET search",
                lambda s=start: jira.search_issues(  # type: ignore[misc]
                    jql,
                    startAt=s,
                    maxResults=PAGE_SIZE,
                    fields=list(fields),
                    properties=properties,
                    json_result=True,
                ),
                write=False,
            )
            batch = page.get("issues") or []
            issues.extend(batch)
            start += len(batch)
            total = page.get("total")
            if not batch or (isinstance(total, int) and start >= total):
                return issues

    def _current_view(self, cursor: Cursor | None) -> None:
        """Make the in-memory view the one ``cursor`` vouches for: kept when this process saw
        that cursor last, else read back from the store (none when it holds no view under
        this fingerprint, or one that no longer reads: the scope is then read in full)."""
        if self._view is not None and cursor is not None and cursor == self._seen:
            return
        self._view, self._seen = None, None
        if cursor is None or cursor.view != self.fingerprint:
            return
        restored: dict[str, ViewEntry] = {}
        for key, text in self.cursors.load_view(self.cursor_source).items():
            entry = decode_entry(text)
            if entry is None:
                log.warning("view cache entry unreadable; reading the scope in full", key=key)
                return
            restored[key] = entry
        self._view, self._seen = restored, cursor

    def _needs_full(self, cursor: Cursor | None, now: datetime) -> bool:
        """No view to build on, or the last full read is ``full_resync_every`` old."""
        if self._view is None or cursor is None or cursor.since is None:
            return True
        if cursor.full_sync_at is None or cursor.view != self.fingerprint:
            return True
        every = parse_span(self.config.full_resync_every).as_timedelta()
        return now - cursor.full_sync_at >= every

    def fetch(self, *, full: bool) -> FetchResult:
        """Items in scope: incremental on the stored view unless ``full`` or a resync is due.

        An idle run in a new process costs one search (``updated >=`` the stored cursor);
        the view cache turns it back into every item in scope.
        """
        now = self.clock()
        cursor = self.cursors.get_cursor(self.cursor_source)
        self._current_view(cursor)
        incremental = not (full or self._needs_full(cursor, now))
        resolution = self._fields(fresh=not incremental)
        ctx = self._context()
        since_before = cursor.since if cursor is not None else None
        if incremental and since_before is not None:
            jql = self.incremental_jql(since_before)
        else:
            jql = f"({self.config.jql}) ORDER BY updated ASC"
        raw_issues = self._search(jql, resolution.requested)
        view: dict[str, ViewEntry] = dict(self._view or {}) if incremental else {}
        changed: dict[str, ViewEntry] = {}
        for raw in raw_issues:
            mapped = map_issue(raw, ctx)
            key = mapped.key if isinstance(mapped, SkippedItem) else mapped.ref.key
            view[key] = changed[key] = ViewEntry(mapped)
        newest = max(
            (e.entry.updated_at for e in view.values() if isinstance(e.entry, ActionItem)),
            default=None,
        )
        since = max((t for t in (newest, since_before) if t is not None), default=None)
        saved = Cursor(
            since=since,
            etag=None,
            full_sync_at=cursor.full_sync_at if incremental and cursor else now,
            view=self.fingerprint,
        )
        written = changed if incremental else view
        self.cursors.save_view(
            self.cursor_source,
            saved,
            {key: encode_entry(entry) for key, entry in written.items()},
            replace=not incremental,
        )
        self._view, self._seen = view, saved
        log.info(
            "jira fetch",
            tracker=self.name,
            incremental=incremental,
            fetched=len(raw_issues),
            items=len(view),
        )
        return FetchResult(
            items=tuple(e.entry for e in view.values() if isinstance(e.entry, ActionItem)),
            skipped=tuple(e.entry for e in view.values() if isinstance(e.entry, SkippedItem)),
            errors=resolution.problems,
        )

    # -- chosen items (webhook cycles) -----------------------------------------------------

    def read_items(self, keys: Sequence[str]) -> FetchResult:
        """The issues ``keys`` as Jira shows them now, within the scope: one search
        ``(scope) AND key in (...)`` per hundred keys.

        Jira refuses a query naming an issue that does not exist or is hidden from the caller
        (400): then each key is asked alone and the refused ones count as gone. Issues that
        left the scope or are gone are dropped from the view; what was read goes into the
        view cache beside the stored cursor, which is left as it is.
        """
        wanted = sorted({k.upper() for k in keys if _ISSUE_KEY.match(k)})
        if not wanted:
            return FetchResult(items=())
        resolution = self._fields()
        ctx = self._context()
        cursor = self.cursors.get_cursor(self.cursor_source)
        self._current_view(cursor)
        found: dict[str, ViewEntry] = {}
        for start in range(0, len(wanted), PAGE_SIZE):
            for raw in self._search_keys(wanted[start : start + PAGE_SIZE], resolution):
                mapped = map_issue(raw, ctx)
                key = mapped.key if isinstance(mapped, SkippedItem) else mapped.ref.key
                found[key] = ViewEntry(mapped)
        removed = [k for k in wanted if k not in found]
        if self._view is not None and cursor is not None:
            for key in removed:
                self._view.pop(key, None)
            self._view.update(found)
            self.cursors.save_view(
                self.cursor_source,
                cursor,
                {key: encode_entry(entry) for key, entry in found.items()},
                removed=removed,
            )
            self._seen = cursor
        return FetchResult(
            items=tuple(e.entry for e in found.values() if isinstance(e.entry, ActionItem)),
            skipped=tuple(e.entry for e in found.values() if isinstance(e.entry, SkippedItem)),
            errors=resolution.problems,
        )

    def _search_keys(
        self, keys: Sequence[str], resolution: FieldResolution
    ) -> list[dict[str, Any]]:
        def jql(chosen: Sequence[str]) -> str:
            listed = ", ".join(jql_string(k) for k in chosen)
            return f"({self.config.jql}) AND key in ({listed})"

        try:
            return self._search(jql(keys), resolution.requested)
        except PermanentError as exc:
            if exc.status != 400:
                raise
        issues: list[dict[str, Any]] = []
        for key in keys:
            try:
                issues.extend(self._search(jql([key]), resolution.requested))
            except PermanentError as exc:
                if exc.status != 400:
                    raise
                log.info("jira issue no longer readable; dropped from the view", key=key)
        return issues

    def read_cost(self, keys: Collection[str]) -> tuple[int, int]:
        """One search per hundred keys, against one incremental search (a fetch)."""
        return -(-len(set(keys)) // PAGE_SIZE), 1

    def items_linking(self, url: str) -> list[str]:
        """Keys of the viewed items whose evidence links to ``url`` (a merged pull request)."""
        self._current_view(self.cursors.get_cursor(self.cursor_source))
        return [
            key
            for key, cached in (self._view or {}).items()
            if isinstance(cached.entry, ActionItem)
            and any(e.url is not None and same_link(e.url, url) for e in cached.entry.evidence)
        ]

    # -- markers --------------------------------------------------------------------------

    def _read_property(self, key: str, prop: str) -> dict[str, Any] | None:
        try:
            raw = self._request("GET", f"issue/{key}/properties/{prop}")
        except PermanentError as exc:
            if exc.status == 404:
                return None
            raise
        value = raw.get("value") if isinstance(raw, dict) else None
        return value if isinstance(value, dict) else None

    def has_marker(self, ref: ItemRef, marker: str, aliases: Sequence[str] = ()) -> bool:
        """Whether pmsync already posted ``marker`` (or one of ``aliases``, the markers an
        earlier release wrote for the same comment) on the item (``CommentMarkers.has``).

        One property GET when the index has it. Otherwise one comments GET more (per 50
        comments back to the index's newest entry) and, only for pmsync's own comments missing
        from the index, one ``POST comment/list``: such a comment, left by a run that died or
        lost the answer before the index PUT, repairs the index (one PUT) and counts as posted.
        """
        return self.marks.has(ref.key, marker, aliases)

    def _comment_body(self, message: Message) -> str | AdfNode:
        self._client()
        return render_comment(message, cloud=self._cloud, api_version=self.config.rest_api_version)

    def post_comment(self, ref: ItemRef, message: Message) -> None:
        """Comment (marker in the same request), then record the marker in the index."""
        body = self._comment_body(message)
        comment_id = self.marks.post(ref.key, message.marker, body)
        self.marks.save(ref.key, message.marker, comment_id)

    # -- people ---------------------------------------------------------------------------

    def display_names(self, handles: Collection[str]) -> dict[str, str]:
        """Display names for handles the items did not name (Cloud account id, DC user name).

        Issues carry ``displayName`` with every user object, so this is only for the few
        people the weekly review shows without an issue naming them (a sponsor since
        replaced, a fallback account). One ``GET /user`` per handle, remembered in this
        process for ``NAME_TTL`` (names change rarely; a state-store cache would need its own
        expiry for the handful of lookups a week). A user Jira does not show (404, or 403
        without Browse users) is remembered as unknown for as long.
        """
        self._client()
        now = self.clock()
        found: dict[str, str] = {}
        for handle in sorted(set(handles)):
            cached = self._names.get(handle)
            if cached is None or now - cached[1] >= NAME_TTL:
                params = {"accountId": handle} if self._cloud else {"username": handle}
                try:
                    user = self._request("GET", "user", params=params)
                except PermanentError:
                    user = None
                shown = user.get("displayName") if isinstance(user, dict) else None
                cached = (shown if isinstance(shown, str) and shown else None, now)
                self._names[handle] = cached
            if cached[0] is not None:
                found[handle] = cached[0]
        return found

    # -- labels and transitions -----------------------------------------------------------

    def _edit(self, key: str, body: dict[str, Any]) -> None:
        params = None if self.config.notify_users else {"notifyUsers": "false"}
        self._request("PUT", f"issue/{key}", params=params, body=body)

    def _labels(self, ref: ItemRef, labels: Sequence[str], verb: str) -> None:
        if not labels:
            return
        self._edit(ref.key, {"update": {"labels": [{verb: label} for label in labels]}})
        cached = self._view.get(ref.key) if self._view is not None else None
        if self._view is not None and cached is not None and isinstance(cached.entry, ActionItem):
            item = cached.entry
            current = set(item.labels)
            current = current | set(labels) if verb == "add" else current - set(labels)
            self._view[ref.key] = ViewEntry(item.model_copy(update={"labels": frozenset(current)}))

    def add_labels(self, ref: ItemRef, labels: Sequence[str]) -> None:
        """One PUT with ``add`` verbs; no read first, no reload after."""
        self._labels(ref, labels, "add")

    def remove_labels(self, ref: ItemRef, labels: Sequence[str]) -> None:
        """One PUT with ``remove`` verbs."""
        self._labels(ref, labels, "remove")

    def _transition(self, key: str, name: str) -> None:
        """Move ``key`` through the transition called ``name`` (or leading to that status).

        Jira lists only the transitions the caller may perform from the issue's current
        status (none at all without the Transition Issues permission) and answers 400 to one
        it refuses (no permission, a required screen field); its OpenAPI documents both for
        ``/issue/{key}/transitions``. Either way the change is impossible as configured:
        ``TransitionUnavailable``, naming the transitions Jira did offer.
        """
        raw = self._request("GET", f"issue/{key}/transitions")
        transitions = raw.get("transitions") if isinstance(raw, dict) else None
        offered = [t for t in transitions or [] if isinstance(t, dict)]
        available = tuple(str(t.get("name", "")) for t in offered)
        wanted = name.lower()
        for transition in offered:
            names = {str(transition.get("name", ""))}
            target = transition.get("to")
            if isinstance(target, dict):
                names.add(str(target.get("name", "")))
            if wanted not in {n.lower() for n in names}:
                continue
            try:
                self._request(
                    "POST",
                    f"issue/{key}/transitions",
                    body={"transition": {"id": str(transition.get("id"))}},
                )
            except PermanentError as exc:
                if exc.status not in (400, 403):
                    raise
                raise TransitionUnavailable(
                    f"{key}: Jira refused the transition {name!r} ({exc})",
                    exc.status,
                    wanted=name,
                    available=available,
                ) from None
            return
        raise TransitionUnavailable(
            f"{key}: no transition named {name!r} (available: {', '.join(available) or 'none'});"
            " set the transition name in the Jira tracker settings or give pmsync's account the"
            " Transition Issues permission",
            None,
            wanted=name,
            available=available,
        )

    def reopen(self, ref: ItemRef) -> None:
        """Through the transition named ``config.reopen_transition``."""
        self._transition(ref.key, self.config.reopen_transition)

    # -- reports --------------------------------------------------------------------------

    def _project(self) -> str:
        """Where review and log issues are created: ``report.project``, else ``project``."""
        project = self.policy.report.project or self.config.project
        if not project:
            raise PermanentError(
                f"trackers.jira[{self.name}].project is not set; name the project in which "
                "pmsync creates review and log issues (or set report.project)",
                None,
            )
        return project

    def _browse(self, key: str) -> str:
        return f"{self._server}/browse/{key}"

    def _by_label(
        self, label: str, order: str, prop: str, extra: Sequence[str] = ()
    ) -> list[dict[str, Any]]:
        jql = (
            f"project = {jql_string(self._project())} AND labels = {jql_string(label)} "
            f"ORDER BY created {order}"
        )
        fields = ["summary", "status", "labels", *extra]
        return self._search(jql, fields, properties=prop)[:50]

    def _property_of(self, issue: Mapping[str, Any], prop: str) -> dict[str, Any] | None:
        """An entity property returned with a search hit, else read with one GET."""
        returned = issue.get("properties")
        if isinstance(returned, Mapping):
            value = returned.get(prop)
            return value if isinstance(value, dict) else None
        return self._read_property(str(issue.get("key")), prop)

    def _create_issue(self, summary: str, label: str, description: str | AdfNode) -> str:
        fields = {
            "project": {"key": self._project()},
            "issuetype": {"name": self.config.report_issue_type},
            "summary": summary,
            "labels": [label],
            "description": description,
        }
        created = self._request("POST", "issue", body={"fields": fields})
        key = created.get("key") if isinstance(created, dict) else None
        if not isinstance(key, str):
            raise TransientError("POST issue: answer without a key")
        return key

    def _attach(self, key: str, name: str, data: bytes) -> None:
        """POST one file (multipart, ``X-Atlassian-Token: no-check``); never retried."""
        jira = self._client()
        mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
        payload, content_type = encode_multipart_formdata({"file": (name, data, mime)})
        headers = {"Content-Type": content_type, "X-Atlassian-Token": "no-check"}
        url = self._url(f"issue/{key}/attachments")
        self._call(
            f"POST issue/{key}/attachments",
            lambda: jira._session.post(url, data=payload, headers=headers),
            write=True,
        )

    def _sync_attachments(
        self,
        key: str,
        files: Mapping[str, bytes],
        recorded: Mapping[str, Any],
        present: Sequence[Mapping[str, Any]],
    ) -> tuple[dict[str, str], bool]:
        """Upload each file whose bytes changed, then delete the older copies of that name.

        Jira keeps every upload, a second file of the same name included, so replacing is
        upload-then-delete: a run that dies in between leaves two copies, which the next run
        sees and cleans up. A file is unchanged when the report property recorded its sha256
        and exactly one attachment of that name and size is on the issue.
        """
        digests: dict[str, str] = {}
        uploaded = False
        for name, data in files.items():
            digest = hashlib.sha256(data).hexdigest()
            digests[name] = digest
            same_name = [a for a in present if a.get("filename") == name]
            if (
                recorded.get(name) == digest
                and len(same_name) == 1
                and same_name[0].get("size") == len(data)
            ):
                continue
            self._attach(key, name, data)
            uploaded = True
            for old in same_name:
                self._request("DELETE", f"attachment/{old.get('id')}")
        return digests, uploaded

    def upsert_report(
        self,
        *,
        week_key: str,
        label: str,
        title: str,
        bodies: Mapping[str, str],
        close_previous: bool,
        attachments: Mapping[str, bytes] | None = None,
    ) -> ReportRef:
        """Find the review issue by label and its ``pmsync.report`` week; edit or create.

        Publishes ``bodies["wiki"]`` on REST v2 and Data Center, ``bodies["adf"]`` as an ADF
        document on v3. The ``pmsync.report`` property records the week, a digest of the
        title and description sent, and the sha256 of each attachment, so a rerun with the
        same report edits nothing and uploads nothing (search + property come in one request).
        """
        self._client()
        description = publish_document(
            bodies, api_version=self.config.rest_api_version, tracker=self.name
        )
        digest = hashlib.sha256(
            json.dumps([title, description], sort_keys=True).encode("utf-8")
        ).hexdigest()
        found: str | None = None
        state: dict[str, Any] = {}
        present: list[Mapping[str, Any]] = []
        previous: list[str] = []
        for issue in self._by_label(label, "DESC", REPORT_PROPERTY, ("attachment",)):
            key = str(issue.get("key"))
            fields = issue.get("fields") or {}
            status = fields.get("status") or {}
            done = (status.get("statusCategory") or {}).get("key") == "done"
            if found is not None and done:
                continue
            value = self._property_of(issue, REPORT_PROPERTY)
            week = value.get("week") if value else None
            if week is None and found is None and fields.get("summary") == title:
                week = week_key  # found by title: the property is written below
            if week == week_key and found is None:
                found = key
                state = dict(value or {})
                present = [a for a in fields.get("attachment") or () if isinstance(a, Mapping)]
            elif not done and week != week_key:
                previous.append(key)
        changed = found is None or state.get("digest") != digest
        if found is None:
            found = self._create_issue(title, label, description)
        elif changed:
            self._edit(found, {"fields": {"summary": title, "description": description}})
        files = dict(attachments or {})
        recorded = state.get("files") if isinstance(state.get("files"), dict) else {}
        digests, uploaded = self._sync_attachments(found, files, recorded or {}, present)
        wanted = {"week": week_key, "digest": digest, "files": {**(recorded or {}), **digests}}
        if wanted != state:
            self._request("PUT", f"issue/{found}/properties/{REPORT_PROPERTY}", body=wanted)
        if close_previous:
            for key in previous:
                self._transition(key, self.config.close_transition)
        changed = changed or uploaded or bool(close_previous and previous)
        return ReportRef(key=found, url=self._browse(found), changed=changed)

    def upsert_log_entry(
        self, *, log_label: str, log_title: str, week_key: str, bodies: Mapping[str, str]
    ) -> ReportRef:
        """One comment per week on the log issue, found through the marker property.

        The index entry of the week's comment records a digest of the body sent, so a rerun
        with the same entry writes nothing; a changed entry is one comment PUT.
        """
        self._client()
        candidates = self._by_label(log_label, "ASC", MARKERS_PROPERTY)
        if candidates:
            key = str(candidates[0].get("key"))
            value = self._property_of(candidates[0], MARKERS_PROPERTY) or {}
            markers = value.get("markers")
            self.marks.index[key] = dict(markers) if isinstance(markers, dict) else {}
        else:
            intro = text_document(
                "Reliability operating log: one comment per week, written by pmsync.",
                api_version=self.config.rest_api_version,
            )
            key = self._create_issue(log_title, log_label, intro)
            self.marks.index[key] = {}
        marker = f"pmsync:log:{week_key}"
        document = publish_document(
            bodies, api_version=self.config.rest_api_version, tracker=self.name
        )
        digest = hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()
        changed = not candidates
        entry = self.marks.index[key].get(marker)
        if entry is None and candidates and marker in self.marks.scan(key):
            # A run died between posting this week's entry and indexing it: repair, then edit.
            self.marks.write_index(key, dict(self.marks.index[key]))
            entry = self.marks.index[key][marker]
        if isinstance(entry, dict) and entry.get("comment"):
            comment_id = str(entry["comment"])
            if entry.get("digest") != digest:
                changed = True
                edited = {"body": with_marker_line(document, marker)}
                self._request("PUT", f"issue/{key}/comment/{comment_id}", body=edited)
                self.marks.save(key, marker, comment_id, digest)
        else:
            changed = True
            comment_id = self.marks.post(key, marker, document)
            self.marks.save(key, marker, comment_id, digest)
        url = f"{self._browse(key)}?focusedCommentId={comment_id}"
        return ReportRef(key=key, url=url, changed=changed)
