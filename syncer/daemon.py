"""``pmsync daemon``: the long-running service loop.

One ``schedule.Scheduler`` of its own; every job runs on the main thread, one after another,
so a slow cycle can never overlap the next (the trap Netflix Dispatch's thread pool falls
into). The loop also renews the leader lease: only the leader runs jobs that write, and the
applier asks the lease before every write, so a replica that lost it mid-cycle stops.

Signals: SIGTERM/SIGINT set an event; the applier's fence sees it before the next write, the
item in hand is finished and the process exits well within Kubernetes' grace period. SIGHUP
asks for a policy reload at the next tick; an invalid file is logged and the old policy kept.
A tracker that fails is retried after a delay that doubles up to ``daemon.max_backoff`` and
resets on its first success; other trackers go on (kopf's throttling).
"""

from __future__ import annotations

import signal
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from zoneinfo import ZoneInfo

import schedule
import structlog

from syncer.config_loader import load_model_file
from syncer.cycle_metrics import record_outcome
from syncer.errors import ConfigError
from syncer.health import HealthServer, HealthState, Role
from syncer.metrics import Metrics
from syncer.policy import Policy
from syncer.settings import Settings
from syncer.state import LeaderLease
from syncer.wiring import Runtime, build_trackers, open_state, system_clock

log = structlog.get_logger(__name__)


@dataclass
class Backoff:
    """Per-tracker retry delays: 1, 2, 4... intervals up to a ceiling, reset on success."""

    interval: timedelta
    ceiling: timedelta
    failures: dict[str, int] = field(default_factory=dict)
    not_before: dict[str, datetime] = field(default_factory=dict)

    def allowed(self, name: str, now: datetime) -> bool:
        return now >= self.not_before.get(name, now)

    def failed(self, name: str, now: datetime) -> timedelta:
        count = self.failures.get(name, 0) + 1
        self.failures[name] = count
        delay = min(self.interval * (1 << min(count - 1, 30)), self.ceiling)
        self.not_before[name] = now + delay
        return delay

    def succeeded(self, name: str) -> None:
        self.failures.pop(name, None)
        self.not_before.pop(name, None)


