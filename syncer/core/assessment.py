"""What the rules conclude about an item: its status, findings and desired state.

These values are the contract between ``evaluate`` (which produces them), ``plan`` (which
diffs them against the tracker), the report and the metrics; a ``Verdict`` is what one rule
contributes to an assessment. Named tuples rather than frozen
dataclasses: one is built per item per cycle, and a frozen dataclass's ``__init__`` costs ten
times more. They are built by keyword; what an assessment does not say has its default (no
tier, no findings, no labels, no comments, no reopen).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import NamedTuple

from syncer.core.actions import EscalationStep
from syncer.core.messages import Message
from syncer.core.model import ActionItem, Person, Waiver
from syncer.core.templates import Fallbacks, first_known, render_template, resolve_mentions


class Status(StrEnum):
    ON_TRACK = "on_track"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"
    NO_DEADLINE = "no_deadline"
    WAIVED = "waived"
    PAUSED = "paused"
    EXEMPT = "exempt"
    CLOSED_ACCEPTED = "closed_accepted"
    CLOSED_REJECTED = "closed_rejected"
    CLOSED_FLAGGED = "closed_flagged"
    """Kept closed, labelled: its evidence could not be verified (policy: flag)."""
    CLOSED_PENDING = "closed_pending"
    """Not judged this cycle: looking its evidence up failed; judged again next cycle."""
    CLOSED_EXEMPT = "closed_exempt"
    CLOSED_UNJUDGED = "closed_unjudged"


class Finding(NamedTuple):
    """A rule's verdict on one item, in words (e.g. ``owner.missing``)."""

    rule: str
    message: str


class LegacyMarker(NamedTuple):
    """The ``tier-N`` marker a release before tier ids wrote for the same escalation.

    It counts as this comment unless the item carries one of ``unless_labelled``: the labels
    of the tiers after this one, which say the ladder changed under the item (a rung was
    inserted before the tier it was at) and ``tier-N`` was another tier's comment.
    """

    marker: str
    unless_labelled: frozenset[str]


class DesiredComment(NamedTuple):
    """A comment an item should have; ``anchor`` is the label that records it was posted.

    It says what to post, not to whom in particular: every item of one priority and
    deadline wants the same tier comment, and shares this one value. Only the marker is
    fixed up front; the mentions and the text are worked out for an item's assessment when
    the plan asks for them (``message_for``): most desired comments are already anchored by
    their label, and rendering is the costliest step of a cycle over a large backlog.
    """

    template: str
    marker: str
    anchor: str | None
    rule: str
    targets: tuple[str, ...]
    fallbacks: Fallbacks
    first_known_only: bool = False
    extra: tuple[tuple[str, str], ...] = ()
    escalation: EscalationStep | None = None
    legacy: LegacyMarker | None = None

    def mentions_for(self, item: ActionItem) -> tuple[Person, ...]:
        if self.first_known_only:
            return first_known(item, self.targets, self.fallbacks)
        return resolve_mentions(item, self.targets, self.fallbacks)

    def also_markers_for(self, item: ActionItem) -> tuple[str, ...]:
        """Markers an earlier release wrote for this comment on this item (see LegacyMarker)."""
        legacy = self.legacy
        if legacy is None or not item.labels.isdisjoint(legacy.unless_labelled):
            return ()
        return (legacy.marker,)

    def message_for(self, assessment: Assessment) -> Message:
        """The comment as it is posted on the assessed item."""
        return render_template(
            self.template,
            self.marker,
            self.values_for(assessment),
            self.mentions_for(assessment.item),
        )

    def values_for(self, assessment: Assessment) -> dict[str, str]:
        """What the template's ``{placeholders}`` stand for on the assessed item."""
        item, deadline, days = assessment.item, assessment.deadline, assessment.days_overdue
        owners = [o for o in item.owners if o.accountable]
        return {
            "title": item.title,
            "key": item.ref.key,
            "url": item.url,
            "due": deadline.isoformat() if deadline else "no deadline",
            "days_overdue": str(days if days is not None and days > 0 else 0),
            "priority": item.priority.value,
            "severity": item.severity.value,
            "owner": owners[0].handle if len(owners) == 1 else "",
            "incident": item.incident or "",
            **dict(self.extra),
        }


class Verdict(NamedTuple):
    """What one rule asks of an item: findings in words, labels, comments to have had."""

    findings: tuple[Finding, ...] = ()
    labels: frozenset[str] = frozenset()
    comments: tuple[DesiredComment, ...] = ()


NOTHING = Verdict()
"""The verdict of a rule with nothing to say (most rules, for most items)."""


def combine(*verdicts: Verdict) -> Verdict:
    """The verdicts of several rules as one, in the order given (comments keep it)."""
    said = [v for v in verdicts if v is not NOTHING]
    if len(said) < 2:
        return said[0] if said else NOTHING
    return Verdict(
        findings=tuple(f for v in said for f in v.findings),
        labels=frozenset().union(*(v.labels for v in said)),
        comments=tuple(c for v in said for c in v.comments),
    )


class Assessment(NamedTuple):
    """Everything the rules concluded about one item.

    ``reopen_fallback`` is set when ``reopen`` is: the pmsync labels the item should carry if
    the tracker cannot reopen it (what ``on_violation: label`` gives, the violation label),
    so that a closure that cannot be undone is still labelled and never escalated as open.
    """

    item: ActionItem
    status: Status
    deadline: date | None
    deadline_source: str
    days_overdue: int | None
    tier: int = 0
    findings: tuple[Finding, ...] = ()
    desired_labels: frozenset[str] = frozenset()
    comments: tuple[DesiredComment, ...] = ()
    reopen: bool = False
    evidence_ok: bool | None = None
    waiver: Waiver | None = None
    reopen_fallback: frozenset[str] | None = None
