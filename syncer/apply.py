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
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import structlog

from syncer.actions import (
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
    UpsertLogEntry,
    UpsertReport,
    action_tracker,
    ready,
)
from syncer.errors import (
    LeadershipLost,
    PermanentError,
    RateLimited,
    TrackerError,
    TransientError,
    TransitionUnavailable,
)
from syncer.ledger import Ledger, LedgerEntry
from syncer.tracker import CreatesLabels, FilesIssues, LinksChildren, PricesWrites, Tracker

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
            outcome = self._write(tracker, action)
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

    def _write(self, tracker: Tracker | FilesIssues, action: Action) -> str:
        if isinstance(tracker, FilesIssues) and isinstance(action, FileIssue):
            tracker.file_issue(action)
            return "done"
        if isinstance(tracker, FilesIssues) and isinstance(action, EditFiledIssue):
            tracker.edit_filed_issue(action)
            return "done"
        if isinstance(action, FileIssue | EditFiledIssue) or isinstance(tracker, FilesIssues):
            raise PermanentError(f"{action_tracker(action)}: nowhere to write {action.kind}")
        if isinstance(action, PostComment):
            if tracker.has_marker(action.ref, action.message.marker, action.also_markers):
                return "skipped"
            tracker.post_comment(action.ref, action.message)
        elif isinstance(action, AddLabels):
            tracker.add_labels(action.ref, action.labels)
        elif isinstance(action, RemoveLabels):
            tracker.remove_labels(action.ref, action.labels)
        elif isinstance(action, Reopen):
            tracker.reopen(action.ref)
        elif isinstance(action, LinkChild):
            if not isinstance(tracker, LinksChildren):
                raise PermanentError(f"{tracker.name} cannot link children to a parent")
            return "done" if tracker.link_child(action) else "skipped"
        elif isinstance(action, CreateLabels):
            if not isinstance(tracker, CreatesLabels):
                raise PermanentError(f"{tracker.name} does not create labels")
            tracker.create_labels(action)
        elif isinstance(action, UpsertReport):
            ref = tracker.upsert_report(
                week_key=action.week_key,
                label=action.label,
                title=action.title,
                bodies=action.bodies,
                close_previous=action.close_previous,
                attachments=action.attachments,
            )
            return "done" if ref.changed else "skipped"
        elif isinstance(action, UpsertLogEntry):
            ref = tracker.upsert_log_entry(
                log_label=action.log_label,
                log_title=action.log_title,
                week_key=action.week_key,
                bodies=action.bodies,
            )
            return "done" if ref.changed else "skipped"
        return "done"

    def _record(self, action: Action, outcome: str, detail: str) -> None:
        self.ledger.record(
            [
                ledger_entry(
                    action, outcome, detail, self.clock(), self.cycle_id, self.policy_version
                )
            ]
        )


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
