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
"""

from __future__ import annotations

import signal
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

import schedule
import structlog

from syncer.core.actions import ItemChange, UpsertLogEntry, UpsertReport
from syncer.core.apply import ApplyResult
from syncer.core.clock import system_clock
from syncer.core.config_loader import load_model_file
from syncer.core.cycle import CycleOutcome
from syncer.core.deliveries import keys_by_tracker
from syncer.core.errors import ConfigError
from syncer.core.evaluate import Assessment, evaluate
from syncer.core.idle import CycleMemory, Joined, Reuse
from syncer.core.logging_setup import bind_cycle, bind_tracker
from syncer.core.model import ActionItem
from syncer.core.policy import Policy
from syncer.core.secrets import register_configured_secrets
from syncer.core.signal_relay import SignalRelay
from syncer.core.tracker import ReadsItems, Tracker
from syncer.core.version import package_version
from syncer.report.build import (
    build_report,
    daily_counts_for,
    moment_for_week,
    report_period,
    scheduled_week,
    week_key,
)
from syncer.report.model import TREND_WEEKS
from syncer.report.people import unnamed
from syncer.report.publish import report_changes, report_tracker
from syncer.service.cycle_metrics import (
    record_follow_through,
    record_items,
    record_outcome,
    record_traffic,
    record_writes,
)
from syncer.service.health import HealthServer
from syncer.service.health_state import HealthState, RateLimitWait, Role, wait_in_words
from syncer.service.metrics import Metrics
from syncer.service.settings import Settings
from syncer.service.webhooks import WebhookServer
from syncer.service.wiring import (
    Runtime,
    build_trackers,
    document_renderer,
    lookup_names,
    open_state,
    webhook_sources,
)
from syncer.state import LeaderLease, LeaseFence

log = structlog.get_logger(__name__)


TICK_S = 0.5
"""How often the loop turns when nothing wakes it (a delivery wakes it at once)."""

DELIVERIES_PER_DRAIN = 5000
"""Most deliveries one webhook cycle takes from the queue; the rest wait for the next."""

PRUNE_EVERY = timedelta(hours=1)
"""How often the leader drops delivery ids older than ``daemon.webhooks.keep_deliveries``."""

RESET_WAIT_FLOOR = timedelta(hours=1)
"""A reset time is waited for up to max(daemon.max_backoff, this): GitHub's and Jira's quota
windows are an hour, so a reset further away is a clock or header problem, not a plan."""


@dataclass
class Backoff:
    """Per-tracker retry delays: 1, 2, 4... intervals up to a ceiling, reset on success.

    A rate limit with a known reset time is not a failure to back off from: the tracker is
    simply left alone until the reset (:meth:`rate_limited`), and its failure count is kept.
    """

    interval: timedelta
    ceiling: timedelta
    failures: dict[str, int] = field(default_factory=dict)
    not_before: dict[str, datetime] = field(default_factory=dict)
    waits: dict[str, RateLimitWait] = field(default_factory=dict)

    def allowed(self, name: str, now: datetime) -> bool:
        return now >= self.not_before.get(name, now)

    def failed(self, name: str, now: datetime) -> timedelta:
        count = self.failures.get(name, 0) + 1
        self.failures[name] = count
        delay = min(self.interval * (1 << min(count - 1, 30)), self.ceiling)
        self.not_before[name] = now + delay
        self.waits.pop(name, None)
        return delay

    def rate_limited(
        self, name: str, now: datetime, reset_at: datetime | None, reason: str
    ) -> RateLimitWait:
        """Leave ``name`` alone until ``reset_at``; without one, back off as after a failure.

        A reset already past allows the next cycle; one further away than
        max(ceiling, 1 h) is capped there.
        """
        if reset_at is None:
            until = now + self.failed(name, now)
            known = False
        else:
            until = min(max(reset_at, now), now + max(self.ceiling, RESET_WAIT_FLOOR))
            known = True
            self.not_before[name] = until
        wait = RateLimitWait(until.timestamp(), reason, known)
        self.waits[name] = wait
        return wait

    def succeeded(self, name: str) -> None:
        self.failures.pop(name, None)
        self.not_before.pop(name, None)
        self.waits.pop(name, None)


WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
SHORT_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAILY_COUNTS_AT = "23:55"  # local time in deadlines.timezone: late, so the day is nearly over


def next_local(moment: datetime, weekday: int | None, hhmm: str, tz: ZoneInfo) -> datetime:
    """The first ``hhmm`` in ``tz`` strictly after ``moment`` (on ``weekday`` when given)."""
    hour, minute = (int(p) for p in hhmm.split(":"))
    local = moment.astimezone(tz)
    for offset in range(9):
        day = local.date() + timedelta(days=offset)
        if weekday is not None and day.weekday() != weekday:
            continue
        candidate = datetime.combine(day, dtime(hour, minute), tz)
        if candidate > moment:
            return candidate
    raise AssertionError("unreachable: a week always has the weekday")  # pragma: no cover


def last_local(moment: datetime, weekday: int, hhmm: str, tz: ZoneInfo) -> datetime:
    """The latest ``hhmm`` on ``weekday`` in ``tz`` at or before ``moment``."""
    return next_local(moment - timedelta(days=7), weekday, hhmm, tz)


@dataclass
class MergedViews:
    """The merged items and assessments of the last tick, kept by the daemon (``Joined``)."""

    items: Joined[ActionItem] = field(default_factory=Joined)
    assessments: Joined[Assessment] = field(default_factory=Joined)


def merge_outcomes(
    cycle_id: str, now: datetime, outcomes: list[CycleOutcome], views: MergedViews | None = None
) -> CycleOutcome:
    """One outcome for the metrics out of the per-tracker cycles of one tick.

    With ``views`` (the daemon's, kept across ticks) the merged items and assessments are
    the last tick's very lists when every tracker's are the very lists they were, as after an
    idle cycle (``syncer.core.idle``): nothing is joined, and the item gauges behind it see the
    very list (one comparison, not one per item). At 100,000 items that saves joining both
    lists, whose reference counts touch every item: 6.6 ms CPU against 0.04 ms, measured in
    one run on one tracker's 100,000 items (``tests/bench/bench_idle_cycle.py`` measures the
    whole idle tick).
    """
    views = views or MergedViews()
    result = ApplyResult()
    merged = CycleOutcome(
        cycle_id,
        now,
        views.items.join([o.items for o in outcomes]),
        views.assessments.join([o.assessments for o in outcomes]),
        outcomes[0].plan,
        result,
    )
    for o in outcomes:
        merged.skipped.extend(o.skipped)
        merged.fetch_errors.update(o.fetch_errors)
        result.done.extend(o.result.done)
        result.failed.extend(o.result.failed)
        result.backlog.extend(o.result.backlog)
        merged.fetch_rate_limits.update(o.fetch_rate_limits)
        result.rate_limited.update(o.result.rate_limited)
        result.rate_limit_reasons.update(o.result.rate_limit_reasons)
        result.fallbacks.extend(o.result.fallbacks)
        result.fenced = result.fenced or o.result.fenced
    return merged


class Daemon:
    """The service: scheduler, lease, health endpoint and signal handling."""

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
        self.memories: dict[str, CycleMemory] = {}
        """Per tracker, kept across cycles: an idle cycle re-assesses only what time moved and
        reuses the plan of the very same assessments (``syncer.core.idle``)."""
        self.metrics = Metrics()
        # The assessments the item gauges and the follow-through figures were last set from.
        self.gauges: Reuse[bool] = Reuse()
        self.follow_through: Reuse[bool] = Reuse()
        # The last tick's merged lists, and every tracker's assessments joined.
        self.merged = MergedViews()
        self.every: Joined[Assessment] = Joined()
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
        # The last full view of each tracker (the connectors return every item each cycle).
        self.assessments: dict[str, list[Assessment]] = {}
        # The ISO week whose review still has to be published (survives failed cycles; after a
        # restart ``catch_up`` finds it again from the ledger).
        self.report_pending: str | None = None
        self.cycles_run = 0
        # Set by the webhook receiver (and by signals): the loop turns at once.
        self.wake = threading.Event()
        self.receiver: WebhookServer | None = None
        self.webhook_cycles = 0
        self._last_drain = float("-inf")
        self._pruned_at: datetime | None = None

    # ----- schedule -------------------------------------------------------------------
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

    @staticmethod
    def _scheduler_time(moment: datetime) -> datetime:
        """``moment`` in the process's local time, which is what ``schedule`` compares with."""
        return moment.astimezone()

    def _utc_time_of(self, hhmm: str) -> str:
        """Next ``hhmm`` in the policy's timezone as scheduler HH:MM (UTC in a container)."""
        tz = ZoneInfo(self.policy.deadlines.timezone)
        moment = next_local(system_clock(), None, hhmm, tz)
        return self._scheduler_time(moment).strftime("%H:%M")

    def _place_daily(self, tag: str, hhmm: str, job: Callable[[], None]) -> None:
        self.scheduler.clear(tag)
        self.scheduler.every().day.at(self._utc_time_of(hhmm)).do(job).tag(tag)

    def _place_weekly(self) -> None:
        """The review job on the scheduler's weekday and time of the next local occurrence.

        Converting can move the weekday (Monday 00:30 Berlin is Sunday 23:30 UTC) and the hour
        moves with DST, so the job is re-placed after every run.
        """
        self.scheduler.clear("weekly")
        if not self.policy.report.enabled:
            return
        when = self._next_review(system_clock())
        local = self._scheduler_time(when)
        every = self.scheduler.every()
        job = getattr(every, WEEKDAY_NAMES[local.weekday()])
        job.at(local.strftime("%H:%M")).do(self.weekly_review_job).tag("weekly")

    def _next_review(self, moment: datetime) -> datetime:
        sched = self.policy.report.schedule
        return next_local(
            moment, SHORT_WEEKDAYS.index(sched.weekday), sched.time, ZoneInfo(sched.timezone)
        )

    def _last_review(self, moment: datetime) -> datetime:
        sched = self.policy.report.schedule
        return last_local(
            moment, SHORT_WEEKDAYS.index(sched.weekday), sched.time, ZoneInfo(sched.timezone)
        )

    def schedule_jobs(self) -> None:
        self.scheduler.clear()
        self.scheduler.every(int(self._interval_s())).seconds.do(self.sync_job, full=False)
        self._place_daily("full", self.policy.daemon.full_resync_at, self.full_resync_job)
        self._place_daily("daily", DAILY_COUNTS_AT, self.daily_counts_job)
        self._place_weekly()

    # ----- jobs -------------------------------------------------------------------------
    def _interruptible_sleep(self, seconds: float) -> None:
        """A pacing pause that SIGTERM cuts short, so stopping never waits for a limit."""
        self.stop.wait(seconds)

    def fence(self) -> bool:
        """Checked by the applier before each change: not stopping, and the lease fence allows.

        The connectors ask ``write_fence`` alone right before each write request leaves: a
        SIGTERM lets the change in hand finish, a lost lease stops even that.
        """
        return not self.stop.is_set() and self.write_fence()

    def _report_changes(self, now: datetime) -> list[ItemChange]:
        """The pending review's two changes, built from every tracker's last full view."""
        week = self.report_pending
        target = report_tracker(self.policy)
        if week is None or target is None or not self.policy.report.enabled:
            self.report_pending = None
            return []
        if week != scheduled_week(self.policy, now):
            log.warning("weekly review not published in the week after it; dropped", week=week)
            self.report_pending = None
            return []
        if any(t.name not in self.assessments for t in self.runtime.trackers):
            return []  # not every tracker has been read yet: wait for a full view
        items = [a.item for name in sorted(self.assessments) for a in self.assessments[name]]
        # The review of the week that ended, as it stood at its last instant.
        moment = moment_for_week(self.policy, week, now)
        assessments = evaluate(items, self.policy, moment)
        start, end = report_period(self.policy, moment)
        today = moment.astimezone(ZoneInfo(self.policy.deadlines.timezone)).date()
        entries = list(self.store.entries_between(start, end))
        wanted = unnamed(assessments, entries, start, end, self.policy)
        report = build_report(
            assessments,
            self.policy,
            moment,
            entries,
            self.store.daily_counts(today - timedelta(days=7 * TREND_WEEKS), today),
            directory=lookup_names(self.runtime.trackers, wanted),
        )
        return report_changes(report, self.policy, target, document_renderer(self.policy, target))

    def _report_published(self, outcome: CycleOutcome) -> bool:
        kinds = {
            type(d.action)
            for d in outcome.result.done
            if isinstance(d.action, UpsertReport | UpsertLogEntry)
            and d.action.week_key == self.report_pending
            and d.outcome in {"done", "skipped"}
        }
        return kinds == {UpsertReport, UpsertLogEntry}

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

    # ----- webhooks ----------------------------------------------------------------------
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

    def full_resync_job(self) -> None:
        self.sync_job(full=True)
        # Re-place the daily job: its UTC time moves with DST.
        self._place_daily("full", self.policy.daemon.full_resync_at, self.full_resync_job)

    def weekly_review_job(self) -> None:
        """Mark the review of the week that ended due and publish it in a cycle through the
        budgeted applier."""
        self.request_review(self.clock())
        self.sync_job(full=False)
        self._place_weekly()

    def request_review(self, now: datetime) -> None:
        if self.policy.report.enabled and report_tracker(self.policy) is not None:
            self.report_pending = scheduled_week(self.policy, now)

    def daily_counts_job(self) -> None:
        self.record_daily_counts(self.clock())
        self._place_daily("daily", DAILY_COUNTS_AT, self.daily_counts_job)

    def record_daily_counts(self, now: datetime) -> date | None:
        """Today's figures (local day in deadlines.timezone) from every tracker's last view."""
        if not self.leader or not self.assessments:
            return None
        day = now.astimezone(ZoneInfo(self.policy.deadlines.timezone)).date()
        items = [a.item for name in sorted(self.assessments) for a in self.assessments[name]]
        self.store.record_daily_counts(
            day, daily_counts_for(evaluate(items, self.policy, now), day)
        )
        log.info("daily counts recorded", day=day.isoformat())
        return day

    def catch_up(self) -> None:
        """After taking over: record today's counts if nobody did (the previous leader may
        have died first) and, with ``report.publish_missed_on_start``, publish a review whose
        moment passed unpublished this week."""
        if not self.leader:
            return
        now = self.clock()
        report = self.policy.report
        if report.enabled and report.publish_missed_on_start and self.report_pending is None:
            moment = self._last_review(now)
            tz = ZoneInfo(self.policy.deadlines.timezone)
            week = scheduled_week(self.policy, moment)
            same_week = week_key(moment.astimezone(tz).date()) == week_key(
                now.astimezone(tz).date()
            )
            published = any(
                e.kind == "upsert_report"
                and e.item_key == week
                and e.outcome in {"done", "skipped"}
                for e in self.store.entries_between(
                    moment.astimezone(UTC), now + timedelta(seconds=1)
                )
            )
            if same_week and not published:
                log.info("weekly review missed; publishing it now", week=week)
                self.report_pending = week
        day = now.astimezone(ZoneInfo(self.policy.deadlines.timezone)).date()
        if day not in self.store.daily_counts(day, day):
            self.record_daily_counts(now)

    # ----- reload and leadership ----------------------------------------------------------
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
