"""The vocabulary of writes: what a plan asks a tracker to do.

Actions are plain values so that a plan can be printed (dry-run), serialised (``--json``),
compared in tests and counted against the write budget before anything touches a tracker.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from hashlib import sha256
from operator import attrgetter
from typing import Annotated, Any, Literal, NamedTuple

from pydantic import Field, field_serializer

from syncer.core.errors import PermanentError
from syncer.core.messages import Message
from syncer.core.model import Frozen, ItemRef


class AddLabels(Frozen):
    kind: Literal["add_labels"] = "add_labels"
    ref: ItemRef
    labels: tuple[str, ...] = Field(min_length=1)
    reason: str = ""


class RemoveLabels(Frozen):
    kind: Literal["remove_labels"] = "remove_labels"
    ref: ItemRef
    labels: tuple[str, ...] = Field(min_length=1)
    reason: str = ""


class EscalationStep(Frozen):
    """Which tier an escalation comment is for: recorded in the ledger as it is, so the
    review never has to read a tier back out of a marker."""

    tier_id: str
    tier_name: str
    due: date


class PostComment(Frozen):
    """Post ``message`` unless a comment carrying its marker already exists on the item.

    ``also_markers`` are markers an earlier release wrote for this same comment (an
    escalation's ``tier-N``): a comment carrying any of them counts as posted.
    """

    kind: Literal["comment"] = "comment"
    ref: ItemRef
    message: Message
    reason: str = ""
    also_markers: tuple[str, ...] = ()
    escalation: EscalationStep | None = None


class Reopen(Frozen):
    """Reopen a rejected closure, or, where the tracker cannot, leave it labelled.

    When the tracker answers that no transition can reopen the item (``TransitionUnavailable``:
    no such transition, no permission), the applier writes the fallback instead (add
    ``label_instead``, remove ``unlabel_instead``: what ``on_violation: label`` leaves) and
    skips the rest of the item's change, which was meant for the reopened item.
    """

    kind: Literal["reopen"] = "reopen"
    ref: ItemRef
    reason: str = ""
    label_instead: tuple[str, ...] = ()
    unlabel_instead: tuple[str, ...] = ()

    @property
    def fallback_cost(self) -> int:
        """Writes the fallback takes besides the attempt itself."""
        return int(bool(self.label_instead)) + int(bool(self.unlabel_instead))


# Keys of ``UpsertReport.bodies`` / ``UpsertLogEntry.bodies``: the same text in each markup a
# tracker may want. ADF is carried as compact JSON text and sent by the connector as a document.
MARKDOWN, WIKI, ADF = "markdown", "wiki", "adf"


def body_in(bodies: Mapping[str, str], markup: str, *, tracker: str) -> str:
    """The body in ``markup``; a missing one is a programming error named for the logs."""
    try:
        return bodies[markup]
    except KeyError:
        raise PermanentError(
            f"{tracker}: no {markup} body to publish (have: {', '.join(sorted(bodies)) or 'none'})"
        ) from None


def _describe_files(files: Mapping[str, bytes]) -> dict[str, str]:
    return {
        name: f"{len(data)} bytes, sha256 {sha256(data).hexdigest()[:16]}"
        for name, data in files.items()
    }


class UpsertReport(Frozen):
    """Create or update the weekly review issue found by ``label`` and ``week_key``.

    ``bodies`` holds the review in every markup the target tracker may use (``markdown`` for
    GitHub; ``wiki`` and ``adf`` for Jira REST v2/Data Center and v3); each connector picks its
    own, so the core never needs to know a tracker's REST version. ``attachments`` are files
    published beside the body, by file name (Jira: the trend chart PNG); a connector that
    shows the chart another way ignores them.
    """

    kind: Literal["upsert_report"] = "upsert_report"
    tracker: str
    week_key: str
    label: str
    title: str
    bodies: dict[str, str] = Field(min_length=1)
    attachments: dict[str, bytes] = Field(default_factory=dict)
    close_previous: bool = True
    reason: str = ""

    @field_serializer("attachments", when_used="json")
    def _files(self, files: dict[str, bytes]) -> dict[str, str]:
        return _describe_files(files)


class UpsertLogEntry(Frozen):
    """Create or edit the one operating-log comment for ``week_key`` on the log issue.

    ``bodies`` as in ``UpsertReport``: one text per markup, the connector picks its own.
    """

    kind: Literal["upsert_log_entry"] = "upsert_log_entry"
    tracker: str
    log_label: str
    log_title: str
    week_key: str
    bodies: dict[str, str] = Field(min_length=1)
    reason: str = ""


class CreateLabels(Frozen):
    """Create labels that must exist before another write can use them (GitHub repository
    labels), in ``scope`` (the repository).

    Never planned: whether a label exists is the tracker's state, not the item's. The applier
    asks the tracker before a change and puts this ahead of the write that needs it, so that
    creating a label is a write like any other: it costs budget (one per label), passes the
    fence and is recorded in the ledger.
    """

    kind: Literal["create_labels"] = "create_labels"
    tracker: str
    scope: str
    labels: tuple[str, ...] = Field(min_length=1)
    reason: str = ""

    @property
    def cost(self) -> int:
        return len(self.labels)


class FileIssue(Frozen):
    """File one issue of a postmortem (the postmortem itself or one of its action items).

    ``body`` carries the filing marker (``pmsync:pm:INCIDENT:SLUG``) the tracker finds it by
    on the next run, so a rerun edits instead of filing twice (``syncer.postmortem.filing``).
    """

    kind: Literal["file_issue"] = "file_issue"
    tracker: str
    incident: str
    slug: str
    title: str
    body: str
    labels: tuple[str, ...]
    assignees: tuple[str, ...]
    reason: str = "postmortem filing"


class EditFiledIssue(Frozen):
    """Bring an issue filed earlier (``key``) back to the record; ``None`` fields stay."""

    kind: Literal["edit_filed_issue"] = "edit_filed_issue"
    tracker: str
    incident: str
    slug: str
    key: str
    title: str | None = None
    body: str | None = None
    labels: tuple[str, ...] | None = None
    assignees: tuple[str, ...] | None = None
    reason: str = "postmortem filing"


class LinkChild(Frozen):
    """Make ``child`` a child of ``parent`` (a postmortem of one of its action items), unless
    the tracker already shows it there.

    What a child is belongs to the tracker: a GitHub sub-issue, a Jira issue link of the
    configured type (``syncer.core.tracker.LinksChildren``). The connector checks the tracker right
    before writing, so a rerun after a lost answer writes no second link.
    """

    kind: Literal["link_child"] = "link_child"
    parent: ItemRef
    child: ItemRef
    reason: str = "postmortem link"


Action = Annotated[
    AddLabels
    | RemoveLabels
    | PostComment
    | Reopen
    | UpsertReport
    | UpsertLogEntry
    | CreateLabels
    | FileIssue
    | EditFiledIssue
    | LinkChild,
    Field(discriminator="kind"),
]


def action_tracker(action: Action) -> str:
    """Which tracker instance an action is for."""
    if isinstance(
        action, UpsertReport | UpsertLogEntry | CreateLabels | FileIssue | EditFiledIssue
    ):
        return action.tracker
    if isinstance(action, LinkChild):
        return action.parent.tracker
    return action.ref.tracker


class ItemChange(Frozen):
    """The actions for one item, in the order they must run (comment before labels).

    The budget takes or defers a whole change, never half of one, so that a cut budget does
    not leave a comment without its label for longer than needed.
    """

    key: str = Field(description="Item ref or report key this change belongs to.")
    actions: tuple[Action, ...]
    urgency: tuple[int, ...] = Field(
        default=(), description="Sort key: lower runs first (priority, then days overdue)."
    )

    @property
    def cost(self) -> int:
        """Writes this change may take: its actions, or, when a reopen falls back to labels,
        the actions up to the reopen plus the fallback's, whichever is more."""
        for index, action in enumerate(self.actions):
            if isinstance(action, Reopen) and action.fallback_cost:
                return max(len(self.actions), index + 1 + action.fallback_cost)
        return len(self.actions)


class Deferred(NamedTuple):
    """A change that did not fit the budget; its actions are built only if asked for.

    On a first run over a large backlog most changes wait for later cycles: building their
    messages now would cost more than the whole evaluation. ``build`` makes the change from
    ``args``.
    """

    key: str
    cost: int
    urgency: tuple[int, ...]
    builder: Callable[..., ItemChange]
    args: tuple[Any, ...]

    def build(self) -> ItemChange:
        return self.builder(*self.args)


URGENCY_ORDER = attrgetter("urgency", "key")
"""Sort key of changes: most urgent first, then by key so the order is stable."""


def ready(change: ItemChange) -> Deferred:
    """A change already built, wrapped so it can wait in a backlog."""
    return Deferred(change.key, change.cost, change.urgency, _same, (change,))


def _same(change: ItemChange) -> ItemChange:
    return change


@dataclass(frozen=True)
class Plan:
    """What one cycle will write, and what waits for the next because of the budget."""

    changes: tuple[ItemChange, ...] = ()
    deferred: tuple[Deferred, ...] = ()  # in no particular order: see backlog_by_urgency
    budget: int | None = None

    @property
    def backlog(self) -> tuple[ItemChange, ...]:
        return tuple(d.build() for d in self.deferred)

    @property
    def backlog_by_urgency(self) -> tuple[Deferred, ...]:
        """The deferred changes, most urgent first (``deferred`` has no order)."""
        return tuple(sorted(self.deferred, key=URGENCY_ORDER))

    @property
    def actions(self) -> tuple[Action, ...]:
        return tuple(a for c in self.changes for a in c.actions)

    @property
    def write_count(self) -> int:
        return sum(c.cost for c in self.changes)

    @property
    def backlog_count(self) -> int:
        return sum(d.cost for d in self.deferred)

    def is_empty(self) -> bool:
        return not self.changes and not self.deferred
