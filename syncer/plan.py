"""Diff desired state against what the tracker shows, and order the writes.

``plan`` never looks at a clock or a tracker: the assessments carry the desired state and the
observed items carry the labels and state that are there now. An item already at its desired
labels yields nothing, so reruns converge (jirahub's ``make_issue_updates``). Within an item
the order is fixed: comment, reopen, then labels, because the labels are what record that the
comment was posted (see ``syncer.apply``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from syncer.actions import (
    Action,
    AddLabels,
    ItemChange,
    Plan,
    PostComment,
    RemoveLabels,
    Reopen,
)
from syncer.evaluate import Assessment
from syncer.model import ItemRef


@dataclass
class Observed:
    """What is known to be in the trackers beyond the items themselves.

    ``posted_markers`` is a cache of (item ref, marker) pairs known to be posted; it only
    saves marker checks for comments that no label records. Losing it is harmless: the applier
    checks the tracker before posting.
    """

    posted_markers: set[tuple[ItemRef, str]] = field(default_factory=set)

    def remember(self, ref: ItemRef, marker: str) -> None:
        self.posted_markers.add((ref, marker))


def item_change(
    assessment: Assessment, managed: frozenset[str], observed: Observed
) -> ItemChange | None:
    """The writes that bring one item to its desired state, or None."""
    item = assessment.item
    present = item.labels & managed
    desired = assessment.desired_labels
    if not assessment.comments and not assessment.reopen and present == desired:
        return None
    ref = item.ref
    actions: list[Action] = []
    for wanted in assessment.comments:
        if wanted.anchor is not None and wanted.anchor in item.labels:
            continue
        if wanted.anchor is None and (ref, wanted.message.marker) in observed.posted_markers:
            continue
        actions.append(PostComment(ref=ref, message=wanted.message, reason=wanted.rule))
    if assessment.reopen:
        actions.append(Reopen(ref=ref, reason="closure criteria not met"))
    to_add = desired - present
    if to_add:
        actions.append(AddLabels(ref=ref, labels=tuple(sorted(to_add)), reason=assessment.status))
    to_remove = present - desired
    if to_remove:
        actions.append(
            RemoveLabels(ref=ref, labels=tuple(sorted(to_remove)), reason=assessment.status)
        )
    if not actions:
        return None
    urgency = (
        item.priority.rank,
        -(assessment.days_overdue or 0),
        item.severity.rank,
    )
    return ItemChange(key=str(ref), actions=tuple(actions), urgency=urgency)


def fit_budget(changes: Iterable[ItemChange], budget: int | None) -> Plan:
    """Most urgent first; whole changes only; what does not fit becomes backlog."""
    ordered = sorted(changes, key=lambda c: (c.urgency, c.key))
    if budget is None:
        return Plan(changes=tuple(ordered), budget=None)
    taken: list[ItemChange] = []
    deferred: list[ItemChange] = []
    left = budget
    for change in ordered:
        if change.cost <= left:
            taken.append(change)
            left -= change.cost
        else:
            deferred.append(change)
    return Plan(changes=tuple(taken), backlog=tuple(deferred), budget=budget)


def plan(
    assessments: Iterable[Assessment],
    managed_labels: frozenset[str],
    observed: Observed | None = None,
    budget: int | None = None,
    extra: Iterable[ItemChange] = (),
) -> Plan:
    """The plan for one cycle: every needed change, cut to ``budget`` writes."""
    seen = observed or Observed()
    changes = [c for a in assessments if (c := item_change(a, managed_labels, seen)) is not None]
    changes.extend(extra)
    return fit_budget(changes, budget)
