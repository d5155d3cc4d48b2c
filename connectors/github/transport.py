"""GitHub requests as pmsync spends them: typed errors, pagination, pacing of writes.

Every request goes through PyGithub's ``Requester`` (its auth and base URL handling) but at
the HTTP level, because the two things that make pmsync cheap are not in PyGithub's object
layer: a conditional list (``If-None-Match``, so an idle cycle is a free 304) and raw dicts (so
no lazy attribute fires a hidden GET per item). The connector hands the ``Requester`` its own
connection (``connectors.github.session.make_connection``), whose HTTP adapter asks the
leader fence right before each write leaves.

Pacing happens here, on the injected clock and sleep, and always before the fence: writes are
spaced ``seconds_between_writes`` apart (GitHub asks for at least a second; PyGithub's own
spacing is switched off for the connector so that no pause sits between the fence and the
socket), and content creation is held to GitHub's secondary limits through write windows
shared by every process in the state store (``ContentPacer``).

Errors leave this module typed (``TransientError``, ``RateLimited``, ``PermanentError``) and
are decided by status code and headers only, never by message text. Nothing here retries a
write; GET retries on 502/503/504 are urllib3's (``connectors.github.session``).
"""

from __future__ import annotations

import http.client
import json
import re
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
import structlog
import urllib3
from github import GithubException
from github.Requester import HTTPRequestsConnectionClass, HTTPSRequestsConnectionClass, Requester

from syncer.core.errors import PermanentError, RateLimited, TrackerError, TransientError
from syncer.core.redaction import REDACTOR
from syncer.core.write_windows import WindowLimit, WriteWindows

log = structlog.get_logger(__name__)

CONTENT_PER_MINUTE = WindowLimit("80 per minute", timedelta(minutes=1), 80)
CONTENT_PER_HOUR = WindowLimit("500 per hour", timedelta(hours=1), 500)
CONTENT_LIMITS = (CONTENT_PER_MINUTE, CONTENT_PER_HOUR)
CONTENT_WAITS = 3
"""Times the pacer waits for a full minute window before it gives up for the cycle."""
SECONDARY_DEFAULT_WAIT = timedelta(seconds=60)
_NEXT_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')
TRANSPORT_ERRORS = (
    requests.RequestException,
    urllib3.exceptions.HTTPError,
    http.client.HTTPException,
    OSError,
)


Connection = HTTPRequestsConnectionClass | HTTPSRequestsConnectionClass


def header(headers: Mapping[str, Any], name: str) -> str | None:
    """A header's value as text, from headers whose names are already lower-case."""
    value = headers.get(name.lower())
    return None if value is None else str(value)


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None


MESSAGE_CHARS = 300


def error_detail(body: Any) -> str:
    """GitHub's own words for a failed request, for the humans reading the log.

    From its JSON error body: ``message``, the first few ``errors`` of a 422 (field and code,
    or their message) and ``documentation_url``. Cut to ``MESSAGE_CHARS`` and passed through
    the log redactor, since the text is GitHub's, not ours. Never used to decide anything:
    the status and headers do that.
    """
    data = body
    if isinstance(body, bytes | str):
        try:
            data = json.loads(body) if body else None
        except ValueError:
            return ""
    if not isinstance(data, Mapping):
        return ""
    message = data.get("message")
    parts = [message.strip()] if isinstance(message, str) and message.strip() else []
    errors = data.get("errors")
    for entry in errors[:3] if isinstance(errors, list) else ():
        if isinstance(entry, Mapping):
            said = entry.get("message") or " ".join(
                str(entry[k]) for k in ("resource", "field", "code") if entry.get(k)
            )
            if said:
                parts.append(str(said))
        elif isinstance(entry, str):
            parts.append(entry)
    text = "; ".join(parts)
    if len(text) > MESSAGE_CHARS:
        text = text[: MESSAGE_CHARS - 1].rstrip() + "…"
    docs = data.get("documentation_url")
    if isinstance(docs, str) and docs.startswith("https://"):
        text = f"{text} ({docs[:200]})" if text else docs[:200]
    return REDACTOR.redact_text(text)


