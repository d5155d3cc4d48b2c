"""Is an owner's GitHub account still there? One ``GET /users/{login}`` per login asked.

The issue payloads say nothing about whether an assignee or a login named in the Owner section
still has an account, so the connector asks, for the ``syncer.core.directory.UserDirectory``
capability the cycle calls (at most once per login per day: the cycle caches the answers).

What GitHub answers (``users/get-by-username`` in the OpenAPI description):
- 404: no such account (deleted, renamed, or never existed): inactive, "not found" (an
  answer, so the transport logs it at INFO, not as a failed request). An
  Enterprise Managed User the token may not see also answers 404 (the operation's description
  says so): give pmsync a token that can see the enterprise's members.
- 200 with ``suspended_at`` set: a suspended account, inactive. api.github.com's ``public-user``
  schema has no such property; GitHub Enterprise Server sends it (null, or the suspension
  time) although its schema does not list it either (github/rest-api-description#5667,
  PyGithub/PyGithub#900), so it is read when present.
- 200 otherwise: active.
Any other failure (403, 5xx, a timeout) is no answer, never "inactive"; a rate limit stops the
look-ups for this cycle, and the rest are asked next cycle.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

import structlog

from connectors.github.transport import Transport
from syncer.core.directory import AccountStatus
from syncer.core.errors import PermanentError, RateLimited, TransientError

log = structlog.get_logger(__name__)

NOT_FOUND = AccountStatus(active=False, detail="not found")
SUSPENDED = AccountStatus(active=False, detail="suspended")
ACTIVE = AccountStatus(active=True)


def account_status(payload: Any) -> AccountStatus:
    """The status a ``GET /users/{login}`` 200 answer describes (pure, for recorded payloads)."""
    if isinstance(payload, Mapping) and payload.get("suspended_at"):
        return SUSPENDED
    return ACTIVE


class UserLookups:
    """Account look-ups through the connector's Transport (counted, typed errors)."""

    def __init__(self, http: Transport) -> None:
        self.http = http

    def look_up(self, logins: Sequence[str]) -> dict[str, AccountStatus]:
        """Status per login GitHub answered for; the others are left out."""
        found: dict[str, AccountStatus] = {}
        for login in logins:
            what = f"look up owner account {login}"
            try:
                answer = self.http.call(
                    "GET", f"/users/{quote(login, safe='')}", what, expected=(404,)
                )
            except RateLimited as exc:
                log.warning("owner look-ups stopped by a rate limit", error=str(exc))
                break
            except PermanentError as exc:
                if exc.status == 404:
                    found[login] = NOT_FOUND
                else:
                    log.warning("owner account not checked", login=login, error=str(exc))
                continue
            except TransientError as exc:
                log.warning("owner account not checked", login=login, error=str(exc))
                continue
            found[login] = account_status(answer.data)
        return found
