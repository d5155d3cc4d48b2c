"""Tests for syncer.metrics: typed updates land in an isolated registry with the right labels."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from syncer.metrics import Metrics


def value(metrics: Metrics, name: str, **labels: str) -> float | None:
    """The current sample value of ``name`` with exactly ``labels``, or None when absent."""
    return metrics.registry.get_sample_value(name, labels)


class TestIsolation:
    """Each Metrics object owns its registry."""

    def test_two_instances_do_not_share_numbers(self) -> None:
        """Counting on one instance leaves the other at no series."""
        first, second = Metrics(process_metrics=False), Metrics(process_metrics=False)
        first.count_write("comment")
        assert value(first, "pmsync_writes_total", kind="comment") == 1.0
        assert value(second, "pmsync_writes_total", kind="comment") is None

    def test_the_global_registry_is_left_alone(self) -> None:
        """Nothing named pmsync_* is registered in prometheus-client's default registry."""
        Metrics()
        names = {metric.name for metric in REGISTRY.collect()}
        assert not {name for name in names if name.startswith("pmsync")}

    def test_process_metrics_are_included_by_default(self) -> None:
        """The registry also carries the process collector's resident memory."""
        metrics = Metrics()
        assert (value(metrics, "process_resident_memory_bytes") or 0) > 0


class TestCycleAndRequests:
    """Cycle, request, rate-limit and error metrics record what the loop reports."""

    def test_observed_cycles_fill_the_histogram_and_the_outcome_counter(self) -> None:
        """Two cycles (one failed) give count 2, their sum, and one per outcome."""
        metrics = Metrics(process_metrics=False)
        metrics.observe_cycle(1.5)
        metrics.observe_cycle(40.0, success=False)
        assert value(metrics, "pmsync_cycle_duration_seconds_count") == 2.0
        assert value(metrics, "pmsync_cycle_duration_seconds_sum") == 41.5
        assert value(metrics, "pmsync_cycle_duration_seconds_bucket", le="2.5") == 1.0
        assert value(metrics, "pmsync_cycles_total", outcome="success") == 1.0
        assert value(metrics, "pmsync_cycles_total", outcome="failure") == 1.0

    def test_a_negative_duration_is_refused(self) -> None:
        """A clock going backwards is a bug to surface, not a sample."""
        with pytest.raises(ValueError, match="cycle duration"):
            Metrics(process_metrics=False).observe_cycle(-1.0)

    def test_running_totals_add_only_their_growth(self) -> None:
        """A connector's totals since start become increments, once each; verbs upper-cased."""
        metrics = Metrics(process_metrics=False)
        name = "pmsync_tracker_requests_total"
        metrics.observe_request_totals("github", {("GET", 200): 5, ("GET", 0): 1})
        metrics.observe_request_totals("github", {("GET", 200): 8, ("GET", 0): 1})
        assert value(metrics, name, tracker="github", method="GET", status="200") == 8.0
        assert value(metrics, name, tracker="github", method="GET", status="error") == 1.0
        # A rebuilt connector counts from zero again: its new total is all growth.
        metrics.observe_request_totals("github", {("GET", 200): 2})
        assert value(metrics, name, tracker="github", method="GET", status="200") == 10.0
        metrics.observe_request_totals("jira", {("post", 0): 1})
        assert value(metrics, name, tracker="jira", method="POST", status="error") == 1.0

    def test_rate_limit_remaining_keeps_the_last_report_per_tracker(self) -> None:
        """The gauge holds the latest value for each tracker."""
        metrics = Metrics(process_metrics=False)
        metrics.set_rate_limit_remaining("github", 4999)
        metrics.set_rate_limit_remaining("github", 120)
        metrics.set_rate_limit_remaining("jira", 80)
        assert value(metrics, "pmsync_rate_limit_remaining", tracker="github") == 120.0
        assert value(metrics, "pmsync_rate_limit_remaining", tracker="jira") == 80.0

    def test_errors_are_counted_by_tracker_and_kind(self) -> None:
        """Each handled error increments its own series."""
        metrics = Metrics(process_metrics=False)
        metrics.count_error("github", "rate_limited")
        metrics.count_error("github", "rate_limited")
        metrics.count_error("jira", "transient")
        assert value(metrics, "pmsync_errors_total", tracker="github", kind="rate_limited") == 2.0
        assert value(metrics, "pmsync_errors_total", tracker="jira", kind="transient") == 1.0


class TestItemGauges:
    """Item and overdue gauges are replaced as a whole on each update."""

    def test_item_counts_replace_the_previous_set(self) -> None:
        """A (state, severity) pair missing from the new counts disappears."""
        metrics = Metrics(process_metrics=False)
        metrics.set_items({("open", "sev1"): 3, ("closed", "sev2"): 7})
        metrics.set_items({("open", "sev1"): 2, ("open", "sev3"): 1})
        assert value(metrics, "pmsync_items", state="open", severity="sev1") == 2.0
        assert value(metrics, "pmsync_items", state="open", severity="sev3") == 1.0
        assert value(metrics, "pmsync_items", state="closed", severity="sev2") is None

    def test_overdue_counts_replace_the_previous_set(self) -> None:
        """Overdue by severity works the same way."""
        metrics = Metrics(process_metrics=False)
        metrics.set_overdue({"sev1": 1, "sev2": 4})
        metrics.set_overdue({"sev2": 0})
        assert value(metrics, "pmsync_items_overdue", severity="sev1") is None
        assert value(metrics, "pmsync_items_overdue", severity="sev2") == 0.0


class TestWritesAndState:
    """Writes, backlog, leadership, last success and build info."""

    def test_writes_add_up_by_kind(self) -> None:
        """Counts accumulate, and a negative count is refused."""
        metrics = Metrics(process_metrics=False)
        metrics.count_write("label", 3)
        metrics.count_write("label")
        metrics.count_write("comment")
        assert value(metrics, "pmsync_writes_total", kind="label") == 4.0
        assert value(metrics, "pmsync_writes_total", kind="comment") == 1.0
        with pytest.raises(ValueError, match="write count"):
            metrics.count_write("label", -1)

    def test_backlog_leader_and_last_success_hold_the_latest_values(self) -> None:
        """Gauges report what was last set."""
        metrics = Metrics(process_metrics=False)
        metrics.set_backlog(17)
        metrics.set_leader(True)
        metrics.mark_success(1_800_000_000.0)
        assert value(metrics, "pmsync_backlog_actions") == 17.0
        assert value(metrics, "pmsync_leader") == 1.0
        assert value(metrics, "pmsync_last_success_timestamp_seconds") == 1_800_000_000.0
        metrics.set_leader(False)
        assert value(metrics, "pmsync_leader") == 0.0

    def test_build_info_carries_the_version(self) -> None:
        """The info metric is 1 with the version as a label."""
        metrics = Metrics(process_metrics=False)
        metrics.set_build_info("0.1.0")
        assert value(metrics, "pmsync_build_info", version="0.1.0") == 1.0

    def test_render_produces_prometheus_text(self) -> None:
        """The rendered text has HELP and TYPE lines and the sample."""
        metrics = Metrics(process_metrics=False)
        metrics.set_backlog(5)
        text = metrics.render().decode()
        assert "# TYPE pmsync_backlog_actions gauge" in text
        assert "pmsync_backlog_actions 5.0" in text.splitlines()
