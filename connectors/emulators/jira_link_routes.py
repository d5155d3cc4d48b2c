"""The Jira emulator's issue links: link types, create, read and delete a link.

What each endpoint does is Atlassian's Jira Cloud platform REST OpenAPI (the copy in
``shared/fixtures/jira/openapi``): ``getIssueLinkTypes`` / ``getIssueLinkType``
(``/rest/api/3/issueLinkType[/{issueLinkTypeId}]``), ``linkIssues`` (``POST
/rest/api/3/issueLink``), ``getIssueLink`` and ``deleteIssueLink``
(``/rest/api/3/issueLink/{linkId}``); an issue shows its links in the ``issuelinks`` field.
From those operations:

- ``linkIssues`` "returns nothing on the creation of an issue link" (201, empty body): the
  link's id is read from the issue's ``issuelinks``. "If the link request duplicates a link,
  the response indicates that the issue link was created": 201 again, one link kept.
- 404 (not 403) when the user lacks *Link issues*, cannot see an issue, when either issue or
  the link type is not found; 400 for a link id that is not a number.
- The optional ``comment`` is "added to the from (outward) issue": not emulated, so a request
  carrying one is refused with 400 rather than half done (the connector sends none).
- The per-issue link limit (413) is documented without its figure: not emulated.
- The error bodies are Jira's shape (``errorMessages``, ``errors``); their wording is the
  emulator's own, as the operations document statuses only.
- Linking and unlinking move both issues' ``updated`` (Jira writes a changelog entry on
  each; the docs are silent, so the less convenient reading: an incremental read sees both).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from connectors.emulators.jira_edit import ApiError
from connectors.emulators.jira_routes import renderer_for
from connectors.emulators.jira_server import Request, Response, route
from connectors.emulators.jira_state import Issue, LinkType

if TYPE_CHECKING:
    from connectors.emulators.jira import JiraEmulator

NOT_VISIBLE = "Issue does not exist or you do not have permission to see it."


@route("GET", "/issueLinkType")
def link_types(emu: JiraEmulator, req: Request) -> Response:
    render = renderer_for(emu, req)
    return Response(200, {"issueLinkTypes": [render.link_type(t) for t in emu.link_types.values()]})


@route("GET", "/issueLinkType/{issueLinkTypeId}")
def link_type(emu: JiraEmulator, req: Request) -> Response:
    type_id = req.args["issueLinkTypeId"]
    if not type_id.isdigit():
        raise ApiError(400, [f"The issue link type ID '{type_id}' is invalid."])
    found = emu.link_types.get(type_id)
    if found is None:
        raise ApiError(404, [f"No issue link type with id '{type_id}' exists."])
    return Response(200, renderer_for(emu, req).link_type(found))


def _type_of(emu: JiraEmulator, raw: Any) -> LinkType:
    if not isinstance(raw, dict) or not (raw.get("id") or raw.get("name")):
        raise ApiError(400, [], {"issuelinks": "Issue link type is required."})
    for candidate in emu.link_types.values():
        if raw.get("id") == candidate.id or raw.get("name") == candidate.name:
            return candidate
    wanted = raw.get("name") or raw.get("id")
    raise ApiError(404, [f"No issue link type with name '{wanted}' found."])


def _issue_of(emu: JiraEmulator, raw: Any, side: str) -> Issue:
    ident = raw.get("key") or raw.get("id") if isinstance(raw, dict) else None
    if not isinstance(ident, str) or not ident:
        raise ApiError(400, [], {side: f"{side} is required."})
    if "BROWSE_PROJECTS" not in emu.permissions:
        raise ApiError(404, [NOT_VISIBLE])
    return emu.get_issue(ident)


@route("POST", "/issueLink", write=True)
def link_issues(emu: JiraEmulator, req: Request) -> Response:
    body = req.body if isinstance(req.body, dict) else {}
    if body.get("comment") is not None:
        raise ApiError(400, ["A comment on a new issue link is not emulated."])
    inward = _issue_of(emu, body.get("inwardIssue"), "inwardIssue")
    outward = _issue_of(emu, body.get("outwardIssue"), "outwardIssue")
    found = _type_of(emu, body.get("type"))
    if "LINK_ISSUES" not in emu.permissions:
        raise ApiError(404, ["You do not have the permission to link issues."])
    if inward is outward:
        raise ApiError(400, ["You cannot link an issue to itself."])
    emu.new_link(found, inward, outward)
    return Response(201)


def _link(emu: JiraEmulator, link_id: str) -> Any:
    if not link_id.isdigit():
        raise ApiError(400, [f"The issue link ID '{link_id}' is invalid."])
    found = emu.links.get(link_id)
    if found is None or "BROWSE_PROJECTS" not in emu.permissions:
        raise ApiError(404, [f"No issue link with id '{link_id}' exists."])
    return found


@route("GET", "/issueLink/{linkId}")
def get_link(emu: JiraEmulator, req: Request) -> Response:
    return Response(200, renderer_for(emu, req).issue_link(_link(emu, req.args["linkId"])))


@route("DELETE", "/issueLink/{linkId}", write=True)
def delete_link(emu: JiraEmulator, req: Request) -> Response:
    found = _link(emu, req.args["linkId"])
    if "LINK_ISSUES" not in emu.permissions:
        raise ApiError(404, ["You do not have the permission to delete issue links."])
    emu.delete_link(found)
    return Response(204)
