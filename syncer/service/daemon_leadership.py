"""Between jobs: policy reloads (SIGHUP) and the leader lease.

Kept apart because both change who the daemon is rather than what a cycle does: a reload swaps
policy, trackers and fence (or keeps the old ones when the file is invalid); a lease renewal
makes the replica leader or standby, and a new leader starts from a full view and catches up.
"""

from __future__ import annotations

import time

import structlog

from syncer.core.config_loader import load_model_file
from syncer.core.errors import ConfigError
from syncer.core.policy import Policy
from syncer.core.secrets import register_configured_secrets
from syncer.service.daemon_base import DAEMON_LOGGER, DaemonBase
from syncer.service.health_state import Role
from syncer.service.wiring import Runtime, build_trackers
from syncer.state import LeaseFence

log = structlog.get_logger(DAEMON_LOGGER)


class Leadership(DaemonBase):
    """``reload`` and ``renew_lease``, both run by the loop between jobs."""

    def reload(self) -> None:
        """Re-read the policy; when it is invalid (or its trackers cannot be built) keep the
        old one and say why."""
        self.reload_requested = False
        problems: list[str] = []
        trackers = []
        try:
            policy = load_model_file(Policy, self.policy_path)
            register_configured_secrets(policy, state_url=self.state_url)
            fence = LeaseFence(self.lease, policy.write_safety_margin_s)
            trackers = build_trackers(policy, self.store, self.clock, self.sleep, fence=fence)
        except ConfigError as exc:
            problems = list(exc.problems)
        except Exception as exc:  # an unreadable file must not take the service down either
            problems = [f"{type(exc).__name__}: {exc}"]
        if problems:
            log.error(
                "policy reload failed; keeping the old policy",
                problems=problems,
                version=self.policy.version,
            )
            self.metrics.count_reload(success=False)
            self.health.reload_failed(problems)
            return
        old = self.policy.version
        self.policy = policy
        self.write_fence = fence
        self.runtime = Runtime(policy, self.store, trackers, self.clock)
        self.memories = {}  # a new policy assesses everything again
        self.gauges.forget()
        self.follow_through.forget()
        self.assessments = {
            k: v for k, v in self.assessments.items() if k in {t.name for t in trackers}
        }
        self.metrics.count_reload(success=True)
        self._policy_in_force()
        self.health.interval_s = self._interval_s()
        self.schedule_jobs()
        if self.receiver is not None or policy.daemon.webhooks.enabled:
            # New paths, secrets or limits: serve them from a fresh receiver.
            self.stop_webhooks()
            try:
                self.start_webhooks()
            except (OSError, ConfigError) as exc:
                log.warning("webhook receiver not restarted after the reload", error=str(exc))
        log.info("policy reloaded", version=policy.version, previous=old)

    def renew_lease(self) -> None:
        """Between jobs: renew (or, as a standby, try to take) the lease every third of it.

        During a cycle the fence renews it between writes. When the fence found the epoch
        over (the handle holds no token any more) the check is made at once, not at the next
        renewal time.
        """
        lost_in_cycle = self.leader and self.lease.fencing_token is None
        if time.monotonic() < self.next_renewal and not lost_in_cycle:
            return
        was, epoch = self.leader, self.lease.fencing_token
        try:
            self.leader = self.lease.try_acquire_or_renew()
        except Exception:
            log.exception("lease renewal failed; acting as standby")
            self.leader = False
        # A new epoch (another replica may have led in between) starts from a full view.
        new_epoch = self.leader and (not was or self.lease.fencing_token != epoch)
        self.next_renewal = time.monotonic() + self.lease.renew_interval
        self.health.role = Role.LEADER if self.leader else Role.STANDBY
        self.metrics.set_leader(self.leader)
        if not self.leader:
            self.health.record_success()  # a healthy standby is ready
        if was and (not self.leader or new_epoch):
            log.warning("lost leadership", holder=self.lease.holder_id)
            self.report_pending = None
            self.metrics.clear_items()  # the new leader reports them; two would count twice
        if new_epoch:
            log.info(
                "became leader", holder=self.lease.holder_id, lease_epoch=self.lease.fencing_token
            )
            # A new leader starts from a full view: the state store's cursors and view cache
            # (the last leader's), read incrementally; a source without one is read in full.
            self.sync_job(full=False)
            self.catch_up()
            if self.report_pending:
                self.sync_job(full=False)