def classify(
    status: int, headers: Mapping[str, Any], now: datetime, what: str, detail: str = ""
) -> TrackerError | None:
    """The typed error for an HTTP answer (``None`` when it is not an error).

    Decided by status code and headers only (lower-case header names), never by message text:
    403/429 with ``x-ratelimit-remaining: 0`` is the primary limit (until
    ``x-ratelimit-reset``); 403/429 with ``retry-after`` is a secondary limit; a 429 without
    either still is a limit (GitHub asks to wait at least a minute); 5xx is transient; any
    other 4xx is permanent. ``detail`` (GitHub's message, see ``error_detail``) is appended
    to the error's text for people; it decides nothing.
    """
    said = f": {detail}" if detail else ""
    if status < 400:
        return None
    if status in (403, 429):
        if header(headers, "x-ratelimit-remaining") == "0":
            reset = _number(header(headers, "x-ratelimit-reset"))
            reset_at = datetime.fromtimestamp(reset, UTC) if reset is not None else None
            return RateLimited(f"{what}: primary rate limit", reset_at, reason="primary")
        retry_after = _number(header(headers, "retry-after"))
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
        retry_after = _number(header(headers, "retry-after"))
        return TransientError(f"{what}: HTTP {status}{said}", retry_after=retry_after)
    return PermanentError(f"{what}: HTTP {status}{said}", status=status)


def typed_error(exc: GithubException, what: str, now: datetime) -> TrackerError:
    """The pmsync error for an exception PyGithub raised, by the same status/header rules."""
    headers = {str(k).lower(): v for k, v in (exc.headers or {}).items()}
    detail = error_detail(exc.data)
    error = classify(exc.status, headers, now, what, detail)
    if error is not None:
        return error
    said = f": {detail}" if detail else ""
    return PermanentError(f"{what}: HTTP {exc.status}{said}", exc.status)


@dataclass(frozen=True)
class Answer:
    """One HTTP answer: status, lower-case headers, decoded JSON (``None`` when empty)."""

    status: int
    headers: Mapping[str, Any]
    data: Any


def rows_of(answer: Answer, what: str) -> list[Any]:
    """The rows of a list answer; a body that is not a JSON list is a transient error."""
    if not isinstance(answer.data, list):
        raise TransientError(f"{what}: expected a JSON list")
    return list(answer.data)


