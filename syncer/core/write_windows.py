"""Sliding windows of writes per tracker host, shared by every process that writes there.

GitHub limits content creation per account, not per process: at most 80 content-creating
requests a minute and 500 an hour. Counted in one process's memory, the limit is forgotten by
every new process: a cron running ``run --once`` each minute, or two replicas handing over,
start from zero each time. So a write is *reserved* in the state store first, in one
transaction that counts the host's earlier writes within each window and records the new one
only when every window has room; every process and every replica sharing the store sees it.

A reservation counts whether or not the request then succeeds: a request whose answer was
lost may well have created the content, and counting it errs on the side of the limit.

``decide`` is the pure rule; ``MemoryWriteWindows`` applies it in memory (tests, a process
without a state store) and ``StateStore.reserve_write`` in the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol


@dataclass(frozen=True)
class WindowLimit:
    """At most ``most`` writes in any ``span``; ``name`` says which limit in messages."""

    name: str
    span: timedelta
    most: int


@dataclass(frozen=True)
class Reservation:
    """The answer to one reservation: granted, or which window is full and until when."""

    granted: bool
    limit: WindowLimit | None = None
    retry_at: datetime | None = None


GRANTED = Reservation(granted=True)


def decide(stamps: Sequence[datetime], now: datetime, limits: Sequence[WindowLimit]) -> Reservation:
    """Whether one more write at ``now`` fits in every window, given earlier writes' times.

    Windows are looked at longest first, so a full hour is reported rather than a full minute
    inside it: the caller waits out a minute but stops for an hour. ``retry_at`` is when the
    window next has room (the oldest write that keeps it full leaves it).
    """
    ordered = sorted(stamps)
    for limit in sorted(limits, key=lambda lim: lim.span, reverse=True):
        inside = [t for t in ordered if now - limit.span < t <= now]
        if len(inside) >= limit.most:
            return Reservation(False, limit, inside[len(inside) - limit.most] + limit.span)
    return GRANTED


class WriteWindows(Protocol):
    """Where reservations live: the state store, or memory."""

    def reserve_write(self, host: str, now: datetime, limits: Sequence[WindowLimit]) -> Reservation:
        """Record one write for ``host`` at ``now`` if every window has room; say which
        window is full otherwise (and record nothing)."""
        ...


class MemoryWriteWindows:
    """Reservations in this process only, for tests and callers without a state store."""

    def __init__(self) -> None:
        self._stamps: dict[str, list[datetime]] = {}

    def reserve_write(self, host: str, now: datetime, limits: Sequence[WindowLimit]) -> Reservation:
        longest = max((lim.span for lim in limits), default=timedelta(0))
        stamps = [t for t in self._stamps.get(host, []) if t > now - longest]
        verdict = decide(stamps, now, limits)
        if verdict.granted:
            stamps.append(now)
        self._stamps[host] = stamps
        return verdict
