"""The one place where a plan becomes writes.

``Applier`` executes a plan through the ``Tracker`` Protocol, change by change in plan order,
and records every write in the ledger. Exactly-once rests on two habits: a comment is posted
only after the tracker says its marker is absent, and labels (the record that the comment
exists) are written after it. A crash anywhere therefore converges on one comment.

``DryRun`` is the other executor: it writes nothing and returns the plan as planned. Choosing
one of the two is the only difference between a dry run and a real one.

Failures stay small: a failed change stops only that item's remaining actions; a rate limit
stops writes to that tracker for the rest of the cycle; a lost leadership (the ``fence``)
stops everything. What was not done is returned as backlog, never dropped.

A reopen the tracker cannot do (``TransitionUnavailable``: the workflow has no such
transition, or pmsync may not use it) falls back to the labels of ``on_violation: label``:
the rejection comment is already there, the violation label is added, and the rest of the
change (meant for the reopened item: escalation comments and tier labels) is skipped. The
problem is logged once per tracker per cycle with the transitions the tracker offered, and
returned in ``ApplyResult.fallbacks``.

The fence is asked before each action here and again by the connectors right before each
write request leaves (``LeadershipLost`` when it says no there: nothing was sent). Labels a
tracker must create before using them (``CreatesLabels``) become ``CreateLabels`` writes ahead
of the action that needs them and count against the plan's budget like any other write: a
change that no longer fits once they are counted waits for the next cycle.

Results, ``DryRun`` and a write's ledger line are in :mod:`syncer.core.apply_result`; ``__all__``
names the ones some thirty modules and tests import from here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

import structlog

from syncer.core.actions import (
    Action,
    AddLabels,
    CreateLabels,
    EditFiledIssue,
    FileIssue,
    ItemChange,
    Plan,
    RemoveLabels,
    Reopen,
    action_tracker,
    ready,
)
from syncer.core.apply_result import (
    ApplyResult,
    Done,
    DryRun,
    Executor,
    Failed,
    Fallback,
    describe_fallbacks,
    ledger_entry,
    report_fallbacks,
)
from syncer.core.apply_write import write_one
from syncer.core.errors import (
    LeadershipLost,
    RateLimited,
    TrackerError,
    TransientError,
    TransitionUnavailable,
)
from syncer.core.ledger import Ledger
from syncer.core.tracker import CreatesLabels, FilesIssues, PricesWrites, Tracker

log = structlog.get_logger(__name__)

__all__ = [
    "Applier",
    "ApplyResult",
    "DryRun",
    "Executor",
    "Failed",
    "choose_executor",
    "describe_fallbacks",
]


class Applier:
    """Executes plans against real trackers."""

    def __init__(
        self,
        trackers: Mapping[str, Tracker],
        ledger: Ledger,
        clock: Callable[[], datetime],
        *,
        cycle_id: str,
        policy_version: str,
        fence: Callable[[], bool] = lambda: True,
        on_write: Callable[[Action, str], None] | None = None,
        filers: Mapping[str, FilesIssues] | None = None,
    ) -> None:
        self.trackers = trackers
        self.filers = filers or {}
        self.ledger = ledger
        self.clock = clock
        self.cycle_id = cycle_id
        self.policy_version = policy_version
        self.fence = fence
        self.on_write = on_write

    def execute(self, plan: Plan) -> ApplyResult:
        result = ApplyResult(backlog=list(plan.deferred))
        left = plan.budget
        for index, change in enumerate(plan.changes):
            if result.fenced:
                result.backlog.extend(ready(c) for c in plan.changes[index:])
                break
            tracker_name = action_tracker(change.actions[0])
            if tracker_name in result.rate_limited:
                result.backlog.append(ready(change))
                continue
            steps = self._steps(change, result)
            if steps is None:
                continue
            cost = sum(self._cost(step) for step in steps)
            if left is not None and cost > left:
                left -= self._create_labels_within(change, steps, left, result)
                continue
            before = result.spent
            self._execute_change(change, steps, result)
            if left is not None:
                # What the tracker says was sent; a tracker that cannot say keeps the whole
                # change's cost, spent or not.
                measured = isinstance(self._target(change.actions[0]), PricesWrites)
                left -= result.spent - before if measured else cost
        report_fallbacks(result.fallbacks)
        return result

    def _target(self, action: Action) -> Tracker | FilesIssues | None:
        """Where ``action`` is written: its tracker, or for filing, the incident's filer."""
        if isinstance(action, FileIssue | EditFiledIssue):
            return self.filers.get(action.tracker)
        return self.trackers.get(action_tracker(action))

    def _cost(self, action: Action) -> int:
        """The write requests ``action`` is stated to take on its tracker (one per action, one
        per label created, where the tracker does not say)."""
        tracker = self._target(action)
        if isinstance(tracker, PricesWrites):
            return tracker.write_cost(action)
        return action.cost if isinstance(action, CreateLabels) else 1

    def _create_labels_within(
        self, change: ItemChange, steps: list[Action], left: int, result: ApplyResult
    ) -> int:
        """The change no longer fits once its labels are counted: create what of them fits
        in the ``left`` writes now, so the change fits a later cycle (never starved by a
        small budget), and let it wait in the backlog. Returns the writes spent.

        A creation that fails is reported like any failed write (``_apply_one`` records it,
        or puts the change in the backlog itself on a rate limit or a lost leadership).
        """
        log.info(
            "labels to create make the change exceed the budget; it waits for the next cycle",
            item=change.key,
            budget_left=left,
        )
        before = result.spent
        for step in steps:
            spent = result.spent - before
            if not isinstance(step, CreateLabels) or spent >= left:
                continue
            labels = step.labels[: left - spent]
            if not self._apply_one(change, step.model_copy(update={"labels": labels}), result):
                return result.spent - before
        result.backlog.append(ready(change))
        return result.spent - before

    def _steps(self, change: ItemChange, result: ApplyResult) -> list[Action] | None:
        """The change's actions, each preceded by the labels it needs created (if any);
        None when asking failed (recorded in ``result``)."""
        steps: list[Action] = []
        for action in change.actions:
            first = self._labels_first(change, action, result)
            if first is None:
                return None
            steps.extend(first)
        return steps

    def _labels_first(
        self, change: ItemChange, action: Action, result: ApplyResult
    ) -> list[Action] | None:
        """``action``, preceded by a ``CreateLabels`` when its tracker says labels are missing.

        Asking costs reads at most (a repository's labels, once per process).
        """
        tracker = self.trackers.get(action_tracker(action))
        if not isinstance(tracker, CreatesLabels):
            return [action]
        try:
            needed = tracker.labels_to_create(action)
        except RateLimited as exc:
            self._rate_limited(change, action, exc, result)
            return None
        except TrackerError as exc:
            self._failed(change, action, exc, result)
            return None
        return [action] if needed is None else [needed, action]

    def _execute_change(self, change: ItemChange, steps: list[Action], result: ApplyResult) -> None:
        for action in steps:
            try:
                if not self._apply_one(change, action, result):
                    return
            except TransitionUnavailable as exc:  # only a Reopen gets here: see _apply_one
                assert isinstance(action, Reopen)
                self._fall_back(change, action, exc, result)
                return

    def _apply_one(self, change: ItemChange, action: Action, result: ApplyResult) -> bool:
        """Write one action; False when the rest of the change must wait (a failure, a rate
        limit, a lost leadership). A reopen the tracker cannot do is raised to the caller."""
        name = action_tracker(action)
        tracker = self._target(action)
        if tracker is None:
            result.failed.append(Failed(change, action, f"no tracker named {name!r}", False))
            return False
        if not self.fence():
            log.warning("leadership lost; writes stop", item=change.key)
            result.fenced = True
            result.backlog.append(ready(change))
            return False
        sent_before = tracker.write_requests if isinstance(tracker, PricesWrites) else 0
        try:
            outcome = write_one(tracker, action)
        except LeadershipLost as exc:
            log.warning("leadership lost; write not sent", item=change.key, detail=str(exc))
            result.fenced = True
            result.backlog.append(ready(change))
            return False
        except RateLimited as exc:
            self._rate_limited(change, action, exc, result)
            return False
        except TransitionUnavailable as exc:
            if isinstance(action, Reopen):
                raise
            self._failed(change, action, exc, result)
            return False
        except TrackerError as exc:
            self._failed(change, action, exc, result)
            return False
        finally:
            if isinstance(tracker, PricesWrites):
                result.spent += tracker.write_requests - sent_before
        if not isinstance(tracker, PricesWrites):
            result.spent += self._cost(action)
        result.done.append(Done(action, outcome))
        self._record(action, outcome, "")
        if self.on_write is not None:
            self.on_write(action, outcome)
        return True

    def _rate_limited(
        self, change: ItemChange, action: Action, exc: RateLimited, result: ApplyResult
    ) -> None:
        name = action_tracker(action)
        log.warning(
            "rate limited; writes to this tracker stop for the cycle",
            tracker=name,
            reset_at=exc.reset_at,
            reason=exc.reason,
        )
        result.rate_limited[name] = exc.reset_at
        result.rate_limit_reasons[name] = exc.reason
        result.backlog.append(ready(change))

    def _failed(
        self, change: ItemChange, action: Action, exc: TrackerError, result: ApplyResult
    ) -> None:
        transient = isinstance(exc, TransientError)
        log.warning(
            "write failed; retried next cycle",
            item=change.key,
            action=action.kind,
            error=str(exc),
            transient=transient,
        )
        result.failed.append(Failed(change, action, str(exc), transient))
        self._record(action, "failed", str(exc))

    def _fall_back(
        self, change: ItemChange, action: Reopen, exc: TransitionUnavailable, result: ApplyResult
    ) -> None:
        """Leave the rejected closure closed with the labels ``on_violation: label`` gives."""
        name = action_tracker(action)
        result.fallbacks.append(Fallback(name, action.ref.key, exc.wanted, exc.available, str(exc)))
        result.done.append(Done(action, "fallback"))
        self._record(action, "fallback", str(exc))
        reason = "closure rejected; the tracker cannot reopen it"
        writes: list[Action] = []
        if action.label_instead:
            writes.append(AddLabels(ref=action.ref, labels=action.label_instead, reason=reason))
        if action.unlabel_instead:
            writes.append(
                RemoveLabels(ref=action.ref, labels=action.unlabel_instead, reason=reason)
            )
        for write in writes:
            steps = self._labels_first(change, write, result)
            if steps is None or not all(self._apply_one(change, step, result) for step in steps):
                return

    def _record(self, action: Action, outcome: str, detail: str) -> None:
        self.ledger.record(
            [
                ledger_entry(
                    action, outcome, detail, self.clock(), self.cycle_id, self.policy_version
                )
            ]
        )


def choose_executor(
    *,
    dry_run: bool,
    shadow: bool,
    trackers: Mapping[str, Tracker],
    ledger: Ledger,
    clock: Callable[[], datetime],
    cycle_id: str,
    policy_version: str,
    fence: Callable[[], bool] = lambda: True,
    filers: Mapping[str, FilesIssues] | None = None,
) -> tuple[Executor, Ledger | None]:
    """The executor and the ledger for a cycle, a publication or a filing: the one place a
    dry run differs.

    A dry run prints the plan and records nothing; shadow mode prints it too but keeps the
    decision history the weekly review reads; otherwise the applier writes (``filers``: where
    ``FileIssue`` and ``EditFiledIssue`` go, by tracker name).
    """
    if dry_run:
        return DryRun(), None
    if shadow:
        return DryRun(), ledger
    applier = Applier(
        trackers,
        ledger,
        clock,
        cycle_id=cycle_id,
        policy_version=policy_version,
        fence=fence,
        filers=filers,
    )
    return applier, ledger
