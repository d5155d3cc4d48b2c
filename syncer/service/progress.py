"""A progress bar for long interactive runs (``pmsync run --once`` on a big backlog).

A first sync of thousands of items, or a cycle with a large backlog of writes, can take
minutes; on a terminal the operator should see that it is moving. This module wraps the
parts an entry point builds (trackers and the executor) rather than the pure core, so
``evaluate``/``plan`` know nothing of it, and it draws nothing when the console is not a
terminal (logs and CI output stay clean). Fetching shows one line per tracker (the item count
when done); applying shows writes done out of the actions planned. While the bar is drawn, log
lines for the same terminal are printed through its console, above the bar, so neither tears
the other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from syncer.core.actions import Action, Plan
from syncer.core.apply import Applier, ApplyResult, Executor
from syncer.core.ledger import Ledger
from syncer.core.logging_setup import logs_through
from syncer.core.tracker import FetchResult, Tracker
from syncer.service.wiring import Runtime


def make_progress(console: Console) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


class ProgressTracker:
    """A tracker that shows its fetch on the bar; everything else goes straight through."""

    def __init__(self, inner: Tracker, progress: Progress) -> None:
        self._inner = inner
        self._progress = progress

    @property
    def name(self) -> str:
        return self._inner.name

    def fetch(self, *, full: bool) -> FetchResult:
        task = self._progress.add_task(f"fetching {self._inner.name}", total=None)
        try:
            result = self._inner.fetch(full=full)
        except BaseException:
            self._progress.update(task, description=f"fetching {self._inner.name}: failed")
            raise
        count = len(result.items) + len(result.skipped)
        self._progress.update(
            task,
            description=f"fetched {self._inner.name}",
            total=max(count, 1),
            completed=max(count, 1),
        )
        return result

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._inner, attribute)


@dataclass
class ProgressExecutor:
    """Runs the plan through ``inner`` and advances the bar after every action applied."""

    inner: Executor
    progress: Progress

    def execute(self, plan: Plan) -> ApplyResult:
        task: TaskID = self.progress.add_task("applying", total=len(plan.actions))
        if isinstance(self.inner, Applier):
            previous = self.inner.on_write

            def advance(action: Action, outcome: str) -> None:
                self.progress.advance(task)
                if previous is not None:
                    previous(action, outcome)

            self.inner.on_write = advance
        result = self.inner.execute(plan)
        self.progress.update(task, completed=len(result.done) + len(result.failed))
        return result


class ProgressRuntime(Runtime):
    """A ``Runtime`` whose executor reports to the bar."""

    progress: Progress

    def executor(
        self, *, dry_run: bool, cycle_id: str, fence: Callable[[], bool] = lambda: True
    ) -> tuple[Executor, Ledger | None]:
        inner, ledger = super().executor(dry_run=dry_run, cycle_id=cycle_id, fence=fence)
        return ProgressExecutor(inner, self.progress), ledger


@contextmanager
def with_progress(rt: Runtime, console: Console) -> Iterator[Runtime]:
    """``rt`` itself off a terminal; on one, a runtime that draws fetch and apply progress."""
    if not console.is_terminal:
        yield rt
        return
    progress = make_progress(console)
    trackers: Sequence[Tracker] = [ProgressTracker(t, progress) for t in rt.trackers]
    shown = ProgressRuntime(rt.policy, rt.store, list(trackers), rt.clock, rt.verifiers)
    shown.progress = progress
    with progress, logs_through(console):
        yield shown