class Transport:
    """Requests to one GitHub API, counted per (verb, status); typed errors out, JSON in.

    ``connection`` (when given) carries every request, so the fence in its adapter sees each
    write; writes are spaced ``write_spacing_s`` apart on ``clock`` with ``sleep``, counted
    from the end of the previous write as PyGithub does.
    """

    def __init__(
        self,
        requester: Requester,
        base_url: str,
        clock: Callable[[], datetime],
        *,
        connection: Connection | None = None,
        write_spacing_s: float = 0.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.requester = requester
        self.base_url = base_url
        self.clock = clock
        self.connection = connection
        self.write_spacing_s = write_spacing_s
        self.sleep = sleep
        self.requests: Counter[tuple[str, int]] = Counter()
        self.rate_limit_remaining: int | None = None
        self._last_write_end: datetime | None = None

    def _space_write(self) -> None:
        """Wait until ``write_spacing_s`` has passed since the previous write ended."""
        if self.write_spacing_s <= 0 or self._last_write_end is None:
            return
        wait = (
            self._last_write_end + timedelta(seconds=self.write_spacing_s) - self.clock()
        ).total_seconds()
        if wait > 0:
            self.sleep(wait)

    def call(
        self,
        verb: str,
        url: str,
        what: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        expected: Collection[int] = (),
    ) -> Answer:
        """One request through PyGithub's Requester; typed errors out, JSON in.

        A write first waits out the spacing; the fence is asked after that, in the adapter,
        and a refusal (``LeadershipLost``) leaves unchanged: nothing was sent.

        A failing status warns, except one in ``expected``: the caller declares it an answer
        (the owner look-up's 404 is a departed account), so it is logged at INFO with the
        same fields, and still raised as its typed error for the caller to read.
        """
        write = verb != "GET"
        if write:
            self._space_write()
        try:
            status, response_headers, text = self.requester.requestJson(
                verb,
                url,
                parameters=dict(params or {}),
                headers=dict(headers or {}),
                input=body,
                cnx=self.connection,
            )
        except GithubException as exc:  # raised while getting an App installation token
            raise typed_error(exc, what, self.clock()) from None
        except TRANSPORT_ERRORS as exc:
            self.requests[(verb, 0)] += 1
            raise TransientError(f"{what}: {type(exc).__name__}") from exc
        finally:
            if write:
                self._last_write_end = self.clock()
        self.requests[(verb, status)] += 1
        headers_lc = {k.lower(): v for k, v in response_headers.items()}
        remaining = _number(header(headers_lc, "x-ratelimit-remaining"))
        if remaining is not None:
            self.rate_limit_remaining = int(remaining)
        if status >= 400:
            detail = error_detail(text)
            error = classify(status, headers_lc, self.clock(), what, detail)
            if error is not None:
                fields = {"verb": verb, "what": what, "status": status, "message": detail}
                if status in expected:
                    log.info("github request answered as its caller expects", **fields)
                else:
                    log.warning("github request failed", **fields)
                raise error
        try:
            data = json.loads(text) if text else None
        except ValueError:
            raise TransientError(f"{what}: HTTP {status} with a body that is not JSON") from None
        return Answer(status, headers_lc, data)

    def pages(
        self,
        url: str,
        what: str,
        params: Mapping[str, Any],
        headers: Mapping[str, str] | None = None,
    ) -> Iterator[Answer]:
        """GET a list, then each ``Link: rel=next`` page, one request per page taken.

        Lazy: a caller that has seen enough stops iterating and no further page is fetched.
        """
        answer = self.call("GET", url, what, params=params, headers=headers)
        yield answer
        while (next_url := self.next_link(answer.headers, what)) is not None:
            answer = self.call("GET", next_url, what)
            yield answer

    def get_all(self, url: str, what: str, params: Mapping[str, Any]) -> list[Any]:
        """Every row of a list, all pages followed."""
        rows: list[Any] = []
        for answer in self.pages(url, what, params):
            rows.extend(rows_of(answer, what))
        return rows

    def next_link(self, headers: Mapping[str, Any], what: str) -> str | None:
        """The next page's URL; a next page on another host is refused (the token goes along)."""
        match = _NEXT_LINK.search(header(headers, "link") or "")
        if match is None:
            return None
        url = match.group(1)
        base = urlsplit(self.base_url)
        target = urlsplit(url)
        if (target.hostname, target.port) != (base.hostname, base.port):
            raise PermanentError(f"{what}: next page on another host ({target.hostname})")
        return url


class ContentPacer:
    """GitHub's content-creation limits on one host: <= 80 a minute (wait), <= 500 an hour (stop).

    Creating an issue, a comment or a label counts; edits, label changes on an issue and
    deletions do not. The windows live in ``windows`` (the state store), so every process and
    both replicas writing to the host share them; call :meth:`reserve` right before each
    content-creating POST. The reservation counts even if the request then fails: a POST
    whose answer was lost may have created the content.
    """

    def __init__(
        self,
        host: str,
        windows: WriteWindows,
        clock: Callable[[], datetime],
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.host = host
        self.windows = windows
        self.clock = clock
        self.sleep = sleep

    def reserve(self) -> None:
        """Reserve one content write: wait out a full minute, raise ``RateLimited`` at a full
        hour (or when the minute stays full, taken by other processes, after a few waits)."""
        for attempt in range(CONTENT_WAITS + 1):
            now = self.clock()
            verdict = self.windows.reserve_write(self.host, now, CONTENT_LIMITS)
            if verdict.granted:
                return
            limit = verdict.limit or CONTENT_PER_HOUR
            retry_at = verdict.retry_at or now + limit.span
            if limit is CONTENT_PER_HOUR or attempt == CONTENT_WAITS:
                reason = "content-hour" if limit is CONTENT_PER_HOUR else "content-minute"
                raise RateLimited(f"content creation: {limit.name}", retry_at, reason=reason)
            wait = max((retry_at - now).total_seconds(), 0.0)
            log.info("pacing content creation", host=self.host, wait_s=round(wait, 3))
            self.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover
