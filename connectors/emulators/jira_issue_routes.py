"""The Jira emulator's issue endpoints: read, edit, create, comments, transitions, issue
entity properties.

Writes are validated all-or-nothing (``jira_edit``) and bump ``updated``; the answers use the
shapes real Jira sends (204 for edits, 201 with ``Location`` for comments, Jira's error bodies).

Comment entity properties sent in a comment's create or edit body are stored with the comment,
but these endpoints never return them: Atlassian documents ``expand`` on ``getComments``,
``getComment``, ``addComment`` and ``updateComment`` as accepting ``renderedBody`` only (Jira
Cloud platform OpenAPI, ``/rest/api/3/issue/{issueIdOrKey}/comment[/{id}]``), so an
``expand=properties`` there is ignored, as a site that follows the documentation may do.
Comment properties are read through ``getCommentsByIds`` and the comment-properties
endpoints (``jira_comment_routes``).
"""

from __future__ import annotations

import json
from dataclasses import replace
from email.parser import BytesParser
from email.policy import HTTP
from typing import TYPE_CHECKING, Any

from connectors.emulators.jira_edit import ApiError
from connectors.emulators.jira_routes import renderer_for, require
from connectors.emulators.jira_server import Request, Response, route
from connectors.emulators.jira_state import (
    RESOLUTIONS,
    STATUSES,
    Attachment,
    Issue,
    Json,
)

if TYPE_CHECKING:
    from connectors.emulators.jira import JiraEmulator

MAX_PROPERTY_BYTES = 32768
ID_ONLY = {"id", "key"}
NOT_NAVIGABLE = frozenset({"comment", "attachment"})


