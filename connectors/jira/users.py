"""Display names of Jira users the items did not name (Cloud account id, DC user name).

Issues carry ``displayName`` with every user object, so this is only for the few people the
weekly review shows without an issue naming them (a sponsor since replaced, a fallback
account).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime, timedelta

from connectors.jira.transport import JiraTransport
from syncer.core.errors import PermanentError

NAME_TTL = timedelta(days=1)


class NameLookups:
    """``GET /user`` per handle, remembered in this process for ``NAME_TTL``."""

    def __init__(self, http: JiraTransport, clock: Callable[[], datetime]) -> None:
        self.http = http
        self.clock = clock
        self._names: dict[str, tuple[str | None, datetime]] = {}

    def display_names(self, handles: Collection[str]) -> dict[str, str]:
        """Display names for handles the items did not name (Cloud account id, DC user name).

        One ``GET /user`` per handle, remembered in this process for ``NAME_TTL`` (names
        change rarely; a state-store cache would need its own expiry for the handful of
        lookups a week). A user Jira does not show (404, or 403 without Browse users) is
        remembered as unknown for as long.
        """
        self.http.client()
        now = self.clock()
        found: dict[str, str] = {}
        for handle in sorted(set(handles)):
            cached = self._names.get(handle)
            if cached is None or now - cached[1] >= NAME_TTL:
                params = {"accountId": handle} if self.http.cloud else {"username": handle}
                try:
                    user = self.http.request("GET", "user", params=params)
                except PermanentError:
                    user = None
                shown = user.get("displayName") if isinstance(user, dict) else None
                cached = (shown if isinstance(shown, str) and shown else None, now)
                self._names[handle] = cached
            if cached[0] is not None:
                found[handle] = cached[0]
        return found
