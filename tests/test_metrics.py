"""Tests for service.metrics: typed updates land in an isolated registry with the right labels."""

from __future__ import annotations

import math
from importlib import metadata

import pytest
from prometheus_client import REGISTRY

from syncer.core.version import package_version
from syncer.service.metric_families import FollowThrough, ItemKey, OverdueKey
from syncer.service.metrics import Metrics


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
    """Item and overdue gauges are replaced tracker by tracker on each update."""

    def test_item_counts_replace_the_previous_set_of_the_same_tracker(self) -> None:
        """A series of a replaced tracker missing from the new counts disappears."""
        metrics = Metrics(process_metrics=False)
        open_p1 = ItemKey("github", "open", "on_track", "P1", "SEV-1")
        closed = ItemKey("github", "closed", "closed_accepted", "P2", "SEV-2")
        overdue = ItemKey("github", "open", "overdue", "P0", "SEV-3")
        metrics.set_items({open_p1: 3, closed: 7}, ["github"])
        metrics.set_items({open_p1: 2, overdue: 1}, ["github"])
        assert value(metrics, "pmsync_items", **open_p1._asdict()) == 2.0
        assert value(metrics, "pmsync_items", **overdue._asdict()) == 1.0
        assert value(metrics, "pmsync_items", **closed._asdict()) is None

    def test_another_trackers_series_are_kept(self) -> None:
        """Replacing github's view leaves jira's last view (whose fetch failed) in place."""
        metrics = Metrics(process_metrics=False)
        jira = ItemKey("jira", "open", "on_track", "P1", "SEV-2")
        github = ItemKey("github", "open", "on_track", "P1", "SEV-2")
        metrics.set_items({jira: 4, github: 1}, ["github", "jira"])
        metrics.set_items({}, ["github"])
        assert value(metrics, "pmsync_items", **jira._asdict()) == 4.0
        assert value(metrics, "pmsync_items", **github._asdict()) is None

    def test_overdue_counts_carry_priority_and_tier(self) -> None:
        """Overdue by tracker, priority, severity and tier works the same way."""
        metrics = Metrics(process_metrics=False)
        p0 = OverdueKey("github", "P0", "SEV-1", "executive")
        p1 = OverdueKey("github", "P1", "SEV-2", "owner")
        metrics.set_overdue({p0: 1, p1: 4}, ["github"])
        metrics.set_overdue({p1: 0}, ["github"])
        assert value(metrics, "pmsync_items_overdue", **p0._asdict()) is None
        assert value(metrics, "pmsync_items_overdue", **p1._asdict()) == 0.0

    def test_clearing_drops_every_item_series(self) -> None:
        """A replica that stops leading exports no item or overdue series at all."""
        metrics = Metrics(process_metrics=False)
        metrics.set_items({ItemKey("jira", "open", "overdue", "P0", "SEV-1"): 1}, ["jira"])
        metrics.set_overdue({OverdueKey("jira", "P0", "SEV-1", "owner"): 1}, ["jira"])
        metrics.clear_items()
        names = {s.name for family in metrics.registry.collect() for s in family.samples}
        assert "pmsync_items" not in names
        assert "pmsync_items_overdue" not in names

    def test_follow_through_figures_are_set_and_unknown_ones_read_nan(self) -> None:
        """Known figures are published as given; None becomes NaN, not a stale number."""
        metrics = Metrics(process_metrics=False)
        metrics.set_follow_through(FollowThrough(0.75, 86_400.0, None, 0.5, 172_800.0))
        assert value(metrics, "pmsync_on_time_completion_ratio") == 0.75
        assert value(metrics, "pmsync_open_age_median_seconds") == 86_400.0
        assert math.isnan(value(metrics, "pmsync_open_single_owner_ratio") or 0.0)
        assert value(metrics, "pmsync_closure_evidence_ratio") == 0.5
        assert value(metrics, "pmsync_time_to_close_median_seconds") == 172_800.0


class TestPolicyAndReload:
    """The policy in force, reload outcomes and the interval are their own series."""

    def test_build_info_carries_the_package_version_not_the_policys(self) -> None:
        """A fresh registry already says which pmsync runs, from the installed package."""
        metrics = Metrics(process_metrics=False)
        version = metadata.version("postmortem-sync")
        assert value(metrics, "pmsync_build_info", version=version) == 1.0
        assert package_version() == version

    def test_the_policy_version_and_load_time_are_published(self) -> None:
        """pmsync_policy_info carries the policy's version; the load time is a gauge."""
        metrics = Metrics(process_metrics=False)
        metrics.set_policy("2026-11-23.1", 1_800_000_000.0)
        assert value(metrics, "pmsync_policy_info", version="2026-11-23.1") == 1.0
        assert value(metrics, "pmsync_policy_loaded_timestamp_seconds") == 1_800_000_000.0
        metrics.set_policy("2026-11-24.1", 1_800_000_100.0)
        assert value(metrics, "pmsync_policy_info", version="2026-11-23.1") is None
        assert value(metrics, "pmsync_policy_info", version="2026-11-24.1") == 1.0

    def test_reloads_are_counted_and_a_failure_holds_the_flag_until_a_success(self) -> None:
        """Failure, failure, success: counters 2 and 1; the flag goes 1 then back to 0."""
        metrics = Metrics(process_metrics=False)
        assert value(metrics, "pmsync_policy_reload_failed") == 0.0
        metrics.count_reload(success=False)
        metrics.count_reload(success=False)
        assert value(metrics, "pmsync_policy_reload_failed") == 1.0
        metrics.count_reload(success=True)
        assert value(metrics, "pmsync_policy_reloads_total", outcome="failure") == 2.0
        assert value(metrics, "pmsync_policy_reloads_total", outcome="success") == 1.0
        assert value(metrics, "pmsync_policy_reload_failed") == 0.0

    def test_added_trackers_start_the_alerted_series_at_zero(self) -> None:
        """Write-failure and rate-limit series exist at 0 before the first error."""
        metrics = Metrics(process_metrics=False)
        metrics.add_trackers(["github"])
        metrics.set_cycle_interval(900.0)
        for kind in ("write_transient", "write_permanent", "rate_limited", "fetch"):
            assert value(metrics, "pmsync_errors_total", tracker="github", kind=kind) == 0.0
        assert (
            value(metrics, "pmsync_rate_limit_wait_until_timestamp_seconds", tracker="github")
            == 0.0
        )
        assert value(metrics, "pmsync_policy_reloads_total", outcome="failure") == 0.0
        assert value(metrics, "pmsync_cycle_interval_seconds") == 900.0


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

    def test_render_produces_prometheus_text(self) -> None:
        """The rendered text has HELP and TYPE lines and the sample."""
        metrics = Metrics(process_metrics=False)
        metrics.set_backlog(5)
        text = metrics.render().decode()
        assert "# TYPE pmsync_backlog_actions gauge" in text
        assert "pmsync_backlog_actions 5.0" in text.splitlines()
