"""``pmsync daemon``: the long-running service loop.

One ``schedule.Scheduler`` of its own; every job runs on the main thread, one after another,
so a slow cycle can never overlap the next (the trap Netflix Dispatch's thread pool falls
into). The loop also renews the leader lease between jobs: only the leader runs jobs that
write. Every write passes the lease fence (``LeaseFence``): the applier asks it before each
change, the connectors right before each write request leaves (after any pacing pause), and
it renews the lease when due, so a long cycle of paced writes keeps its lease while a replica
that lost it mid-cycle, or froze past its end, stops.

Signals: SIGTERM/SIGINT set an event; the applier's fence sees it before the next write, the
item in hand is finished and the process exits well within Kubernetes' grace period. They are
handled on a thread of their own (``syncer.core.signal_relay``): a handler run inside the loop could
deadlock on a lock the loop held. SIGHUP asks for a policy reload at the next tick; an invalid
file is logged and the old policy kept.
A tracker that fails is retried after a delay that doubles up to ``daemon.max_backoff`` and
resets on its first success; other trackers go on (kopf's throttling). A tracker stopped by a
rate limit whose reset time it gave (GitHub's ``x-ratelimit-reset``, Jira's ``Retry-After``) is
left alone until that time instead, and the log and ``/readyz`` say until when.

Webhooks (``daemon.webhooks``, off by default): every replica serves the webhook paths on a
port of its own (``service.webhooks``) and queues each verified delivery in the state store; the
leader's loop wakes at once on a delivery of its own, finds those of the standbys at its next
tick (0.5 s), and runs one cycle per tracker for the items they name (read, evaluated, planned
and written like any, through the same applier, budget, fence and ledger), at most one per
``coalesce_s``, so a burst is a few cycles. Polling goes on at ``daemon.interval``.

Jobs: the sync cycle every ``daemon.interval`` (each tracker in turn, its log lines tagged with
the cycle id and tracker); a full resync daily at ``daemon.full_resync_at``; the weekly review
at ``report.schedule`` (weekday, time, timezone), published through the same budgeted applier
as the cycle's writes; the day's counts for the review's trend at 23:55 in
``deadlines.timezone``. Daily and weekly jobs are placed at the scheduler's local time of their
next occurrence and re-placed after each run, so DST moves them correctly. A replica that
becomes leader first runs a full cycle, then catches up: a day without counts gets them and,
only with ``report.publish_missed_on_start``, a review whose moment passed this week with no
``upsert_report`` in the ledger is published (off by default, so a first start publishes
nothing before the scheduled moment).

This module builds the daemon and runs its loop; each responsibility lives beside it:
``daemon_cycle`` (the sync job, backoff, rate-limit waits), ``daemon_webhooks`` (the receiver
and the cycles deliveries start), ``daemon_schedule`` (the daily and weekly jobs, the review),
``daemon_leadership`` (reload, lease), ``daemon_timing`` and ``daemon_merge`` (pure helpers),
``daemon_base`` (the state they share).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import schedule
import structlog

from syncer.core.clock import system_clock
from syncer.core.config_loader import load_model_file
from syncer.core.idle import Joined, Reuse
from syncer.core.policy import Policy
from syncer.core.secrets import register_configured_secrets
from syncer.core.signal_relay import SignalRelay
from syncer.core.version import package_version
from syncer.service.daemon_base import DAEMON_LOGGER, DaemonBase
from syncer.service.daemon_cycle import SyncCycles
from syncer.service.daemon_leadership import Leadership
from syncer.service.daemon_merge import MergedViews
from syncer.service.daemon_schedule import ScheduledJobs
from syncer.service.daemon_timing import Backoff
from syncer.service.daemon_webhooks import WebhookJobs
from syncer.service.health import HealthServer
from syncer.service.health_state import HealthState, Role
from syncer.service.metrics import Metrics
from syncer.service.settings import Settings
from syncer.service.wiring import Runtime, build_trackers, open_state
from syncer.state import LeaderLease, LeaseFence

log = structlog.get_logger(DAEMON_LOGGER)


TICK_S = 0.5
"""How often the loop turns when nothing wakes it (a delivery wakes it at once)."""


class Daemon(SyncCycles, WebhookJobs, ScheduledJobs, Leadership, DaemonBase):
    """The service: scheduler, lease, health endpoint and signal handling.

    Each responsibility is a mixin of its own module (``daemon_cycle``, ``daemon_webhooks``,
    ``daemon_schedule``, ``daemon_leadership``); ``DaemonBase``, which declares the state they
    share, comes last in the method resolution order. This class builds that state and runs
    the loop.
    """

    def __init__(
        self,
        policy_path: Path,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = system_clock,
        state_url: str | None = None,
        lease_clock: Callable[[], datetime] | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        """``lease_clock`` replaces the database's clock for the lease (tests share one fake
        clock between replicas); ``sleep`` paces writes (default: a wait that SIGTERM ends)."""
        self.policy_path = policy_path
        self.settings = settings
        self.clock = clock
        self.stop = threading.Event()
        self.sleep = sleep or self._interruptible_sleep
        self.policy = load_model_file(Policy, policy_path)
        self.state_url = state_url or settings.state_url
        register_configured_secrets(self.policy, state_url=self.state_url)
        self.store = open_state(self.state_url)
        self.lease = LeaderLease(
            self.store,
            holder_id=settings.replica_id,
            lease_seconds=self.policy.daemon.lease.as_timedelta().total_seconds(),
            clock=lease_clock,
        )
        self.write_fence = LeaseFence(self.lease, self.policy.write_safety_margin_s)
        self.runtime = Runtime(
            self.policy,
            self.store,
            build_trackers(self.policy, self.store, clock, self.sleep, fence=self.write_fence),
            clock,
        )
        self.memories = {}
        self.metrics = Metrics()
        self.gauges = Reuse()
        self.follow_through = Reuse()
        self.merged = MergedViews()
        self.every = Joined()
        self.health = HealthState(interval_s=self._interval_s(), clock=self._unix_time)
        self._policy_in_force()
        self.reload_requested = False
        self.scheduler = schedule.Scheduler()
        self.backoff = Backoff(
            self.policy.daemon.interval.as_timedelta(),
            self.policy.daemon.max_backoff.as_timedelta(),
        )
        self.leader = False
        self.next_renewal = 0.0
        self.assessments = {}
        self.report_pending = None
        self.cycles_run = 0
        self.wake = threading.Event()
        self.receiver = None
        self.webhook_cycles = 0
        self._last_drain = float("-inf")
        self._pruned_at = None

    def _interval_s(self) -> float:
        return max(self.policy.daemon.interval.as_timedelta().total_seconds(), 1.0)

    def _unix_time(self) -> float:
        """The injected clock as Unix time, for the health probes."""
        return self.clock().timestamp()

    def _policy_in_force(self) -> None:
        """Tell the metrics and the probes which policy is in force from now on."""
        self.metrics.set_policy(self.policy.version, self._unix_time())
        self.metrics.set_cycle_interval(self._interval_s())
        self.metrics.add_trackers([t.name for t in self.runtime.trackers])
        self.health.policy_in_force(self.policy.version)

    def _interruptible_sleep(self, seconds: float) -> None:
        """A pacing pause that SIGTERM cuts short, so stopping never waits for a limit."""
        self.stop.wait(seconds)

    # ----- the loop -------------------------------------------------------------------------
    def _on_signal(self, signum: int) -> None:
        """Called on the signal relay's thread, never inside a handler (``core.signal_relay``)."""
        if signum == signal.SIGHUP:
            self.reload_requested = True
            self.wake.set()
            return
        self.stop.set()  # before the log line: a sink that fails cannot keep the loop going
        self.wake.set()
        log.info("stopping", signal=signal.Signals(signum).name)

    def run(self) -> int:
        signals = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
        with SignalRelay(signals, self._on_signal):
            return self._serve()

    def _serve(self) -> int:
        server = HealthServer(
            self.health,
            self.metrics.registry,
            host=self.settings.health_host,
            port=self.settings.health_port,
        )
        server.start()
        self.start_webhooks()
        log.info(
            "daemon started",
            holder=self.lease.holder_id,
            health_port=server.port,
            webhook_port=self.receiver.port if self.receiver is not None else None,
            interval_s=self._interval_s(),
            version=package_version(),
            policy_version=self.policy.version,
        )
        self.schedule_jobs()
        try:
            while not self.stop.is_set():
                self.health.heartbeat()
                if self.reload_requested:
                    self.reload()
                self.renew_lease()
                if self.leader and not self.stop.is_set():
                    self.scheduler.run_pending()
                    self.drain_webhooks()
                self.wake.wait(TICK_S)
                self.wake.clear()
        finally:
            self.health.role = Role.STOPPING
            self.stop_webhooks()
            if self.leader:
                self.lease.release()
            server.stop()
            self.store.close()
            log.info("daemon stopped")
        return 0
