"""Idle cycles: what the last cycle derived from the same inputs is reused.

Why: once ``syncer.core.incremental`` made evaluating an idle cycle cheap, every other stage of
a daemon cycle still redid all its work for every item every poll interval although its
inputs had not changed: the owner-account pass (and its state-store query), the choice of
evidence links and a copy of each closure they were looked up for, the marker cache read
back from the store, the plan, the ledger decisions (all duplicates, dropped by their dedupe
keys only after being built and redacted), the item gauges and the follow-through figures.
Each is a pure function of its inputs and a few small values (the policy-local day, the
managed labels and the budget, the policy), so when an idle cycle hands over the same
inputs (``same_items``: one pointer comparison per item for the very same objects, which
the connectors' cached views and the evaluator hand back) the last answer is the answer.

What it buys, measured by ``tests/bench/bench_idle_cycle.py`` in one run (a whole daemon
cycle on a settled backlog: all 304, links looked up from the verifier's memory, nothing to
write; CPU, best of five): 10,000 items 360 ms before (main: an incremental evaluation,
every other stage anew) against 5.0 ms; 100,000 items 4.90 s against 45.5 ms, with a
stand-in connector that sent no request. Measured since as a daemon pays it, through the
real GitHub connector (20 cursor reads from the state store, 20 conditional requests
answered 304), after the readers learnt to hand back their last result and the daemon's
merge its last lists (``Joined``): 100,000 items 32.7 / 34.3 / 34.9 ms in three runs
against 80.8 / 95.0 / 55.4 ms before (the goal is under 50 ms). What is left is the reads
(26-33 ms: the cursors and the requests through PyGithub and ``requests``), which no
memory can save: each is what tells an idle cycle that nothing changed.
Property tests (``tests/core/test_incremental.py``, ``tests/core/test_idle.py``) check that
the plan and the checked items equal a full cycle's for random sequences of item changes,
clock steps, merges, known markers and budgets.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Generic, NamedTuple, TypeVar

from syncer.core.actions import ItemChange, Plan
from syncer.core.assessment import Assessment
from syncer.core.evidence import with_verdicts
from syncer.core.incremental import IncrementalEvaluator
from syncer.core.model import ActionItem, ItemRef
from syncer.core.plan import Observed, plan
from syncer.core.tracker import EvidenceLink, Verdict

__all__ = [
    "CheckedItems",
    "CycleMemory",
    "Joined",
    "Looked",
    "Reuse",
    "next_window_end",
    "same_items",
]

T = TypeVar("T")


def same_items(these: Sequence[object], those: Sequence[object] | None) -> bool:
    """Whether ``these`` equal ``those``, item by item.

    CPython compares list items by address before value, so the very same objects (what an
    idle cycle hands over) cost one pointer comparison each: 0.15 ms at 100,000 items, where
    an explicit identity pass (``all(map(is_, ...))``) took 3.9 ms. An equal but new object
    is compared by value, which is what the pure stages depend on. The very same list is
    the same without a look at its items.
    """
    if those is None:
        return False
    if these is those:  # the very list (an idle cycle's stages hand theirs on): nothing to do
        return True
    if isinstance(these, list) and isinstance(those, list):
        return these == those
    return tuple(these) == tuple(those)


class Reuse(Generic[T]):
    """One stage's last answer, kept while its inputs are the same.

    ``answer(inputs, key, compute)`` returns the last answer when ``inputs`` equal those of
    the last call item by item (``same_items``) and ``key`` (the stage's other inputs,
    small and hashable) is equal; else ``compute()``, which is kept. A ``compute`` that
    raises keeps nothing, so a failed stage is done again next cycle.
    """

    def __init__(self) -> None:
        self.reused = False
        """Whether the last call reused the last answer: for tests and the log."""
        self._inputs: Sequence[object] | None = None
        self._key: Hashable = None
        self._answer: T | None = None

    def answer(self, inputs: Sequence[object], key: Hashable, compute: Callable[[], T]) -> T:
        if self._answer is not None and key == self._key and same_items(inputs, self._inputs):
            self.reused = True
            return self._answer
        self.reused = False
        self._inputs = None
        answer = compute()
        self._inputs, self._key, self._answer = inputs, key, answer
        return answer

    def forget(self) -> None:
        self._inputs, self._key, self._answer = None, None, None


class Joined(Generic[T]):
    """Lists joined end to end; the last joined list again while every part is the very
    list it was (an identity check per part, nothing per item).

    For the lists an idle cycle's stages hand on unchanged (a tracker's checked items and
    its assessments: the same objects cycle after cycle, see ``CycleMemory``); the parts are
    kept, so they cannot be freed and their identities taken by others. A part changed in
    place would go unseen: only lists nobody changes after handing them on belong here.
    """

    def __init__(self) -> None:
        self.reused = False
        """Whether the last call gave back the last joined list: for tests and the log."""
        self._parts: list[Sequence[T]] = []
        self._joined: list[T] | None = None

    def join(self, parts: Sequence[Sequence[T]]) -> list[T]:
        self.reused = (
            self._joined is not None
            and len(parts) == len(self._parts)
            and all(a is b for a, b in zip(parts, self._parts, strict=True))
        )
        if self.reused and self._joined is not None:
            return self._joined
        joined = [x for part in parts for x in part]
        self._parts, self._joined = list(parts), joined
        return joined


def next_window_end(
    items: Iterable[ActionItem], window: timedelta, now: datetime
) -> datetime | None:
    """The soonest ``closed_at + window`` not before ``now``: until then, the items whose
    closure is judged (their owners and evidence links matter) stay the same."""
    ends = [
        item.closed_at + window
        for item in items
        if item.closed_at is not None and item.closed_at + window >= now
    ]
    return min(ends, default=None)


class Looked(NamedTuple):
    """Fetched items after the owner-account pass, and the evidence links their judged
    closures need (``syncer.core.evidence.links_to_verify``: by URL, and the carriers' indices)."""

    items: list[ActionItem]
    links: dict[str, EvidenceLink]
    carriers: list[int]


class CheckedItems:
    """The owner-account pass and the choice of links to look up, kept while doing them
    again could not change them; and the checked items of the last cycle.

    Kept while: the same fetched items (``same_items``); the same policy-local day (owner
    answers are cached for a day); no closure window ended since (that decides whose owners
    and links matter, see ``next_window_end``); and the pass asked nothing it would ask
    again (every owner that matters known). The links themselves are looked up every cycle (a pull
    request may be merged meanwhile; the verifiers keep what is final), but a carrier whose
    links got the same answers as last cycle is not copied again (``with_verdicts``).
    """

    def __init__(self) -> None:
        self.reused = False
        self._fetched: list[ActionItem] | None = None
        self._day: date | None = None
        self._until: datetime | None = None
        self._looked: Looked | None = None
        self._last: list[ActionItem] | None = None
        self._verdicts: dict[str, Verdict] = {}

    def get(self, fetched: list[ActionItem], day: date, now: datetime) -> Looked | None:
        self.reused = (
            self._looked is not None
            and day == self._day
            and (self._until is None or now <= self._until)
            and same_items(fetched, self._fetched)
        )
        return self._looked if self.reused else None

    def keep(
        self, fetched: list[ActionItem], day: date, until: datetime | None, looked: Looked
    ) -> None:
        self._fetched, self._day, self._until, self._looked = fetched, day, until, looked
        self._last, self._verdicts = None, {}

    def with_verdicts(
        self, items: list[ActionItem], carriers: list[int], verdicts: Mapping[str, Verdict]
    ) -> list[ActionItem]:
        """``items`` with ``syncer.core.evidence.with_verdicts`` on every carrier; a carrier whose
        links got the answers they got last cycle is last cycle's very object (so an idle
        cycle hands the evaluator the very same objects, and copies nothing). When every
        link got last cycle's answer, the answer is last cycle's very list."""
        last = self._last if self.reused else None
        changed = {url for url, verdict in verdicts.items() if self._verdicts.get(url) != verdict}
        if last is not None and not changed and len(verdicts) == len(self._verdicts):
            return last
        checked = list(items)
        for index in carriers:
            item = checked[index]
            if last is not None and not any(e.url in changed for e in item.evidence):
                checked[index] = last[index]
            else:
                checked[index] = with_verdicts(item, verdicts)
        self._last, self._verdicts = checked, dict(verdicts)
        return checked

    def forget(self) -> None:
        self._fetched, self._day, self._until, self._looked, self._last = (None,) * 5
        self._verdicts = {}


@dataclass
class CycleMemory:
    """What a daemon keeps across one tracker's cycles, so that an idle cycle costs little.

    A full cycle (the daily resync) forgets all of it first; a reloaded policy starts a new
    one (the daemon drops its memories).
    """

    checked: CheckedItems = field(default_factory=CheckedItems)
    evaluator: IncrementalEvaluator = field(default_factory=IncrementalEvaluator)
    plans: Reuse[Plan] = field(default_factory=Reuse)
    recorded: Reuse[bool] = field(default_factory=Reuse)
    """The assessments whose ledger decisions were last recorded (the answer is always
    True: a reuse means every entry would be a duplicate)."""
    markers: tuple[tuple[int, ...], frozenset[tuple[ItemRef, str]]] | None = None
    """The marker cache as last read from the state store, with the store's counts then
    (``syncer.service.wiring.observed_from``)."""

    def forget(self) -> None:
        self.checked.forget()
        self.evaluator.reset()
        self.plans.forget()
        self.recorded.forget()
        self.markers = None

    def plan(
        self,
        assessments: list[Assessment],
        managed_labels: frozenset[str],
        observed: Observed | None,
        budget: int | None,
        extra: Iterable[ItemChange] = (),
    ) -> Plan:
        """``syncer.core.plan.plan``'s answer, the last one when nothing it reads has changed.

        The marker cache is part of the key as it is now (a copy: the cycle adds to it after
        applying); a cycle with extra changes (the weekly review) is always planned.
        """
        extra = tuple(extra)
        if extra:
            self.plans.forget()
            return plan(assessments, managed_labels, observed, budget, extra)
        markers = frozenset(observed.posted_markers) if observed is not None else frozenset()
        return self.plans.answer(
            assessments,
            (managed_labels, budget, markers),
            lambda: plan(assessments, managed_labels, Observed(set(markers)), budget),
        )
