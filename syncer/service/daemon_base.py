"""What the daemon's parts share: its state and the methods one part calls in another.

``Daemon`` is assembled from one mixin per responsibility (``daemon_cycle``, ``daemon_webhooks``,
``daemon_schedule``, ``daemon_leadership``), so that each file reads as one concern. They share
one object's state; this base declares that state once, with what each attribute means, and
declares as abstract every method a mixin calls that another one implements, so mypy checks
each part against the others. Every mixin derives from this base, which therefore comes last in
``Daemon``'s method resolution order: a declaration here can never shadow an implementation,
and a missing implementation makes ``Daemon()`` fail at once (``abc``).
"""

from __future__ import annotations

import abc
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import schedule

from syncer.core.actions import ItemChange
from syncer.core.cycle import CycleOutcome
from syncer.core.evaluate import Assessment
from syncer.core.idle import CycleMemory, Joined, Reuse
from syncer.core.policy import Policy
from syncer.service.daemon_merge import MergedViews
from syncer.service.daemon_timing import Backoff
from syncer.service.health_state import HealthState
from syncer.service.metrics import Metrics
from syncer.service.settings import Settings
from syncer.service.webhooks import WebhookServer
from syncer.service.wiring import Runtime
from syncer.state import LeaderLease, LeaseFence, StateStore

DAEMON_LOGGER = "syncer.service.daemon"
"""The one logger name of every daemon module, as before the daemon was split into them: log
filters and dashboards keyed on it see the same lines."""


class DaemonBase(abc.ABC):
    """The daemon's shared state (set by ``Daemon.__init__``) and its cross-called methods."""

    policy_path: Path
    settings: Settings
    clock: Callable[[], datetime]
    stop: threading.Event
    """Set by SIGTERM/SIGINT: the item in hand is finished and the loop ends."""
    sleep: Callable[[float], None]
    """Paces writes (by default a wait that ``stop`` ends)."""
    policy: Policy
    state_url: str | None
    store: StateStore
    lease: LeaderLease
    write_fence: LeaseFence
    runtime: Runtime
    memories: dict[str, CycleMemory]
    """Per tracker, kept across cycles: an idle cycle re-assesses only what time moved and
    reuses the plan of the very same assessments (``syncer.core.idle``)."""
    metrics: Metrics
    gauges: Reuse[bool]
    """The assessments the item gauges were last set from."""
    follow_through: Reuse[bool]
    """The assessments the follow-through figures were last set from."""
    merged: MergedViews
    """The last tick's merged lists."""
    every: Joined[Assessment]
    """Every tracker's assessments joined, as last handed to the follow-through figures."""
    health: HealthState
    reload_requested: bool
    scheduler: schedule.Scheduler
    backoff: Backoff
    leader: bool
    next_renewal: float
    """``time.monotonic()`` at which the loop next renews (or tries to take) the lease."""
    assessments: dict[str, list[Assessment]]
    """The last full view of each tracker (the connectors return every item each cycle)."""
    report_pending: str | None
    """The ISO week whose review still has to be published (survives failed cycles; after a
    restart ``catch_up`` finds it again from the ledger)."""
    cycles_run: int
    wake: threading.Event
    """Set by the webhook receiver (and by signals): the loop turns at once."""
    receiver: WebhookServer | None
    webhook_cycles: int
    _last_drain: float
    _pruned_at: datetime | None

    # ----- the service (daemon) -------------------------------------------------------------
    @abc.abstractmethod
    def _interval_s(self) -> float: ...

    @abc.abstractmethod
    def _unix_time(self) -> float: ...

    @abc.abstractmethod
    def _policy_in_force(self) -> None: ...

    # ----- the sync cycle (daemon_cycle) ----------------------------------------------------
    @abc.abstractmethod
    def fence(self) -> bool: ...

    @abc.abstractmethod
    def sync_job(self, *, full: bool) -> None: ...

    @abc.abstractmethod
    def _wait_for_reset(
        self, name: str, now: datetime, reset_at: datetime | None, reason: str
    ) -> None: ...

    @abc.abstractmethod
    def _publish_wait(self, name: str) -> None: ...

    # ----- webhooks (daemon_webhooks) -------------------------------------------------------
    @abc.abstractmethod
    def start_webhooks(self) -> None: ...

    @abc.abstractmethod
    def stop_webhooks(self) -> None: ...

    # ----- scheduled jobs (daemon_schedule) -------------------------------------------------
    @abc.abstractmethod
    def schedule_jobs(self) -> None: ...

    @abc.abstractmethod
    def catch_up(self) -> None: ...

    @abc.abstractmethod
    def _report_changes(self, now: datetime) -> list[ItemChange]: ...

    @abc.abstractmethod
    def _report_published(self, outcome: CycleOutcome) -> bool: ...
