"""The Jira emulator's comment endpoints that are not under an issue: comments by id and
comment entity properties.

These are the only documented ways to read a comment's entity properties (Jira Cloud
platform OpenAPI, shared fixture ``jira/openapi/jira-cloud-platform-swagger-v3.v3.json``):

- ``getCommentsByIds`` ``POST /rest/api/{2,3}/comment/list``: body
  ``IssueCommentListRequestBean`` ``{"ids": [int64, ...]}`` (required, "A maximum of 1000
  IDs"; 400 "if the request contains more than 1000 IDs or is empty"), ``expand`` accepting
  ``renderedBody`` and ``properties``; answer ``PageBeanComment``. Comments are returned where
  the user may browse the project, so unknown or hidden ids are left out, not refused.
- ``getCommentPropertyKeys`` ``GET /comment/{commentId}/properties`` (``PropertyKeys``),
  ``getCommentProperty`` ``GET /comment/{commentId}/properties/{propertyKey}``
  (``EntityProperty``; 404 when the comment or the property is not found),
  ``setCommentProperty`` ``PUT`` (value: non-empty JSON of at most 32768 bytes, key at most
  255 characters; 200 updated, 201 created; *Edit All Comments*, or *Edit Own Comments* on
  one's own comment) and ``deleteCommentProperty`` ``DELETE`` (204).

Where the description is silent the emulator takes the stricter reading and says so: ids must
be JSON integers (the schema's ``int64``) and the body may hold nothing but ``ids``
(``additionalProperties: false``); the answer is one page in ascending id order with
``maxResults`` 1048576 and ``isLast`` true, which is what a recorded Cloud answer shows
(atlassian-python-api fixture ``rest/api/2/comment/list/POST``); *Edit All Comments* is not
modelled, so the bot may set properties on its own comments only. Data Center mode serves the
same resources under ``/rest/api/2``: the shared fixtures hold no Data Center description to
check that against, and the connector copes with a site without ``comment/list`` (404).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from connectors.emulators.jira_edit import ApiError
from connectors.emulators.jira_routes import renderer_for, require
from connectors.emulators.jira_server import Request, Response, route
from connectors.emulators.jira_state import Comment, Issue

if TYPE_CHECKING:
    from connectors.emulators.jira import JiraEmulator

MAX_IDS = 1000
MAX_PROPERTY_BYTES = 32768
ONE_PAGE = 1048576  # the maxResults a recorded Cloud answer carries


def _expand(req: Request) -> set[str]:
    return {e.strip() for v in req.params.get("expand", []) for e in v.split(",") if e.strip()}


def _ids(body: Any) -> list[str]:
    """The requested ids, validated as the schema describes them."""
    if not isinstance(body, dict) or "ids" not in body:
        raise ApiError(400, ["The list of comment IDs is required."])
    extra = sorted(set(body) - {"ids"})
    if extra:
        raise ApiError(400, [f'Unrecognized field "{extra[0]}".'])
    ids = body["ids"]
    if not isinstance(ids, list) or not ids:
        raise ApiError(400, ["The list of comment IDs must not be empty."])
    if len(ids) > MAX_IDS:
        raise ApiError(400, [f"The maximum number of comment IDs is {MAX_IDS}."])
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise ApiError(400, ["Comment IDs must be integers."])
    return [str(i) for i in dict.fromkeys(ids)]


@route("POST", "/comment/list")
def comments_by_ids(emu: JiraEmulator, req: Request) -> Response:
    """``getCommentsByIds``: a read, though sent as a POST (no write limits, no ``updated``)."""
    wanted = set(_ids(req.body))
    expand = _expand(req)
    found: list[tuple[Issue, Comment]] = []
    if "BROWSE_PROJECTS" in emu.permissions:
        for issue in emu.issues.values():
            found.extend((issue, c) for c in issue.comments if c.id in wanted)
    found.sort(key=lambda pair: int(pair[1].id))
    renderer = renderer_for(emu, req)
    values = [
        renderer.comment(issue, comment, properties="properties" in expand)
        for issue, comment in found
    ]
    return Response(
        200,
        {
            "maxResults": ONE_PAGE,
            "startAt": 0,
            "total": len(values),
            "isLast": True,
            "values": values,
        },
    )


def _comment(emu: JiraEmulator, comment_id: str) -> tuple[Issue, Comment]:
    if "BROWSE_PROJECTS" not in emu.permissions:
        raise ApiError(404, [f"Can not find a comment for the id: {comment_id}."])
    issue = emu.issue_of_comment(comment_id)
    return issue, next(c for c in issue.comments if c.id == comment_id)


@route("GET", "/comment/{commentId}/properties")
def comment_property_keys(emu: JiraEmulator, req: Request) -> Response:
    _, comment = _comment(emu, req.args["commentId"])
    api = renderer_for(emu, req).api
    return Response(
        200,
        {
            "keys": [
                {"self": f"{api}/comment/{comment.id}/properties/{k}", "key": k}
                for k in comment.properties
            ]
        },
    )


@route("GET", "/comment/{commentId}/properties/{propertyKey}")
def comment_property(emu: JiraEmulator, req: Request) -> Response:
    _, comment = _comment(emu, req.args["commentId"])
    key = req.args["propertyKey"]
    if key not in comment.properties:
        raise ApiError(404, [f"The property with key '{key}' does not exist."])
    return Response(200, {"key": key, "value": comment.properties[key]})


def _editable(emu: JiraEmulator, comment: Comment) -> None:
    require(emu, "EDIT_OWN_COMMENTS", "You do not have the permission to edit this comment.")
    if comment.author is not emu.bot:
        raise ApiError(403, ["You do not have the permission to edit this comment."])


@route("PUT", "/comment/{commentId}/properties/{propertyKey}", write=True)
def set_comment_property(emu: JiraEmulator, req: Request) -> Response:
    issue, comment = _comment(emu, req.args["commentId"])
    _editable(emu, comment)
    key = req.args["propertyKey"]
    if len(key) > 255:
        raise ApiError(400, ["The property key cannot be longer than 255 characters."])
    if req.body is None:
        raise ApiError(400, ["The property value cannot be empty."])
    if len(json.dumps(req.body).encode()) > MAX_PROPERTY_BYTES:
        raise ApiError(
            400, [f"The property value cannot be longer than {MAX_PROPERTY_BYTES} bytes."]
        )
    created = key not in comment.properties
    comment.properties[key] = req.body
    issue.updated = emu.clock()
    emu.revision += 1
    return Response(201 if created else 200)


@route("DELETE", "/comment/{commentId}/properties/{propertyKey}", write=True)
def delete_comment_property(emu: JiraEmulator, req: Request) -> Response:
    issue, comment = _comment(emu, req.args["commentId"])
    _editable(emu, comment)
    key = req.args["propertyKey"]
    if key not in comment.properties:
        raise ApiError(404, [f"The property with key '{key}' does not exist."])
    del comment.properties[key]
    issue.updated = emu.clock()
    emu.revision += 1
    return Response(204)
