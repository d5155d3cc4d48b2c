"""Library exceptions -> pmsync's typed errors, from status code and headers only.

Jira says why it throttles in ``RateLimit-Reason``: a burst or per-issue write limit clears in
seconds, an hourly points quota only at the top of the UTC hour. GETs retry bursts; writes
stop (``RateLimited``) so the applier backs off instead of hammering one issue. Messages are
built here from the method, path and status, never from ``str(JIRAError)``, which dumps
request and response headers (credentials included) into the text.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import requests
from jira.exceptions import JIRAError

from syncer.core.errors import PermanentError, RateLimited, TrackerError, TransientError
from syncer.core.redaction import REDACTOR

BURST_REASONS = frozenset({"jira-burst-based", "jira-per-issue-on-write"})
QUOTA_REASONS = frozenset({"jira-quota-tenant-based", "jira-quota-global-based"})
DEFAULT_BURST_WAIT_S = 5.0


def top_of_next_hour(now: datetime) -> datetime:
    """The next full UTC hour after ``now`` (when an hourly quota resets)."""
    return now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


def retry_after_seconds(response: requests.Response | None) -> float | None:
    """``Retry-After`` in seconds when it is a number, else None."""
    if response is None:
        return None
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


MESSAGE_CHARS = 300


def jira_messages(response: requests.Response | None) -> str:
    """Jira's own words for a failed request (``errorMessages`` and the per-field ``errors``
    of its ErrorCollection), for people: cut to ``MESSAGE_CHARS`` and passed through the log
    redactor, since the text is Jira's. Never used to decide anything."""
    if response is None:
        return ""
    try:
        data = response.json()
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    messages = [m.strip() for m in data.get("errorMessages") or [] if isinstance(m, str)]
    errors = data.get("errors")
    if isinstance(errors, dict):
        messages.extend(f"{k}: {v}" for k, v in errors.items() if isinstance(v, str))
    text = "; ".join(m for m in messages if m)
    if len(text) > MESSAGE_CHARS:
        text = text[: MESSAGE_CHARS - 1].rstrip() + "…"
    return REDACTOR.redact_text(text)


def translate(exc: Exception, *, what: str, write: bool, now: datetime) -> TrackerError | None:
    """The typed error for a failed request, or None when ``exc`` is not a request failure.

    ``what`` names the request (``GET issue/REL-1/transitions``) for the message.
    """
    if isinstance(exc, requests.exceptions.Timeout):
        return TransientError(f"{what}: timed out")
    if isinstance(exc, requests.exceptions.ConnectionError):
        return TransientError(f"{what}: connection failed or dropped")
    if not isinstance(exc, JIRAError):
        return None
    response = exc.response if isinstance(exc.response, requests.Response) else None
    status = exc.status_code or (response.status_code if response is not None else None)
    said = jira_messages(response)
    detail = f": {said}" if said else ""
    if status is None:
        return TransientError(f"{what}: no response")
    if status == 429:
        reason = response.headers.get("RateLimit-Reason", "") if response is not None else ""
        wait = retry_after_seconds(response)
        if reason in QUOTA_REASONS:
            reset = now + timedelta(seconds=wait) if wait is not None else top_of_next_hour(now)
            return RateLimited(f"{what}: hourly quota exhausted ({reason})", reset, reason)
        wait = DEFAULT_BURST_WAIT_S if wait is None else wait
        if write:
            return RateLimited(
                f"{what}: throttled ({reason or 'no reason given'})",
                now + timedelta(seconds=wait),
                reason,
            )
        return TransientError(f"{what}: throttled ({reason or 'no reason given'})", wait)
    if status >= 500:
        return TransientError(f"{what}: HTTP {status}{detail}", retry_after_seconds(response))
    return PermanentError(f"{what}: HTTP {status}{detail}", status)
