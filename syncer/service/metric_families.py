"""Every metric family pmsync exports: names, help texts, label sets and buckets, in one place.

The alerts in ``deploy/prometheus/pmsync-rules.yaml`` and the dashboard in ``deploy/grafana/``
query these names, and a test checks that every query names a metric this registry exports;
reading them here, apart from the code that sets values (:mod:`syncer.service.metrics`), is how one
checks a label set stays small and closed. Label values pass the secret redactor on their way
out of every scrape (:class:`RedactingRegistry`): some come from configuration (tracker names,
the policy version), and a scrape is read by other systems than pmsync's logs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final, NamedTuple

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
)
from prometheus_client.gc_collector import GCCollector
from prometheus_client.metrics_core import Metric
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from syncer.core.redaction import redact

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


class MetricFamilies:
    """The families, registered in a registry of their own (never prometheus-client's global
    one); :class:`~syncer.service.metrics.Metrics` adds the typed methods that set them."""

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
