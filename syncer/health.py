"""The daemon's small HTTP port: liveness, readiness and Prometheus metrics.

Orchestrators need to know two different things. ``/healthz`` answers "is the process alive
and its loop still turning?" (restart it if not); ``/readyz`` answers "is it doing its job?"
(policy loaded, a cycle succeeded recently, a known role in the leader election). ``/metrics``
serves the :class:`~syncer.metrics.Metrics` registry.

``/readyz`` also says, without failing, what an operator should know: a policy reload that
failed (the old policy is still enforced, which is the safe state: see ``deploy/README.md``)
and trackers waiting for a rate limit to reset, with the time in words. Such checks pass with
a warning; the body's ``status`` is then ``degraded`` and ``warnings`` names them.

The loop writes into a thread-safe :class:`HealthState`; the server, on a daemon thread of its
own, only reads it, so a slow scrape can never stall a cycle. Time comes from an injected
clock so tests decide what "recent" means without sleeping.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Final

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder

from syncer.logging_setup import get_logger

Clock = Callable[[], float]
"""Returns the current Unix time in seconds (``time.time`` in production)."""

DEFAULT_PORT: Final = 9464
"""Default port of the health and metrics server."""

log = get_logger(__name__)


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


class _Handler(BaseHTTPRequestHandler):
    """Serves the three endpoints; anything else is 404."""

    server: _Server
    timeout: ClassVar[float] = 10.0  # a stalled client cannot hold a thread for long
    server_version = "pmsync-health"
    sys_version = ""

    def do_GET(self) -> None:
        """Answer a probe or a scrape."""
        self._respond(include_body=True)

    def do_HEAD(self) -> None:
        """Same status and headers as GET, no body."""
        self._respond(include_body=False)

    def _respond(self, *, include_body: bool) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/healthz":
            self._probe(self.server.state.liveness(), include_body)
        elif path == "/readyz":
            self._probe(self.server.state.readiness(), include_body)
        elif path == "/metrics":
            encoder, content_type = choose_encoder(self.headers.get("Accept", ""))
            self._send(HTTPStatus.OK, content_type, encoder(self.server.registry), include_body)
        else:
            body = json.dumps({"error": "not found", "path": path}).encode()
            self._send(HTTPStatus.NOT_FOUND, "application/json", body, include_body)

    def _probe(self, result: ProbeResult, include_body: bool) -> None:
        status = HTTPStatus.OK if result.ok else HTTPStatus.SERVICE_UNAVAILABLE
        body = json.dumps(result.to_json()).encode()
        self._send(status, "application/json", body, include_body)

    def _send(self, status: HTTPStatus, content_type: str, body: bytes, include_body: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if include_body:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Route access lines to the structured log at debug level, not raw stderr."""
        log.debug("health request", client=self.client_address[0], line=format % args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Restarting the daemon must not wait for TIME_WAIT on the old socket.
    allow_reuse_address = True

    def __init__(
        self, address: tuple[str, int], state: HealthState, registry: CollectorRegistry
    ) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)
        self.state = state
        self.registry = registry


class HealthServer:
    """The health and metrics HTTP server, on a daemon thread of its own.

    ``port=0`` lets the OS pick a free port (tests); :attr:`port` tells which one it chose.
    """

    def __init__(
        self,
        state: HealthState,
        registry: CollectorRegistry,
        *,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
    ) -> None:
        self._state = state
        self._registry = registry
        self._host = host
        self._requested_port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The port actually bound (after :meth:`start`)."""
        if self._server is None:
            raise RuntimeError("health server is not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """Base URL of the running server, e.g. http://127.0.0.1:9464."""
        host = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(self._host, self._host)
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    def start(self) -> None:
        """Bind and start serving in the background; raises OSError if the port is taken."""
        if self._server is not None:
            raise RuntimeError("health server already started")
        self._server = _Server((self._host, self._requested_port), self._state, self._registry)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="pmsync-health",
            daemon=True,
        )
        self._thread.start()
        log.info("health server listening", host=self._host, port=self.port)

    def stop(self) -> None:
        """Stop serving and release the port; safe to call twice."""
        server, thread = self._server, self._thread
        self._server, self._thread = None, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> HealthServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
