"""Whether owners' accounts are still there: asked of the tracker at most once a day per login.

A departed owner is nobody's owner: an escalation that mentions someone who left reaches no
one, and a closure "owned" by a deleted account was owned by nobody. Jira sends ``active`` with
every user it embeds in an issue, so its mapper sets ``Person.active`` at no cost. GitHub does
not: its connector answers ``GET /users/{login}`` (a 404, or ``suspended_at`` on Enterprise
Server, means inactive) through the small ``UserDirectory`` capability below.

The cycle asks only about owners of items that matter (open items in scope, and closed items
still inside the judging window), remembers every definite answer in a ``LookupCache`` (the
state store) for the rest of the local day, and hands the pure core items whose inactive owners
carry ``active=False``. Owners found active are left as they were (``active=None``): the rules
only act on ``False``, and rebuilding every healthy item each cycle would cost more than the
rules themselves. An answer the tracker could not give (an error, a rate limit) is not cached
and leaves the owner as not known: pmsync never calls someone departed because it could not
look.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol, runtime_checkable
from zoneinfo import ZoneInfo

import structlog

from syncer.core.model import ActionItem, Person, State
from syncer.core.policy import Policy

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class AccountStatus:
    """What the tracker said about one account: active or not, and in a word why."""

    active: bool
    detail: str = "active"
    """``active``, ``suspended``, ``not found`` or ``deactivated``."""


@runtime_checkable
class UserDirectory(Protocol):
    """A tracker that can tell whether accounts are active (the GitHub connector)."""

    @property
    def name(self) -> str: ...

    def look_up_users(self, handles: Sequence[str]) -> Mapping[str, AccountStatus]:
        """One request per handle; handles it could not find out about are left out."""
        ...


@runtime_checkable
class LookupCache(Protocol):
    """Where answers are kept for the day (the state store; ``MemoryLookupCache`` in tests)."""

    def user_lookups(
        self, tracker: str, handles: Iterable[str], day: date
    ) -> dict[str, AccountStatus]:
        """Answers recorded on ``day`` for these handles (case-folded keys)."""
        ...

    def remember_user_lookups(
        self, tracker: str, found: Mapping[str, AccountStatus], day: date, at: datetime
    ) -> None:
        """Record answers given on ``day`` (replacing older ones)."""
        ...


class MemoryLookupCache:
    """A ``LookupCache`` in a dict, for tests and one-shot commands without a state store."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], tuple[date, AccountStatus]] = {}

    def user_lookups(
        self, tracker: str, handles: Iterable[str], day: date
    ) -> dict[str, AccountStatus]:
        found: dict[str, AccountStatus] = {}
        for handle in handles:
            row = self.rows.get((tracker, handle.casefold()))
            if row is not None and row[0] == day:
                found[handle.casefold()] = row[1]
        return found

    def remember_user_lookups(
        self, tracker: str, found: Mapping[str, AccountStatus], day: date, at: datetime
    ) -> None:
        for handle, status in found.items():
            self.rows[(tracker, handle.casefold())] = (day, status)


def owners_that_matter(items: Iterable[ActionItem], policy: Policy, now: datetime) -> set[str]:
    """Handles (as written) of the people owning open items in scope or closures to judge."""
    exempt = frozenset(policy.scope.exempt_labels)
    judged_since = now - policy.closure.check_closed_within.as_timedelta()
    handles: set[str] = set()
    for item in items:
        if not item.owners or not item.labels.isdisjoint(exempt):
            continue
        if item.state is State.CLOSED and (item.closed_at is None or item.closed_at < judged_since):
            continue
        handles.update(o.handle for o in item.owners if o.active is None and not o.is_team)
    return handles


def with_account_status(
    items: Sequence[ActionItem],
    directories: Iterable[object],
    policy: Policy,
    now: datetime,
    cache: LookupCache,
) -> list[ActionItem]:
    """``items`` with ``active=False`` on every owner a directory says is inactive.

    Each tracker that is a ``UserDirectory`` is asked about the owners of its own items that
    matter and are not in ``cache`` for today (in ``deadlines.timezone``); its answers are
    cached. Items of other trackers, and items whose owners are all active, come back as they
    were (the same objects).
    """
    return account_status(items, directories, policy, now, cache)[0]


def account_status(
    items: Sequence[ActionItem],
    directories: Iterable[object],
    policy: Policy,
    now: datetime,
    cache: LookupCache,
) -> tuple[list[ActionItem], bool]:
    """``with_account_status``, and whether every owner that matters is now known for today
    (nothing left to ask again: the same items give the same answer all day)."""
    day = now.astimezone(ZoneInfo(policy.deadlines.timezone)).date()
    inactive: dict[tuple[str, str], AccountStatus] = {}
    complete = True
    for directory in directories:
        if not isinstance(directory, UserDirectory):
            continue
        name = directory.name
        mine = [i for i in items if i.ref.tracker == name]
        wanted = owners_that_matter(mine, policy, now)
        if not wanted:
            continue
        known = cache.user_lookups(name, wanted, day)
        missing = sorted(h for h in wanted if h.casefold() not in known)
        if missing:
            fresh = {h.casefold(): s for h, s in directory.look_up_users(missing).items()}
            if fresh:
                cache.remember_user_lookups(name, fresh, day, now)
            known.update(fresh)
            complete = complete and all(h.casefold() in known for h in missing)
            log.info(
                "owner accounts looked up",
                tracker=name,
                asked=len(missing),
                answered=len(fresh),
                inactive=sorted(h for h, s in fresh.items() if not s.active),
            )
        for handle, status in known.items():
            if not status.active:
                inactive[(name, handle)] = status
    if not inactive:
        return list(items), complete
    return [_marked(item, inactive) for item in items], complete


def _marked(item: ActionItem, inactive: Mapping[tuple[str, str], AccountStatus]) -> ActionItem:
    tracker = item.ref.tracker
    if not any((tracker, o.handle.casefold()) in inactive for o in item.owners):
        return item
    owners = tuple(
        _inactive(o) if (tracker, o.handle.casefold()) in inactive else o for o in item.owners
    )
    return item.model_copy(update={"owners": owners})


def _inactive(person: Person) -> Person:
    return person.model_copy(update={"active": False})
