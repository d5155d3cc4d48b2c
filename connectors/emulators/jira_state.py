"""The Jira emulator's in-memory site: users, projects, fields, issues and workflow tables.

Plain data: the emulator keeps issues in its own canonical form and ``jira_render`` turns them
into Jira's JSON. The tables (priorities, statuses, resolutions, the workflow's transitions,
permissions, system fields) follow a default Jira Cloud software project.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

Mode = Literal["cloud", "datacenter"]
Clock = Callable[[], datetime]
Json = dict[str, Any]

CUSTOM_TYPES: dict[str, tuple[str, str]] = {
    # schema_type -> (default custom type suffix, JQL clause-name suffix)
    "string": ("textfield", "Short text"),
    "option": ("select", "Dropdown"),
    "user": ("userpicker", "User Picker (single user)"),
    "url": ("url", "URL Field"),
    "date": ("datepicker", "Date"),
}
CUSTOM_PREFIX = "com.atlassian.jira.plugin.system.customfieldtypes:"

# (id, name, iconUrl tail, statusColor) in Jira's default order, most urgent first.
PRIORITIES: list[tuple[str, str, str, str]] = [
    ("1", "Highest", "highest_new.svg", "#d04437"),
    ("2", "High", "high_new.svg", "#f15C75"),
    ("3", "Medium", "medium_new.svg", "#f79232"),
    ("4", "Low", "low_new.svg", "#707070"),
    ("5", "Lowest", "lowest_new.svg", "#999999"),
]
# name -> (status id, status category id, key, colorName, category name)
STATUSES: dict[str, tuple[str, int, str, str, str]] = {
    "To Do": ("10000", 2, "new", "blue-gray", "To Do"),
    "In Progress": ("3", 4, "indeterminate", "yellow", "In Progress"),
    "Done": ("10001", 3, "done", "green", "Done"),
}
RESOLUTIONS: list[tuple[str, str, str]] = [
    ("10000", "Done", "Work has been completed on this issue."),
    ("10001", "Won't Do", "This issue won't be actioned."),
    ("10002", "Duplicate", "The problem is a duplicate of an existing issue."),
    ("10003", "Cannot Reproduce", "This issue couldn't be reproduced."),
]
# (transition id, name, from statuses, to status): To Do -> In Progress -> Done, Done -> To Do.
TRANSITIONS: list[tuple[str, str, tuple[str, ...], str]] = [
    ("11", "Start Progress", ("To Do",), "In Progress"),
    ("21", "Stop Progress", ("In Progress",), "To Do"),
    ("31", "Done", ("To Do", "In Progress"), "Done"),
    ("41", "Reopen", ("Done",), "To Do"),
]
PERMISSIONS: dict[str, tuple[str, str, str]] = {
    "BROWSE_PROJECTS": ("10", "Browse Projects", "Ability to browse projects and issues."),
    "EDIT_ISSUES": ("12", "Edit Issues", "Ability to edit issues."),
    "ADD_COMMENTS": ("15", "Add Comments", "Ability to comment on issues."),
    "EDIT_OWN_COMMENTS": ("36", "Edit Own Comments", "Ability to edit own comments."),
    "TRANSITION_ISSUES": ("46", "Transition Issues", "Ability to transition issues."),
    "RESOLVE_ISSUES": ("14", "Resolve Issues", "Ability to resolve and reopen issues."),
    "CREATE_ISSUES": ("11", "Create Issues", "Ability to create issues."),
    "ASSIGN_ISSUES": ("13", "Assign Issues", "Ability to assign issues to other people."),
    "LINK_ISSUES": ("21", "Link Issues", "Ability to link issues together."),
    "ADMINISTER_PROJECTS": ("23", "Administer Projects", "Ability to administer a project."),
    "CREATE_ATTACHMENTS": (
        "19",
        "Create Attachments",
        "Users with this permission may create attachments.",
    ),
    "DELETE_OWN_ATTACHMENTS": (
        "39",
        "Delete Own Attachments",
        "Users with this permission may delete own attachments.",
    ),
}

# System fields: (id, name, schema, clauseNames, orderable, navigable)
SYSTEM_FIELDS: list[tuple[str, str, Json, list[str], bool, bool]] = [
    ("summary", "Summary", {"type": "string", "system": "summary"}, ["summary"], True, True),
    (
        "description",
        "Description",
        {"type": "string", "system": "description"},
        ["description"],
        True,
        True,
    ),
    ("project", "Project", {"type": "project", "system": "project"}, ["project"], False, True),
    (
        "issuetype",
        "Issue Type",
        {"type": "issuetype", "system": "issuetype"},
        ["issuetype", "type"],
        True,
        True,
    ),
    ("status", "Status", {"type": "status", "system": "status"}, ["status"], False, True),
    (
        "statusCategory",
        "Status Category",
        {"type": "statusCategory", "system": "statusCategory"},
        ["statusCategory"],
        False,
        True,
    ),
    ("priority", "Priority", {"type": "priority", "system": "priority"}, ["priority"], True, True),
    (
        "resolution",
        "Resolution",
        {"type": "resolution", "system": "resolution"},
        ["resolution"],
        True,
        True,
    ),
    (
        "labels",
        "Labels",
        {"type": "array", "items": "string", "system": "labels"},
        ["labels"],
        True,
        True,
    ),
    ("assignee", "Assignee", {"type": "user", "system": "assignee"}, ["assignee"], True, True),
    ("reporter", "Reporter", {"type": "user", "system": "reporter"}, ["reporter"], True, True),
    ("creator", "Creator", {"type": "user", "system": "creator"}, ["creator"], False, True),
    ("duedate", "Due date", {"type": "date", "system": "duedate"}, ["due", "duedate"], True, True),
    (
        "created",
        "Created",
        {"type": "datetime", "system": "created"},
        ["created", "createdDate"],
        False,
        True,
    ),
    (
        "updated",
        "Updated",
        {"type": "datetime", "system": "updated"},
        ["updated", "updatedDate"],
        False,
        True,
    ),
    (
        "resolutiondate",
        "Resolved",
        {"type": "datetime", "system": "resolutiondate"},
        ["resolutiondate", "resolved"],
        False,
        True,
    ),
    (
        "statuscategorychangedate",
        "Status Category Changed",
        {"type": "datetime", "system": "statuscategorychangedate"},
        ["statusCategoryChangedDate"],
        False,
        True,
    ),
    (
        "comment",
        "Comment",
        {"type": "comments-page", "system": "comment"},
        ["comment"],
        True,
        False,
    ),
    (
        "attachment",
        "Attachment",
        {"type": "array", "items": "attachment", "system": "attachment"},
        ["attachments"],
        True,
        False,
    ),
    (
        "issuelinks",
        "Linked Issues",
        {"type": "array", "items": "issuelinks", "system": "issuelinks"},
        ["issueLink", "workItemLink"],
        True,
        True,
    ),
    ("issuekey", "Key", {}, ["id", "issue", "issuekey", "key"], False, True),
]
SYSTEM_FIELD_IDS = [f[0] for f in SYSTEM_FIELDS if f[0] != "issuekey"]


def fmt_time(moment: datetime) -> str:
    """Jira's timestamp format: ``2025-07-25T21:15:26.104+0000`` (always UTC here)."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+0000"


