"""Attach existing action items to their postmortem issue: the plan, and running it.

``pmsync postmortem link`` makes a postmortem the parent of items filed before pmsync did it
(or by hand): GitHub sub-issues, Jira issue links (``syncer.core.tracker.LinksChildren``). The
plan is a diff like every other: the parent's children are read once, and only the items not
among them become ``LinkChild`` actions, one change each, so the budget takes or defers them
one by one. The actions run through the executor ``choose_executor`` gives: budget (in write
requests), ledger, fence and dry-run as for every write. The connector checks again right
before each write, so a rerun after a lost answer links nothing twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from syncer.core.actions import ItemChange, LinkChild, Plan
from syncer.core.apply import ApplyResult, choose_executor
from syncer.core.ledger import Ledger, MemoryLedger
from syncer.core.model import ItemRef
from syncer.core.policy import Policy
from syncer.core.tracker import LinksChildren, Tracker


class LinkRequestError(ValueError):
    """A link request that cannot be planned (a child that is the parent, another tracker)."""


def plan_links(
    parent: ItemRef,
    children: Sequence[ItemRef],
    linked: Collection[ItemRef],
    budget: int | None,
) -> Plan:
    """One ``LinkChild`` change per child not yet ``linked``, in the order given (repeats
    dropped); already linked children yield nothing, so a rerun plans nothing."""
    have = {ref.key.casefold() for ref in linked if ref.tracker == parent.tracker}
    changes = tuple(
        ItemChange(key=child.key, actions=(LinkChild(parent=parent, child=child),))
        for child in wanted_children(parent, children)
        if child.key.casefold() not in have
    )
    return Plan(changes=changes, budget=budget)


def wanted_children(parent: ItemRef, children: Sequence[ItemRef]) -> list[ItemRef]:
    """``children`` without repeats; LinkRequestError for the parent itself or an item of
    another tracker (checked before anything is read)."""
    wanted: list[ItemRef] = []
    for child in children:
        if child.tracker != parent.tracker:
            raise LinkRequestError(
                f"{child} is on another tracker than the postmortem {parent}: a parent and "
                "its children live in one tracker"
            )
        if child.key.casefold() == parent.key.casefold():
            raise LinkRequestError(f"{child} is the postmortem itself")
        if child.key.casefold() not in {w.key.casefold() for w in wanted}:
            wanted.append(child)
    return wanted


def read_and_plan(
    tracker: Tracker, parent: ItemRef, children: Sequence[ItemRef], budget: int | None
) -> tuple[Plan, tuple[ItemRef, ...]]:
    """The parent's children read once, then the plan of the missing links, and the wanted
    children already there (``postmortem link`` and ``postmortem file`` alike)."""
    if not isinstance(tracker, LinksChildren):
        raise LinkRequestError(f"{tracker.name} cannot make one issue the parent of another")
    wanted_children(parent, children)
    linked = tracker.children(parent)
    wanted = {child.key.casefold() for child in children}
    already = tuple(ref for ref in linked if ref.key.casefold() in wanted)
    return plan_links(parent, children, linked, budget), already


@dataclass(frozen=True)
class LinkResult:
    """What ``link_items`` found and did: the plan, the children already there, the result."""

    plan: Plan
    already: tuple[ItemRef, ...]
    result: ApplyResult


def link_items(
    tracker: Tracker,
    parent: ItemRef,
    children: Sequence[ItemRef],
    policy: Policy,
    *,
    dry_run: bool,
    clock: Callable[[], datetime],
    ledger: Ledger | None = None,
    fence: Callable[[], bool] = lambda: True,
) -> LinkResult:
    """Read the parent's children (one read), plan the rest, execute the plan within
    ``operations.max_writes_per_cycle`` write requests."""
    plan, already = read_and_plan(tracker, parent, children, policy.operations.max_writes_per_cycle)
    executor, _ = choose_executor(
        dry_run=dry_run,
        shadow=False,
        trackers={tracker.name: tracker},
        ledger=ledger if ledger is not None else MemoryLedger(),
        clock=clock,
        cycle_id=f"link-{uuid.uuid4().hex[:8]}",
        policy_version=policy.version,
        fence=fence,
    )
    return LinkResult(plan, already, executor.execute(plan))
