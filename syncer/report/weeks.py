"""Which days a weekly review covers: ISO week keys, the review period and local day bounds.

A week is an ISO week in the policy's ``deadlines.timezone``. The review for week W is built
at ``now`` (some moment of W) and covers the seven full days before ``now``'s day; a past
week is rebuilt at the moment the schedule would have published it, so it covers the same
days as the published one did. Pure: ``now`` is always passed in.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from syncer.policy import Policy

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


def moment_for_week(policy: Policy, week: str, now: datetime) -> datetime:
    """The moment to build week ``week``'s review at.

    This week: ``now``. A past week: when the schedule would have published it (e.g. Monday
    09:00 Europe/Berlin of that week), so a rebuilt review covers the same days as the
    published one did. A future week is a ValueError.
    """
    tz = report_timezone(policy)
    monday = parse_week(week)
    today = now.astimezone(tz).date()
    if week == week_key(today):
        return now
    if monday > today:
        raise ValueError(f"week {week} has not started yet")
    schedule = policy.report.schedule
    hour, minute = (int(x) for x in schedule.time.split(":"))
    offset = ("mon", "tue", "wed", "thu", "fri", "sat", "sun").index(schedule.weekday)
    scheduled = datetime.combine(
        monday + timedelta(days=offset), time(hour, minute), ZoneInfo(schedule.timezone)
    )
    if week_key(scheduled.astimezone(tz).date()) != week:
        scheduled = datetime.combine(monday, time(12), tz)
    return scheduled.astimezone(UTC)


def report_period(policy: Policy, now: datetime) -> tuple[datetime, datetime]:
    """The half-open span the week's decisions come from: the 7 full days before today."""
    tz = report_timezone(policy)
    today = now.astimezone(tz).date()
    start = datetime.combine(today - timedelta(days=7), time(), tz)
    end = datetime.combine(today, time(), tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def day_end(day: date, tz: tzinfo) -> datetime:
    """The first instant after local ``day``: snapshots are taken there, so that reruns on
    the same day see the same history."""
    return datetime.combine(day + timedelta(days=1), time(), tz)


def local_day(moment: datetime | None, tz: tzinfo) -> date | None:
    return moment.astimezone(tz).date() if moment is not None else None
