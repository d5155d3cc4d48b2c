"""Field types shared by the policy file and the incident record.

A timezone or a weekday is checked the same way, with the same hint, wherever a person
writes one.
"""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown timezone {value!r}; use an IANA name such as Europe/Berlin"
        ) from None
    return value


def check_weekday(value: str) -> str:
    day = value.lower()[:3]
    if day not in WEEKDAYS:
        raise ValueError(f"weekday is one of {', '.join(WEEKDAYS)}; got {value!r}")
    return day


TimezoneName = Annotated[str, AfterValidator(check_timezone)]
"""An IANA timezone name such as Europe/Berlin."""

Weekday = Annotated[str, AfterValidator(check_weekday)]
"""mon ... sun (any case; longer names are cut to three letters)."""
