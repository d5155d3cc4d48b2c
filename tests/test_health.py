"""Tests for syncer.service.health: probe logic on a fake clock, and the real HTTP server."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from syncer.service.health import HealthServer
from syncer.service.health_state import (
    HealthState,
    RateLimitWait,
    Role,
    span_in_words,
    wait_in_words,
)
from syncer.service.metric_families import ItemKey
from syncer.service.metrics import Metrics

START = 1_800_000_000.0


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock at a fixed Unix time."""
    return FakeClock()


@pytest.fixture
def state(clock: FakeClock) -> HealthState:
    """Health state with a 5-minute cycle interval on the fake clock."""
    return HealthState(interval_s=300, clock=clock)


def make_ready(state: HealthState) -> None:
    """Put ``state`` in the condition of a healthy leader that just finished a cycle."""
    state.policy_loaded = True
    state.role = Role.LEADER
    state.record_success()


class TestLiveness:
    """/healthz fails only when the loop stops beating."""

    def test_a_fresh_process_is_alive_before_any_heartbeat(self, state: HealthState) -> None:
        """Start-up counts as the first beat."""
        result = state.liveness()
        assert result.ok
        assert result.checks[0].detail == "0s since start, no heartbeat yet, limit 900s"

    def test_a_stalled_loop_fails_after_three_intervals(
        self, state: HealthState, clock: FakeClock
    ) -> None:
        """Beats keep it alive; 901 s of silence with a 300 s interval does not."""
        clock.advance(800)
        state.heartbeat()
        clock.advance(900)
        assert state.liveness().ok
        clock.advance(1)
        result = state.liveness()
        assert not result.ok
        assert result.failed == ["heartbeat"]

    def test_a_short_interval_still_allows_five_minutes(self, clock: FakeClock) -> None:
        """With a 10 s interval the window is the 300 s floor, not 30 s."""
        state = HealthState(interval_s=10, clock=clock)
        clock.advance(299)
        assert state.liveness().ok
        clock.advance(2)
        assert not state.liveness().ok

    def test_an_explicit_heartbeat_timeout_wins(self, clock: FakeClock) -> None:
        """A configured timeout replaces the default window."""
        state = HealthState(interval_s=300, clock=clock, heartbeat_timeout_s=30)
        clock.advance(31)
        assert not state.liveness().ok


class TestReadiness:
    """/readyz needs a policy, a recent success and a known role."""

    def test_a_leader_that_just_succeeded_is_ready(self, state: HealthState) -> None:
        """All three checks pass."""
        make_ready(state)
        result = state.readiness()
        assert result.ok
        assert result.failed == []

    def test_nothing_is_ready_at_start(self, state: HealthState) -> None:
        """Every check fails before the loop has done anything, each saying why."""
        result = state.readiness()
        assert result.failed == ["policy_loaded", "recent_success", "role"]
        assert result.to_json()["checks"] == {
            "policy_loaded": {"ok": False, "detail": "no valid policy loaded"},
            "recent_success": {"ok": False, "detail": "no cycle has succeeded yet"},
            "role": {"ok": False, "detail": "role is starting"},
            "policy_reload": {"ok": True, "detail": "no failed reload"},
            "rate_limits": {"ok": True, "detail": "no tracker is waiting for a rate limit"},
        }

    def test_success_older_than_two_intervals_is_not_recent(
        self, state: HealthState, clock: FakeClock
    ) -> None:
        """600 s after the last success is fine with a 300 s interval, 601 s is not."""
        make_ready(state)
        clock.advance(600)
        assert state.readiness().ok
        clock.advance(1)
        result = state.readiness()
        assert result.failed == ["recent_success"]
        assert result.checks[1].detail == "last success 601s ago, limit 600s"

    def test_a_standby_is_ready_and_a_stopping_replica_is_not(self, state: HealthState) -> None:
        """Standby is a normal role; stopping takes the pod out of rotation."""
        make_ready(state)
        state.role = Role.STANDBY
        assert state.readiness().ok
        state.role = Role.STOPPING
        assert state.readiness().failed == ["role"]

    def test_changing_the_interval_moves_the_limit(
        self, state: HealthState, clock: FakeClock
    ) -> None:
        """A reloaded policy with a longer interval relaxes the check at once."""
        make_ready(state)
        clock.advance(1000)
        assert not state.readiness().ok
        state.interval_s = 600
        assert state.readiness().ok
        with pytest.raises(ValueError, match="interval_s"):
            state.interval_s = 0


