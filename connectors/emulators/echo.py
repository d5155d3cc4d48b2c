"""The "echo credentials" test fault shared by the GitHub and Jira emulators.

Neither vendor echoes a credential: GitHub and Atlassian document error bodies that name the
problem, never the token. A proxy, a misconfigured gateway or a debugging server may, though,
and pmsync's promise is that no secret it sends comes back out of it (logs, errors, ledger,
reports, cassettes). Turned on with ``Faults(echo_credentials=True)`` or
``JiraFaults(echo_credentials=True)``, every error answer quotes what the request carried.
"""

from __future__ import annotations

import base64
import contextlib
from urllib.parse import quote


def echoed_credentials(authorization: str, path: str) -> tuple[str, dict[str, str]]:
    """For the ``echo_credentials`` fault: a sentence and headers that quote the credentials.

    The sentence holds the Authorization header as sent, the token it carries (Basic
    decoded to ``user:token`` and the token alone) and a URL with the token percent-encoded
    in its query; the headers hold the header verbatim and that URL.
    """
    scheme, _, credential = authorization.strip().partition(" ")
    token = credential.strip()
    if scheme.lower() == "basic":
        with contextlib.suppress(ValueError):
            token = base64.b64decode(token).decode("utf-8")
    bare = token.partition(":")[2] if scheme.lower() == "basic" else token
    url = f"http://127.0.0.1{path}?access_token={quote(bare, safe='')}"
    sentence = f"rejected credentials {authorization!r} (token {token} / {bare}) for {url}"
    headers = {"X-Echo-Authorization": authorization, "Link": f'<{url}>; rel="echo"'}
    return sentence, headers
