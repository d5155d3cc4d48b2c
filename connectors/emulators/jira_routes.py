"""The Jira emulator's endpoints: what each REST resource answers, in Jira's shapes and errors.

Each function handles one method and path under ``/rest/api/{2,3}`` and runs under the
emulator's lock; ``jira_server`` has already checked auth, limits and faults.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import replace
from typing import TYPE_CHECKING

from connectors.emulators.jira_edit import ApiError
from connectors.emulators.jira_jql import Evaluator, JqlError, parse, run
from connectors.emulators.jira_server import Request, Response, route
from connectors.emulators.jira_state import (
    CUSTOM_TYPES,
    PERMISSIONS,
    PRIORITIES,
    RESOLUTIONS,
    STATUSES,
    SYSTEM_FIELDS,
    TRANSITIONS,
    Issue,
    Json,
    Renderer,
    fmt_time,
)

if TYPE_CHECKING:
    from connectors.emulators.jira import JiraEmulator

GONE = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"
)
MAX_PROPERTY_BYTES = 32768
ID_ONLY = {"id", "key"}


def _r(emu: JiraEmulator, req: Request) -> Renderer:
    return emu.renderer(req.version)


def _require(emu: JiraEmulator, permission: str, message: str) -> None:
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
    body = _r(emu, req).user(emu.bot)
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
    return Response(200, [_r(emu, req).priority_full(i) for i in range(len(PRIORITIES))])


@route("GET", "/status")
def statuses(emu: JiraEmulator, req: Request) -> Response:
    return Response(200, [_r(emu, req).status(name) for name in STATUSES])


@route("GET", "/resolution")
def resolutions(emu: JiraEmulator, req: Request) -> Response:
    return Response(200, [_r(emu, req).resolution(r[1]) for r in RESOLUTIONS])


@route("GET", "/project/{projectIdOrKey}")
def project(emu: JiraEmulator, req: Request) -> Response:
    wanted = req.args["projectIdOrKey"]
    for proj in emu.projects.values():
        if wanted in (proj.key, proj.id):
            body = _r(emu, req).project(proj, full=True)
            body["lead"] = _r(emu, req).user(emu.bot)
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
    return Response(200, [_r(emu, req).user(u) for u in found[start : start + size]])


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
    return Response(200, _r(emu, req).user(match[0]))


# ---------------------------------------------------------------------- issues
def select_fields(emu: JiraEmulator, specs: list[str], default: str) -> list[str] | None:
    """Jira's ``fields`` rules; None means ids only (the new search's default)."""
    items = [s.strip() for spec in specs for s in spec.split(",") if s.strip()] or [default]
    every = emu.all_field_ids()
    navigable = [f for f in every if f != "comment"]
    names = {cf.name.lower(): cf.id for cf in emu.custom_fields.values()}
    base: list[str] = []
    include: list[str] = []
    exclude: set[str] = set()
    for item in items:
        if item.startswith("-"):
            exclude.add(item[1:])
        elif item == "*all":
            base = every
        elif item == "*navigable":
            base = base or navigable
        elif item in every:
            include.append(item)
        elif item.lower() in names:  # the jira library translates names; so does the search UI
            include.append(names[item.lower()])
    if exclude and not base and not include:
        base = navigable
    chosen = [f for f in dict.fromkeys([*base, *include]) if f not in exclude]
    if not chosen and all(i in ID_ONLY for i in items):
        return None
    return chosen


def _expand(req: Request) -> set[str]:
    return {e.strip() for v in req.params.get("expand", []) for e in v.split(",") if e.strip()}


def render_issue(
    emu: JiraEmulator, req: Request, issue: Issue, wanted: list[str] | None, expand: set[str]
) -> Json:
    body = _r(emu, req).issue(
        issue,
        wanted,
        customs=emu.custom_fields,
        expand=expand,
        names=emu.field_names(),
        schemas=emu.field_schemas(),
    )
    if "transitions" in expand and wanted is not None:
        body["transitions"] = _transitions(emu, req, issue, expand_fields=False)
    props = [p for v in req.params.get("properties", []) for p in v.split(",") if p]
    if props and wanted is not None:
        body["properties"] = {
            k: v for k, v in issue.properties.items() if k in props or "*all" in props
        }
    return body


@route("GET", "/issue/{issueIdOrKey}")
def get_issue(emu: JiraEmulator, req: Request) -> Response:
    _require(emu, "BROWSE_PROJECTS", "You do not have permission to browse issues.")
    issue = emu.get_issue(req.args["issueIdOrKey"])
    wanted = select_fields(emu, req.params.get("fields", []), "*all") or []
    return Response(200, render_issue(emu, req, issue, wanted, _expand(req)))


def _touch(emu: JiraEmulator, issue: Issue) -> None:
    issue.updated = emu.clock()


@route("PUT", "/issue/{issueIdOrKey}", write=True)
def edit_issue(emu: JiraEmulator, req: Request) -> Response:
    issue = emu.get_issue(req.args["issueIdOrKey"])
    _require(emu, "EDIT_ISSUES", "You do not have permission to edit issues in this project.")
    body = req.body if isinstance(req.body, dict) else {}
    if "fields" not in body and "update" not in body:
        raise ApiError(400, ["one of 'fields' or 'update' required"])
    plan = emu.editor().plan(issue, body.get("fields"), body.get("update"))
    plan.raise_if_errors()
    plan.apply(issue)
    _touch(emu, issue)
    notify = (req.param("notifyUsers") or req.param("notifyEditingUsers") or "true") != "false"
    emu.notify_log.append((issue.key, notify))
    if req.param("returnIssue") == "true":
        return Response(200, render_issue(emu, req, issue, emu.all_field_ids(), _expand(req)))
    return Response(204)


@route("POST", "/issue", write=True)
def create_issue(emu: JiraEmulator, req: Request) -> Response:
    _require(emu, "CREATE_ISSUES", "You do not have permission to create issues in this project.")
    body = req.body if isinstance(req.body, dict) else {}
    fields = dict(body.get("fields") or {})
    errors: dict[str, str] = {}
    proj_ref = fields.pop("project", None) or {}
    project_obj = next(
        (
            p
            for p in emu.projects.values()
            if proj_ref.get("key") == p.key or proj_ref.get("id") == p.id
        ),
        None,
    )
    if project_obj is None:
        errors["project"] = "Specify a valid project ID or key"
    if not fields.pop("issuetype", None):
        errors["issuetype"] = "Specify an issue type"
    if not fields.get("summary"):
        errors["summary"] = "You must specify a summary of the issue."
    plan = emu.editor().plan(None, fields, body.get("update"))
    plan.errors = {**plan.errors, **errors}
    plan.raise_if_errors()
    assert project_obj is not None
    key = emu.add_issue(project_obj.key, summary=str(fields["summary"]))
    issue = emu.get_issue(key)
    plan.apply(issue)
    issue.reporter = emu.bot
    return Response(
        201, {"id": issue.id, "key": issue.key, "self": f"{_r(emu, req).api}/issue/{issue.id}"}
    )


# ---------------------------------------------------------------------- comments
def _comment_body(emu: JiraEmulator, req: Request) -> str | Json:
    body = req.body.get("body") if isinstance(req.body, dict) else None
    if req.version == "3":
        if not isinstance(body, dict) or body.get("type") != "doc":
            raise ApiError(400, [], {"comment": "Comment body is not valid!"})
        return body
    if not isinstance(body, str) or not body.strip():
        raise ApiError(400, [], {"comment": "Comment body can not be empty!"})
    return body


@route("GET", "/issue/{issueIdOrKey}/comment")
def list_comments(emu: JiraEmulator, req: Request) -> Response:
    issue = emu.get_issue(req.args["issueIdOrKey"])
    start = int(req.param("startAt") or 0)
    size = int(req.param("maxResults") or 5000)
    ordered = issue.comments
    if req.param("orderBy") == "-created":
        ordered = list(reversed(issue.comments))
    page = _r(emu, req).comments_page(replace(issue, comments=ordered), start, size)
    page.pop("self", None)
    page["maxResults"] = size
    return Response(200, page)


@route("POST", "/issue/{issueIdOrKey}/comment", write=True)
def add_comment(emu: JiraEmulator, req: Request) -> Response:
    issue = emu.get_issue(req.args["issueIdOrKey"])
    _require(emu, "ADD_COMMENTS", "You do not have the permission to comment on this issue.")
    comment = emu.new_comment(issue, _comment_body(emu, req), emu.bot, emu.clock())
    _touch(emu, issue)
    rendered = _r(emu, req).comment(issue, comment)
    return Response(201, rendered, {"Location": rendered["self"]})


@route("GET", "/issue/{issueIdOrKey}/comment/{id}")
def get_comment(emu: JiraEmulator, req: Request) -> Response:
    issue = emu.get_issue(req.args["issueIdOrKey"])
    for comment in issue.comments:
        if comment.id == req.args["id"]:
            return Response(200, _r(emu, req).comment(issue, comment))
    raise ApiError(404, [f"Can not find a comment for the id: {req.args['id']}."])


@route("PUT", "/issue/{issueIdOrKey}/comment/{id}", write=True)
def edit_comment(emu: JiraEmulator, req: Request) -> Response:
    issue = emu.get_issue(req.args["issueIdOrKey"])
    for comment in issue.comments:
        if comment.id == req.args["id"]:
            _require(
                emu, "EDIT_OWN_COMMENTS", "You do not have the permission to edit this comment."
            )
            comment.body = _comment_body(emu, req)
            comment.updated = emu.clock()
            comment.update_author = emu.bot
            _touch(emu, issue)
            return Response(200, _r(emu, req).comment(issue, comment))
    raise ApiError(404, [f"Can not find a comment for the id: {req.args['id']}."])


# ---------------------------------------------------------------------- transitions
def _transitions(
    emu: JiraEmulator, req: Request, issue: Issue, *, expand_fields: bool
) -> list[Json]:
    r = _r(emu, req)
    out = []
    for tid, name, sources, target in TRANSITIONS:
        if issue.status not in sources:
            continue
        entry: Json = {
            "id": tid,
            "name": name,
            "to": r.status(target),
            "hasScreen": False,
            "isGlobal": False,
            "isInitial": False,
            "isAvailable": True,
            "isConditional": False,
            "isLooped": False,
        }
        if expand_fields:
            entry["fields"] = {}
            if target == "Done":
                entry["fields"]["resolution"] = {
                    "required": False,
                    "schema": {"type": "resolution", "system": "resolution"},
                    "name": "Resolution",
                    "key": "resolution",
                    "hasDefaultValue": True,
                    "operations": ["set"],
                    "allowedValues": [r.resolution(x[1]) for x in RESOLUTIONS],
                }
        out.append(entry)
    return out


@route("GET", "/issue/{issueIdOrKey}/transitions")
def list_transitions(emu: JiraEmulator, req: Request) -> Response:
    issue = emu.get_issue(req.args["issueIdOrKey"])
    found = _transitions(emu, req, issue, expand_fields="transitions.fields" in _expand(req))
    if req.param("transitionId"):
        found = [t for t in found if t["id"] == req.param("transitionId")]
    return Response(200, {"expand": "transitions", "transitions": found})


@route("POST", "/issue/{issueIdOrKey}/transitions", write=True)
def do_transition(emu: JiraEmulator, req: Request) -> Response:
    issue = emu.get_issue(req.args["issueIdOrKey"])
    _require(emu, "TRANSITION_ISSUES", "You do not have permission to transition this issue.")
    body = req.body if isinstance(req.body, dict) else {}
    wanted = str((body.get("transition") or {}).get("id", ""))
    match = [t for t in TRANSITIONS if t[0] == wanted and issue.status in t[2]]
    if not match:
        raise ApiError(400, [f"Transition id '{wanted}' is not valid for this issue."])
    target = match[0][3]
    fields = dict(body.get("fields") or {})
    if "resolution" in fields and target != "Done":
        raise ApiError(
            400,
            [],
            {
                "resolution": "Field 'resolution' cannot be set. It is not on "
                "the appropriate screen, or unknown."
            },
        )
    update = dict(body.get("update") or {})
    plan = emu.editor(transition=True).plan(issue, fields, update)
    comments = []
    for op in update.get("comment") or []:
        added = op.get("add") if isinstance(op, dict) else None
        if not isinstance(added, dict) or "body" not in added:
            plan.errors["comment"] = "Comment body can not be empty!"
        else:
            comments.append(_comment_body(emu, Request(req.method, req.version, {}, added, {})))
    plan.raise_if_errors()
    now = emu.clock()
    if STATUSES[issue.status][2] != STATUSES[target][2]:
        issue.statuscategorychangedate = now
    issue.status = target
    if target == "Done":
        issue.resolution = "Done"
        issue.resolutiondate = now
    else:
        issue.resolution = None
        issue.resolutiondate = None
    plan.apply(issue)
    for text in comments:
        emu.new_comment(issue, text, emu.bot, now)
    _touch(emu, issue)
    return Response(204)


# ---------------------------------------------------------------------- entity properties
@route("GET", "/issue/{issueIdOrKey}/properties")
def property_keys(emu: JiraEmulator, req: Request) -> Response:
    issue = emu.get_issue(req.args["issueIdOrKey"])
    api = _r(emu, req).api
    return Response(
        200,
        {
            "keys": [
                {"self": f"{api}/issue/{issue.id}/properties/{k}", "key": k}
                for k in issue.properties
            ]
        },
    )


@route("GET", "/issue/{issueIdOrKey}/properties/{propertyKey}")
def get_property(emu: JiraEmulator, req: Request) -> Response:
    issue = emu.get_issue(req.args["issueIdOrKey"])
    key = req.args["propertyKey"]
    if key not in issue.properties:
        raise ApiError(404, [f"The property with key '{key}' does not exist."])
    return Response(200, {"key": key, "value": issue.properties[key]})


@route("PUT", "/issue/{issueIdOrKey}/properties/{propertyKey}", write=True)
def put_property(emu: JiraEmulator, req: Request) -> Response:
    issue = emu.get_issue(req.args["issueIdOrKey"])
    _require(emu, "EDIT_ISSUES", "You do not have permission to edit issues in this project.")
    key = req.args["propertyKey"]
    if len(key) > 255:
        raise ApiError(400, ["The property key cannot be longer than 255 characters."])
    if req.body is None:
        raise ApiError(400, ["The property value cannot be empty."])
    if len(json.dumps(req.body).encode()) > MAX_PROPERTY_BYTES:
        raise ApiError(
            400, [f"The property value cannot be longer than {MAX_PROPERTY_BYTES} bytes."]
        )
    created = key not in issue.properties
    issue.properties[key] = req.body
    _touch(emu, issue)
    return Response(201 if created else 200)


@route("DELETE", "/issue/{issueIdOrKey}/properties/{propertyKey}", write=True)
def delete_property(emu: JiraEmulator, req: Request) -> Response:
    issue = emu.get_issue(req.args["issueIdOrKey"])
    key = req.args["propertyKey"]
    if key not in issue.properties:
        raise ApiError(404, [f"The property with key '{key}' does not exist."])
    del issue.properties[key]
    _touch(emu, issue)
    return Response(204)


# ---------------------------------------------------------------------- search
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
    me = emu.bot.account_id if emu.mode == "cloud" else emu.bot.name
    evaluator = Evaluator(emu.mode, emu.clock(), me, set(emu.projects))
    try:
        return run(parse(jql), list(emu.issues.values()), evaluator)
    except JqlError as exc:
        raise ApiError(400, [str(exc)]) from None


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
    more = offset + size < len(found)
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
