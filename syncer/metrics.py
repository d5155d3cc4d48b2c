"""Prometheus metrics that tell an operator how the daemon is doing without reading its logs.

Everything lives in a dedicated ``CollectorRegistry`` owned by a :class:`Metrics` object, never
in prometheus-client's global registry: two daemons in one test process (or one test after
another) never see each other's numbers. The daemon calls the typed methods below; the health
server exposes :meth:`Metrics.registry` on ``/metrics``.

Label values are kept to small, closed sets (tracker instance names, HTTP methods and status
codes, item states and statuses, priorities, severities, escalation tier ids, write kinds) so
the number of series stays bounded. The alerts in ``deploy/prometheus/pmsync-rules.yaml`` and
the dashboard in ``deploy/grafana/`` use these names; a test checks that every query they
make names a metric this registry exports. Label values pass the secret redactor on their way
out of every scrape (:class:`RedactingRegistry`): some come from configuration (tracker names,
the policy version), and a scrape is read by other systems than pmsync's logs.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Collection, Iterable, Iterator, Mapping
from typing import Final, NamedTuple, TypeVar

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    generate_latest,
)
from prometheus_client.gc_collector import GCCollector
from prometheus_client.metrics_core import Metric
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from syncer.redaction import redact
from syncer.version import package_version

NAMESPACE: Final = "pmsync"

ALERTED_ERROR_KINDS: Final = ("write_transient", "write_permanent", "rate_limited", "fetch")
"""Error kinds the shipped alerts watch; their series exist from the start at 0."""

CYCLE_BUCKETS: Final = (0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)
"""Cycle duration buckets, seconds: a quiet incremental pass up to a rate-limited full resync."""

WEBHOOK_LAG_BUCKETS: Final = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0)
"""Delivery-to-handled buckets, seconds: a targeted cycle within the 2 s goal up to a cycle
slowed by write pacing or a rate limit."""

WEBHOOK_OUTCOMES: Final = (
    "queued",
    "duplicate",
    "ignored",
    "unauthorized",
    "too_large",
    "malformed",
    "failed",
)
"""What becomes of a delivery; every series starts at 0 (``add_webhook_sources``)."""

_Key = TypeVar("_Key", bound=tuple[str, ...])


class ItemKey(NamedTuple):
    """The labels of one ``pmsync_items`` series."""

    tracker: str
    state: str
    status: str
    priority: str
    severity: str


class OverdueKey(NamedTuple):
    """The labels of one ``pmsync_items_overdue`` series."""

    tracker: str
    priority: str
    severity: str
    tier: str


class FollowThrough(NamedTuple):
    """The weekly review's key figures as of now; ``None`` where nothing can be said yet."""

    on_time_ratio: float | None
    open_age_median_seconds: float | None
    single_owner_ratio: float | None
    evidence_ratio: float | None
    time_to_close_median_seconds: float | None


class RedactingRegistry(CollectorRegistry):
    """A registry whose label values pass the secret redactor in every exposition."""

    def collect(self) -> Iterator[Metric]:
        for metric in super().collect():
            metric.samples = [
                sample._replace(labels={k: redact(v) for k, v in sample.labels.items()})
                for sample in metric.samples
            ]
            yield metric


