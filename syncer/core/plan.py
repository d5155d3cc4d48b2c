"""Diff desired state against what the tracker shows, and order the writes.

``plan`` never looks at a clock or a tracker: the assessments carry the desired state and the
observed items carry the labels and state that are there now. An item already at its desired
labels yields nothing, so reruns converge (jirahub's ``make_issue_updates``). Within an item
the order is fixed: the closure-rejection comment, the reopen, the comments the reopened item
needs (owner, escalation), then labels. Labels come last because they record that a comment
was posted (see ``syncer.core.apply``); the other comments wait for the reopen because they are
about an open item, and must not land on one that stays closed when the tracker cannot
reopen it (the reopen then falls back to the labels it carries, see ``Reopen``). When one
item gets several comments in one plan (a needs-owner request and an escalation), a person is
pinged by the first that mentions them and named, without the @, in the others.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from heapq import heapify, heappop

from syncer.core.actions import (
    URGENCY_ORDER,
    Action,
    AddLabels,
    Deferred,
    ItemChange,
    Plan,
    PostComment,
    RemoveLabels,
    Reopen,
    ready,
)
from syncer.core.evaluate import Assessment, DesiredComment
from syncer.core.gcpause import gc_paused
from syncer.core.model import ItemRef, Priority, Severity
from syncer.core.templates import mention_once


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


def _needed_comments(assessment: Assessment, observed: Observed) -> list[DesiredComment]:
    item = assessment.item
    return [
        wanted
        for wanted in assessment.comments
        if not (wanted.anchor is not None and wanted.anchor in item.labels)
        and not (wanted.anchor is None and (item.ref, wanted.marker) in observed.posted_markers)
    ]


def _build_change(
    assessment: Assessment, managed: frozenset[str], observed: Observed, urgency: tuple[int, ...]
) -> ItemChange:
    item = assessment.item
    ref = item.ref
    present = item.labels & managed
    desired = assessment.desired_labels
    to_add, to_remove = desired - present, present - desired
    reason = assessment.status.value
    needed = _needed_comments(assessment, observed)
    before = [w for w in needed if w.rule == "closure"] if assessment.reopen else needed
    # Every value below is built from already-validated ones, so validation is skipped.
    # One item's comments ping each person once: later ones name who an earlier one pinged.
    notified: set[tuple[str, bool]] = set()

    def comment(wanted: DesiredComment) -> PostComment:
        return PostComment.model_construct(
            ref=ref,
            message=mention_once(wanted.message_for(assessment), notified),
            reason=wanted.rule,
            also_markers=wanted.also_markers_for(item),
            escalation=wanted.escalation,
        )

    actions: list[Action] = [comment(wanted) for wanted in before]
    if assessment.reopen:
        fallback = assessment.reopen_fallback or frozenset()
        actions.append(
            Reopen.model_construct(
                ref=ref,
                reason="closure criteria not met",
                label_instead=tuple(sorted(fallback - present)),
                unlabel_instead=tuple(sorted(present - fallback)),
            )
        )
        actions.extend(comment(wanted) for wanted in needed if wanted.rule != "closure")
    if to_add:
        actions.append(
            AddLabels.model_construct(ref=ref, labels=tuple(sorted(to_add)), reason=reason)
        )
    if to_remove:
        actions.append(
            RemoveLabels.model_construct(ref=ref, labels=tuple(sorted(to_remove)), reason=reason)
        )
    return ItemChange.model_construct(key=str(ref), actions=tuple(actions), urgency=urgency)


def pending_change(
    assessment: Assessment, managed: frozenset[str], observed: Observed
) -> Deferred | None:
    """The change one item needs, costed but not yet built; None when it needs nothing.

    Only the cost and the urgency are kept: the change itself is rebuilt from the assessment
    if it is taken, so a large backlog waiting for later cycles costs little memory.
    """
    item = assessment.item
    desired = assessment.desired_labels
    if not assessment.comments and not assessment.reopen:
        # Most items: no comment wanted, so only their managed labels can differ.
        if not desired:
            if item.labels.isdisjoint(managed):
                return None
        elif item.labels & managed == desired:
            return None
    present = item.labels & managed
    needed = _needed_comments(assessment, observed)
    cost = (
        len(needed)
        + int(assessment.reopen)
        + int(not desired <= present)
        + int(not present <= desired)
    )
    if not cost:
        return None
    if assessment.reopen:
        # Should the reopen fall back to labels, those writes must fit the budget too.
        fallback = assessment.reopen_fallback or frozenset()
        closure_comments = sum(1 for w in needed if w.rule == "closure")
        cost = max(
            cost,
            closure_comments + 1 + int(not fallback <= present) + int(not present <= fallback),
        )
    urgency = (
        _PRIORITY_RANK[item.priority],
        -(assessment.days_overdue or 0),
        _SEVERITY_RANK[item.severity],
    )
    return Deferred(
        str(item.ref), cost, urgency, _build_change, (assessment, managed, observed, urgency)
    )


_PRIORITY_RANK = {p: p.rank for p in Priority}
_SEVERITY_RANK = {s: s.rank for s in Severity}


def fit_budget(pending: Iterable[Deferred], budget: int | None) -> Plan:
    """Most urgent first (then by key); whole changes only; what does not fit is backlog.

    A budget takes a few dozen changes out of a backlog that can hold tens of thousands, so
    they come off a heap rather than out of a full sort. The backlog is left unordered;
    ``Plan.backlog_by_urgency`` sorts it when someone reads it.
    """
    if budget is None:
        ordered = sorted(pending, key=URGENCY_ORDER)
        return Plan(changes=tuple(p.build() for p in ordered), budget=None)
    # The index breaks ties between equal keys, so Deferred values are never compared.
    heap = [(p.urgency, p.key, index, p) for index, p in enumerate(pending)]
    heapify(heap)
    taken: list[ItemChange] = []
    deferred: list[Deferred] = []
    left = budget
    while heap and left > 0:
        change = heappop(heap)[3]
        if change.cost <= left:
            taken.append(change.build())
            left -= change.cost
        else:
            deferred.append(change)
    deferred.extend(entry[3] for entry in heap)
    return Plan(changes=tuple(taken), deferred=tuple(deferred), budget=budget)


def plan(
    assessments: Iterable[Assessment],
    managed_labels: frozenset[str],
    observed: Observed | None = None,
    budget: int | None = None,
    extra: Iterable[ItemChange] = (),
) -> Plan:
    """The plan for one cycle: every needed change, cut to ``budget`` writes."""
    seen = observed or Observed()
    with gc_paused():
        pending = [
            p for a in assessments if (p := pending_change(a, managed_labels, seen)) is not None
        ]
        pending.extend(ready(c) for c in extra)
        return fit_budget(pending, budget)
