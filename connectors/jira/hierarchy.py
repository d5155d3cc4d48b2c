"""A postmortem issue as the parent of its action items: Jira issue links.

Jira has no parent for an issue that is not a sub-task or below an epic, and those need
issue types a site may not have; an issue link works on every site and project. Its type is
``postmortem_link_type`` (default ``Relates``: every site has it, Cloud and Data Center; the
Service Management "Problem/Incident" type, "is caused by", exists only where JSM is
installed and reads wrongly for a follow-up action). The postmortem is the link's outward
issue, which Atlassian calls the "from" issue (``linkIssues``: a comment goes "to the from
(outward) issue"). For a symmetric type (inward and outward descriptions alike, as in
Relates) a link someone made in the other direction means the same and counts too.

``linkIssues`` answers 201 with no body, and for a duplicate "indicates that the issue link
was created" (Atlassian OpenAPI), so its answer cannot tell whether a link was made: the
child's ``issuelinks`` are read first, and an existing link means no write. A rerun after an
answer that never came back reads the link and sends nothing.

Costs: one GET and one POST per child attached (one GET when it is already linked); listing a
parent's children is one GET of its ``issuelinks``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.jira.transport import JiraTransport
from syncer.core.actions import LinkChild
from syncer.core.errors import TransientError
from syncer.core.model import ItemRef


class IssueLinks:
    """Read and make parent links of one link type through the connector's transport."""

    def __init__(self, http: JiraTransport, link_type: str, tracker: str) -> None:
        self.http = http
        self.link_type = link_type
        self.tracker = tracker
        self._symmetric: bool | None = None

    def _links(self, key: str) -> list[Mapping[str, Any]]:
        issue = self.http.request("GET", f"issue/{key}", params={"fields": "issuelinks"})
        fields = issue.get("fields") if isinstance(issue, Mapping) else None
        if not isinstance(fields, Mapping):
            raise TransientError(f"GET issue/{key}: the answer has no fields")
        links = fields.get("issuelinks") or []
        return [link for link in links if isinstance(link, Mapping) and self._ours(link)]

    def _ours(self, link: Mapping[str, Any]) -> bool:
        kind = link.get("type")
        if not isinstance(kind, Mapping) or kind.get("name") != self.link_type:
            return False
        if self._symmetric is None:
            self._symmetric = kind.get("inward") == kind.get("outward")
        return True

    @staticmethod
    def _other(link: Mapping[str, Any], side: str) -> str | None:
        issue = link.get(side)
        key = issue.get("key") if isinstance(issue, Mapping) else None
        return key if isinstance(key, str) else None

    def children(self, parent: ItemRef) -> tuple[ItemRef, ...]:
        """Issues linked from ``parent`` (it is the outward side, so each child shows as the
        link's ``inwardIssue`` in the parent's ``issuelinks``), oldest link first."""
        keys: list[str] = []
        for link in self._links(parent.key):
            sides = ("inwardIssue", "outwardIssue") if self._symmetric else ("inwardIssue",)
            for side in sides:
                key = self._other(link, side)
                if key is not None and key not in keys:
                    keys.append(key)
        return tuple(ItemRef(tracker=self.tracker, key=key) for key in keys)

    def link_child(self, action: LinkChild) -> bool:
        """Link ``action.child`` from ``action.parent`` unless the child already shows that
        link; True when the POST was sent."""
        parent = action.parent.key
        for link in self._links(action.child.key):
            sides = ("outwardIssue", "inwardIssue") if self._symmetric else ("outwardIssue",)
            if any((self._other(link, s) or "").upper() == parent.upper() for s in sides):
                return False
        self.http.request(
            "POST",
            "issueLink",
            body={
                "type": {"name": self.link_type},
                "inwardIssue": {"key": action.child.key},
                "outwardIssue": {"key": parent},
            },
        )
        return True