class Metrics:
    """The daemon's metrics, in a registry of their own.

    Methods are safe to call from any thread (prometheus-client metrics are thread-safe; the
    replace-all gauges below take a lock so a scrape never sees half of an update).
    """

    def __init__(
        self, registry: CollectorRegistry | None = None, *, process_metrics: bool = True
    ) -> None:
        self.registry = registry if registry is not None else RedactingRegistry(auto_describe=True)
        if process_metrics:
            ProcessCollector(registry=self.registry)
            PlatformCollector(registry=self.registry)
            GCCollector(registry=self.registry)
        reg = self.registry
        self.build_info = Info(
            "build", "Version of the pmsync package running.", namespace=NAMESPACE, registry=reg
        )
        self.policy_info = Info(
            "policy",
            "Version of the policy in force (the policy file's `version`).",
            namespace=NAMESPACE,
            registry=reg,
        )
        self.policy_loaded_at = Gauge(
            "policy_loaded_timestamp_seconds",
            "Unix time at which the policy in force was loaded (start or last good reload).",
            namespace=NAMESPACE,
            registry=reg,
        )
        self.policy_reloads = Counter(
            "policy_reloads",
            "Policy reloads asked for by SIGHUP, by outcome (success or failure).",
            ["outcome"],
            namespace=NAMESPACE,
            registry=reg,
        )
        self.policy_reload_failed = Gauge(
            "policy_reload_failed",
            "1 while the last reload failed and the previous policy is still in force, else 0.",
            namespace=NAMESPACE,
            registry=reg,
        )
        self.cycle_interval = Gauge(
            "cycle_interval_seconds",
            "The configured interval between sync cycles (daemon.interval), seconds.",
            namespace=NAMESPACE,
            registry=reg,
        )
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
        self.rate_limit_wait_until = Gauge(
            "rate_limit_wait_until_timestamp_seconds",
            "Unix time until which pmsync leaves the tracker alone because its rate limit is "
            "exhausted (the reset time the tracker gave, else the backoff's retry time); "
            "0 when not waiting.",
            ["tracker"],
            namespace=NAMESPACE,
            registry=reg,
        )
        self.items = Gauge(
            "items",
            "Action items in each tracker's last full view, by state, status, priority and "
            "severity.",
            list(ItemKey._fields),
            namespace=NAMESPACE,
            registry=reg,
        )
        self.overdue = Gauge(
            "items_overdue",
            "Open action items past their deadline, by tracker, priority, severity and the "
            "escalation tier they are at ('none' below the first tier).",
            list(OverdueKey._fields),
            namespace=NAMESPACE,
            registry=reg,
        )
        self.on_time_ratio = Gauge(
            "on_time_completion_ratio",
            "Share of the actions closed as done in the last 28 days that closed by their "
            "deadline (the weekly review's on-time completion); NaN when none closed.",
            namespace=NAMESPACE,
            registry=reg,
        )
        self.open_age_median = Gauge(
            "open_age_median_seconds",
            "Median age of the open actions, from creation, seconds; NaN when none is open.",
            namespace=NAMESPACE,
            registry=reg,
        )
        self.single_owner_ratio = Gauge(
            "open_single_owner_ratio",
            "Share of the open actions with exactly one owner; NaN when none is open.",
            namespace=NAMESPACE,
            registry=reg,
        )
        self.evidence_ratio = Gauge(
            "closure_evidence_ratio",
            "Share of the closures as done in the last 28 days that carried measurable "
            "evidence; NaN when there were none.",
            namespace=NAMESPACE,
            registry=reg,
        )
        self.time_to_close_median = Gauge(
            "time_to_close_median_seconds",
            "Median time from creation to closure of the actions closed as done in the last "
            "28 days, seconds; NaN when none closed.",
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
        self.webhook_deliveries = Counter(
            "webhook_deliveries",
            "Webhook deliveries received by this replica, by source (github, jira) and outcome "
            "(queued, duplicate, ignored, unauthorized, too_large, malformed, failed).",
            ["source", "outcome"],
            namespace=NAMESPACE,
            registry=reg,
        )
        self.webhook_cycles = Counter(
            "webhook_cycles",
            "Cycles run for webhook deliveries, by tracker and read (targeted: the items "
            "one by one; poll: an incremental read, when many changed).",
            ["tracker", "read"],
            namespace=NAMESPACE,
            registry=reg,
        )
        self.webhook_lag = Histogram(
            "webhook_lag_seconds",
            "Time from a delivery's arrival to the end of the cycle that handled it, seconds.",
            namespace=NAMESPACE,
            buckets=WEBHOOK_LAG_BUCKETS,
            registry=reg,
        )
        self._lock = threading.Lock()
        self._item_keys: set[ItemKey] = set()
        self._overdue_keys: set[OverdueKey] = set()
        self._request_totals: dict[str, dict[tuple[str, int], int]] = {}
        self.set_build_info(package_version())
        self.set_follow_through(FollowThrough(None, None, None, None, None))

    def set_build_info(self, version: str) -> None:
        """Publish the package version as ``pmsync_build_info{version=...} 1``."""
        self.build_info.info({"version": version})

    def set_policy(self, version: str, loaded_at: float) -> None:
        """A policy came into force at Unix time ``loaded_at`` (start or a good reload)."""
        self.policy_info.info({"version": version})
        self.policy_loaded_at.set(loaded_at)

    def count_reload(self, *, success: bool) -> None:
        """Count one reload attempt; a failure holds ``pmsync_policy_reload_failed`` at 1."""
        self.policy_reloads.labels(outcome="success" if success else "failure").inc()
        self.policy_reload_failed.set(0 if success else 1)

    def set_cycle_interval(self, seconds: float) -> None:
        """Record the configured cycle interval (alerts measure staleness in intervals)."""
        self.cycle_interval.set(seconds)

    def add_trackers(self, trackers: Collection[str]) -> None:
        """Give each tracker its error and reload series at 0 before anything happens.

        A counter series that first appears at 1 shows no ``increase()`` in Prometheus, so
        an alert on the first write failure would never fire; starting every series the
        alerts read at 0 avoids that (Prometheus' "avoid missing metrics" advice).
        """
        for outcome in ("success", "failure"):
            self.policy_reloads.labels(outcome=outcome)
            self.cycles.labels(outcome=outcome)
        for tracker in trackers:
            for kind in ALERTED_ERROR_KINDS:
                self.errors.labels(tracker=tracker, kind=kind)
            self.rate_limit_wait_until.labels(tracker=tracker)

    def add_webhook_sources(self, sources: Collection[str]) -> None:
        """Start every delivery series of ``sources`` at 0 (an alert on refused deliveries
        then sees the first one)."""
        for source in sources:
            for outcome in WEBHOOK_OUTCOMES:
                self.webhook_deliveries.labels(source=source, outcome=outcome)

    def count_delivery(self, source: str, outcome: str) -> None:
        """Count one webhook delivery by what became of it."""
        self.webhook_deliveries.labels(source=source, outcome=outcome).inc()

    def observe_webhook_cycle(self, tracker: str, read: str) -> None:
        """One cycle for deliveries (``read``: targeted or poll)."""
        self.webhook_cycles.labels(tracker=tracker, read=read).inc()

    def observe_webhook_lags(self, lags: Iterable[float]) -> None:
        """Each handled delivery's time from arrival to the end of its cycle, seconds."""
        for lag in lags:
            self.webhook_lag.observe(max(lag, 0.0))

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

    def set_rate_limit_wait(self, tracker: str, until: float) -> None:
        """Record until when (Unix time) the tracker is left alone; 0 = not waiting."""
        self.rate_limit_wait_until.labels(tracker=tracker).set(until)

    def set_items(self, counts: Mapping[ItemKey, int], trackers: Collection[str]) -> None:
        """Replace the item counts of ``trackers``; their series absent from ``counts`` go.

        Other trackers' series are kept: a tracker whose fetch failed keeps its last view.
        """
        with self._lock:
            self._item_keys = self._replace(self.items, self._item_keys, counts, trackers)

    def set_overdue(self, counts: Mapping[OverdueKey, int], trackers: Collection[str]) -> None:
        """Replace the overdue counts of ``trackers``, the same way as :meth:`set_items`."""
        with self._lock:
            self._overdue_keys = self._replace(self.overdue, self._overdue_keys, counts, trackers)

    def clear_items(self) -> None:
        """Drop every item and overdue series (a replica that stops leading stops reporting)."""
        with self._lock:
            self._item_keys = self._replace(self.items, self._item_keys, {}, None)
            self._overdue_keys = self._replace(self.overdue, self._overdue_keys, {}, None)
        self.set_follow_through(FollowThrough(None, None, None, None, None))

    @staticmethod
    def _replace(
        gauge: Gauge, known: set[_Key], counts: Mapping[_Key, int], trackers: Collection[str] | None
    ) -> set[_Key]:
        """Set ``counts`` on ``gauge``; remove known series of ``trackers`` (all: None) not in it.

        Label tuples start with the tracker name. Returns the label tuples now exported.
        """
        kept = set(known)
        for key in known:
            if (trackers is None or key[0] in trackers) and key not in counts:
                gauge.remove(*key)
                kept.discard(key)
        for key, count in counts.items():
            gauge.labels(*key).set(count)
            kept.add(key)
        return kept

    def set_follow_through(self, figures: FollowThrough) -> None:
        """Publish the review's key figures; an unknown one reads NaN ("nothing to say")."""
        pairs = (
            (self.on_time_ratio, figures.on_time_ratio),
            (self.open_age_median, figures.open_age_median_seconds),
            (self.single_owner_ratio, figures.single_owner_ratio),
            (self.evidence_ratio, figures.evidence_ratio),
            (self.time_to_close_median, figures.time_to_close_median_seconds),
        )
        for gauge, value in pairs:
            gauge.set(math.nan if value is None else value)

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
