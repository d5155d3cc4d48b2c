"""The one place pmsync goes around the ``jira`` library, and why (jira 3.10).

The library builds the client (auth, server info, ``connectors.jira.session``) and runs the
searches (``enhanced_search_issues`` on Cloud, ``search_issues`` on Data Center). Everything
else goes through the library's own ``requests`` session, ``JIRA._session``, because the
library has no public way to do what pmsync needs:

- no hook on its HTTP session: the requests counted per (verb, status) and the leader fence
  (``connectors.fencing``) must see every request it sends, its search helpers' included, and
  the session is reachable only as ``JIRA._session``;
- no generic REST call, and its wrappers fall short of the writes exactly-once depends on:
  ``add_comment`` sends ``body``, ``visibility`` and one Service Desk property only, never the
  ``pmsync.marker`` comment property that must travel in the same POST
  (``connectors.jira.markers``); ``Issue.update()`` PUTs then GETs the issue again; there is
  no wrapper for ``POST comment/list?expand=properties`` (pmsync's unindexed comments); and
  one client speaks one REST version, while the filer sends wiki markup through v2 on a v3
  site. So every other call is one JSON request on that session (``send``), with pmsync's
  typed errors, no resource objects and no lazy reloads;
- ``add_attachment`` wants a file object and labels every file ``application/octet-stream``:
  the chart's bytes are posted here as one multipart POST with their own content type
  (``upload``);
- the search helpers translate field names through ``JIRA._fields_cache``, which GETs
  ``/field`` whenever it is empty, and the library offers no way to hand it a field list
  already read (pmsync reads it once and keeps it in the state store): ``prime_field_cache``
  fills ``JIRA._fields_cache_value`` the way ``JIRA._update_fields_cache`` does.

Nothing outside this module touches a private attribute of the library.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import requests
from jira import JIRA
from urllib3 import encode_multipart_formdata

from connectors.fencing import Fence, fence_session

AnswerHook = Callable[..., None]
"""A ``requests`` response hook: called with each response the session receives."""


def instrument(jira: JIRA, on_answer: AnswerHook, fence: Fence) -> None:
    """Count every answer with ``on_answer`` and send every request through an adapter that
    asks ``fence`` right before a write leaves (the library's own requests included)."""
    jira._session.hooks["response"].append(on_answer)
    fence_session(jira._session, fence)


def send(
    jira: JIRA,
    method: str,
    url: str,
    *,
    params: Mapping[str, str] | None = None,
    data: str | None = None,
) -> requests.Response:
    """One request on the library's session (its auth, timeout and fenced adapter)."""
    return jira._session.request(method, url, params=params, data=data)


def upload(jira: JIRA, url: str, name: str, data: bytes) -> requests.Response:
    """POST one file as multipart form data (``X-Atlassian-Token: no-check``), its content
    type guessed from its name."""
    mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
    payload, content_type = encode_multipart_formdata({"file": (name, data, mime)})
    headers = {"Content-Type": content_type, "X-Atlassian-Token": "no-check"}
    return jira._session.post(url, data=payload, headers=headers)


def prime_field_cache(jira: JIRA, field_list: Sequence[Mapping[str, Any]]) -> None:
    """Hand the search helpers the field list already read, so they do not GET it again."""
    cache: dict[str, str] = {}
    for f in field_list:
        fid = f.get("id")
        if isinstance(fid, str):
            cache[fid] = fid
            for clause in f.get("clauseNames") or ():
                cache[clause] = fid
    jira._fields_cache_value = cache
