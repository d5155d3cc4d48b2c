"""Incremental evaluation: a cycle re-assesses only what changed or what time moved.

Why: a daemon re-assessed every item every poll interval even when every read was a 304 and
nothing had changed (about 0.17 s CPU at 10,000 items, 1.5 s at 100,000, every interval).
An item's assessment is a pure function of the item, the policy and ``now``, and ``now``
enters it in two ways only (see ``syncer.evaluate.validity``): the policy-local day (days
overdue, the reminder, the tiers, the deadline, a waiver's lapse) and, for a closed item,
whether it still lies inside the closure judging window. So an assessment stays right for as
long as the item is the same, the policy is the same, the day is the same and the window has
not closed; after that it is worked out again.

What it buys, measured by ``tests/bench/bench_incremental.py`` in one run (idle cycle: every
item unchanged, the clock moved by one poll interval; evaluate stage, CPU): see the figures
in that script's docstring and in the commit that added this module.

The cache never changes behaviour: a full resync (``full=True``), a different policy object
(a reload), a clock that went backwards or the first cycle assess everything; a cycle for
chosen items (``partial=True``, a webhook) keeps the other items' entries.
The property test ``tests/core/test_incremental.py`` checks that, for any sequence of item
changes and clock steps (day changes in the policy's timezone included), the incremental
assessments and the plan equal a full evaluation's.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import NamedTuple

from syncer.assessment import Assessment
from syncer.evaluate import Rules, assess, validity
from syncer.gcpause import gc_paused
from syncer.model import ActionItem
from syncer.policy import Policy

__all__ = ["IncrementalEvaluator"]


class _Entry(NamedTuple):
    """An item as last assessed, its assessment, and how long that stays right."""

    item: ActionItem
    assessment: Assessment
    day: date | None
    """The policy-local day it was assessed on; None when the day does not matter."""
    until: datetime | None
    """It stays right while ``now <= until``; None when no instant bounds it."""


class IncrementalEvaluator:
    """``evaluate`` with a memory: one per tracker in a long-running daemon."""

    def __init__(self) -> None:
        self._policy: Policy | None = None
        self._last_now: datetime | None = None
        self._entries: dict[tuple[str, str], _Entry] = {}
        self.assessed = 0
        """Items assessed (not reused) in the last call: for tests and the log."""

    def reset(self) -> None:
        """Forget everything: the next call assesses every item."""
        self._policy = None
        self._last_now = None
        self._entries = {}

    def evaluate(
        self,
        items: Iterable[ActionItem],
        policy: Policy,
        now: datetime,
        *,
        full: bool = False,
        partial: bool = False,
    ) -> list[Assessment]:
        """The same list ``syncer.evaluate.evaluate(items, policy, now)`` returns.

        ``full`` forgets the cache first (the daily full resync); ``partial`` says ``items``
        are some of the tracker's items only (a webhook cycle), so the others are kept.
        """
        if full or policy is not self._policy or self._last_now is None or now < self._last_now:
            self.reset()
        rules = Rules(policy, now)
        today = rules.today
        old = self._entries
        new = old if partial else {}
        out: list[Assessment] = []
        assessed = 0
        with gc_paused():
            for item in items:
                ref = item.ref
                key = (ref.tracker, ref.key)
                entry = old.get(key)
                if (
                    entry is not None
                    and (entry.item is item or entry.item == item)
                    and (entry.day is None or entry.day == today)
                    and (entry.until is None or now <= entry.until)
                ):
                    new[key] = entry
                    out.append(entry.assessment)
                    continue
                assessment = assess(item, rules)
                day, until = validity(item, assessment, rules)
                new[key] = _Entry(item, assessment, day, until)
                out.append(assessment)
                assessed += 1
        self._entries = new
        self._policy = policy
        self._last_now = now
        self.assessed = assessed
        return out
