"""What the daemon's probes answer: the state the loop writes and the checks computed from it.

The loop writes into a thread-safe :class:`HealthState`; the health server
(:mod:`syncer.service.health`), on a thread of its own, only reads it through
:meth:`~HealthState.liveness` and :meth:`~HealthState.readiness`, so a slow scrape can never stall a
cycle. Kept apart from the HTTP code so the rules for "alive" and "ready" are read, and tested,
without a socket. Time comes from an injected clock, so tests decide what "recent" means without
sleeping.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final

Clock = Callable[[], float]
"""Returns the current Unix time in seconds (``time.time`` in production)."""


class Role(StrEnum):
    """Where this replica stands in the leader election."""

    STARTING = "starting"
    LEADER = "leader"
    STANDBY = "standby"
    STOPPING = "stopping"


READY_ROLES: Final = frozenset({Role.LEADER, Role.STANDBY})


def at_in_words(timestamp: float) -> str:
    """A Unix time as an operator reads it: ``2026-11-23 10:42:00 UTC``."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def span_in_words(seconds: float) -> str:
    """A duration in words, to the minute past a minute: ``17 minutes``, ``1 hour 5 minutes``."""
    seconds = max(round(seconds), 0)
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = round(seconds / 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{hours} hour{'s' if hours != 1 else ''}"] if hours else []
    if minutes or not hours:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    return " ".join(parts)


def wait_in_words(until: float, now: float) -> str:
    """When a wait ends, absolute and relative: ``2026-11-23 10:42:00 UTC (in 17 minutes)``."""
    left = until - now
    relative = f"in {span_in_words(left)}" if left > 0 else "now"
    return f"{at_in_words(until)} ({relative})"


@dataclass(frozen=True)
class Check:
    """One named check of a probe, with what it found; ``warn`` flags a passing concern."""

    name: str
    ok: bool
    detail: str
    warn: bool = False


@dataclass(frozen=True)
class RateLimitWait:
    """A tracker left alone until its rate limit resets (``until``: Unix time)."""

    until: float
    reason: str
    known_reset: bool
    """True when the tracker said when it resets; False when this is the backoff's guess."""


@dataclass(frozen=True)
class ReloadFailure:
    """A policy reload that failed: when, and the problems found (file, line, key, fix)."""

    at: float
    problems: tuple[str, ...]


@dataclass(frozen=True)
class ProbeResult:
    """A probe's verdict and every check that went into it."""

    checks: tuple[Check, ...]
    ok: bool = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ok", all(check.ok for check in self.checks))

    @property
    def failed(self) -> list[str]:
        """Names of the checks that did not pass."""
        return [check.name for check in self.checks if not check.ok]

    @property
    def warnings(self) -> list[str]:
        """Names of the checks that passed with a concern."""
        return [check.name for check in self.checks if check.ok and check.warn]

    def to_json(self) -> dict[str, Any]:
        """The body served by the probe endpoints."""
        status = "fail" if not self.ok else "degraded" if self.warnings else "ok"
        return {
            "status": status,
            "failed": self.failed,
            "warnings": self.warnings,
            "checks": {
                c.name: {"ok": c.ok, "detail": c.detail, **({"warn": True} if c.warn else {})}
                for c in self.checks
            },
        }


class HealthState:
    """What the loop tells the probes; every method is thread-safe.

    ``heartbeat_timeout_s`` is how long the loop may go without calling :meth:`heartbeat`
    before ``/healthz`` fails; by default three intervals, and never less than 5 minutes,
    so that one slow cycle (rate-limit waits, a first sync) does not get the process killed.
    The loop should beat between jobs and while it waits.
    """

    def __init__(
        self,
        *,
        interval_s: float,
        clock: Clock = time.time,
        heartbeat_timeout_s: float | None = None,
    ) -> None:
        if interval_s <= 0:
            raise ValueError(f"interval_s must be > 0 s, got {interval_s}")
        self._clock = clock
        self._lock = threading.Lock()
        self._interval_s = float(interval_s)
        self._heartbeat_timeout_s = heartbeat_timeout_s
        self._started_at = clock()
        self._last_heartbeat_at: float | None = None
        self._policy_loaded = False
        self._policy_version: str | None = None
        self._policy_loaded_at: float | None = None
        self._reload_failure: ReloadFailure | None = None
        self._waits: dict[str, RateLimitWait] = {}
        self._last_success_at: float | None = None
        self._role = Role.STARTING

    @property
    def policy_loaded(self) -> bool:
        """Whether a valid policy is in force."""
        with self._lock:
            return self._policy_loaded

    @policy_loaded.setter
    def policy_loaded(self, value: bool) -> None:
        with self._lock:
            self._policy_loaded = value

    def policy_in_force(self, version: str) -> None:
        """A policy (first or reloaded) is in force from now; clears a failed reload."""
        now = self._clock()
        with self._lock:
            self._policy_loaded = True
            self._policy_version = version
            self._policy_loaded_at = now
            self._reload_failure = None

    def reload_failed(self, problems: Sequence[str]) -> None:
        """A reload failed now; the policy in force stays (and readiness says so)."""
        now = self._clock()
        with self._lock:
            self._reload_failure = ReloadFailure(now, tuple(problems))

    @property
    def reload_failure(self) -> ReloadFailure | None:
        """The failed reload not yet followed by a good one, if any."""
        with self._lock:
            return self._reload_failure

    def rate_limit_wait(self, tracker: str, wait: RateLimitWait | None) -> None:
        """Record that ``tracker`` waits for its rate limit (``None``: it no longer does)."""
        with self._lock:
            if wait is None:
                self._waits.pop(tracker, None)
            else:
                self._waits[tracker] = wait

    @property
    def last_success_at(self) -> float | None:
        """Unix time at which the last cycle succeeded, if any did."""
        with self._lock:
            return self._last_success_at

    @last_success_at.setter
    def last_success_at(self, value: float | None) -> None:
        with self._lock:
            self._last_success_at = value

    @property
    def interval_s(self) -> float:
        """The configured cycle interval, seconds."""
        with self._lock:
            return self._interval_s

    @interval_s.setter
    def interval_s(self, value: float) -> None:
        if value <= 0:
            raise ValueError(f"interval_s must be > 0 s, got {value}")
        with self._lock:
            self._interval_s = float(value)

    @property
    def role(self) -> Role:
        """This replica's role in the leader election."""
        with self._lock:
            return self._role

    @role.setter
    def role(self, value: Role) -> None:
        with self._lock:
            self._role = Role(value)

    def heartbeat(self) -> None:
        """Tell the liveness probe the loop is still turning."""
        now = self._clock()
        with self._lock:
            self._last_heartbeat_at = now

    def record_success(self) -> None:
        """A cycle finished successfully now (also counts as a heartbeat)."""
        now = self._clock()
        with self._lock:
            self._last_success_at = now
            self._last_heartbeat_at = now

    def liveness(self) -> ProbeResult:
        """Alive while the loop has beaten (or started) within the heartbeat timeout."""
        now = self._clock()
        with self._lock:
            timeout = self._heartbeat_timeout_s
            if timeout is None:
                timeout = max(3 * self._interval_s, 300.0)
            last = self._last_heartbeat_at
            since = self._started_at if last is None else last
        age = now - since
        what = "since start, no heartbeat yet" if last is None else "since last heartbeat"
        return ProbeResult(
            checks=(
                Check(
                    "heartbeat",
                    age <= timeout,
                    f"{age:.0f}s {what}, limit {timeout:.0f}s",
                ),
            )
        )

    def readiness(self) -> ProbeResult:
        """Ready when the policy is loaded, a cycle succeeded within two intervals, role known.

        A failed reload and rate-limit waits are reported as passing checks with a warning:
        the replica still does its job with the policy it has.
        """
        now = self._clock()
        with self._lock:
            policy_loaded = self._policy_loaded
            version, loaded_at = self._policy_version, self._policy_loaded_at
            failure = self._reload_failure
            waits = dict(self._waits)
            last_success = self._last_success_at
            limit = 2 * self._interval_s
            role = self._role
        if last_success is None:
            recent = Check("recent_success", False, "no cycle has succeeded yet")
        else:
            age = now - last_success
            recent = Check(
                "recent_success",
                age <= limit,
                f"last success {age:.0f}s ago, limit {limit:.0f}s",
            )
        if not policy_loaded:
            loaded = "no valid policy loaded"
        elif version is None or loaded_at is None:
            loaded = "policy loaded"
        else:
            loaded = f"policy {version} in force since {at_in_words(loaded_at)}"
        return ProbeResult(
            checks=(
                Check("policy_loaded", policy_loaded, loaded),
                recent,
                Check(
                    "role",
                    role in READY_ROLES,
                    f"role is {role.value}",
                ),
                _reload_check(failure, version),
                _rate_limit_check(waits, now),
            )
        )


def _reload_check(failure: ReloadFailure | None, version: str | None) -> Check:
    if failure is None:
        return Check("policy_reload", True, "no failed reload")
    shown = "; ".join(failure.problems[:3])
    more = f" (and {len(failure.problems) - 3} more)" if len(failure.problems) > 3 else ""
    keeps = f"policy {version}" if version else "the previous policy"
    return Check(
        "policy_reload",
        True,
        f"the reload at {at_in_words(failure.at)} failed and {keeps} is still in force: "
        f"{shown}{more}",
        warn=True,
    )


def _rate_limit_check(waits: dict[str, RateLimitWait], now: float) -> Check:
    current = {name: wait for name, wait in waits.items() if wait.until > now}
    if not current:
        return Check("rate_limits", True, "no tracker is waiting for a rate limit")
    parts = []
    for name in sorted(current):
        wait = current[name]
        what = f"{wait.reason} rate limit" if wait.reason else "rate limit"
        how = "resets" if wait.known_reset else "is retried"
        parts.append(f"{name}: {what} exhausted; {how} at {wait_in_words(wait.until, now)}")
    return Check("rate_limits", True, "; ".join(parts), warn=True)
