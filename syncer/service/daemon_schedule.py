"""The jobs placed at local times: the daily full resync, the day's counts, the weekly review.

Kept apart from the cycle (``daemon_cycle``) because what they share is the calendar: each is
placed at the scheduler's local time of its next occurrence in the policy's timezone and
re-placed after each run, so DST moves it correctly (``daemon_timing`` does the arithmetic).
The review is built here from every tracker's last full view and published in a cycle, through
the same budgeted applier; after taking over, ``catch_up`` fills in what a dead leader missed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import structlog

from syncer.core.actions import ItemChange, UpsertLogEntry, UpsertReport
from syncer.core.clock import system_clock
from syncer.core.cycle import CycleOutcome
from syncer.core.evaluate import evaluate
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
from syncer.service.daemon_base import DAEMON_LOGGER, DaemonBase
from syncer.service.daemon_timing import (
    DAILY_COUNTS_AT,
    SHORT_WEEKDAYS,
    WEEKDAY_NAMES,
    last_local,
    next_local,
)
from syncer.service.wiring import document_renderer, lookup_names

log = structlog.get_logger(DAEMON_LOGGER)


class ScheduledJobs(DaemonBase):
    """``schedule_jobs`` and the daily and weekly jobs it places besides the sync job."""

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
