"""The last check before a write leaves: the fence, asked inside the HTTP stack itself.

The applier asks the fence before each change, but between that check and the moment the
request is on the wire a connector may pause for a long time: GitHub's spacing of writes, the
content-creation pacer (up to a minute), a token refresh. A replica frozen in such a pause
(SIGSTOP, a long GC pause, a suspended VM) would wake after a standby took over and send one
stale write. So both connectors send every request through a ``requests`` session whose
transport adapter asks the same fence again in ``send``, after every pause, when nothing is
left between the check and the socket but urllib3 writing the request. A refused write raises
``LeadershipLost`` and is never sent; reads pass unchecked.

One mechanism for both trackers: PyGithub and ``jira`` both send through ``requests``, and the
adapter is mounted on the session each of them uses (see ``connectors.github.session`` and
``connectors.jira.adapter``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from syncer.core.errors import LeadershipLost

Fence = Callable[[], bool]
"""True while this process may write; asked right before each write request is sent."""

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def always_allowed() -> bool:
    """The fence of a process that writes alone (``run --once``, the CLI): always yes."""
    return True


class FencedAdapter(HTTPAdapter):
    """A ``requests`` transport adapter that asks ``fence`` before sending any write."""

    def __init__(self, fence: Fence, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fence = fence

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: bool | str = True,
        cert: Any = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        method = (request.method or "GET").upper()
        if method not in READ_METHODS and not self.fence():
            path = urlsplit(request.url or "").path
            raise LeadershipLost(f"{method} {path}: not sent, this replica may no longer write")
        return super().send(
            request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=proxies
        )


def fence_session(session: requests.Session, fence: Fence, **adapter_options: Any) -> None:
    """Send every request of ``session`` through a ``FencedAdapter`` (http and https)."""
    adapter = FencedAdapter(fence, **adapter_options)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
