"""The GitHub connector's I/O: PyGithub's HTTP stack, spent one request at a time on purpose.

Every request goes through PyGithub's ``Requester`` (its auth, base URL handling, pacing of
writes and connection pool) but at the HTTP level, because the two things that make pmsync
cheap are not in PyGithub's object layer: a conditional list (``If-None-Match``, so an idle
cycle is a free 304) and raw dicts (so no lazy attribute fires a hidden GET per item).

Cost per cycle: one list request per repository (more only when more than 100 items changed),
one GET per item closed since the last cycle that links a pull request (is it merged?), and
for writes, exactly the writes plus at most one marker check per comment. Errors leave this
module typed (``TransientError``, ``RateLimited``, ``PermanentError``) and are decided by status
code and headers only. Writes are never retried: a retried POST is a duplicate comment.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import re
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

import requests
import structlog
import urllib3
from github import Auth, Github, GithubException
from pydantic import SecretStr
from urllib3.util.retry import Retry

from connectors.github.mapper import (
    is_pull_request,
    map_issue,
    parse_timestamp,
    pull_request_links,
    with_merge_status,
)
from connectors.github.renderer import render_message, with_marker
from syncer.actions import MARKDOWN, body_in
from syncer.cursors import Cursor, CursorStore
from syncer.durations import parse_span
from syncer.errors import (
    ConfigError,
    PermanentError,
    RateLimited,
    TrackerError,
    TransientError,
)
from syncer.messages import Message, markers_in
from syncer.model import ActionItem, ItemRef, State
from syncer.policy import Policy
from syncer.tracker import FetchResult, ReportRef, SkippedItem
from syncer.tracker_config import GitHubTracker

log = structlog.get_logger(__name__)

PER_PAGE = 100
SAFE_METHODS = frozenset({"GET", "HEAD"})
RETRY_STATUSES = (502, 503, 504)
CONTENT_PER_MINUTE = 80
CONTENT_PER_HOUR = 500
SECONDARY_DEFAULT_WAIT = timedelta(seconds=60)
REPORT_MARKER = "pmsync:report:"
LOG_MARKER = "pmsync:log"
_NEXT_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')
_WEEK_KEY = re.compile(r"^(\d{4})-W(\d{2})$")
_REPO_NAME = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_LABEL_COLOURS = {"escalat": "b60205", "overdue": "d93f0b", "due-soon": "fbca04"}
TRANSPORT_ERRORS = (
    requests.RequestException,
    urllib3.exceptions.HTTPError,
    http.client.HTTPException,
    OSError,
)


class GetOnlyRetry(Retry):
    """urllib3 retry that never repeats a write, whatever went wrong.

    urllib3 retries connection errors for every method; a POST whose connection broke after
    the server stored it would be posted twice. Here only GET/HEAD are retried, and only on
    502/503/504 and connection errors, with exponential backoff.
    """

    def increment(  # type: ignore[override]
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: Any = None,
    ) -> Retry:
        if method is not None and method.upper() not in SAFE_METHODS:
            if error is not None:
                raise error
            raise urllib3.exceptions.MaxRetryError(_pool, url or "", None)
        return super().increment(method, url, response, error, _pool, _stacktrace)


def make_retry() -> Retry:
    """At most two retries of a GET on 502/503/504 or a broken connection; never a write."""
    return GetOnlyRetry(
        total=2,
        connect=2,
        read=2,
        status=2,
        other=0,
        allowed_methods=SAFE_METHODS,
        status_forcelist=RETRY_STATUSES,
        backoff_factor=0.25,
        raise_on_status=False,
        respect_retry_after_header=False,
    )


def _header(headers: Mapping[str, Any], name: str) -> str | None:
    value = headers.get(name.lower())
    return None if value is None else str(value)


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


def classify(
    status: int, headers: Mapping[str, Any], now: datetime, what: str
) -> TrackerError | None:
    """The typed error for an HTTP answer (``None`` when it is not an error).

    Decided by status code and headers only (lower-case header names), never by message text:
    403/429 with ``x-ratelimit-remaining: 0`` is the primary limit (until
    ``x-ratelimit-reset``); 403/429 with ``retry-after`` is a secondary limit; a 429 without
    either still is a limit (GitHub asks to wait at least a minute); 5xx is transient; any
    other 4xx is permanent.
    """
    if status < 400:
        return None
    if status in (403, 429):
        if _header(headers, "x-ratelimit-remaining") == "0":
            reset = _number(_header(headers, "x-ratelimit-reset"))
            reset_at = datetime.fromtimestamp(reset, UTC) if reset is not None else None
            return RateLimited(f"{what}: primary rate limit", reset_at, reason="primary")
        retry_after = _number(_header(headers, "retry-after"))
        if retry_after is not None:
            return RateLimited(
                f"{what}: secondary rate limit",
                now + timedelta(seconds=retry_after),
                reason="secondary",
            )
        if status == 429:
            return RateLimited(
                f"{what}: secondary rate limit", now + SECONDARY_DEFAULT_WAIT, reason="secondary"
            )
    if status >= 500:
        retry_after = _number(_header(headers, "retry-after"))
        return TransientError(f"{what}: HTTP {status}", retry_after=retry_after)
    return PermanentError(f"{what}: HTTP {status}", status=status)


def read_token(config: GitHubTracker, token: SecretStr | None = None) -> SecretStr | None:
    """The token: given, else ``config.token_file``, else the ``config.token_env`` variable."""
    if token is not None:
        return token
    if config.token_file is not None:
        try:
            text = config.token_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(
                [f"trackers.github[{config.name}].token_file: cannot read: {exc.strerror}"]
            ) from None
        return SecretStr(text) if text else None
    value = os.environ.get(config.token_env, "").strip()
    return SecretStr(value) if value else None


def make_auth(config: GitHubTracker, token: SecretStr | None = None) -> Auth.Auth:
    """PyGithub auth: a GitHub App installation when configured, else a token."""
    if config.app is not None and token is None:
        try:
            key = config.app.private_key_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                [
                    f"trackers.github[{config.name}].app.private_key_file: cannot read "
                    f"{config.app.private_key_file}: {exc.strerror}"
                ]
            ) from None
        app = Auth.AppAuth(config.app.app_id, key)
        return app.get_installation_auth(config.app.installation_id)
    secret = read_token(config, token)
    if secret is None:
        raise ConfigError(
            [
                f"trackers.github[{config.name}]: no credentials; set the {config.token_env} "
                "environment variable, token_file, or app (app_id, private_key_file, "
                "installation_id)"
            ]
        )
    return Auth.Token(secret.get_secret_value())


def web_host(base_url: str) -> str:
    """Where issues and pull requests are shown: github.com for api.github.com, else the host."""
    host = (urlsplit(base_url).hostname or "").lower()
    return "github.com" if host == "api.github.com" else host


def make_github(config: GitHubTracker, auth: Auth.Auth) -> Github:
    """The PyGithub client, configured for pmsync: no blind retries, no per-read pacing."""
    return Github(
        base_url=config.base_url.rstrip("/"),
        auth=auth,
        per_page=PER_PAGE,
        timeout=max(1, math.ceil(config.request_timeout_s)),  # PyGithub insists on whole seconds
        retry=make_retry(),
        seconds_between_requests=0,
        seconds_between_writes=config.seconds_between_writes,
        lazy=True,
    )


@dataclass(frozen=True)
class Answer:
    """One HTTP answer: status, lower-case headers, decoded JSON (``None`` when empty)."""

    status: int
    headers: Mapping[str, Any]
    data: Any


@dataclass(frozen=True)
class Cached:
    """What the connector remembers of one issue between cycles."""

    entry: ActionItem | SkippedItem
    comments: int | None


@dataclass(frozen=True)
class ListAnswer:
    raws: list[Any]
    etag: str | None


@dataclass
class CommentScan:
    """Markers seen in an issue's comments up to ``until`` (GitHub's own timestamp)."""

    until: str | None = None
    markers: set[str] = field(default_factory=set)


def week_start(week_key: str) -> date | None:
    """Monday of an ISO week key such as ``2026-W47``."""
    match = _WEEK_KEY.match(week_key)
    if not match:
        return None
    try:
        return date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
    except ValueError:
        return None


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class GitHubConnector:
    """The ``Tracker`` for one GitHub (github.com or Enterprise Server) configuration."""

    def __init__(
        self,
        config: GitHubTracker,
        policy: Policy,
        cursors: CursorStore,
        clock: Callable[[], datetime],
        token: SecretStr | None = None,
        sleep: Callable[[float], None] = time.sleep,
        *,
        report_repository: str | None = None,
    ) -> None:
        self.config = config
        self.policy = policy
        self.cursors = cursors
        self.clock = clock
        self.sleep = sleep
        self.github = make_github(config, make_auth(config, token))
        self.requester = self.github.requester
        self.report_repository = report_repository
        self.web_hosts = {web_host(config.base_url)}
        self.requests: Counter[tuple[str, int]] = Counter()
        self.rate_limit_remaining: int | None = None
        self._cache: dict[str, dict[int, Cached]] = {}
        self._repo_list: list[str] | None = None
        self._repo_labels: dict[str, set[str]] = {}
        self._labels_listed: set[str] = set()
        self._scans: dict[str, CommentScan] = {}
        self._posted: dict[str, set[str]] = {}
        self._uncertain: set[str] = set()
        self._content_writes: deque[datetime] = deque()

    @property
    def name(self) -> str:
        return self.config.name

    # -- HTTP ---------------------------------------------------------------------------

    def _call(
        self,
        verb: str,
        url: str,
        what: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
    ) -> Answer:
        """One request through PyGithub's Requester; typed errors out, JSON in."""
        try:
            status, response_headers, text = self.requester.requestJson(
                verb, url, parameters=dict(params or {}), headers=dict(headers or {}), input=body
            )
        except GithubException as exc:  # raised while getting an App installation token
            error = classify(exc.status, exc.headers or {}, self.clock(), what)
            raise error or PermanentError(f"{what}: HTTP {exc.status}", exc.status) from None
        except TRANSPORT_ERRORS as exc:
            self.requests[(verb, 0)] += 1
            raise TransientError(f"{what}: {type(exc).__name__}") from exc
        self.requests[(verb, status)] += 1
        headers_lc = {k.lower(): v for k, v in response_headers.items()}
        remaining = _number(_header(headers_lc, "x-ratelimit-remaining"))
        if remaining is not None:
            self.rate_limit_remaining = int(remaining)
        error = classify(status, headers_lc, self.clock(), what)
        if error is not None:
            log.warning("github request failed", verb=verb, what=what, status=status)
            raise error
        try:
            data = json.loads(text) if text else None
        except ValueError:
            raise TransientError(f"{what}: HTTP {status} with a body that is not JSON") from None
        return Answer(status, headers_lc, data)

    def _get_all(
        self, url: str, what: str, params: Mapping[str, Any], headers: Mapping[str, str]
    ) -> tuple[Answer, list[Any], int]:
        """GET a list and follow ``Link: rel=next``; (first answer, all rows, pages)."""
        first = self._call("GET", url, what, params=params, headers=headers)
        if first.status == 304:
            return first, [], 1
        rows = self._rows(first, what)
        pages = 1
        next_url = self._next_link(first.headers, what)
        while next_url is not None:
            answer = self._call("GET", next_url, what)
            rows.extend(self._rows(answer, what))
            pages += 1
            next_url = self._next_link(answer.headers, what)
        return first, rows, pages

    @staticmethod
    def _rows(answer: Answer, what: str) -> list[Any]:
        if not isinstance(answer.data, list):
            raise TransientError(f"{what}: expected a JSON list")
        return list(answer.data)

    def _next_link(self, headers: Mapping[str, Any], what: str) -> str | None:
        match = _NEXT_LINK.search(_header(headers, "link") or "")
        if match is None:
            return None
        url = match.group(1)
        base = urlsplit(self.config.base_url)
        target = urlsplit(url)
        if (target.hostname, target.port) != (base.hostname, base.port):
            raise PermanentError(f"{what}: next page on another host ({target.hostname})")
        return url

    # -- reads --------------------------------------------------------------------------

    def repositories(self) -> list[str]:
        """Configured repositories, plus the organisation's (listed once per process)."""
        repos = list(dict.fromkeys(self.config.repositories))
        if self.config.org and self._repo_list is None:
            _, rows, _ = self._get_all(
                f"/orgs/{self.config.org}/repos",
                f"list repositories of {self.config.org}",
                {"per_page": PER_PAGE, "type": "all"},
                {},
            )
            self._repo_list = [
                r["full_name"]
                for r in rows
                if isinstance(r, Mapping)
                and isinstance(r.get("full_name"), str)
                and not r.get("archived")
            ]
        repos.extend(r for r in self._repo_list or [] if r not in repos)
        return repos

    def fetch(self, *, full: bool) -> FetchResult:
        """Every item in scope as of now; incremental underneath, a full view on top."""
        errors: list[str] = []
        try:
            repos = self.repositories()
        except (PermanentError, TransientError) as exc:
            return FetchResult(items=(), errors=(str(exc),), complete=False)
        items: list[ActionItem] = []
        skipped: list[SkippedItem] = []
        complete = True
        for repo in repos:
            try:
                repo_errors = self._sync_repo(repo, full)
            except RateLimited:
                raise
            except (PermanentError, TransientError) as exc:
                log.warning("repository not read", repo=repo, error=str(exc))
                errors.append(str(exc))
                complete = False
                continue
            errors.extend(repo_errors)
            for cached in self._cache.get(repo, {}).values():
                if isinstance(cached.entry, ActionItem):
                    items.append(cached.entry)
                else:
                    skipped.append(cached.entry)
        return FetchResult(tuple(items), tuple(skipped), tuple(errors), complete)

    def _cursor_key(self, repo: str) -> str:
        return f"github:{self.name}:{repo}"

    def _needs_full(self, repo: str, cursor: Cursor | None, now: datetime) -> bool:
        if repo not in self._cache or cursor is None or cursor.full_sync_at is None:
            return True
        every = parse_span(self.config.full_resync_every).as_timedelta()
        return now - cursor.full_sync_at >= every

    def _list(self, repo: str, etag: str | None, watermark: datetime | None) -> ListAnswer | None:
        """The repository's action items, newest change first; None when unchanged (304).

        One stable URL per repository (no ``since`` in it), sorted by ``updated`` descending:
        its first page's ETag stays valid from the cold sync on, so every idle cycle is a
        free 304, and a changed repository costs its first page. With a ``watermark`` (the
        newest ``updated_at`` of the last pass, the saved cursor) paging stops at the first
        page that reaches older items: everything beyond it is already known.
        """
        params: dict[str, Any] = {
            "labels": self.config.action_label,
            "state": "all",
            "sort": "updated",
            "direction": "desc",
            "per_page": PER_PAGE,
        }
        headers = {"If-None-Match": etag} if etag else {}
        what = f"list issues of {repo}"
        first = self._call("GET", f"/repos/{repo}/issues", what, params=params, headers=headers)
        if first.status == 304:
            return None
        rows = self._rows(first, what)
        answer = first
        while watermark is None or not _reaches(rows, watermark):
            next_url = self._next_link(answer.headers, what)
            if next_url is None:
                break
            answer = self._call("GET", next_url, what)
            rows.extend(self._rows(answer, what))
        return ListAnswer(raws=rows, etag=_header(first.headers, "etag"))

    def _sync_repo(self, repo: str, full: bool) -> list[str]:
        """Bring the cache of ``repo`` up to date; save its cursor only when that worked."""
        now = self.clock()
        key = self._cursor_key(repo)
        cursor = self.cursors.get_cursor(key)
        full = full or self._needs_full(repo, cursor, now)
        etag = None if full or cursor is None else cursor.etag
        watermark = None if full or cursor is None else cursor.since
        previous = self._cache.get(repo, {})
        fresh: dict[int, Cached] = {} if full else dict(previous)
        answer = self._list(repo, etag, watermark)
        if answer is None:
            log.debug("repository unchanged", repo=repo)
            return []
        rows = answer.raws
        newest = max((t for r in rows if (t := _updated(r)) is not None), default=watermark)
        latest = {r.get("number"): r for r in rows if isinstance(r, Mapping)}  # pages overlap
        errors = self._merge(
            repo=repo, rows=latest.values(), fresh=fresh, previous=previous, now=now
        )
        self._cache[repo] = fresh
        full_sync_at = now if full else (cursor.full_sync_at if cursor else None)
        self.cursors.put_cursor(
            key, Cursor(since=newest, etag=answer.etag, full_sync_at=full_sync_at)
        )
        log.info("repository synced", repo=repo, full=full, rows=len(rows), items=len(fresh))
        return errors

    def _merge(
        self,
        *,
        repo: str,
        rows: Iterable[Any],
        fresh: dict[int, Cached],
        previous: Mapping[int, Cached],
        now: datetime,
    ) -> list[str]:
        errors: list[str] = []
        window = self.policy.closure.check_closed_within.as_timedelta()
        for raw in rows:
            if isinstance(raw, Mapping) and is_pull_request(raw):
                continue
            entry = map_issue(raw, config=self.config, policy=self.policy, repo=repo)
            number = raw.get("number") if isinstance(raw, Mapping) else None
            if not isinstance(number, int):
                log.warning("issue without a number ignored", repo=repo)
                continue
            comments = raw.get("comments")
            if isinstance(entry, ActionItem):
                before = previous.get(number)
                entry, problem = self._verify_closure(entry, before, now, window)
                if problem:
                    errors.append(problem)
                self._repo_labels.setdefault(repo, set()).update(
                    label.casefold() for label in entry.labels
                )
            fresh[number] = Cached(entry, comments if isinstance(comments, int) else None)
        return errors

    def _verify_closure(
        self, item: ActionItem, before: Cached | None, now: datetime, window: timedelta
    ) -> tuple[ActionItem, str | None]:
        """Check linked pull requests of an item closed since we last saw it (one GET each)."""
        if item.state is not State.CLOSED or item.closed_at is None:
            return item, None
        links = pull_request_links(item, {*self.web_hosts, _host(item.url)})
        if not links:
            return item, None
        old = before.entry if before is not None else None
        merged: dict[str, bool] = {}
        if isinstance(old, ActionItem) and old.closed_at == item.closed_at:
            merged = {
                e.url: e.verified
                for e in old.evidence
                if e.url is not None and e.verified is not None
            }
        missing = [link for link in links if link.url not in merged]
        if not missing or now - item.closed_at > window:
            return with_merge_status(item, merged), None
        for link in missing:
            what = f"check pull request {link.repo}#{link.number} of {item.ref.key}"
            try:
                answer = self._call("GET", f"/repos/{link.repo}/pulls/{link.number}", what)
            except PermanentError as exc:
                if exc.status == 404:
                    merged[link.url] = False
                    continue
                return with_merge_status(item, merged), str(exc)
            except TransientError as exc:
                return with_merge_status(item, merged), str(exc)
            data = answer.data if isinstance(answer.data, Mapping) else {}
            merged[link.url] = data.get("merged") is True
        return with_merge_status(item, merged), None

    # -- writes -------------------------------------------------------------------------

    def _split(self, ref: ItemRef) -> tuple[str, int]:
        repo, _, number = ref.key.rpartition("#")
        if ref.tracker != self.name or not _REPO_NAME.match(repo) or not number.isdigit():
            raise PermanentError(f"{ref} is not an issue of GitHub tracker {self.name}")
        return repo, int(number)

    def _cached(self, repo: str, number: int) -> Cached | None:
        return self._cache.get(repo, {}).get(number)

    def has_marker(self, ref: ItemRef, marker: str) -> bool:
        """Whether a comment carrying ``marker`` is on the issue (0 or 1 request, usually).

        Free when we posted it ourselves in this process, or when the last list answer said
        the issue has no comments; otherwise one GET of the comments updated since the last
        scan (the first scan in a process reads them all, 100 per request).
        """
        repo, number = self._split(ref)
        if marker in self._posted.get(ref.key, set()):
            return True
        cached = self._cached(repo, number)
        if cached is not None and cached.comments == 0 and ref.key not in self._uncertain:
            return False
        scan = self._scans.setdefault(ref.key, CommentScan())
        params: dict[str, Any] = {"per_page": PER_PAGE}
        if scan.until is not None:
            params["since"] = scan.until
        _, rows, _ = self._get_all(
            f"/repos/{repo}/issues/{number}/comments", f"read comments of {ref.key}", params, {}
        )
        for row in rows:
            if not isinstance(row, Mapping):
                continue
            body = row.get("body")
            if isinstance(body, str):
                scan.markers |= markers_in(body)
            stamp = row.get("updated_at")
            if isinstance(stamp, str) and (scan.until is None or stamp > scan.until):
                scan.until = stamp
        self._uncertain.discard(ref.key)
        return marker in scan.markers

    def _before_content(self) -> None:
        """GitHub's content-creation limits: <= 80 per minute (wait), <= 500 per hour (stop)."""
        now = self.clock()
        while self._content_writes and now - self._content_writes[0] >= timedelta(hours=1):
            self._content_writes.popleft()
        if len(self._content_writes) >= CONTENT_PER_HOUR:
            reset_at = self._content_writes[0] + timedelta(hours=1)
            raise RateLimited("content creation: 500 per hour", reset_at, reason="content-hour")
        last_minute = [t for t in self._content_writes if now - t < timedelta(minutes=1)]
        if len(last_minute) >= CONTENT_PER_MINUTE:
            wait = (last_minute[0] + timedelta(minutes=1) - now).total_seconds()
            log.info("pacing content creation", wait_s=round(wait, 3))
            self.sleep(max(wait, 0.0))

    def _create(self, url: str, what: str, body: Any, key: str | None = None) -> Answer:
        """A content-creating POST (issue or comment), paced and never retried."""
        self._before_content()
        try:
            answer = self._call("POST", url, what, body=body)
        except TrackerError:
            if key is not None:
                self._uncertain.add(key)
            raise
        self._content_writes.append(self.clock())
        return answer

    def post_comment(self, ref: ItemRef, message: Message) -> None:
        repo, number = self._split(ref)
        self._create(
            f"/repos/{repo}/issues/{number}/comments",
            f"comment on {ref.key}",
            {"body": render_message(message)},
            key=ref.key,
        )
        self._posted.setdefault(ref.key, set()).add(message.marker)

    def _label_spec(self, name: str) -> dict[str, str]:
        colour = next((c for k, c in _LABEL_COLOURS.items() if k in name.lower()), "5319e7")
        description = "Managed by pmsync"
        for index, tier in enumerate(self.policy.escalation.tiers, start=1):
            if name == tier.label:
                description = f"pmsync escalation tier {index}: {tier.name}"
        return {"name": name, "color": colour, "description": description[:100]}

    def ensure_labels(self, repo: str, labels: Sequence[str]) -> None:
        """Create the repository labels that do not exist yet, with a colour and description."""
        known = self._repo_labels.setdefault(repo, set())
        if all(label.casefold() in known for label in labels):
            return
        if repo not in self._labels_listed:
            _, rows, _ = self._get_all(
                f"/repos/{repo}/labels", f"list labels of {repo}", {"per_page": PER_PAGE}, {}
            )
            known.update(
                r["name"].casefold()
                for r in rows
                if isinstance(r, Mapping) and isinstance(r.get("name"), str)
            )
            self._labels_listed.add(repo)
        for label in labels:
            if label.casefold() in known:
                continue
            try:
                self._call(
                    "POST",
                    f"/repos/{repo}/labels",
                    f"create label {label!r} in {repo}",
                    body=self._label_spec(label),
                )
            except PermanentError as exc:
                if exc.status != 422:  # 422: created meanwhile by someone else
                    raise
            known.add(label.casefold())

    def add_labels(self, ref: ItemRef, labels: Sequence[str]) -> None:
        repo, number = self._split(ref)
        self.ensure_labels(repo, labels)
        self._call(
            "POST",
            f"/repos/{repo}/issues/{number}/labels",
            f"label {ref.key}",
            body={"labels": list(labels)},
        )

    def remove_labels(self, ref: ItemRef, labels: Sequence[str]) -> None:
        repo, number = self._split(ref)
        for label in labels:
            try:
                self._call(
                    "DELETE",
                    f"/repos/{repo}/issues/{number}/labels/{quote(label, safe='')}",
                    f"unlabel {ref.key}",
                )
            except PermanentError as exc:
                if exc.status != 404:  # 404: the label is not on the issue, which is the goal
                    raise

    def reopen(self, ref: ItemRef) -> None:
        repo, number = self._split(ref)
        self._call(
            "PATCH",
            f"/repos/{repo}/issues/{number}",
            f"reopen {ref.key}",
            body={"state": "open", "state_reason": "reopened"},
        )

    # -- weekly report and operating log ------------------------------------------------

    def report_repo(self) -> str:
        repo = self.report_repository or next(iter(self.repositories()), None)
        if repo is None:
            raise PermanentError(f"GitHub tracker {self.name} has no repository for reports")
        return repo

    def _issues_with_label(self, repo: str, label: str, direction: str) -> list[Mapping[str, Any]]:
        first = self._call(
            "GET",
            f"/repos/{repo}/issues",
            f"find issues labelled {label!r} in {repo}",
            params={
                "labels": label,
                "state": "all",
                "sort": "created",
                "direction": direction,
                "per_page": PER_PAGE,
            },
        )
        return [
            r
            for r in self._rows(first, "list issues")
            if isinstance(r, Mapping) and not is_pull_request(r)
        ]

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
        """The week's review issue, found by label and marker, created or updated in place.

        Publishes ``bodies["markdown"]``. ``attachments`` are ignored: GitHub's REST API has
        no issue attachments, and the Markdown body already carries the trend as a Mermaid
        chart, which GitHub renders.
        """
        body = body_in(bodies, MARKDOWN, tracker=self.name)
        repo = self.report_repo()
        marker = f"{REPORT_MARKER}{week_key}"
        full_body = with_marker(body, marker)
        self.ensure_labels(repo, [label])
        issues = self._issues_with_label(repo, label, "desc")
        current = next((i for i in issues if marker in markers_in(_body(i))), None)
        changed = current is None or _body(current) != full_body or current.get("title") != title
        if current is None:
            created = self._create(
                f"/repos/{repo}/issues",
                f"create report {week_key} in {repo}",
                {"title": title, "body": full_body, "labels": [label]},
            )
            current = created.data if isinstance(created.data, Mapping) else {}
        elif _body(current) != full_body or current.get("title") != title:
            self._call(
                "PATCH",
                f"/repos/{repo}/issues/{current['number']}",
                f"update report {week_key} in {repo}",
                body={"title": title, "body": full_body},
            )
        number = current.get("number")
        if close_previous and isinstance(number, int):
            for issue in issues:
                weeks = [
                    m.removeprefix(REPORT_MARKER)
                    for m in markers_in(_body(issue))
                    if m.startswith(REPORT_MARKER)
                ]
                older = [w for w in weeks if w < week_key]
                if issue.get("state") == "open" and older and issue.get("number") != number:
                    changed = True
                    link = f"Superseded by #{number}."
                    old_body = _body(issue)
                    new_body = old_body if link in old_body else f"{old_body.rstrip()}\n\n{link}"
                    self._call(
                        "PATCH",
                        f"/repos/{repo}/issues/{issue['number']}",
                        f"close report {older[0]} in {repo}",
                        body={"state": "closed", "state_reason": "completed", "body": new_body},
                    )
        return ReportRef(
            key=f"{repo}#{number}", url=str(current.get("html_url") or ""), changed=changed
        )

    def upsert_log_entry(
        self, *, log_label: str, log_title: str, week_key: str, bodies: Mapping[str, str]
    ) -> ReportRef:
        """One comment per week on the long-lived log issue: edited on rerun, never doubled."""
        body = body_in(bodies, MARKDOWN, tracker=self.name)
        repo = self.report_repo()
        self.ensure_labels(repo, [log_label])
        issues = self._issues_with_label(repo, log_label, "asc")
        log_issue = next((i for i in issues if LOG_MARKER in markers_in(_body(i))), None)
        changed = log_issue is None
        if log_issue is None:
            intro = "Reliability operating log: one comment per week, written by pmsync."
            created = self._create(
                f"/repos/{repo}/issues",
                f"create operating log in {repo}",
                {"title": log_title, "body": with_marker(intro, LOG_MARKER), "labels": [log_label]},
            )
            log_issue = created.data if isinstance(created.data, Mapping) else {}
        number = log_issue.get("number")
        key = f"{repo}#{number}"
        marker = f"{LOG_MARKER}:{week_key}"
        full_body = with_marker(body, marker)
        params: dict[str, Any] = {"per_page": PER_PAGE}
        monday = week_start(week_key)
        if monday is not None:
            since = datetime.combine(monday - timedelta(days=7), datetime.min.time(), UTC)
            params["since"] = iso(since)
        _, rows, _ = self._get_all(
            f"/repos/{repo}/issues/{number}/comments", f"read comments of {key}", params, {}
        )
        existing = next(
            (r for r in rows if isinstance(r, Mapping) and marker in markers_in(_body(r))), None
        )
        changed = changed or existing is None or _body(existing) != full_body
        if existing is None:
            created = self._create(
                f"/repos/{repo}/issues/{number}/comments",
                f"log entry {week_key} on {key}",
                {"body": full_body},
                key=key,
            )
            existing = created.data if isinstance(created.data, Mapping) else {}
        elif _body(existing) != full_body:
            self._call(
                "PATCH",
                f"/repos/{repo}/issues/comments/{existing['id']}",
                f"edit log entry {week_key} on {key}",
                body={"body": full_body},
            )
        return ReportRef(key=key, url=str(existing.get("html_url") or ""), changed=changed)


def _body(raw: Mapping[str, Any]) -> str:
    body = raw.get("body")
    return body if isinstance(body, str) else ""


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def _updated(raw: Any) -> datetime | None:
    return parse_timestamp(raw.get("updated_at")) if isinstance(raw, Mapping) else None


def _reaches(rows: list[Any], watermark: datetime) -> bool:
    """Whether a newest-first listing has reached items older than ``watermark``."""
    oldest = _updated(rows[-1]) if rows else None
    return oldest is not None and oldest < watermark