def adf_from_text(text: str) -> Json:
    """Wrap plain text in a minimal ADF document, one paragraph per line, as Jira v3 does."""
    paragraphs = [
        {"type": "paragraph", "content": [{"type": "text", "text": line}] if line else []}
        for line in text.split("\n")
    ]
    return {"type": "doc", "version": 1, "content": paragraphs}


def text_from_adf(node: Any, mode: Mode = "cloud") -> str:
    """Flatten an ADF document to wiki-ish text (mentions become ``[~accountid:ID]``)."""
    if not isinstance(node, dict):
        return str(node) if node is not None else ""
    kind = node.get("type")
    attrs = node.get("attrs") or {}
    if kind == "text":
        return str(node.get("text", ""))
    if kind == "mention":
        ident = str(attrs.get("id", ""))
        return f"[~accountid:{ident}]" if mode == "cloud" else f"[~{ident}]"
    if kind == "hardBreak":
        return "\n"
    parts = [text_from_adf(child, mode) for child in node.get("content") or []]
    if kind == "doc":
        return "\n".join(parts)
    return "".join(parts)


@dataclass
class User:
    """A Jira user; Cloud identifies users by ``account_id``, Data Center by ``name``/``key``."""

    account_id: str
    name: str
    display_name: str
    email: str
    key: str = ""
    active: bool = True
    time_zone: str = "Etc/UTC"

    def __post_init__(self) -> None:
        if not self.key:
            self.key = (
                f"JIRAUSER{10000 + int(hashlib.sha256(self.name.encode()).hexdigest()[:4], 16)}"
            )


