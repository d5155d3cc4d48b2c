"""Who the review names: display names for the handles it shows, never a mention.

A Jira Cloud handle is an account id (``5b10a2844c20165700ede21f``), which nobody reads. The
names come, cheapest first, from the items themselves (Jira sends ``displayName`` with every
user object of an issue), from the ledger (each comment's entry records the names of those it
mentioned), and last from ``directory``: names an entry point looked up through a connector
for the few handles neither knows (a sponsor since replaced, a fallback account id). What is
still unknown shows as the handle. The review prints names as plain text, never as mentions,
so it pings nobody.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from syncer.core.evaluate import Assessment
from syncer.core.ledger import LedgerEntry
from syncer.core.model import Person
from syncer.core.policy import Policy

Names = Mapping[tuple[str, str], str]
"""(tracker, handle) -> display name."""


def _people(a: Assessment) -> Iterable[Person]:
    item = a.item
    yield from item.owners
    if item.sponsor is not None:
        yield item.sponsor
    if item.executive_sponsor is not None:
        yield item.executive_sponsor


def names_on_items(assessments: Iterable[Assessment]) -> dict[tuple[str, str], str]:
    """Every display name the trackers sent with the items."""
    found: dict[tuple[str, str], str] = {}
    for a in assessments:
        for person in _people(a):
            if person.display_name:
                found.setdefault((a.item.ref.tracker, person.handle), person.display_name)
    return found


def names_in_ledger(entries: Iterable[LedgerEntry]) -> dict[tuple[str, str], str]:
    """The names comment entries recorded for the people they mentioned."""
    found: dict[tuple[str, str], str] = {}
    for e in entries:
        recorded = e.inputs.get("names")
        if not isinstance(recorded, Mapping):
            continue
        for handle, name in recorded.items():
            if isinstance(handle, str) and isinstance(name, str) and name:
                found.setdefault((e.tracker, handle), name)
    return found


def mentioned_in_ledger(
    entries: Iterable[LedgerEntry], start: datetime, end: datetime
) -> dict[str, set[str]]:
    """Handles the period's escalation comments mentioned, per tracker."""
    wanted: dict[str, set[str]] = {}
    for e in entries:
        if e.kind != "comment" or not (start <= e.at < end):
            continue
        for handle in e.inputs.get("mentions") or ():
            if isinstance(handle, str) and handle:
                wanted.setdefault(e.tracker, set()).add(handle)
    return wanted


def unnamed(
    assessments: Sequence[Assessment],
    entries: Sequence[LedgerEntry],
    start: datetime,
    end: datetime,
    policy: Policy | None = None,
) -> dict[str, set[str]]:
    """Handles the review will show but neither the items nor the ledger name, per tracker:
    what an entry point may look up (``NamesPeople.display_names``) before building the review.

    Those are the people the period's comments mentioned, and (for escalations derived
    without a ledger) the policy's fallbacks and literal ``@handle`` tier targets.
    """
    known = {**names_in_ledger(entries), **names_on_items(assessments)}
    wanted = mentioned_in_ledger(entries, start, end)
    if policy is not None:
        fallbacks = policy.mention_fallbacks()
        literal = {
            target[1:]
            for tier in policy.escalation.tiers
            for target in tier.mention
            if target.startswith("@") and len(target) > 1 and "/" not in target
        }
        for tracker in {a.item.ref.tracker for a in assessments}:
            found = wanted.setdefault(tracker, set())
            found.update(literal)
            roles = fallbacks.by_tracker.get(tracker, fallbacks.default)
            found.update(p.handle for people in roles.values() for p in people if not p.is_team)
    return {
        tracker: missing
        for tracker, found in wanted.items()
        if (missing := {h for h in found if (tracker, h) not in known})
    }


def name_of(tracker: str, person: Person | str, names: Names) -> str:
    """What the review prints for someone: the display name when known, else the handle."""
    if isinstance(person, Person):
        if person.display_name:
            return person.display_name
        handle = person.handle
    else:
        handle = person
    return names.get((tracker, handle), handle)
