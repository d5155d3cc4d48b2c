"""What a filing reads and writes: the issues as the tracker holds them, the issues a record
asks for, the steps between the two, the ``Filer`` a tracker implements, and the label names.

Apart from the planning in ``syncer.postmortem.filing`` so that the connectors' filers and the
applier's filing target depend on these values only, not on how a plan is made.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol, runtime_checkable

from syncer.core.document import Document
from syncer.core.model import ItemRef, Priority, Severity
from syncer.core.tracker import Tracker
from syncer.core.tracker_config import GitHubTracker


@dataclass(frozen=True)
class FiledIssue:
    """An issue as the tracker holds it now."""

    key: str  # issue number on GitHub, issue key on Jira
    url: str
    title: str
    body: str
    labels: frozenset[str]
    assignees: frozenset[str]
    created: date | None = None


@dataclass(frozen=True)
class IssueSpec:
    """An issue as the record wants it."""

    slug: str
    title: str
    body: str
    labels: frozenset[str]
    assignees: tuple[str, ...]


@dataclass(frozen=True)
class Create:
    """File a new issue."""

    spec: IssueSpec


@dataclass(frozen=True)
class Update:
    """Change an existing issue; ``None`` fields stay as they are."""

    slug: str
    key: str
    url: str
    title: str | None = None
    body: str | None = None
    labels: frozenset[str] | None = None
    assignees: tuple[str, ...] | None = None

    @property
    def changed(self) -> list[str]:
        names = ("title", "body", "labels", "assignees")
        return [n for n in names if getattr(self, n) is not None]


@dataclass(frozen=True)
class Unchanged:
    """Already filed exactly as wanted."""

    slug: str
    key: str
    url: str


Step = Create | Update | Unchanged


class Filer(Protocol):
    """What filing needs from a tracker."""

    def find_filed(self, incident_id: str) -> dict[str, FiledIssue]:
        """Issues filed for this incident, by slug (read from their markers)."""
        ...

    def render_form(self, document: Document) -> str:
        """``document`` as the Markdown of the issue-form bodies this filer reads and writes."""
        ...

    def create_issue(
        self, title: str, body: str, labels: Sequence[str], assignees: Sequence[str]
    ) -> FiledIssue: ...

    def update_issue(
        self,
        key: str,
        *,
        title: str | None = None,
        body: str | None = None,
        labels: Sequence[str] | None = None,
        assignees: Sequence[str] | None = None,
    ) -> FiledIssue: ...


@runtime_checkable
class LinksFiledIssues(Protocol):
    """A filer whose tracker can make the postmortem issue the parent of its action items
    (optional: a filer without it files without linking).

    ``hierarchy`` is the tracker connector the filer writes through, which implements
    ``syncer.core.tracker.LinksChildren``; ``item_ref`` names a filed issue as that
    connector does (``owner/repo#N`` on GitHub, ``KEY-N`` on Jira).
    """

    @property
    def hierarchy(self) -> Tracker: ...

    def item_ref(self, issue: FiledIssue) -> ItemRef: ...


@dataclass(frozen=True)
class FilingLabels:
    """Label names used when filing, taken from the tracker's mapping so they map back."""

    action: str = "postmortem-action"
    postmortem: str = "postmortem"
    severity: dict[Severity, str] = field(default_factory=dict)
    priority: dict[Priority, str] = field(default_factory=dict)
    managed: frozenset[str] = frozenset()

    @classmethod
    def for_tracker(cls, tracker: GitHubTracker | None = None) -> FilingLabels:
        """The first label of each severity and priority mapping (``sev-1``, ``P0``...)."""
        tracker = tracker or GitHubTracker()
        severity = {s: names[0] for s, names in tracker.severity_labels.items() if names}
        priority = {p: names[0] for p, names in tracker.priority_labels.items() if names}
        every = [n for names in tracker.severity_labels.values() for n in names]
        every += [n for names in tracker.priority_labels.values() for n in names]
        return cls(
            action=tracker.action_label,
            severity=severity,
            priority=priority,
            managed=frozenset(n.lower() for n in every),
        )

    def incident(self, incident_id: str) -> str:
        """The label that groups every issue of one incident (found with one list request)."""
        return f"incident:{incident_id}"

    def is_managed(self, label: str, incident_id: str) -> bool:
        lowered = label.lower()
        return lowered in self.managed or lowered in {
            self.action.lower(),
            self.postmortem.lower(),
            self.incident(incident_id).lower(),
        }
