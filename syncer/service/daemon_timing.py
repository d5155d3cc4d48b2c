"""When the daemon may try a tracker again, and when its daily and weekly jobs fall.

Pure arithmetic on the injected time, kept apart from the loop so it is tested without a
daemon: the per-tracker backoff (delays that double up to a ceiling and reset on success, or a
wait until a rate limit's reset) and the local-time occurrences the scheduled jobs are placed
at (``daemon_schedule``), DST included.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from datetime import time as dtime
from zoneinfo import ZoneInfo

from syncer.service.health_state import RateLimitWait

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
