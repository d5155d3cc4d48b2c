"""JSON shapes of the Jira emulator: users, statuses, issues and comments as Jira sends them.

This is the part that must match recorded real responses, so it lives apart from the HTTP
layer and can be read on its own: each method returns the body Jira Cloud or Data Center would
send, in REST v2 (wiki strings) or v3 (Atlassian Document Format) flavour.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from connectors.emulators.jira_state import (
    PRIORITIES,
    RESOLUTIONS,
    STATUSES,
    Attachment,
    Comment,
    CustomField,
    Issue,
    IssueLink,
    Json,
    LinkType,
    Mode,
    Project,
    User,
    adf_from_text,
    fmt_time,
    text_from_adf,
)


class Renderer:
    """Builds response bodies for one base URL, mode and REST version."""

    def __init__(self, base_url: str, mode: Mode, version: str) -> None:
        self.base = base_url
        self.mode = mode
        self.version = "2" if version == "latest" else version
        self.api = f"{base_url}/rest/api/{self.version}"

    def avatars(self, seed: str) -> Json:
        url = f"{self.base}/secure/useravatar?avatarId=10122&owner={seed}"
        return {
            "48x48": url,
            "24x24": url + "&size=small",
            "16x16": url + "&size=xsmall",
            "32x32": url + "&size=medium",
        }

    def user(self, user: User) -> Json:
        if self.mode == "cloud":
            return {
                "self": f"{self.api}/user?accountId={quote(user.account_id, safe='')}",
                "accountId": user.account_id,
                "emailAddress": user.email,
                "avatarUrls": self.avatars(user.account_id),
                "displayName": user.display_name,
                "active": user.active,
                "timeZone": user.time_zone,
                "accountType": "atlassian",
            }
        return {
            "self": f"{self.api}/user?username={user.name}",
            "key": user.key,
            "name": user.name,
            "emailAddress": user.email,
            "avatarUrls": self.avatars(user.key),
            "displayName": user.display_name,
            "active": user.active,
            "timeZone": user.time_zone,
        }

    def status_category(self, status: str) -> Json:
        _, cat_id, key, color, name = STATUSES[status]
        return {
            "self": f"{self.api}/statuscategory/{cat_id}",
            "id": cat_id,
            "key": key,
            "colorName": color,
            "name": name,
        }

    def status(self, status: str) -> Json:
        sid = STATUSES[status][0]
        return {
            "self": f"{self.api}/status/{sid}",
            "description": "",
            "iconUrl": f"{self.base}/images/icons/statuses/generic.png",
            "name": status,
            "id": sid,
            "statusCategory": self.status_category(status),
        }

    def priority(self, name: str) -> Json:
        for pid, pname, icon, _color in PRIORITIES:
            if pname == name:
                return {
                    "self": f"{self.api}/priority/{pid}",
                    "iconUrl": f"{self.base}/images/icons/priorities/{icon}",
                    "name": pname,
                    "id": pid,
                }
        raise KeyError(name)

    def priority_full(self, index: int) -> Json:
        pid, name, icon, color = PRIORITIES[index]
        return {
            "self": f"{self.api}/priority/{pid}",
            "statusColor": color,
            "description": f"{name} priority.",
            "iconUrl": f"{self.base}/images/icons/priorities/{icon}",
            "name": name,
            "id": pid,
        }

    def resolution(self, name: str) -> Json:
        for rid, rname, desc in RESOLUTIONS:
            if rname == name:
                body = {
                    "self": f"{self.api}/resolution/{rid}",
                    "id": rid,
                    "description": desc,
                    "name": rname,
                }
                if self.mode == "datacenter":
                    body["iconUrl"] = f"{self.base}/images/icons/statuses/resolved.png"
                return body
        raise KeyError(name)

    def project(self, project: Project, *, full: bool = False) -> Json:
        body: Json = {
            "self": f"{self.api}/project/{project.id}",
            "id": project.id,
            "key": project.key,
            "name": project.name,
            "projectTypeKey": "software",
            "simplified": False,
            "avatarUrls": {
                size: f"{self.base}/secure/projectavatar?pid={project.id}&size={size}"
                for size in ("48x48", "24x24", "16x16", "32x32")
            },
        }
        if full:
            body["expand"] = "description,lead,issueTypes,url,projectKeys,permissions,insight"
            body["description"] = ""
            body["issueTypes"] = [self.issuetype()]
            body["assigneeType"] = "UNASSIGNED"
            body["versions"] = []
            body["components"] = []
            body["roles"] = {}
            body["isPrivate"] = False
            body["properties"] = {}
        return body

    def issuetype(self) -> Json:
        return {
            "self": f"{self.api}/issuetype/10002",
            "id": "10002",
            "description": "A small, distinct piece of work.",
            "iconUrl": f"{self.base}/images/icons/issuetypes/task.svg",
            "name": "Task",
            "subtask": False,
            "avatarId": 10318,
            "hierarchyLevel": 0,
        }

    def text(self, value: str | Json | None, *, rich: bool) -> str | Json | None:
        """Text as stored, converted to ADF (v3, rich-text fields) or flattened (v2)."""
        if value is None:
            return None
        if self.version == "3" and rich:
            return value if isinstance(value, dict) else adf_from_text(value)
        return value if isinstance(value, str) else text_from_adf(value, self.mode)

    def custom_value(self, cf: CustomField, value: Any) -> Any:
        if value is None:
            return None
        if cf.schema_type == "option":
            return {
                "self": f"{self.api}/customFieldOption/{cf.options[value]}",
                "value": value,
                "id": cf.options[value],
            }
        if cf.schema_type == "user":
            return self.user(value)
        if cf.schema_type == "date":
            return value.isoformat()
        if cf.custom_type.endswith(":textarea"):
            return self.text(value, rich=True)
        return value

    def comment(self, issue: Issue, comment: Comment, *, properties: bool = False) -> Json:
        """A Comment; ``properties`` adds its entity properties (only ``getCommentsByIds``
        documents ``expand=properties``)."""
        body: Json = {
            "self": f"{self.api}/issue/{issue.id}/comment/{comment.id}",
            "id": comment.id,
            "author": self.user(comment.author),
            "body": self.text(comment.body, rich=True),
            "updateAuthor": self.user(comment.update_author),
            "created": fmt_time(comment.created),
            "updated": fmt_time(comment.updated),
        }
        if self.mode == "cloud":
            body["jsdPublic"] = True
        if properties:
            body["properties"] = [{"key": k, "value": v} for k, v in comment.properties.items()]
        return body

    def comments_page(self, issue: Issue, start_at: int = 0, max_results: int = 5000) -> Json:
        """A PageOfComments, never with properties (``getComments`` documents no such expand)."""
        page = issue.comments[start_at : start_at + max_results]
        return {
            "comments": [self.comment(issue, c) for c in page],
            "self": f"{self.api}/issue/{issue.id}/comment",
            "maxResults": max_results if issue.comments else 0,
            "total": len(issue.comments),
            "startAt": start_at,
        }

    def attachment(self, attachment: Attachment) -> Json:
        """An ``Attachment`` as the upload answer and ``fields.attachment`` show it."""
        body: Json = {
            "self": f"{self.api}/attachment/{attachment.id}",
            "id": attachment.id,
            "filename": attachment.filename,
            "author": self.user(attachment.author),
            "created": fmt_time(attachment.created),
            "size": len(attachment.content),
            "mimeType": attachment.mime_type,
            "content": f"{self.base}/secure/attachment/{attachment.id}/"
            f"{quote(attachment.filename)}",
        }
        if attachment.mime_type.startswith("image/"):
            body["thumbnail"] = f"{self.base}/secure/thumbnail/{attachment.id}/{attachment.id}"
        return body

    def link_type(self, link_type: LinkType) -> Json:
        return {
            "id": link_type.id,
            "name": link_type.name,
            "inward": link_type.inward,
            "outward": link_type.outward,
            "self": f"{self.api}/issueLinkType/{link_type.id}",
        }

    def linked_issue(self, issue: Issue) -> Json:
        """The other issue of a link: id, key, self and a few fields (``LinkedIssue``)."""
        return {
            "id": issue.id,
            "key": issue.key,
            "self": f"{self.api}/issue/{issue.id}",
            "fields": {
                "summary": issue.summary,
                "status": self.status(issue.status),
                "priority": self.priority(issue.priority),
                "issuetype": self.issuetype(),
            },
        }

    def issue_link(self, link: IssueLink, seen_from: Issue | None = None) -> Json:
        """An ``IssueLink``. In an issue's ``issuelinks`` field (``seen_from``) Jira names only
        the other issue, under the side it is on: ``outwardIssue`` when this issue is the
        link's inward one, and the reverse; ``getIssueLink`` names both."""
        body: Json = {
            "id": link.id,
            "self": f"{self.api}/issueLink/{link.id}",
            "type": self.link_type(link.type),
        }
        if seen_from is None or seen_from is not link.inward:
            body["inwardIssue"] = self.linked_issue(link.inward)
        if seen_from is None or seen_from is not link.outward:
            body["outwardIssue"] = self.linked_issue(link.outward)
        return body

    def field_value(self, issue: Issue, fid: str, customs: dict[str, CustomField]) -> Any:
        """The value of one field of ``issue`` as Jira renders it."""
        simple: dict[str, Callable[[], Any]] = {
            "summary": lambda: issue.summary,
            "description": lambda: self.text(issue.description, rich=True),
            "project": lambda: self.project(issue.project),
            "issuetype": self.issuetype,
            "status": lambda: self.status(issue.status),
            "statusCategory": lambda: self.status_category(issue.status),
            "priority": lambda: self.priority(issue.priority),
            "resolution": lambda: self.resolution(issue.resolution) if issue.resolution else None,
            "labels": lambda: list(issue.labels),
            "assignee": lambda: self.user(issue.assignee) if issue.assignee else None,
            "reporter": lambda: self.user(issue.reporter),
            "creator": lambda: self.user(issue.reporter),
            "duedate": lambda: issue.duedate.isoformat() if issue.duedate else None,
            "created": lambda: fmt_time(issue.created),
            "updated": lambda: fmt_time(issue.updated),
            "resolutiondate": lambda: (
                fmt_time(issue.resolutiondate) if issue.resolutiondate else None
            ),
            "statuscategorychangedate": lambda: fmt_time(issue.statuscategorychangedate),
            "comment": lambda: self.comments_page(issue),
            "attachment": lambda: [self.attachment(a) for a in issue.attachments],
            "issuelinks": lambda: [self.issue_link(link, seen_from=issue) for link in issue.links],
        }
        if fid in simple:
            return simple[fid]()
        cf = customs[fid]
        return self.custom_value(cf, issue.custom.get(fid))

    def issue(
        self,
        issue: Issue,
        wanted: list[str] | None,
        *,
        customs: dict[str, CustomField],
        expand: set[str],
        names: dict[str, str],
        schemas: dict[str, Json],
    ) -> Json:
        """An IssueBean; ``wanted`` None means only ``id`` (the new search's default)."""
        if wanted is None:
            return {"id": issue.id}
        fields = {fid: self.field_value(issue, fid, customs) for fid in wanted}
        body: Json = {
            "expand": "renderedFields,names,schema,operations,editmeta,changelog,"
            "versionedRepresentations",
            "id": issue.id,
            "self": f"{self.api}/issue/{issue.id}",
            "key": issue.key,
            "fields": fields,
        }
        if "names" in expand:
            body["names"] = {fid: names[fid] for fid in wanted if fid in names}
        if "schema" in expand:
            body["schema"] = {fid: schemas[fid] for fid in wanted if fid in schemas}
        return body
