"""Which days a weekly review covers: ISO week keys, the review period and local day bounds.

A week is an ISO week in the policy's ``deadlines.timezone``. The review titled W covers W:
from its Monday 00:00 up to ``now`` while W is under way, the whole of W once it is over (a
past week is built as of its last instant, so a rebuilt review covers and shows the same as
the one published after the week ended). The daemon publishes, at ``report.schedule``, the
review of the last week that has ended (``scheduled_week``): on the default Monday 09:00 that
is the week just finished, complete, with every decision taken in it. Pure: ``now`` is always
passed in.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from syncer.core.policy import Policy

_WEEK_RE = re.compile(r"^(\d{4})-W(\d{2})$")


def week_key(day: date) -> str:
    """``2026-W48`` for any day of that ISO week."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def parse_week(key: str) -> date:
    """The Monday of ISO week ``key`` (``2026-W48``); ValueError when it is not one."""
    match = _WEEK_RE.match(key)
    if not match:
        raise ValueError(f"week {key!r} is not an ISO week such as 2026-W48")
    try:
        return date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
    except ValueError:
        raise ValueError(f"week {key!r} does not exist") from None


def report_timezone(policy: Policy) -> ZoneInfo:
    return ZoneInfo(policy.deadlines.timezone)


def week_bounds(policy: Policy, week: str) -> tuple[datetime, datetime]:
    """Monday 00:00 of ``week`` and of the week after, local midnights, in UTC."""
    tz = report_timezone(policy)
    monday = parse_week(week)
    start = datetime.combine(monday, time(), tz)
    end = datetime.combine(monday + timedelta(days=7), time(), tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def moment_for_week(policy: Policy, week: str, now: datetime) -> datetime:
    """The moment to build week ``week``'s review at.

    This week: ``now``. A past week: its last instant (Sunday 23:59:59.999999 local), so the
    review covers the whole week and shows what stood when it ended. A future week is a
    ValueError.
    """
    start, end = week_bounds(policy, week)
    if now < start:
        raise ValueError(f"week {week} has not started yet")
    if now < end:
        return now
    return end - timedelta(microseconds=1)


def scheduled_week(policy: Policy, moment: datetime) -> str:
    """The week a scheduled review published at ``moment`` is about: the last one that ended.

    On a Monday that is the week just finished; later in the week still that one, so every
    week is reviewed once, complete, whatever weekday ``report.schedule`` names.
    """
    today = moment.astimezone(report_timezone(policy)).date()
    return week_key(today - timedelta(days=7))


def report_period(
    policy: Policy, now: datetime, week: str | None = None
) -> tuple[datetime, datetime]:
    """The half-open span the review of ``week`` (default: ``now``'s) reports decisions from:
    the week's Monday 00:00 local to ``now``, or to the week's end when ``now`` is past it."""
    if week is None:
        week = week_key(now.astimezone(report_timezone(policy)).date())
    start, end = week_bounds(policy, week)
    return start, min(end, max(now, start))


def day_end(day: date, tz: tzinfo) -> datetime:
    """The first instant after local ``day``: snapshots are taken there, so that reruns on
    the same day see the same history."""
    return datetime.combine(day + timedelta(days=1), time(), tz)


def local_day(moment: datetime | None, tz: tzinfo) -> date | None:
    return moment.astimezone(tz).date() if moment is not None else None
