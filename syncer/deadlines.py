"""When an item is due, counted the way the policy says.

Deadline arithmetic is the hot path of ``evaluate`` (100,000 items in well under a second), so
a ``DeadlineCalendar`` caches business-day additions per start date: items are created on a
few hundred distinct days, not 100,000.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from syncer.durations import Span
from syncer.model import ActionItem, Priority, Severity
from syncer.policy import WEEKDAYS, Deadlines

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_CHANGES_TODAY = 1 << 40  # no real UTC offset; marks a day with a DST transition


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
        self._offsets: dict[int, int] = {}
        self._slo_deadlines: dict[tuple[int, Priority, Severity], tuple[date | None, str]] = {}

    def local_date(self, moment: datetime) -> date:
        """The calendar day of ``moment`` in the policy's timezone.

        This runs once per item per cycle, so it is integer arithmetic on the epoch second
        with the UTC offset cached per UTC day (exact on the two transition days a year), and
        the few hundred distinct days are shared objects.
        """
        if moment.tzinfo is UTC:
            # The common case, without converting to an epoch second: the UTC day and the
            # minute of the day are fields of the datetime.
            utc_day = moment.toordinal() - _EPOCH_ORDINAL
            offset = self._offsets.get(utc_day)
            if offset is not None and offset != _CHANGES_TODAY:
                minute = moment.hour * 60 + moment.minute + offset // 60
                day_number = utc_day + minute // 1440
                day = self._days.get(day_number)
                if day is not None:
                    return day
        seconds = int(moment.timestamp())
        day_number = (seconds + self._offset(seconds)) // 86400
        day = self._days.get(day_number)
        if day is None:
            day = self._days[day_number] = date.fromordinal(_EPOCH_ORDINAL + day_number)
        return day

    def _offset_at(self, seconds: int) -> int:
        delta = datetime.fromtimestamp(seconds, self.tz).utcoffset()
        return int(delta.total_seconds()) if delta else 0

    def _offset(self, seconds: int) -> int:
        utc_day = seconds // 86400
        offset = self._offsets.get(utc_day)
        if offset is None:
            first = self._offset_at(utc_day * 86400)
            last = self._offset_at(utc_day * 86400 + 86399)
            offset = self._offsets[utc_day] = first if first == last else _CHANGES_TODAY
        return self._offset_at(seconds) if offset == _CHANGES_TODAY else offset

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
        time, the common case, the start day is found as a day number without building a
        date, so a cache hit costs a few integer operations and one lookup.
        """
        if item.due is not None and self.due_wins:
            return item.due, "tracker"
        if self.from_incident and item.incident_date is not None:
            day_number = item.incident_date.toordinal() - _EPOCH_ORDINAL
        else:
            moment = item.created_at
            offset = None
            if moment.tzinfo is UTC:
                utc_day = moment.toordinal() - _EPOCH_ORDINAL
                offset = self._offsets.get(utc_day)
            if offset is None or offset == _CHANGES_TODAY:
                day_number = self.local_date(moment).toordinal() - _EPOCH_ORDINAL
            else:
                day_number = utc_day + (moment.hour * 60 + moment.minute + offset // 60) // 1440
        key = (day_number, item.priority, item.severity)
        found = self._slo_deadlines.get(key)
        if found is None:
            start = date.fromordinal(_EPOCH_ORDINAL + day_number)
            found = self._slo_deadlines[key] = self._slo_deadline(start, item)
        if found[0] is None and item.due is not None:
            return item.due, "tracker"
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
