"""The Jira emulator's site endpoints: server info, fields, users, permissions, lookup lists.

Each function handles one method and path under ``/rest/api/{2,3}`` and runs under the
emulator's lock; ``jira_server`` has already checked auth, limits and faults. Issue endpoints
are in ``jira_issue_routes``, search in ``jira_search_routes``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors.emulators.jira_edit import ApiError
from connectors.emulators.jira_render import Renderer
from connectors.emulators.jira_server import Request, Response, route
from connectors.emulators.jira_state import (
    CUSTOM_TYPES,
    PERMISSIONS,
    PRIORITIES,
    RESOLUTIONS,
    STATUSES,
    SYSTEM_FIELDS,
    Json,
    fmt_time,
)

if TYPE_CHECKING:
    from connectors.emulators.jira import JiraEmulator


def renderer_for(emu: JiraEmulator, req: Request) -> Renderer:
    return emu.renderer(req.version)


def require(emu: JiraEmulator, permission: str, message: str) -> None:
    if permission not in emu.permissions:
        raise ApiError(403, [message])


# ---------------------------------------------------------------------- site metadata
@route("GET", "/serverInfo")
def server_info(emu: JiraEmulator, req: Request) -> Response:
    now = fmt_time(emu.clock())
    if emu.mode == "cloud":
        body: Json = {
            "baseUrl": emu.base_url,
            "displayUrl": emu.base_url,
            "displayUrlServicedeskHelpCenter": emu.base_url,
            "displayUrlConfluence": emu.base_url,
            "version": "1001.0.0-SNAPSHOT",
            "versionNumbers": [1001, 0, 0],
            "deploymentType": "Cloud",
            "buildNumber": 100287,
            "buildDate": "2026-11-02T13:05:26.000+0000",
            "serverTime": now,
            "scmInfo": "0139ea21e0f8b5dafbd2e1eb33923e0c468b7f69",
            "serverTitle": "Jira",
            "defaultLocale": {"locale": "en_US"},
            "serverTimeZone": "Etc/UTC",
        }
    else:
        body = {
            "baseUrl": emu.base_url,
            "version": "9.12.15",
            "versionNumbers": [9, 12, 15],
            "deploymentType": "Server",
            "buildNumber": 9120015,
            "buildDate": "2024-10-01T00:00:00.000+0000",
            "databaseBuildNumber": 9120015,
            "serverTime": now,
            "scmInfo": "8f5e4a9bb8c2d6f1a7e0b3c4d5e6f7a8b9c0d1e2",
            "serverTitle": "Jira",
        }
    return Response(200, body)


@route("GET", "/myself")
def myself(emu: JiraEmulator, req: Request) -> Response:
    body = renderer_for(emu, req).user(emu.bot)
    body["locale"] = "en_US"
    body["groups"] = {"size": 1, "items": []}
    body["applicationRoles"] = {"size": 1, "items": []}
    body["expand"] = "groups,applicationRoles"
    return Response(200, body)


@route("GET", "/field")
def fields(emu: JiraEmulator, req: Request) -> Response:
    cloud = emu.mode == "cloud"
    out: list[Json] = []
    for fid, name, schema, clauses, orderable, navigable in SYSTEM_FIELDS:
        entry: Json = {
            "id": fid,
            "name": name,
            "custom": False,
            "orderable": orderable,
            "navigable": navigable,
            "searchable": fid != "issuekey",
            "clauseNames": list(clauses),
        }
        if cloud:
            entry["key"] = fid
            if fid == "issuekey":  # Cloud's 2025 rename of issues to work items
                entry["clauseNames"] += ["workItem", "workItemKey"]
        if schema:
            entry["schema"] = schema
        out.append(entry)
    for cf in emu.custom_fields.values():
        suffix = CUSTOM_TYPES[cf.schema_type][1]
        entry = {
            "id": cf.id,
            "name": cf.name,
            "custom": True,
            "orderable": True,
            "navigable": True,
            "searchable": True,
            "clauseNames": [f"cf[{cf.number}]", cf.name],
            "schema": {"type": cf.json_type, "custom": cf.custom_type, "customId": cf.number},
        }
        if cloud:
            entry["key"] = cf.id
            entry["untranslatedName"] = cf.name
            entry["clauseNames"].append(f"{cf.name}[{suffix}]")
        out.append(entry)
    return Response(200, out)


@route("GET", "/priority")
def priorities(emu: JiraEmulator, req: Request) -> Response:
    return Response(200, [renderer_for(emu, req).priority_full(i) for i in range(len(PRIORITIES))])


@route("GET", "/status")
def statuses(emu: JiraEmulator, req: Request) -> Response:
    return Response(200, [renderer_for(emu, req).status(name) for name in STATUSES])


@route("GET", "/resolution")
def resolutions(emu: JiraEmulator, req: Request) -> Response:
    return Response(200, [renderer_for(emu, req).resolution(r[1]) for r in RESOLUTIONS])


@route("GET", "/project/{projectIdOrKey}")
def project(emu: JiraEmulator, req: Request) -> Response:
    wanted = req.args["projectIdOrKey"]
    for proj in emu.projects.values():
        if wanted in (proj.key, proj.id):
            body = renderer_for(emu, req).project(proj, full=True)
            body["lead"] = renderer_for(emu, req).user(emu.bot)
            return Response(200, body)
    raise ApiError(404, [f"No project could be found with key '{wanted}'."])


@route("GET", "/mypermissions")
def my_permissions(emu: JiraEmulator, req: Request) -> Response:
    asked = [p.strip() for p in (req.param("permissions") or "").split(",") if p.strip()]
    if not asked:
        if emu.mode == "cloud":
            raise ApiError(400, ["The 'permissions' query parameter is required."])
        asked = list(PERMISSIONS)
    if req.param("projectKey") and req.param("projectKey") not in emu.projects:
        raise ApiError(404, [f"No project could be found with key '{req.param('projectKey')}'."])
    if req.param("issueKey"):
        emu.get_issue(req.param("issueKey") or "")
    out: Json = {}
    for key in asked:
        if key not in PERMISSIONS:
            raise ApiError(404, [f"No permission with key '{key}' exists."])
        pid, name, desc = PERMISSIONS[key]
        out[key] = {
            "id": pid,
            "key": key,
            "name": name,
            "type": "PROJECT",
            "description": desc,
            "havePermission": key in emu.permissions,
        }
    return Response(200, {"permissions": out})


# ---------------------------------------------------------------------- users
@route("GET", "/user/search")
def user_search(emu: JiraEmulator, req: Request) -> Response:
    if emu.mode == "cloud":
        if req.param("username") is not None:
            raise ApiError(
                400, ["The query parameter 'username' is not supported in GDPR strict mode."]
            )
        query = (req.param("query") or "").lower()
        account = req.param("accountId")
        if not query and not account:
            raise ApiError(
                400, ["One of 'query' or 'accountId' query parameters must be provided."]
            )
    else:
        query = (req.param("username") or req.param("query") or "").lower()
        account = None
        if not query:
            raise ApiError(400, ["The username query parameter was not provided"])
    found = [
        u
        for u in emu.users.values()
        if (account and u.account_id == account)
        or (
            query
            and any(
                s.lower().startswith(query)
                for s in (u.display_name, u.email, u.name, *u.display_name.split())
            )
        )
    ]
    start = int(req.param("startAt") or 0)
    size = int(req.param("maxResults") or 50)
    return Response(200, [renderer_for(emu, req).user(u) for u in found[start : start + size]])


@route("GET", "/user")
def user(emu: JiraEmulator, req: Request) -> Response:
    if emu.mode == "cloud":
        ident = req.param("accountId")
        match = [u for u in emu.users.values() if u.account_id == ident]
    else:
        ident = req.param("username") or req.param("key")
        match = [u for u in emu.users.values() if ident in (u.name, u.key)]
    if not match:
        raise ApiError(
            404, [f"Specified user does not exist or you do not have required permissions: {ident}"]
        )
    return Response(200, renderer_for(emu, req).user(match[0]))
