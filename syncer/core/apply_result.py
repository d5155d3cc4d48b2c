"""What executing a plan gives back: the results, the executor that writes nothing, the ledger line.

``Applier`` and ``DryRun`` return the same ``ApplyResult``, so the cycle, the metrics, the
commands and the weekly review read one shape whichever ran; that shape, the ``Executor``
Protocol and ``DryRun`` live here, apart from the writing itself (:mod:`syncer.core.apply`), as do
the words for reopen fallbacks and the ledger line each write leaves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import structlog

from syncer.core.actions import (
    Action,
    AddLabels,
    CreateLabels,
    Deferred,
    EditFiledIssue,
    FileIssue,
    ItemChange,
    LinkChild,
    Plan,
    PostComment,
    RemoveLabels,
    Reopen,
    action_tracker,
)
from syncer.core.ledger import LedgerEntry

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Done:
    action: Action
    outcome: str  # done | skipped | planned


@dataclass(frozen=True)
class Failed:
    change: ItemChange
    action: Action
    error: str
    transient: bool


@dataclass(frozen=True)
class Fallback:
    """A rejected closure left closed and labelled because the tracker cannot reopen it."""

    tracker: str
    key: str
    wanted: str
    available: tuple[str, ...]
    error: str


@dataclass
class ApplyResult:
    done: list[Done] = field(default_factory=list)
    failed: list[Failed] = field(default_factory=list)
    backlog: list[Deferred] = field(default_factory=list)
    rate_limited: dict[str, datetime | None] = field(default_factory=dict)
    rate_limit_reasons: dict[str, str] = field(default_factory=dict)
    """Why each tracker in ``rate_limited`` stopped (``RateLimited.reason``, e.g. primary)."""
    fenced: bool = False
    fallbacks: list[Fallback] = field(default_factory=list)
    spent: int = 0
    """Write budget charged: the write requests sent, as the trackers that count them say
    (``PricesWrites``), one per action attempted on the others."""

    @property
    def writes(self) -> int:
        return sum(1 for d in self.done if d.outcome == "done")

    def count(self, outcome: str) -> int:
        return sum(1 for d in self.done if d.outcome == outcome)


class Executor(Protocol):
    def execute(self, plan: Plan) -> ApplyResult: ...


class DryRun:
    """Writes nothing: every action of the plan is reported as planned."""

    def execute(self, plan: Plan) -> ApplyResult:
        result = ApplyResult(backlog=list(plan.deferred))
        result.done.extend(Done(action, "planned") for action in plan.actions)
        return result


def report_fallbacks(fallbacks: list[Fallback]) -> None:
    """One warning per tracker for the closures it could not reopen, with what it offered."""
    by_tracker: dict[str, list[Fallback]] = {}
    for fallback in fallbacks:
        by_tracker.setdefault(fallback.tracker, []).append(fallback)
    for name, found in by_tracker.items():
        log.warning(
            "cannot reopen rejected closures; labelled and commented instead",
            tracker=name,
            transition=found[0].wanted,
            available=sorted({t for f in found for t in f.available}),
            items=[f.key for f in found],
            error=found[0].error,
        )


def describe_fallbacks(fallbacks: list[Fallback]) -> list[str]:
    """The same, one line per tracker, for a command's output."""
    by_tracker: dict[str, list[Fallback]] = {}
    for fallback in fallbacks:
        by_tracker.setdefault(fallback.tracker, []).append(fallback)
    lines = []
    for name, found in by_tracker.items():
        keys = ", ".join(f.key for f in found)
        lines.append(
            f"{name}: could not reopen {len(found)} rejected closure(s) ({keys}); they stay "
            f"closed, labelled and commented. {found[0].error}"
        )
    return lines


def ledger_entry(
    action: Action, outcome: str, detail: str, at: datetime, cycle_id: str, policy_version: str
) -> LedgerEntry:
    """The ledger line for one write."""
    inputs: dict[str, object] = {}
    if isinstance(action, PostComment):
        key = str(action.ref.key)
        inputs = {
            "marker": action.message.marker,
            "mentions": [p.handle for p in action.message.mentions],
            "notified": [p.handle for p in action.message.notified],
            # Names as the tracker gave them when the comment was posted: the weekly review
            # shows people by name without asking the tracker again.
            "names": {p.handle: p.display_name for p in action.message.mentions if p.display_name},
        }
        if action.escalation is not None:
            step = action.escalation
            inputs |= {
                "tier_id": step.tier_id,
                "tier_name": step.tier_name,
                "due": step.due.isoformat(),
            }
    elif isinstance(action, AddLabels | RemoveLabels):
        key = action.ref.key
        inputs = {"labels": list(action.labels)}
    elif isinstance(action, Reopen):
        key = action.ref.key
    elif isinstance(action, LinkChild):
        key = action.child.key
        inputs = {"parent": action.parent.key}
    elif isinstance(action, CreateLabels):
        key = action.scope
        inputs = {"labels": list(action.labels)}
    elif isinstance(action, FileIssue | EditFiledIssue):
        key = f"{action.incident}:{action.slug}"
        inputs = {"incident": action.incident, "slug": action.slug}
        if isinstance(action, EditFiledIssue):
            changed = ("title", "body", "labels", "assignees")
            inputs |= {
                "key": action.key,
                "changed": [n for n in changed if getattr(action, n) is not None],
            }
    else:
        key = action.week_key
    return LedgerEntry(
        at=at,
        cycle_id=cycle_id,
        tracker=action_tracker(action),
        item_key=key,
        kind=action.kind,
        rule=action.reason,
        policy_version=policy_version,
        outcome=outcome,
        inputs=inputs,
        detail=detail,
    )