@dataclass
class Project:
    """A project: the key prefixes its issue keys."""

    id: str
    key: str
    name: str
    next_number: int = 1


@dataclass
class CustomField:
    """A custom field; ``options`` only for select fields (value -> option id)."""

    id: str
    name: str
    schema_type: str
    custom_type: str
    options: dict[str, str] = field(default_factory=dict)

    @property
    def number(self) -> int:
        return int(self.id.removeprefix("customfield_"))

    @property
    def json_type(self) -> str:
        """``schema.type`` as Jira reports it: a URL field is a ``string``."""
        return "string" if self.schema_type == "url" else self.schema_type


@dataclass
class Comment:
    """One comment; ``body`` is kept exactly as sent (a wiki string or an ADF document).

    ``properties`` are the comment's entity properties (key -> JSON value), set with the
    comment in the same request (or one by one) and returned only by ``getCommentsByIds``
    with ``expand=properties`` and by the comment-properties endpoints."""

    id: str
    author: User
    body: str | Json
    created: datetime
    updated: datetime
    update_author: User
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass
class Attachment:
    """A file attached to an issue; the bytes are kept so tests can compare them."""

    id: str
    filename: str
    mime_type: str
    content: bytes
    author: User
    created: datetime


@dataclass
class Issue:
    """One issue. Custom field values are stored in the emulator's canonical form:
    str for text/url, option value for select, ``User`` for user pickers, ``date`` for dates."""

    id: str
    key: str
    project: Project
    summary: str
    description: str | Json | None
    labels: list[str]
    priority: str
    status: str
    resolution: str | None
    assignee: User | None
    reporter: User
    duedate: date | None
    created: datetime
    updated: datetime
    resolutiondate: datetime | None
    statuscategorychangedate: datetime
    custom: dict[str, Any] = field(default_factory=dict)
    comments: list[Comment] = field(default_factory=list)
    properties: dict[str, Any] = field(default_factory=dict)
    attachments: list[Attachment] = field(default_factory=list)
    links: list[IssueLink] = field(default_factory=list)  # both directions, oldest first


@dataclass(frozen=True)
class LinkType:
    """An issue link type: "``outward`` issue <outward> ``inward`` issue", e.g. Blocks."""

    id: str
    name: str
    inward: str
    outward: str


# The link types a new Jira Cloud site has (Settings > Issues > Issue linking).
DEFAULT_LINK_TYPES = (
    LinkType("10000", "Blocks", "is blocked by", "blocks"),
    LinkType("10001", "Cloners", "is cloned by", "clones"),
    LinkType("10002", "Duplicate", "is duplicated by", "duplicates"),
    LinkType("10003", "Relates", "relates to", "relates to"),
)


@dataclass
class IssueLink:
    """A link between two issues. The outward issue is the "from" issue (Atlassian:
    ``linkIssues`` adds its optional comment "to the from (outward) issue")."""

    id: str
    type: LinkType
    inward: Issue
    outward: Issue


def now_utc() -> datetime:
    """The default emulator clock."""
    return datetime.now(UTC)
