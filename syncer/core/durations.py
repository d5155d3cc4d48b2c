"""Durations as reliability leads write them: ``14d``, ``2w``, ``10bd``, ``36h``, ``15m``.

Business days (``bd``) are not a fixed number of hours, so a ``Span`` keeps its unit and the
deadline code decides how to add it to a date (with the configured weekdays and holidays).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

_SPAN_RE = re.compile(r"^\s*(\d+)\s*(bd|w|d|h|m|s)\s*$")
_UNIT_SECONDS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}
SPAN_HINT = "write a whole number and a unit: 14d, 2w, 10bd (business days), 36h, 15m"


@dataclass(frozen=True, slots=True)
class Span:
    """A whole number of ``unit`` (w, d, bd, h, m, s)."""

    amount: int
    unit: str

    @property
    def business(self) -> bool:
        return self.unit == "bd"

    @property
    def days(self) -> int:
        """Whole days (business or calendar); hours and minutes round down."""
        if self.unit == "bd":
            return self.amount
        return self.as_timedelta().days

    def as_timedelta(self) -> timedelta:
        """Calendar length; a business day counts as one calendar day here."""
        if self.unit == "bd":
            return timedelta(days=self.amount)
        return timedelta(seconds=self.amount * _UNIT_SECONDS[self.unit])

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"


def parse_span(value: Any) -> Span:
    """Parse ``14d`` and friends; a bare integer means days."""
    if isinstance(value, Span):
        return value
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}; {SPAN_HINT}")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"a duration cannot be negative; {SPAN_HINT}")
        return Span(value, "d")
    if isinstance(value, str):
        match = _SPAN_RE.match(value)
        if match:
            return Span(int(match.group(1)), match.group(2))
    raise ValueError(f"not a duration: {value!r}; {SPAN_HINT}")


SpanField = Annotated[Span, BeforeValidator(parse_span), PlainSerializer(str, return_type=str)]
