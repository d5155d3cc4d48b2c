"""When an item is due, counted the way the policy says.

Deadline arithmetic is the hot path of ``evaluate`` (100,000 items in well under a second), so
a ``DeadlineCalendar`` caches business-day additions per start date: items are created on a
few hundred distinct days, not 100,000.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from syncer.core.durations import Span
from syncer.core.fields import WEEKDAYS
from syncer.core.model import ActionItem, Priority, Severity
from syncer.core.policy import Deadlines

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


class DeadlineCalendar:
    """Deadline computation for one policy's ``deadlines`` section."""

    def __init__(self, rules: Deadlines) -> None:
        self.rules = rules
        self.tz = ZoneInfo(rules.timezone)
        self._workdays = frozenset(WEEKDAYS.index(d) for d in rules.business_days)
        self._holidays = frozenset(rules.holidays)
        self._added: dict[tuple[date, Span], date] = {}
        self._between: dict[tuple[date, date], int] = {}
        self._days: dict[int, date] = {}
        self.due_wins = rules.tracker_due_date_wins
        self.from_incident = rules.count_from == "incident"
        # UTC offset in minutes per UTC day (by ordinal), for days without a DST change.
        self._steady_minutes: dict[int, int] = {}
        self._checked_days: set[int] = set()
        self._slo_deadlines: dict[tuple[int, Priority, Severity], tuple[date | None, str]] = {}

    def local_date(self, moment: datetime) -> date:
        """The calendar day of ``moment`` in the policy's timezone.

        This runs once per item per cycle, so it is integer arithmetic on day ordinals with
        the UTC offset cached per UTC day (exact on the two transition days a year), and the
        few hundred distinct days are shared objects.
        """
        ordinal = self._local_ordinal(moment)
        day = self._days.get(ordinal)
        if day is None:
            day = self._days[ordinal] = date.fromordinal(ordinal)
        return day

    def _local_ordinal(self, moment: datetime) -> int:
        if moment.tzinfo is UTC:
            # The common case: the UTC day and the minute of the day are fields.
            utc_ordinal = moment.toordinal()
            minutes = self._steady_minutes.get(utc_ordinal)
            if minutes is None and utc_ordinal not in self._checked_days:
                minutes = self._check_day(utc_ordinal)
            if minutes is not None:
                return utc_ordinal + (moment.hour * 60 + moment.minute + minutes) // 1440
        seconds = int(moment.timestamp())
        return _EPOCH_ORDINAL + (seconds + self._offset_at(seconds)) // 86400

    def _offset_at(self, seconds: int) -> int:
        delta = datetime.fromtimestamp(seconds, self.tz).utcoffset()
        return int(delta.total_seconds()) if delta else 0

    def _check_day(self, utc_ordinal: int) -> int | None:
        """The offset in minutes all through a UTC day, or None when it changes that day."""
        self._checked_days.add(utc_ordinal)
        start = (utc_ordinal - _EPOCH_ORDINAL) * 86400
        first, last = self._offset_at(start), self._offset_at(start + 86399)
        if first != last or first % 60:
            return None
        self._steady_minutes[utc_ordinal] = first // 60
        return first // 60

    def is_business_day(self, day: date) -> bool:
        return day.weekday() in self._workdays and day not in self._holidays

    def add(self, start: date, span: Span) -> date:
        """``start`` plus ``span``; business days skip weekends and holidays."""
        key = (start, span)
        found = self._added.get(key)
        if found is not None:
            return found
        if span.business:
            day, left = start, span.amount
            while left > 0:
                day += timedelta(days=1)
                if self.is_business_day(day):
                    left -= 1
            result = day
        else:
            result = start + timedelta(days=span.days)
        self._added[key] = result
        return result

    def business_days_between(self, start: date, end: date) -> int:
        """Business days in (start, end]; 0 when end <= start."""
        key = (start, end)
        found = self._between.get(key)
        if found is None:
            found = sum(
                1
                for offset in range(1, (end - start).days + 1)
                if self.is_business_day(start + timedelta(days=offset))
            )
            self._between[key] = found
        return found

    def slo_span(self, item: ActionItem) -> tuple[Span | None, str]:
        """The SLO that applies to the item and where it came from."""
        rules = self.rules
        by_priority = rules.by_priority.get(item.priority)
        by_severity = rules.by_severity.get(item.severity)
        if by_priority is not None and by_severity is not None:
            if rules.combine == "priority":
                return by_priority, "priority_slo"
            if rules.combine == "severity":
                return by_severity, "severity_slo"
            return None, "strictest"
        if by_priority is not None:
            return by_priority, "priority_slo"
        if by_severity is not None:
            return by_severity, "severity_slo"
        return rules.default, "default_slo" if rules.default is not None else "none"

    def deadline(self, item: ActionItem) -> tuple[date | None, str]:
        """The item's deadline and its source: tracker, priority_slo, severity_slo, default_slo.

        Deadlines are cached per (local start day, priority, severity). For a UTC creation
        time, the common case, the start day is found as an ordinal without building a date,
        so a cache hit costs a few integer operations and one lookup.
        """
        due = item.due
        if due is not None and self.due_wins:
            return due, "tracker"
        if self.from_incident and item.incident_date is not None:
            start = item.incident_date.toordinal()
        else:
            moment = item.created_at
            utc_ordinal = moment.toordinal()
            minutes = self._steady_minutes.get(utc_ordinal)
            if minutes is None or moment.tzinfo is not UTC:
                start = self._local_ordinal(moment)
            else:
                start = utc_ordinal + (moment.hour * 60 + moment.minute + minutes) // 1440
        key = (start, item.priority, item.severity)
        found = self._slo_deadlines.get(key)
        if found is None:
            found = self._slo_deadlines[key] = self._slo_deadline(date.fromordinal(start), item)
        if found[0] is None and due is not None:
            return due, "tracker"
        return found

    def _slo_deadline(self, start: date, item: ActionItem) -> tuple[date | None, str]:
        rules = self.rules
        span, source = self.slo_span(item)
        if source == "strictest":
            by_priority = self.add(start, rules.by_priority[item.priority])
            by_severity = self.add(start, rules.by_severity[item.severity])
            if by_priority <= by_severity:
                return by_priority, "priority_slo"
            return by_severity, "severity_slo"
        if span is None:
            return None, "none"
        return self.add(start, span), source
