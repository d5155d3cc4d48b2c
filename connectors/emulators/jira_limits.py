"""Rate limits and injected faults of the Jira emulator, on the emulator's clock.

Jira Cloud answers 429 for three independent reasons (burst, per-issue writes, hourly quota)
and says which in ``RateLimit-Reason``; a connector must react to each differently. This module
decides, for one request, whether the emulator answers normally, with a 429 (and which headers),
with a 5xx, or not at all (timeout, or commit-then-drop after applying a write). The
after-commit faults are the ones that make a client unsure whether its write happened: the
connection dropped, a gateway's 502, or an answer slower than the client's timeout, each sent
after the write was applied. A ``CommitGate`` holds the answer of one kind of write after it is
applied and says so, so a test can kill the client at exactly that moment without sleeping.
"""

from __future__ import annotations

import math
import random
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

PER_ISSUE_WINDOWS: tuple[tuple[float, int], ...] = ((2.0, 20), (30.0, 100))
NEAR_LIMIT_SHARE = 0.8


@dataclass
class JiraFaults:
    """Fault injection knobs; rates are probabilities in [0, 1] drawn from ``seed``.

    ``latency_s`` delays every answer (real time). ``error_5xx_rate`` answers 503 with a
    ``Retry-After``. ``rate_429_rate`` answers 429 with ``rate_429_reason`` and
    ``retry_after_s``. ``timeout_rate`` holds the request without applying it for
    ``timeout_hold_s`` seconds (or until the emulator stops) and then closes the connection.
    ``drop_after_commit_rate`` applies a write and closes the connection without answering;
    ``error_after_commit_rate`` applies it and answers 502 (a gateway that lost the answer);
    ``slow_after_commit_rate`` applies it and holds the answer ``timeout_hold_s`` seconds,
    longer than a client waits. ``only`` limits every fault to those ``(method, template)``
    pairs (template without the ``/rest/api/N`` prefix, e.g. ``("POST",
    "/issue/{issueIdOrKey}/comment")``); empty means every request.

    ``echo_credentials`` is a test fault, not Jira behaviour (Atlassian never echoes a token):
    every error answer (status >= 400) quotes its request's credentials, as a careless proxy
    might: the Authorization header, the token (Basic decoded to ``email:token`` and alone)
    and a URL carrying it, in ``errorMessages`` and ``errors``, and in the headers
    ``X-Echo-Authorization`` and ``Link``. It proves pmsync redacts what a tracker sends back.
    """

    latency_s: float = 0.0
    error_5xx_rate: float = 0.0
    rate_429_rate: float = 0.0
    rate_429_reason: str = "jira-burst-based"
    retry_after_s: int = 1
    timeout_rate: float = 0.0
    drop_after_commit_rate: float = 0.0
    error_after_commit_rate: float = 0.0
    slow_after_commit_rate: float = 0.0
    seed: int = 0
    timeout_hold_s: float = 30.0
    only: frozenset[tuple[str, str]] = frozenset()
    echo_credentials: bool = False
    _rng: random.Random = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def roll(self, rate: float) -> bool:
        """True with probability ``rate`` (never draws when the rate is 0 or 1)."""
        if rate <= 0:
            return False
        if rate >= 1:
            return True
        return self._rng.random() < rate

    def applies(self, method: str, template: str) -> bool:
        """Whether faults are injected on this route (``only`` empty: on every route)."""
        return not self.only or (method, template) in self.only


@dataclass
class CommitGate:
    """Holds the answer of each matching write after the emulator applied it.

    ``committed`` is set once such a write is applied (the state already has it); the answer
    waits until ``release`` is set (or ``hold_s`` passes), then the connection is closed
    without a status line. A test kills its client between the two.
    """

    method: str
    template: str
    hold_s: float = 60.0
    committed: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    count: int = 0

    def matches(self, method: str, template: str) -> bool:
        return (method, template) == (self.method, self.template)


@dataclass(frozen=True)
class Throttle:
    """A 429 decision: seconds to wait and the reason Jira names."""

    retry_after: int
    reason: str
    reset_at: datetime


def top_of_next_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


def fmt_reset(moment: datetime) -> str:
    """``X-RateLimit-Reset`` format: ``yyyy-MM-ddTHH:mmZ``."""
    return moment.strftime("%Y-%m-%dT%H:%MZ")


@dataclass
class WriteLimiter:
    """Per-issue write windows (20 writes / 2 s, 100 / 30 s) and the tenant hourly quota."""

    quota_until: datetime | None = None
    _writes: dict[str, deque[datetime]] = field(default_factory=dict)

    def reset(self) -> None:
        self._writes.clear()
        self.quota_until = None

    def check_quota(self, now: datetime) -> Throttle | None:
        if self.quota_until is None:
            return None
        if now >= self.quota_until:
            self.quota_until = None
            return None
        wait = max(1, math.ceil((self.quota_until - now).total_seconds()))
        return Throttle(wait, "jira-quota-tenant-based", self.quota_until)

    def check_issue(self, issue_id: str, now: datetime) -> Throttle | None:
        """A 429 if one more write on ``issue_id`` would exceed a window, else None."""
        stamps = self._writes.get(issue_id)
        if not stamps:
            return None
        longest = max(w for w, _ in PER_ISSUE_WINDOWS)
        while stamps and (now - stamps[0]).total_seconds() >= longest:
            stamps.popleft()
        for window, limit in PER_ISSUE_WINDOWS:
            recent = [s for s in stamps if (now - s).total_seconds() < window]
            if len(recent) >= limit:
                free_at = recent[-limit] + timedelta(seconds=window)
                wait = max(1, math.ceil((free_at - now).total_seconds()))
                return Throttle(wait, "jira-per-issue-on-write", free_at)
        return None

    def near_limit(self, issue_id: str, now: datetime) -> bool:
        stamps = self._writes.get(issue_id) or deque()
        return any(
            sum(1 for s in stamps if (now - s).total_seconds() < window) >= NEAR_LIMIT_SHARE * limit
            for window, limit in PER_ISSUE_WINDOWS
        )

    def record(self, issue_id: str, now: datetime) -> None:
        self._writes.setdefault(issue_id, deque()).append(now)
