"""Prometheus metrics that tell an operator how the daemon is doing without reading its logs.

Everything lives in a dedicated ``CollectorRegistry`` owned by a :class:`Metrics` object, never
in prometheus-client's global registry: two daemons in one test process (or one test after
another) never see each other's numbers. The daemon calls the typed methods below; the health
server exposes :meth:`Metrics.registry` on ``/metrics``.

Label values are kept to small, closed sets (tracker instance names, HTTP methods and status
codes, item states, severities, write kinds) so the number of series stays bounded.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Final

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    generate_latest,
)
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

NAMESPACE: Final = "pmsync"

CYCLE_BUCKETS: Final = (0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)
"""Cycle duration buckets, seconds: a quiet incremental pass up to a rate-limited full resync."""


class Metrics:
    """The daemon's metrics, in a registry of their own.

    Methods are safe to call from any thread (prometheus-client metrics are thread-safe; the
    replace-all gauges below take a lock so a scrape never sees half of an update).
    """

    def __init__(
        self, registry: CollectorRegistry | None = None, *, process_metrics: bool = True
    ) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        if process_metrics:
            ProcessCollector(registry=self.registry)
            PlatformCollector(registry=self.registry)
            GCCollector(registry=self.registry)
        reg = self.registry
        self.build_info = Info("build", "pmsync version.", namespace=NAMESPACE, registry=reg)
        self.cycle_duration = Histogram(
            "cycle_duration_seconds",
            "Wall time of one sync cycle, seconds.",
            namespace=NAMESPACE,
            buckets=CYCLE_BUCKETS,
            registry=reg,
        )
        self.cycles = Counter(
            "cycles",
            "Sync cycles finished, by outcome (success or failure).",
            ["outcome"],
            namespace=NAMESPACE,
            registry=reg,
        )
        self.requests = Counter(
            "tracker_requests",
            "HTTP requests sent to trackers, by tracker, method and status (or 'error').",
            ["tracker", "method", "status"],
            namespace=NAMESPACE,
            registry=reg,
        )
        self.rate_limit_remaining = Gauge(
            "rate_limit_remaining",
            "Requests left in the tracker's current rate-limit window, as last reported.",
            ["tracker"],
            namespace=NAMESPACE,
            registry=reg,
        )
        self.items = Gauge(
            "items",
            "Action items seen in the last full view, by state and severity.",
            ["state", "severity"],
            namespace=NAMESPACE,
            registry=reg,
        )
        self.overdue = Gauge(
            "items_overdue",
            "Open action items past their deadline, by severity.",
            ["severity"],
            namespace=NAMESPACE,
            registry=reg,
        )
        self.writes = Counter(
            "writes",
            "Writes applied to trackers, by kind (label, comment, reopen, report...).",
            ["kind"],
            namespace=NAMESPACE,
            registry=reg,
        )
        self.backlog = Gauge(
            "backlog_actions",
            "Planned actions left for later cycles by the write budget.",
            namespace=NAMESPACE,
            registry=reg,
        )
        self.errors = Counter(
            "errors",
            "Errors handled by the loop, by tracker and kind (transient, rate_limited...).",
            ["tracker", "kind"],
            namespace=NAMESPACE,
            registry=reg,
        )
        self.leader = Gauge(
            "leader",
            "1 while this replica holds the leader lease and may write, else 0.",
            namespace=NAMESPACE,
            registry=reg,
        )
        self.last_success = Gauge(
            "last_success_timestamp_seconds",
            "Unix time at which the last cycle finished successfully.",
            namespace=NAMESPACE,
            registry=reg,
        )
        self._lock = threading.Lock()
        self._item_keys: set[tuple[str, str]] = set()
        self._overdue_keys: set[str] = set()
        self._request_totals: dict[str, dict[tuple[str, int], int]] = {}

    def set_build_info(self, version: str) -> None:
        """Publish the running version as ``pmsync_build_info{version=...} 1``."""
        self.build_info.info({"version": version})

    def observe_cycle(self, seconds: float, *, success: bool = True) -> None:
        """Record one finished cycle and how long it took."""
        if seconds < 0:
            raise ValueError(f"cycle duration must be >= 0 s, got {seconds}")
        self.cycle_duration.observe(seconds)
        self.cycles.labels(outcome="success" if success else "failure").inc()

    def observe_request_totals(self, tracker: str, totals: Mapping[tuple[str, int], int]) -> None:
        """Bring the request counter up to a connector's running totals.

        Keys are (verb, status), status 0 meaning no answer came back (counted as 'error').
        Only the growth since the last call is added; a total that went down means the
        connector was rebuilt and counts again from zero.
        """
        with self._lock:
            seen = self._request_totals.setdefault(tracker, {})
            for (method, status), total in totals.items():
                before = seen.get((method, status), 0)
                seen[(method, status)] = total
                added = total - before if total >= before else total
                if added:
                    self.requests.labels(
                        tracker=tracker,
                        method=method.upper(),
                        status=str(status) if status else "error",
                    ).inc(added)

    def set_rate_limit_remaining(self, tracker: str, remaining: int) -> None:
        """Record what the tracker last said about the requests left in its window."""
        self.rate_limit_remaining.labels(tracker=tracker).set(remaining)

    def set_items(self, counts: Mapping[tuple[str, str], int]) -> None:
        """Replace the item counts; keys are (state, severity). Absent pairs drop to no series."""
        with self._lock:
            for state, severity in self._item_keys - set(counts):
                self.items.remove(state, severity)
            for (state, severity), count in counts.items():
                self.items.labels(state=state, severity=severity).set(count)
            self._item_keys = set(counts)

    def set_overdue(self, counts: Mapping[str, int]) -> None:
        """Replace the overdue counts by severity; absent severities drop to no series."""
        with self._lock:
            for severity in self._overdue_keys - set(counts):
                self.overdue.remove(severity)
            for severity, count in counts.items():
                self.overdue.labels(severity=severity).set(count)
            self._overdue_keys = set(counts)

    def count_write(self, kind: str, n: int = 1) -> None:
        """Count ``n`` writes of one kind that the tracker accepted."""
        if n < 0:
            raise ValueError(f"write count must be >= 0, got {n}")
        self.writes.labels(kind=kind).inc(n)

    def set_backlog(self, actions: int) -> None:
        """Record how many planned actions wait for a later cycle."""
        self.backlog.set(actions)

    def count_error(self, tracker: str, kind: str) -> None:
        """Count one handled error (``tracker`` may be 'none' for errors outside a tracker)."""
        self.errors.labels(tracker=tracker, kind=kind).inc()

    def set_leader(self, is_leader: bool) -> None:
        """Record whether this replica currently leads."""
        self.leader.set(1 if is_leader else 0)

    def mark_success(self, timestamp: float) -> None:
        """Record the Unix time of the last successful cycle."""
        self.last_success.set(timestamp)

    def render(self) -> bytes:
        """The registry in Prometheus text format (what ``/metrics`` serves by default)."""
        return generate_latest(self.registry)
