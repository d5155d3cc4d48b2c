"""Typed errors are decided by status code and RateLimit-Reason, never by message text."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import requests
from jira.exceptions import JIRAError

from connectors.jira.errors import top_of_next_hour, translate
from syncer.core.errors import PermanentError, RateLimited, TransientError

NOW = datetime(2026, 11, 23, 9, 41, 7, tzinfo=UTC)


def _error(status: int, headers: dict[str, str] | None = None, body: object = None) -> JIRAError:
    response = requests.Response()
    response.status_code = status
    response.headers.update(headers or {})
    response.headers["Authorization"] = "Basic c2VjcmV0"
    response._content = json.dumps(body if body is not None else {}).encode()
    return JIRAError("Rate limit exceeded, token c2VjcmV0", status_code=status, response=response)


class TestRateLimits:
    @pytest.mark.parametrize("reason", ["jira-quota-tenant-based", "jira-quota-global-based"])
    def test_an_hourly_quota_waits_for_the_top_of_the_next_utc_hour(self, reason: str) -> None:
        """No Retry-After: reset at 10:00 UTC."""
        error = translate(
            _error(429, {"RateLimit-Reason": reason}), what="PUT x", write=True, now=NOW
        )
        assert isinstance(error, RateLimited)
        assert error.reset_at == datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
        assert error.reason == reason

    def test_an_hourly_quota_with_retry_after_uses_it(self) -> None:
        """Retry-After wins when the server gives one."""
        error = translate(
            _error(429, {"RateLimit-Reason": "jira-quota-tenant-based", "Retry-After": "120"}),
            what="GET x",
            write=False,
            now=NOW,
        )
        assert isinstance(error, RateLimited)
        assert error.reset_at == datetime(2026, 11, 23, 9, 43, 7, tzinfo=UTC)

    @pytest.mark.parametrize("reason", ["jira-burst-based", "jira-per-issue-on-write", ""])
    def test_a_burst_is_transient_for_reads_and_a_brief_stop_for_writes(self, reason: str) -> None:
        """Reads retry after Retry-After; writes stop until then."""
        headers = {"Retry-After": "4", **({"RateLimit-Reason": reason} if reason else {})}
        read = translate(_error(429, headers), what="GET x", write=False, now=NOW)
        write = translate(_error(429, headers), what="PUT x", write=True, now=NOW)
        assert isinstance(read, TransientError)
        assert read.retry_after == 4.0
        assert isinstance(write, RateLimited)
        assert write.reset_at == datetime(2026, 11, 23, 9, 41, 11, tzinfo=UTC)

    def test_the_top_of_the_hour_is_the_next_full_hour(self) -> None:
        """09:41 -> 10:00; 23:59 -> next day 00:00."""
        assert top_of_next_hour(NOW) == datetime(2026, 11, 23, 10, tzinfo=UTC)
        late = datetime(2026, 12, 31, 23, 59, tzinfo=UTC)
        assert top_of_next_hour(late) == datetime(2027, 1, 1, 0, tzinfo=UTC)


class TestStatusCodes:
    @pytest.mark.parametrize("status", [500, 502, 503, 504])
    def test_server_errors_are_transient(self, status: int) -> None:
        """5xx: try again later."""
        error = translate(_error(status, {"Retry-After": "9"}), what="GET x", write=False, now=NOW)
        assert isinstance(error, TransientError)
        assert error.retry_after == 9.0

    @pytest.mark.parametrize("status", [400, 401, 403, 404, 410])
    def test_client_errors_are_permanent_with_jira_messages(self, status: int) -> None:
        """4xx: PermanentError carrying the status and Jira's errorMessages."""
        body = {"errorMessages": ["Issue does not exist"], "errors": {"labels": "bad"}}
        error = translate(_error(status, body=body), what="GET issue/REL-9", write=False, now=NOW)
        assert isinstance(error, PermanentError)
        assert error.status == status
        assert str(error) == f"GET issue/REL-9: HTTP {status}: Issue does not exist; labels: bad"

    def test_messages_never_carry_headers_or_the_library_text(self) -> None:
        """str(JIRAError) dumps headers; ours names only the request and status."""
        error = translate(_error(403), what="PUT issue/REL-1", write=True, now=NOW)
        assert str(error) == "PUT issue/REL-1: HTTP 403"

    def test_timeouts_and_dropped_connections_are_transient(self) -> None:
        """No answer at all: transient."""
        timeout = translate(requests.exceptions.ReadTimeout(), what="GET x", write=False, now=NOW)
        dropped = translate(
            requests.exceptions.ConnectionError(), what="POST x", write=True, now=NOW
        )
        assert isinstance(timeout, TransientError)
        assert isinstance(dropped, TransientError)
        assert str(dropped) == "POST x: connection failed or dropped"

    def test_other_exceptions_are_not_translated(self) -> None:
        """A bug stays a bug."""
        assert translate(KeyError("x"), what="GET x", write=False, now=NOW) is None
