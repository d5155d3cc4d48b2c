"""The Jira emulator's search endpoints: Cloud's ``/search/jql`` and the legacy ``/search``.

Cloud pages by an opaque ``nextPageToken`` with no total and answers 410 on the legacy
endpoint; Data Center keeps ``/search`` with ``startAt``/``total`` and has no ``/search/jql``.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import TYPE_CHECKING

from connectors.emulators.jira_edit import ApiError
from connectors.emulators.jira_issue_routes import ID_ONLY, render_issue, select_fields
from connectors.emulators.jira_jql import Evaluator, JqlError, parse, run
from connectors.emulators.jira_server import Request, Response, route
from connectors.emulators.jira_state import Issue, Json

if TYPE_CHECKING:
    from connectors.emulators.jira import JiraEmulator

GONE = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"
)


def _search_args(req: Request) -> dict[str, list[str]]:
    """GET params or POST body, as lists of strings."""
    if req.method == "GET":
        return req.params
    body = req.body if isinstance(req.body, dict) else {}
    out: dict[str, list[str]] = {}
    for name, value in body.items():
        if value is None:
            continue
        if isinstance(value, list):
            out[name] = [",".join(str(v) for v in value)] if value else []
        else:
            out[name] = [str(value).lower() if isinstance(value, bool) else str(value)]
    return out


def _query(emu: JiraEmulator, jql: str) -> list[Issue]:
    """Matching issues in order; reused while nothing changed and the minute is the same
    (JQL dates have minute resolution), so paging a large result does not re-run it."""
    now = emu.clock()
    cache_key = (jql, emu.revision, now.replace(second=0, microsecond=0))
    cached = emu.search_cache.get(cache_key)
    if cached is not None:
        return cached
    me = emu.bot.account_id if emu.mode == "cloud" else emu.bot.name
    names = {p.key for p in emu.projects.values()} | {p.id for p in emu.projects.values()}
    names |= {p.name for p in emu.projects.values()}
    issues = {i.key.lower() for i in emu.issues.values()} | set(emu.issues)
    evaluator = Evaluator(emu.mode, now, me, names, issues)
    try:
        found = run(parse(jql), list(emu.issues.values()), evaluator)
    except JqlError as exc:
        raise ApiError(400, [str(exc)]) from None
    if len(emu.search_cache) >= 16:
        emu.search_cache.clear()
    emu.search_cache[cache_key] = found
    return found


def _token(jql: str, offset: int) -> str:
    digest = hashlib.sha256(jql.encode()).hexdigest()[:12]
    return base64.urlsafe_b64encode(json.dumps({"o": offset, "q": digest}).encode()).decode()


def _offset(jql: str, token: str | None) -> int:
    if not token:
        return 0
    invalid = ApiError(400, ["The provided next page token is invalid or expired."])
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        digest, offset = data["q"], int(data["o"])
    except (ValueError, KeyError, TypeError):
        raise invalid from None
    if digest != hashlib.sha256(jql.encode()).hexdigest()[:12]:
        raise invalid
    return offset


@route("GET", "/search/jql")
def search_jql_get(emu: JiraEmulator, req: Request) -> Response:
    return _search_jql(emu, req)


@route("POST", "/search/jql")
def search_jql_post(emu: JiraEmulator, req: Request) -> Response:
    return _search_jql(emu, req)


def _search_jql(emu: JiraEmulator, req: Request) -> Response:
    if emu.mode != "cloud":
        raise ApiError(404, [f"null for uri: /rest/api/{req.version}/search/jql"])
    args = _search_args(req)
    jql = (args.get("jql") or [""])[-1]
    found = _query(emu, jql)
    if not parse(jql).where:
        raise ApiError(
            400,
            [
                "Unbounded JQL queries are not allowed here. Please add a search "
                "restriction to your query."
            ],
        )
    wanted = select_fields(emu, args.get("fields", []), "id")
    cap = 5000 if wanted is None or set(wanted) <= ID_ONLY else 100
    size = max(0, min(int((args.get("maxResults") or ["50"])[-1]), cap))
    offset = _offset(jql, (args.get("nextPageToken") or [""])[-1])
    page = found[offset : offset + size]
    expand = {e.strip() for v in args.get("expand", []) for e in v.split(",") if e.strip()}
    sub = Request(req.method, req.version, {"properties": args.get("properties", [])}, None, {})
    body: Json = {"issues": [render_issue(emu, sub, i, wanted, expand) for i in page]}
    more = size > 0 and offset + size < len(found)
    if more:
        body["nextPageToken"] = _token(jql, offset + size)
    body["isLast"] = not more
    if "names" in expand and wanted:
        body["names"] = {f: emu.field_names()[f] for f in wanted if f in emu.field_names()}
    if "schema" in expand and wanted:
        body["schema"] = {f: emu.field_schemas()[f] for f in wanted if f in emu.field_schemas()}
    return Response(200, body)


@route("GET", "/search")
def search_get(emu: JiraEmulator, req: Request) -> Response:
    return _search_legacy(emu, req)


@route("POST", "/search")
def search_post(emu: JiraEmulator, req: Request) -> Response:
    return _search_legacy(emu, req)


def _search_legacy(emu: JiraEmulator, req: Request) -> Response:
    if emu.mode == "cloud":
        raise ApiError(410, [GONE])
    args = _search_args(req)
    jql = (args.get("jql") or [""])[-1]
    found = _query(emu, jql)
    wanted = select_fields(emu, args.get("fields", []), "*navigable") or []
    start = max(0, int((args.get("startAt") or ["0"])[-1]))
    size = max(0, min(int((args.get("maxResults") or ["50"])[-1]), 1000))
    expand = {e.strip() for v in args.get("expand", []) for e in v.split(",") if e.strip()}
    sub = Request(req.method, req.version, {}, None, {})
    return Response(
        200,
        {
            "expand": "schema,names",
            "startAt": start,
            "maxResults": size,
            "total": len(found),
            "issues": [
                render_issue(emu, sub, i, wanted, expand) for i in found[start : start + size]
            ],
        },
    )