class TestReloadAndRateLimitReporting:
    """A failed reload and a rate-limit wait keep the replica ready but are said in words."""

    def test_a_failed_reload_stays_ready_and_names_the_problems_and_the_policy_kept(
        self, state: HealthState, clock: FakeClock
    ) -> None:
        """200 with status degraded; the detail has the time, the version kept and the fix."""
        state.policy_in_force("2026-11-23.1")
        make_ready(state)
        clock.advance(120)
        state.reload_failed(["pmsync.yaml:12: daemon.interval: '15x' is not a duration (hint)"])
        result = state.readiness()
        assert result.ok
        assert result.warnings == ["policy_reload"]
        body = result.to_json()
        assert body["status"] == "degraded"
        assert body["checks"]["policy_loaded"]["detail"] == (
            "policy 2026-11-23.1 in force since 2027-01-15 08:00:00 UTC"
        )
        assert body["checks"]["policy_reload"] == {
            "ok": True,
            "warn": True,
            "detail": "the reload at 2027-01-15 08:02:00 UTC failed and policy 2026-11-23.1 is "
            "still in force: pmsync.yaml:12: daemon.interval: '15x' is not a duration (hint)",
        }

    def test_a_good_reload_clears_the_warning(self, state: HealthState) -> None:
        """The next policy in force removes the failed reload from the probe."""
        make_ready(state)
        state.reload_failed(["a", "b", "c", "d"])
        assert "(and 1 more)" in state.readiness().checks[3].detail
        state.policy_in_force("2")
        assert state.readiness().warnings == []
        assert state.reload_failure is None

    def test_a_rate_limit_wait_is_told_in_words_until_it_ends(
        self, state: HealthState, clock: FakeClock
    ) -> None:
        """'resets at <UTC time> (in 17 minutes)'; once that time passes the warning goes."""
        make_ready(state)
        state.rate_limit_wait("github", RateLimitWait(clock.now + 17 * 60, "primary", True))
        check = state.readiness().checks[4]
        assert check.warn
        assert check.detail == (
            "github: primary rate limit exhausted; resets at 2027-01-15 08:17:00 UTC "
            "(in 17 minutes)"
        )
        clock.advance(17 * 60)
        assert state.readiness().warnings == []

    def test_a_guessed_retry_time_is_not_called_a_reset(self, state: HealthState) -> None:
        """Without a reset time from the tracker the probe says when pmsync retries."""
        make_ready(state)
        state.rate_limit_wait("jira", RateLimitWait(START + 3600 + 300, "", False))
        assert state.readiness().checks[4].detail == (
            "jira: rate limit exhausted; is retried at 2027-01-15 09:05:00 UTC "
            "(in 1 hour 5 minutes)"
        )
        state.rate_limit_wait("jira", None)
        assert state.readiness().warnings == []

    @pytest.mark.parametrize(
        ("seconds", "words"),
        [
            (0, "0 seconds"),
            (1, "1 second"),
            (59, "59 seconds"),
            (60, "1 minute"),
            (17 * 60 + 20, "17 minutes"),
            (3600, "1 hour"),
            (2 * 3600 + 60, "2 hours 1 minute"),
        ],
    )
    def test_spans_read_as_words(self, seconds: float, words: str) -> None:
        """Seconds under a minute, then minutes, then hours and minutes."""
        assert span_in_words(seconds) == words

    def test_a_wait_already_over_says_now(self) -> None:
        """A reset in the past is 'now', never 'in -3 minutes'."""
        assert wait_in_words(START, START + 180) == "2027-01-15 08:00:00 UTC (now)"


@pytest.fixture
def metrics() -> Metrics:
    """Metrics with a few known values."""
    m = Metrics()
    m.observe_request_totals("github", {("GET", 200): 1})
    m.set_items({ItemKey("github", "open", "on_track", "P1", "SEV-1"): 3}, ["github"])
    m.set_leader(True)
    return m


@pytest.fixture
def server(state: HealthState, metrics: Metrics) -> Iterator[HealthServer]:
    """A running server on a port chosen by the OS."""
    with HealthServer(state, metrics.registry, host="127.0.0.1", port=0) as running:
        yield running


