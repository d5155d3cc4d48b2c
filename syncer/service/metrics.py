"""Prometheus metrics that tell an operator how the daemon is doing without reading its logs.

Everything lives in a dedicated ``CollectorRegistry`` owned by a :class:`Metrics` object, never
in prometheus-client's global registry: two daemons in one test process (or one test after
another) never see each other's numbers. The daemon calls the typed methods below; the health
server exposes :meth:`Metrics.registry` on ``/metrics``.

Label values are kept to small, closed sets (tracker instance names, HTTP methods and status
codes, item states and statuses, priorities, severities, escalation tier ids, write kinds) so
the number of series stays bounded. The families themselves (names, help, labels, buckets) are
defined in :mod:`syncer.service.metric_families`; this module holds the methods that set them.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Collection, Iterable, Mapping
from typing import TypeVar

from prometheus_client import (
    CollectorRegistry,
    Gauge,
    generate_latest,
)

from syncer.core.version import package_version
from syncer.service.metric_families import (
    ALERTED_ERROR_KINDS,
    WEBHOOK_OUTCOMES,
    FollowThrough,
    ItemKey,
    MetricFamilies,
    OverdueKey,
)

_Key = TypeVar("_Key", bound=tuple[str, ...])


class Metrics(MetricFamilies):
    """The daemon's metrics, in a registry of their own.

    Methods are safe to call from any thread (prometheus-client metrics are thread-safe; the
    replace-all gauges below take a lock so a scrape never sees half of an update).
    """

    def __init__(
        self, registry: CollectorRegistry | None = None, *, process_metrics: bool = True
    ) -> None:
        super().__init__(registry, process_metrics=process_metrics)
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
