"""The webhook side of the daemon: serving deliveries and the cycles they start.

Kept apart from the polling cycle (``daemon_cycle``) because its rules differ: a delivery names
items, so a cycle reads those (or polls incrementally when that costs fewer requests), at most
once per ``coalesce_s``; deliveries are marked handled only once their cycles ran, and old
delivery ids are pruned. Every replica serves the paths; only the leader drains the queue.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta

import structlog

from syncer.core.cycle import CycleOutcome
from syncer.core.deliveries import keys_by_tracker
from syncer.core.idle import CycleMemory
from syncer.core.logging_setup import bind_cycle, bind_tracker
from syncer.core.tracker import ReadsItems, Tracker
from syncer.service.cycle_metrics import record_items, record_traffic, record_writes
from syncer.service.daemon_base import DAEMON_LOGGER, DaemonBase
from syncer.service.webhooks import WebhookServer
from syncer.service.wiring import Runtime, webhook_sources

log = structlog.get_logger(DAEMON_LOGGER)

DELIVERIES_PER_DRAIN = 5000
"""Most deliveries one webhook cycle takes from the queue; the rest wait for the next."""

PRUNE_EVERY = timedelta(hours=1)
"""How often the leader drops delivery ids older than ``daemon.webhooks.keep_deliveries``."""


class WebhookJobs(DaemonBase):
    """The receiver's life (``start_webhooks``, ``stop_webhooks``) and ``drain_webhooks``."""

    def drain_webhooks(self) -> int:
        """Handle the queued deliveries: one cycle per tracker for the items they name.

        At most once per ``daemon.webhooks.coalesce_s`` (what arrives meanwhile waits and is
        handled together). A merged pull request becomes the items of every tracker whose
        evidence links to it. Deliveries are marked handled once their cycles ran; a cycle
        cut short by a lost lease or a stop leaves them for the next leader (or tick). A
        tracker waiting for a rate limit or backing off is left out: its poll after the wait
        reads what changed. Returns how many deliveries were handled.
        """
        hooks = self.policy.daemon.webhooks
        if not hooks.enabled or not self.leader or self.stop.is_set():
            return 0
        started = time.monotonic()
        if started - self._last_drain < hooks.coalesce_s:
            return 0
        pending = self.store.pending_deliveries(DELIVERIES_PER_DRAIN)
        if not pending:
            return 0
        self._last_drain = started
        now = self.clock()
        linking = {
            t.name: t.items_linking for t in self.runtime.trackers if isinstance(t, ReadsItems)
        }
        wanted = keys_by_tracker(pending, linking)
        cycle_id = uuid.uuid4().hex[:12]
        interrupted = False
        with bind_cycle(cycle_id):
            log.info(
                "webhook deliveries",
                deliveries=len(pending),
                items={name: len(keys) for name, keys in sorted(wanted.items())},
            )
            for tracker in self.runtime.trackers:
                keys = wanted.get(tracker.name)
                if not keys or not self.backoff.allowed(tracker.name, now):
                    continue
                if self.stop.is_set():
                    interrupted = True
                    break
                with bind_tracker(tracker.name):
                    outcome = self._webhook_cycle(tracker, keys, cycle_id, now)
                interrupted = interrupted or (outcome is not None and outcome.result.fenced)
        record_traffic(self.metrics, self.runtime.trackers)
        if interrupted:
            return 0
        done_at = self.clock()
        self.store.finish_deliveries([d.delivery_id for d in pending], done_at)
        self.metrics.observe_webhook_lags(
            (done_at - d.received_at).total_seconds() for d in pending
        )
        self._forget_old_deliveries(done_at)
        return len(pending)

    def _webhook_cycle(
        self, tracker: Tracker, keys: set[str], cycle_id: str, now: datetime
    ) -> CycleOutcome | None:
        """The cycle for ``keys`` of one tracker: those items only, or an incremental poll when
        that costs fewer requests (``ReadsItems.read_cost``: many GitHub issues changed in few
        repositories, as after a burst)."""
        name = tracker.name
        targeted = False
        if isinstance(tracker, ReadsItems):
            one_by_one, poll = tracker.read_cost(keys)
            targeted = one_by_one <= poll
        runtime = Runtime(
            self.policy,
            self.store,
            [tracker],
            self.clock,
            self.runtime.verifiers,
            memory=self.memories.setdefault(tracker.name, CycleMemory()),
        )
        try:
            outcome = runtime.cycle(
                cycle_id=cycle_id,
                dry_run=False,
                full=False,
                fence=self.fence,
                only={name: keys} if targeted else None,
            )
        except Exception:  # the loop must never die; the next poll reads these items again
            log.exception("webhook cycle failed")
            self.metrics.count_error(name, "cycle")
            return None
        self.webhook_cycles += 1
        self.metrics.observe_webhook_cycle(name, "targeted" if targeted else "poll")
        record_writes(self.metrics, outcome)
        limit = outcome.fetch_rate_limits.get(name)
        if limit is not None or name in outcome.result.rate_limited:
            reset_at = limit.reset_at if limit else outcome.result.rate_limited[name]
            reason = limit.reason if limit else outcome.result.rate_limit_reasons.get(name, "")
            self._wait_for_reset(name, now, reset_at, reason)
            self._publish_wait(name)
        if name in outcome.fetch_errors:
            return outcome
        if not targeted:
            self.assessments[name] = outcome.assessments
            record_items(self.metrics, outcome.assessments, self.policy, [name])
            self.gauges.forget()
        elif name in self.assessments:
            kept = [a for a in self.assessments[name] if a.item.ref.key not in keys]
            self.assessments[name] = kept + outcome.assessments
        return outcome

    def _forget_old_deliveries(self, now: datetime) -> None:
        """Drop delivery ids past ``keep_deliveries``, at most once per ``PRUNE_EVERY``."""
        if self._pruned_at is not None and now - self._pruned_at < PRUNE_EVERY:
            return
        self._pruned_at = now
        keep = self.policy.daemon.webhooks.keep_deliveries.as_timedelta()
        dropped = self.store.forget_deliveries(now - keep)
        if dropped:
            log.info("old webhook deliveries forgotten", deliveries=dropped)

    def start_webhooks(self) -> None:
        """Serve the webhook paths when ``daemon.webhooks.enabled`` (every replica does)."""
        hooks = self.policy.daemon.webhooks
        if not hooks.enabled:
            return
        self.receiver = WebhookServer(
            webhook_sources(self.policy),
            self.store,
            clock=self.clock,
            max_body=hooks.max_body_bytes,
            host=self.settings.webhook_host,
            port=self.settings.webhook_port,
            metrics=self.metrics,
            on_queued=self.wake.set,
        )
        self.receiver.start()

    def stop_webhooks(self) -> None:
        if self.receiver is not None:
            self.receiver.stop()
            self.receiver = None