def select_fields(emu: JiraEmulator, specs: list[str], default: str) -> list[str] | None:
    """Jira's ``fields`` rules; None means ids only (the new search's default)."""
    items = [s.strip() for spec in specs for s in spec.split(",") if s.strip()] or [default]
    every = emu.all_field_ids()
    navigable = [f for f in every if f not in NOT_NAVIGABLE]
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
    body = renderer_for(emu, req).issue(
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
    if "BROWSE_PROJECTS" not in emu.permissions:  # Jira hides what you cannot browse
        raise ApiError(404, ["Issue does not exist or you do not have permission to see it."])
    issue = emu.get_issue(req.args["issueIdOrKey"])
    wanted = select_fields(emu, req.params.get("fields", []), "*all") or []
    return Response(200, render_issue(emu, req, issue, wanted, _expand(req)))


def _touch(emu: JiraEmulator, issue: Issue) -> None:
    issue.updated = emu.clock()
    emu.revision += 1


@route("PUT", "/issue/{issueIdOrKey}", write=True)
def edit_issue(emu: JiraEmulator, req: Request) -> Response:
    issue = emu.get_issue(req.args["issueIdOrKey"])
    require(emu, "EDIT_ISSUES", "You do not have permission to edit issues in this project.")
    body = req.body if isinstance(req.body, dict) else {}
    if "fields" not in body and "update" not in body:
        raise ApiError(400, ["one of 'fields' or 'update' required"])
    plan = emu.editor().plan(issue, body.get("fields"), body.get("update"))
    plan.raise_if_errors()
    before = emu.hooks.snapshot(issue)
    plan.apply(issue)
    _touch(emu, issue)
    emu.hooks.updated(issue, emu.bot, before, "issue_updated")
    notify = (req.param("notifyUsers") or req.param("notifyEditingUsers") or "true") != "false"
    emu.notify_log.append((issue.key, notify))
    if req.param("returnIssue") == "true":
        return Response(200, render_issue(emu, req, issue, emu.all_field_ids(), _expand(req)))
    return Response(204)


def _create_properties(raw: Any) -> dict[str, Any]:
    """``properties`` of a create request (``[{"key", "value"}]``): stored with the issue."""
    if raw is None:
        return {}
    if not isinstance(raw, list) or not all(
        isinstance(p, dict) and isinstance(p.get("key"), str) for p in raw
    ):
        raise ApiError(400, ["properties: expected a list of {key, value} objects"])
    for prop in raw:
        if len(json.dumps(prop.get("value"))) > MAX_PROPERTY_BYTES:
            raise ApiError(400, [f"The property '{prop['key']}' value is too long."])
    return {p["key"]: p.get("value") for p in raw}


@route("POST", "/issue", write=True)
def create_issue(emu: JiraEmulator, req: Request) -> Response:
    require(emu, "CREATE_ISSUES", "You do not have permission to create issues in this project.")
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
    properties = _create_properties(body.get("properties"))
    key = emu.add_issue(project_obj.key, summary=str(fields["summary"]), announce=False)
    issue = emu.get_issue(key)
    plan.apply(issue)
    issue.properties.update(properties)
    issue.reporter = emu.bot
    emu.revision += 1
    emu.hooks.created(issue, emu.bot)
    return Response(
        201,
        {
            "id": issue.id,
            "key": issue.key,
            "self": f"{renderer_for(emu, req).api}/issue/{issue.id}",
        },
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


def _comment_properties(req: Request) -> dict[str, Any]:
    """The ``properties`` list of a comment create/update body as key -> value.

    The Comment schema documents ``properties`` ("A list of comment properties. Optional on
    create and update."). Each entry is an EntityProperty ``{"key", "value"}``; the limits are
    those of ``setCommentProperty`` (key <= 255 characters, value <= 32768 bytes of JSON).
    Nothing is stored unless every entry is valid, so a comment is never created without its
    properties.
    """
    raw = req.body.get("properties") if isinstance(req.body, dict) else None
    if raw is None:
        return {}
    if not isinstance(raw, list):
        raise ApiError(400, ["The comment properties must be a list of {key, value}."])
    out: dict[str, Any] = {}
    for entry in raw:
        key = entry.get("key") if isinstance(entry, dict) else None
        if not isinstance(key, str) or not key:
            raise ApiError(400, ["The property key cannot be empty."])
        if len(key) > 255:
            raise ApiError(400, ["The property key cannot be longer than 255 characters."])
        if "value" not in entry or entry["value"] is None:
            raise ApiError(400, ["The property value cannot be empty."])
        if len(json.dumps(entry["value"]).encode()) > MAX_PROPERTY_BYTES:
            raise ApiError(
                400, [f"The property value cannot be longer than {MAX_PROPERTY_BYTES} bytes."]
            )
        out[key] = entry["value"]
    return out


@route("GET", "/issue/{issueIdOrKey}/comment")
def list_comments(emu: JiraEmulator, req: Request) -> Response:
    issue = emu.get_issue(req.args["issueIdOrKey"])
    start = int(req.param("startAt") or 0)
    size = int(req.param("maxResults") or 5000)
    ordered = issue.comments
    if req.param("orderBy") == "-created":
        ordered = list(reversed(issue.comments))
    page = renderer_for(emu, req).comments_page(replace(issue, comments=ordered), start, size)
    page.pop("self", None)
    page["maxResults"] = size
    return Response(200, page)


@route("POST", "/issue/{issueIdOrKey}/comment", write=True)
def add_comment(emu: JiraEmulator, req: Request) -> Response:
    issue = emu.get_issue(req.args["issueIdOrKey"])
    require(emu, "ADD_COMMENTS", "You do not have the permission to comment on this issue.")
    body = _comment_body(emu, req)
    properties = _comment_properties(req)
    comment = emu.new_comment(issue, body, emu.bot, emu.clock(), properties)
    _touch(emu, issue)
    emu.hooks.commented(issue, comment)
    rendered = renderer_for(emu, req).comment(issue, comment)
    return Response(201, rendered, {"Location": rendered["self"]})


@route("GET", "/issue/{issueIdOrKey}/comment/{id}")
def get_comment(emu: JiraEmulator, req: Request) -> Response:
    issue = emu.get_issue(req.args["issueIdOrKey"])
    for comment in issue.comments:
        if comment.id == req.args["id"]:
            return Response(200, renderer_for(emu, req).comment(issue, comment))
    raise ApiError(404, [f"Can not find a comment for the id: {req.args['id']}."])


@route("PUT", "/issue/{issueIdOrKey}/comment/{id}", write=True)
def edit_comment(emu: JiraEmulator, req: Request) -> Response:
    issue = emu.get_issue(req.args["issueIdOrKey"])
    for comment in issue.comments:
        if comment.id == req.args["id"]:
            require(
                emu, "EDIT_OWN_COMMENTS", "You do not have the permission to edit this comment."
            )
            body = _comment_body(emu, req)
            comment.properties.update(_comment_properties(req))
            comment.body = body
            comment.updated = emu.clock()
            comment.update_author = emu.bot
            _touch(emu, issue)
            return Response(200, renderer_for(emu, req).comment(issue, comment))
    raise ApiError(404, [f"Can not find a comment for the id: {req.args['id']}."])


# ---------------------------------------------------------------------- transitions
def _transitions(
    emu: JiraEmulator, req: Request, issue: Issue, *, expand_fields: bool
) -> list[Json]:
    r = renderer_for(emu, req)
    out = []
    for tid, name, sources, target in emu.transitions:
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
    if "TRANSITION_ISSUES" not in emu.permissions:  # Jira lists none rather than refusing
        found = []
    if req.param("transitionId"):
        found = [t for t in found if t["id"] == req.param("transitionId")]
    return Response(200, {"expand": "transitions", "transitions": found})


@route("POST", "/issue/{issueIdOrKey}/transitions", write=True)
def do_transition(emu: JiraEmulator, req: Request) -> Response:
    issue = emu.get_issue(req.args["issueIdOrKey"])
    if "TRANSITION_ISSUES" not in emu.permissions:
        # The OpenAPI lists "the user does not have permission to transition the issue"
        # under 400 for this operation, not 403.
        raise ApiError(400, ["You do not have permission to transition this issue."])
    body = req.body if isinstance(req.body, dict) else {}
    wanted = str((body.get("transition") or {}).get("id", ""))
    match = [t for t in emu.transitions if t[0] == wanted and issue.status in t[2]]
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
    before = emu.hooks.snapshot(issue)
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
    emu.hooks.updated(issue, emu.bot, before, "issue_generic")
    return Response(204)


# ---------------------------------------------------------------------- entity properties
@route("GET", "/issue/{issueIdOrKey}/properties")
def property_keys(emu: JiraEmulator, req: Request) -> Response:
    issue = emu.get_issue(req.args["issueIdOrKey"])
    api = renderer_for(emu, req).api
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
    require(emu, "EDIT_ISSUES", "You do not have permission to edit issues in this project.")
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


# ---------------------------------------------------------------------- attachments
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024


def _files(req: Request) -> list[tuple[str, str, bytes]]:
    """(file name, content type, bytes) of every ``file`` part of a multipart body."""
    content_type = req.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        raise ApiError(415, ["Unsupported Media Type: send multipart/form-data"])
    head = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1")
    message = BytesParser(policy=HTTP).parsebytes(head + req.raw)
    files: list[tuple[str, str, bytes]] = []
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") != "file":
            continue
        data = part.get_payload(decode=True)
        name = part.get_filename()
        if not isinstance(data, bytes) or not name:
            continue
        files.append((name, part.get_content_type(), data))
    return files


@route("POST", "/issue/{issueIdOrKey}/attachments", write=True)
def add_attachments(emu: JiraEmulator, req: Request) -> Response:
    """Jira keeps every upload, a second file of the same name included: callers replace."""
    issue = emu.get_issue(req.args["issueIdOrKey"])
    if req.headers.get("x-atlassian-token", "").lower() != "no-check":
        raise ApiError(403, ["XSRF check failed"])
    require(emu, "CREATE_ATTACHMENTS", "You do not have permission to create attachments.")
    files = _files(req)
    if not files:
        raise ApiError(400, ["No file parts named 'file' in the request."])
    if any(len(data) > MAX_ATTACHMENT_BYTES for _, _, data in files):
        raise ApiError(413, ["The file is larger than the attachment size limit."])
    added = [
        Attachment(emu.new_attachment_id(), name, mime, data, emu.bot, emu.clock())
        for name, mime, data in files
    ]
    issue.attachments.extend(added)
    _touch(emu, issue)
    render = renderer_for(emu, req)
    return Response(200, [render.attachment(a) for a in added])


def _find_attachment(emu: JiraEmulator, ident: str) -> tuple[Issue, Attachment]:
    for issue in emu.issues.values():
        for attachment in issue.attachments:
            if attachment.id == ident:
                return issue, attachment
    raise ApiError(404, [f"The attachment with id '{ident}' does not exist"])


@route("GET", "/attachment/{id}")
def get_attachment(emu: JiraEmulator, req: Request) -> Response:
    """``AttachmentMetadata``: the same keys as an upload answer, but a numeric id."""
    _, attachment = _find_attachment(emu, req.args["id"])
    body = renderer_for(emu, req).attachment(attachment)
    body["id"] = int(attachment.id)
    return Response(200, body)


@route("DELETE", "/attachment/{id}", write=True)
def delete_attachment(emu: JiraEmulator, req: Request) -> Response:
    issue, attachment = _find_attachment(emu, req.args["id"])
    require(emu, "DELETE_OWN_ATTACHMENTS", "You do not have permission to delete attachments.")
    issue.attachments.remove(attachment)
    _touch(emu, issue)
    return Response(204)