class Daemon:
    """The service: scheduler, lease, health endpoint and signal handling."""

    def __init__(
        self,
        policy_path: Path,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = system_clock,
        state_url: str | None = None,
    ) -> None:
        self.policy_path = policy_path
        self.settings = settings
        self.clock = clock
        self.policy = load_model_file(Policy, policy_path)
        self.store = open_state(state_url or settings.state_url)
        self.lease = LeaderLease(
            self.store,
            holder_id=settings.replica_id,
            lease_seconds=self.policy.daemon.lease.as_timedelta().total_seconds(),
        )
        self.runtime = Runtime(
            self.policy, self.store, build_trackers(self.policy, self.store, clock), clock
        )
        self.metrics = Metrics()
        self.health = HealthState(interval_s=self._interval_s(), clock=time.time)
        self.health.policy_loaded = True
        self.stop = threading.Event()
        self.reload_requested = False
        self.scheduler = schedule.Scheduler()
        self.backoff = Backoff(
            self.policy.daemon.interval.as_timedelta(),
            self.policy.daemon.max_backoff.as_timedelta(),
        )
        self.leader = False
        self.next_renewal = 0.0

    # ----- schedule -------------------------------------------------------------------
    def _interval_s(self) -> float:
        return max(self.policy.daemon.interval.as_timedelta().total_seconds(), 1.0)

    def _utc_time_of(self, hhmm: str) -> str:
        """``hhmm`` in the policy's timezone as today's UTC HH:MM (the scheduler runs in UTC)."""
        tz = ZoneInfo(self.policy.deadlines.timezone)
        hour, minute = (int(p) for p in hhmm.split(":"))
        local = datetime.now(tz).replace(hour=hour, minute=minute, second=0, microsecond=0)
        return local.astimezone(UTC).strftime("%H:%M")

    def schedule_jobs(self) -> None:
        self.scheduler.clear()
        self.scheduler.every(int(self._interval_s())).seconds.do(self.sync_job, full=False)
        self.scheduler.every().day.at(self._utc_time_of(self.policy.daemon.full_resync_at)).do(
            self.full_resync_job
        ).tag("full")

    # ----- jobs -------------------------------------------------------------------------
    def fence(self) -> bool:
        """Checked by the applier before every write."""
        return not self.stop.is_set() and self.lease.is_leader()

    def sync_job(self, *, full: bool) -> None:
        if not self.leader:
            return
        now = self.clock()
        due = [t for t in self.runtime.trackers if self.backoff.allowed(t.name, now)]
        if not due:
            return
        runtime = Runtime(self.policy, self.store, due, self.clock)
        cycle_id = uuid.uuid4().hex[:12]
        started = time.monotonic()
        try:
            outcome = runtime.cycle(cycle_id=cycle_id, dry_run=False, full=full, fence=self.fence)
        except Exception:  # the loop must never die: log it, back off every tracker, go on
            log.exception("cycle failed", cycle_id=cycle_id)
            for tracker in due:
                self.backoff.failed(tracker.name, now)
            self.metrics.observe_cycle(time.monotonic() - started, success=False)
            return
        for tracker in due:
            if tracker.name in outcome.fetch_errors or tracker.name in outcome.result.rate_limited:
                delay = self.backoff.failed(tracker.name, now)
                log.warning("tracker backs off", tracker=tracker.name, retry_in=str(delay))
            else:
                self.backoff.succeeded(tracker.name)
        record_outcome(
            self.metrics,
            outcome,
            seconds=time.monotonic() - started,
            finished_at=time.time(),
            full_view=True,
        )
        if outcome.ok:
            self.health.record_success()

    def full_resync_job(self) -> None:
        self.sync_job(full=True)
        self.scheduler.clear("full")  # re-place the daily job: the UTC time moves with DST
        self.scheduler.every().day.at(self._utc_time_of(self.policy.daemon.full_resync_at)).do(
            self.full_resync_job
        ).tag("full")

    # ----- reload and leadership ----------------------------------------------------------
    def reload(self) -> None:
        self.reload_requested = False
        try:
            policy = load_model_file(Policy, self.policy_path)
        except ConfigError as exc:
            problems = exc.problems
        else:
            problems = []
        if problems:
            log.error("policy reload failed; keeping the old policy", problems=problems)
            return
        self.policy = policy
        self.runtime = Runtime(
            policy, self.store, build_trackers(policy, self.store, self.clock), self.clock
        )
        self.health.interval_s = self._interval_s()
        self.schedule_jobs()
        log.info("policy reloaded", version=policy.version)

    def renew_lease(self) -> None:
        if time.monotonic() < self.next_renewal:
            return
        was = self.leader
        try:
            self.leader = self.lease.try_acquire_or_renew()
        except Exception:
            log.exception("lease renewal failed; acting as standby")
            self.leader = False
        self.next_renewal = time.monotonic() + self.lease.renew_interval
        self.health.role = Role.LEADER if self.leader else Role.STANDBY
        self.metrics.set_leader(self.leader)
        if not self.leader:
            self.health.record_success()  # a healthy standby is ready
        if self.leader and not was:
            log.info("became leader", holder=self.lease.holder_id)
            self.sync_job(full=True)  # a new leader starts from a full view
        elif was and not self.leader:
            log.warning("lost leadership", holder=self.lease.holder_id)

    # ----- the loop -------------------------------------------------------------------------
    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if signum == signal.SIGHUP:
            self.reload_requested = True
        else:
            log.info("stopping", signal=signal.Signals(signum).name)
            self.stop.set()

    def run(self) -> int:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, self._on_signal)
        server = HealthServer(
            self.health,
            self.metrics.registry,
            host=self.settings.health_host,
            port=self.settings.health_port,
        )
        server.start()
        log.info(
            "daemon started",
            holder=self.lease.holder_id,
            health_port=server.port,
            interval_s=self._interval_s(),
        )
        self.schedule_jobs()
        try:
            while not self.stop.is_set():
                self.health.heartbeat()
                if self.reload_requested:
                    self.reload()
                self.renew_lease()
                if self.leader:
                    self.scheduler.run_pending()
                self.stop.wait(0.5)
        finally:
            self.health.role = Role.STOPPING
            if self.leader:
                self.lease.release()
            server.stop()
            self.store.close()
            log.info("daemon stopped")
        return 0
