"""The sync job: one cycle per due tracker, its backoff and its rate-limit waits.

The daemon's main job, apart from the loop that runs it (``daemon``) and the jobs placed around
it (``daemon_schedule``). A tracker that fails backs off and the others go on; one stopped by a
rate limit is left alone until its reset; the pending weekly review rides along in the report
tracker's cycle, through the same budgeted applier. Every write asks ``fence`` first.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime

import structlog

from syncer.core.cycle import CycleOutcome
from syncer.core.idle import CycleMemory
from syncer.core.logging_setup import bind_cycle, bind_tracker
from syncer.report.publish import report_tracker
from syncer.service.cycle_metrics import record_follow_through, record_outcome, record_traffic
from syncer.service.daemon_base import DAEMON_LOGGER, DaemonBase
from syncer.service.daemon_merge import merge_outcomes
from syncer.service.health_state import wait_in_words
from syncer.service.wiring import Runtime

log = structlog.get_logger(DAEMON_LOGGER)


class SyncCycles(DaemonBase):
    """``sync_job`` and what it needs: the write fence, backoff and rate-limit waits."""

    def fence(self) -> bool:
        """Checked by the applier before each change: not stopping, and the lease fence allows.

        The connectors ask ``write_fence`` alone right before each write request leaves: a
        SIGTERM lets the change in hand finish, a lost lease stops even that.
        """
        return not self.stop.is_set() and self.write_fence()

    def sync_job(self, *, full: bool) -> None:
        """One cycle: each due tracker in turn, its log lines tagged with cycle id and tracker."""
        if not self.leader:
            return
        now = self.clock()
        due = [t for t in self.runtime.trackers if self.backoff.allowed(t.name, now)]
        if not due:
            return
        cycle_id = uuid.uuid4().hex[:12]
        started = time.monotonic()
        target = report_tracker(self.policy)
        outcomes: list[CycleOutcome] = []
        viewed: list[str] = []
        with bind_cycle(cycle_id):
            for tracker in due:
                if self.stop.is_set():
                    break
                with bind_tracker(tracker.name):
                    outcome = self._tracker_cycle(tracker.name, cycle_id, full, now, target)
                if outcome is not None:
                    outcomes.append(outcome)
                    if tracker.name not in outcome.fetch_errors:
                        viewed.append(tracker.name)
        self.cycles_run += 1
        # Every tracker, due or not: the report jobs between cycles send requests too.
        record_traffic(self.metrics, self.runtime.trackers)
        if not outcomes:
            self.metrics.observe_cycle(time.monotonic() - started, success=False)
            return
        merged = merge_outcomes(cycle_id, now, outcomes, self.merged)
        record_outcome(
            self.metrics,
            merged,
            self.policy,
            seconds=time.monotonic() - started,
            finished_at=self._unix_time(),
            viewed=viewed,
            gauges=self.gauges,
        )
        if viewed and all(t.name in self.assessments for t in self.runtime.trackers):
            every = self.every.join([self.assessments[name] for name in sorted(self.assessments)])
            record_follow_through(self.metrics, every, self.policy, now, self.follow_through)
        if merged.ok and len(outcomes) == len(due):
            self.health.record_success()

    def _tracker_cycle(
        self, name: str, cycle_id: str, full: bool, now: datetime, target: str | None
    ) -> CycleOutcome | None:
        tracker = next(t for t in self.runtime.trackers if t.name == name)
        runtime = Runtime(
            self.policy,
            self.store,
            [tracker],
            self.clock,
            self.runtime.verifiers,
            memory=self.memories.setdefault(tracker.name, CycleMemory()),
        )
        try:
            extra = self._report_changes(now) if name == target and self.report_pending else []
            outcome = runtime.cycle(
                cycle_id=cycle_id, dry_run=False, full=full, fence=self.fence, extra_changes=extra
            )
        except Exception:  # the loop must never die: log it, back the tracker off, go on
            log.exception("cycle failed")
            delay = self.backoff.failed(name, now)
            self.metrics.count_error(name, "cycle")
            log.warning("tracker backs off", retry_in=str(delay))
            self._publish_wait(name)
            return None
        limit = outcome.fetch_rate_limits.get(name)
        if limit is not None or name in outcome.result.rate_limited:
            if limit is not None:
                reset_at, reason = limit.reset_at, limit.reason
            else:
                reset_at = outcome.result.rate_limited[name]
                reason = outcome.result.rate_limit_reasons.get(name, "")
            self._wait_for_reset(name, now, reset_at, reason)
        elif name in outcome.fetch_errors:
            delay = self.backoff.failed(name, now)
            log.warning("tracker backs off", retry_in=str(delay))
        else:
            self.backoff.succeeded(name)
        self._publish_wait(name)
        if name not in outcome.fetch_errors:
            self.assessments[name] = outcome.assessments
        if extra and self._report_published(outcome):
            log.info("weekly review published", week=self.report_pending)
            self.report_pending = None
        return outcome

    def _wait_for_reset(
        self, name: str, now: datetime, reset_at: datetime | None, reason: str
    ) -> None:
        """Leave a rate-limited tracker alone until its reset (or back off), and say until when."""
        wait = self.backoff.rate_limited(name, now, reset_at, reason)
        what = f"{reason} rate limit" if reason else "rate limit"
        when = wait_in_words(wait.until, now.timestamp())
        if wait.known_reset:
            log.warning(
                f"{what} exhausted; waiting until it resets at {when}",
                reset_at=datetime.fromtimestamp(wait.until, UTC).isoformat(),
                reason=reason,
            )
        else:
            log.warning(
                f"{what} exhausted with no reset time given; retrying at {when}",
                retry_at=datetime.fromtimestamp(wait.until, UTC).isoformat(),
                reason=reason,
            )

    def _publish_wait(self, name: str) -> None:
        """Show the tracker's rate-limit wait (or its end) in the metrics and ``/readyz``."""
        wait = self.backoff.waits.get(name)
        self.health.rate_limit_wait(name, wait)
        self.metrics.set_rate_limit_wait(name, wait.until if wait is not None else 0.0)
