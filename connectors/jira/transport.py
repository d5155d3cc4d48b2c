"""Jira requests as pmsync spends them: typed errors, GET retries, counting, searches.

Every request leaves through the library's session (``connectors.jira.adapter``), on which
the connector counts each answer by (verb, status) and mounts the fence's adapter, so the
library's own requests (server info, searches) are counted and fenced like pmsync's. The
library client is built on first use, not in the constructor, so a connector that is never
asked anything costs no request; and without its serverInfo GET when an earlier process
checked this configuration against the site already (``site_checked_before``).

Errors leave this module typed (``connectors.jira.errors.translate``: status code and
headers, never message text). Only GETs are retried, and reads Atlassian sends as POST (a body
of ids): bounded, with growing backoff honouring ``Retry-After``, on the injected sleep. A
write is sent once; a POST whose outcome is unknown is checked by reading back
(``connectors.jira.markers``), never resent.

Searches ask for the mapped fields only (the library's default is ``fields="*all"``); Cloud
pages by token (``enhanced_search_issues``), Data Center by offset (``search_issues``).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
import structlog
from jira import JIRA
from pydantic import SecretStr

from connectors.fencing import Fence
from connectors.jira import adapter
from connectors.jira.costs import is_write
from connectors.jira.errors import translate
from connectors.jira.session import deployment_of, open_jira
from syncer.core.errors import PermanentError, TransientError
from syncer.core.tracker_config import JiraTracker

log = structlog.get_logger(__name__)

T = TypeVar("T")
# Reads Atlassian sends as POST (a body of ids): retried like GETs, never fenced as writes.
READS_SENT_AS_POST = frozenset({"comment/list"})
PAGE_SIZE = 100
GET_ATTEMPTS = 4
BACKOFF_START_S = 1.0
BACKOFF_MAX_S = 60.0


def jql_string(value: str) -> str:
    """A JQL string literal: double quotes with backslash and quote escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class JiraTransport:
    """The requests of one Jira configuration, through one lazily built library client.

    ``cloud`` is what the configuration says until the client is built, then what the site
    said (or, for a client built on an earlier check, what it said then: the configuration).
    ``sleep`` may be replaced after construction (the soak test runs retries on a simulated
    clock).
    """

    def __init__(
        self,
        config: JiraTracker,
        token: SecretStr,
        email: str | None,
        clock: Callable[[], datetime],
        sleep: Callable[[float], None],
        fence: Fence,
    ) -> None:
        self.config = config
        self.clock = clock
        self.sleep = sleep
        self.fence = fence
        self._token, self._email = token, email
        self._jira: JIRA | None = None
        self._checked_before = False
        self.cloud = config.deployment == "cloud"
        self.server = config.server.rstrip("/")
        self.requests: Counter[tuple[str, int]] = Counter()
        self.write_requests = 0
        """Write requests sent so far, answered or not (``syncer.core.tracker.PricesWrites``)."""

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

    def call(self, what: str, fn: Callable[[], T], *, write: bool) -> T:
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

    def site_checked_before(self) -> None:
        """Build the library client without its serverInfo GET, if it is not built yet.

        The reader calls this when the store holds a cursor saved under this configuration's
        view fingerprint (``connectors.jira.reads.ItemReader.fetch``). The fingerprint covers
        the tracker configuration (server, deployment, REST version) and the pmsync release,
        and a cursor is saved only by a fetch that built its client first, which a site
        contradicting the deployment refuses (``deployment_of``): so this very configuration
        was checked against this site, and asking again would only cost a request per
        ``run --once``. ``deployment: auto`` is still asked (only the site says which it is,
        and which auth it takes), and so is every cold run, changed configuration and
        ``check-permissions`` (its own client).
        """
        self._checked_before = True

    def client(self) -> JIRA:
        """The library client, built (one serverInfo GET) and checked on first use."""
        if self._jira is None:
            if self._checked_before and self.config.deployment != "auto":
                jira = open_jira(self.config, self._token, self._email, ask_server_info=False)
                self.cloud = self.config.deployment == "cloud"
            else:
                jira = self.call(
                    "GET serverInfo",
                    lambda: open_jira(self.config, self._token, self._email),
                    write=False,
                )
                self.requests[("GET", 200)] += 1  # serverInfo, asked while the library was built
                self.cloud = deployment_of(self.config, jira)
            # Every request of the library's session, ``request``'s and ``call``'s alike,
            # leaves through an adapter that asks the fence right before a write is sent.
            adapter.instrument(jira, self._count_answer, self.fence)
            self._jira = jira
        return self._jira

    def url(self, path: str, version: str | None = None) -> str:
        return f"{self.server}/rest/api/{version or self.config.rest_api_version}/{path}"

    def browse(self, key: str) -> str:
        """The issue's page for people."""
        return f"{self.server}/browse/{key}"

    def request(
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
        jira = self.client()
        write = method != "GET" and path not in READS_SENT_AS_POST

        def send() -> Any:
            data = json.dumps(body) if body is not None else None
            url = self.url(path, version)
            response = adapter.send(jira, method, url, params=params, data=data)
            if not response.content:
                return None
            return response.json()

        return self.call(f"{method} {path}", send, write=write)

    def read_property(self, key: str, prop: str) -> dict[str, Any] | None:
        """An issue entity property's value; None when the issue has none."""
        try:
            raw = self.request("GET", f"issue/{key}/properties/{prop}")
        except PermanentError as exc:
            if exc.status == 404:
                return None
            raise
        value = raw.get("value") if isinstance(raw, dict) else None
        return value if isinstance(value, dict) else None

    def property_of(self, issue: Mapping[str, Any], prop: str) -> dict[str, Any] | None:
        """An entity property returned with a search hit, else read with one GET."""
        returned = issue.get("properties")
        if isinstance(returned, Mapping):
            value = returned.get(prop)
            return value if isinstance(value, dict) else None
        return self.read_property(str(issue.get("key")), prop)

    def attach(self, key: str, name: str, data: bytes) -> None:
        """POST one file (multipart, ``X-Atlassian-Token: no-check``); never retried."""
        jira = self.client()
        url = self.url(f"issue/{key}/attachments")
        self.call(
            f"POST issue/{key}/attachments",
            lambda: adapter.upload(jira, url, name, data),
            write=True,
        )

    def search(
        self, jql: str, fields: list[str], properties: str | None = None
    ) -> list[dict[str, Any]]:
        """Every issue matching ``jql``: Cloud pages by token, Data Center by offset."""
        jira = self.client()
        issues: list[dict[str, Any]] = []
        if self.cloud:
            token: str | None = None
            while True:
                page: dict[str, Any] = self.call(
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
            page = self.call(
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