class TestHttpServer:
    """The endpoints answer real HTTP requests."""

    def test_healthz_answers_200_while_alive_and_503_when_stalled(
        self, server: HealthServer, clock: FakeClock
    ) -> None:
        """The status follows the heartbeat; the body names the failed check."""
        ok = requests.get(f"{server.url}/healthz", timeout=5)
        assert ok.status_code == 200
        assert ok.json()["status"] == "ok"
        clock.advance(10_000)
        stalled = requests.get(f"{server.url}/healthz", timeout=5)
        assert stalled.status_code == 503
        assert stalled.json()["failed"] == ["heartbeat"]

    def test_readyz_is_503_with_reasons_then_200_once_ready(
        self, server: HealthServer, state: HealthState
    ) -> None:
        """Before the first cycle the body lists every failed check; after it, 200."""
        before = requests.get(f"{server.url}/readyz", timeout=5)
        assert before.status_code == 503
        assert before.headers["Content-Type"] == "application/json"
        assert before.json()["failed"] == ["policy_loaded", "recent_success", "role"]
        make_ready(state)
        after = requests.get(f"{server.url}/readyz", timeout=5)
        assert after.status_code == 200
        assert after.json() == {
            "status": "ok",
            "failed": [],
            "warnings": [],
            "checks": {
                "policy_loaded": {"ok": True, "detail": "policy loaded"},
                "recent_success": {"ok": True, "detail": "last success 0s ago, limit 600s"},
                "role": {"ok": True, "detail": "role is leader"},
                "policy_reload": {"ok": True, "detail": "no failed reload"},
                "rate_limits": {"ok": True, "detail": "no tracker is waiting for a rate limit"},
            },
        }

    def test_metrics_parse_as_prometheus_text(self, server: HealthServer) -> None:
        """The scrape parses and carries the values set on the registry."""
        response = requests.get(f"{server.url}/metrics", timeout=5)
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        samples = {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples
        }
        request_labels = (("method", "GET"), ("status", "200"), ("tracker", "github"))
        assert samples[("pmsync_tracker_requests_total", request_labels)] == 1.0
        item_labels = (
            ("priority", "P1"),
            ("severity", "SEV-1"),
            ("state", "open"),
            ("status", "on_track"),
            ("tracker", "github"),
        )
        assert samples[("pmsync_items", item_labels)] == 3.0
        assert samples[("pmsync_leader", ())] == 1.0
        assert samples[("process_resident_memory_bytes", ())] > 0

    def test_metrics_offer_openmetrics_when_asked(self, server: HealthServer) -> None:
        """A scraper that accepts OpenMetrics gets it, ending with # EOF."""
        response = requests.get(
            f"{server.url}/metrics",
            headers={"Accept": "application/openmetrics-text; version=1.0.0"},
            timeout=5,
        )
        assert response.headers["Content-Type"].startswith("application/openmetrics-text")
        assert response.text.rstrip().endswith("# EOF")

    def test_unknown_paths_are_404_and_head_has_no_body(self, server: HealthServer) -> None:
        """Only the three endpoints exist; HEAD mirrors GET without a body."""
        missing = requests.get(f"{server.url}/admin", timeout=5)
        assert missing.status_code == 404
        assert missing.json() == {"error": "not found", "path": "/admin"}
        head = requests.head(f"{server.url}/healthz", timeout=5)
        assert head.status_code == 200
        assert head.content == b""
        assert int(head.headers["Content-Length"]) > 0

    def test_concurrent_scrapes_are_all_answered(self, server: HealthServer) -> None:
        """Twenty parallel requests each get a full, parseable answer."""

        def scrape(_: int) -> int:
            response = requests.get(f"{server.url}/metrics", timeout=5)
            families = list(text_string_to_metric_families(response.text))
            return len(families)

        with ThreadPoolExecutor(max_workers=8) as pool:
            counts = list(pool.map(scrape, range(20)))
        assert len(set(counts)) == 1
        assert counts[0] > 10

    def test_stop_releases_the_port(self, state: HealthState, metrics: Metrics) -> None:
        """After stop, the port can be bound again and requests are refused."""
        first = HealthServer(state, metrics.registry, port=0)
        first.start()
        port = first.port
        first.stop()
        first.stop()
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
        again = HealthServer(state, metrics.registry, port=port)
        again.start()
        try:
            assert requests.get(f"{again.url}/healthz", timeout=5).status_code == 200
        finally:
            again.stop()

    def test_an_ipv6_address_is_served_too(self, state: HealthState, metrics: Metrics) -> None:
        """Binding ::1 works where the machine has IPv6 loopback."""
        if not socket.has_ipv6:
            pytest.skip("this Python has no IPv6 support")
        server = HealthServer(state, metrics.registry, host="::1", port=0)
        try:
            server.start()
        except OSError as exc:
            pytest.skip(f"cannot bind ::1 here: {exc}")
        try:
            assert server.url == f"http://[::1]:{server.port}"
            assert requests.get(f"{server.url}/healthz", timeout=5).status_code == 200
        finally:
            server.stop()

    def test_port_is_unknown_before_start(self, state: HealthState, metrics: Metrics) -> None:
        """Asking for the port of a server that is not running is an error."""
        with pytest.raises(RuntimeError, match="not started"):
            _ = HealthServer(state, metrics.registry, port=0).port
