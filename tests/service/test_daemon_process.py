"""``pmsync daemon`` as a real process: probes, metrics, signals and policy reloads."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from connectors.emulators.github import Faults, GitHubEmulator
from syncer.core.version import package_version
from tests.service.support import (
    REPO,
    DaemonProcess,
    add_overdue,
    comment_pairs,
    policy_dict,
    seed_repo,
    start_daemon,
    wait_for,
    write_policy,
)

FAMILIES = {
    "pmsync_cycle_duration_seconds",
    "pmsync_tracker_requests",
    "pmsync_rate_limit_remaining",
    "pmsync_items",
    "pmsync_items_overdue",
    "pmsync_writes",
    "pmsync_backlog_actions",
    "pmsync_errors",
    "pmsync_leader",
}


@pytest.fixture
def emulator() -> Iterator[GitHubEmulator]:
    emu = GitHubEmulator(token="ghp_service-test-token-7d1e")
    emu.start()
    seed_repo(emu)
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def daemon(emulator: GitHubEmulator, tmp_path: Path) -> Iterator[tuple[DaemonProcess, Path]]:
    numbers = add_overdue(emulator, 3)
    assert numbers == [1, 2, 3]
    policy = write_policy(tmp_path / "policy.yaml", policy_dict(emulator.base_url))
    proc = start_daemon(policy, f"sqlite:///{tmp_path / 'state.db'}", tmp_path / "daemon.log")
    try:
        yield proc, policy
    finally:
        proc.stop()


def ready(proc: DaemonProcess) -> bool:
    return proc.get("/readyz")[0] == 200


def metric(proc: DaemonProcess, name: str, **labels: str) -> float | None:
    """One sample of the live scrape, by name and exact labels (None when absent)."""
    _, text = proc.get("/metrics")
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    return None


class TestProbesAndMetrics:
    """The health port answers as the issue describes once the first cycle is done."""

    def test_probes_turn_ready_and_metrics_parse_after_the_first_cycle(
        self, daemon: tuple[DaemonProcess, Path], emulator: GitHubEmulator
    ) -> None:
        """/healthz is 200, /readyz 200 after a cycle, /metrics holds every family."""
        proc, _ = daemon
        wait_for(lambda: proc.get("/healthz")[0] == 200, 15, "/healthz")
        wait_for(lambda: ready(proc), 30, "/readyz 200")
        status, body = proc.get("/readyz")
        assert status == 200
        assert "leader" in body
        wait_for(lambda: len(comment_pairs(emulator, REPO, [1, 2, 3])) == 3, 30, "escalations")
        # The metrics are recorded when the cycle ends, after its last write: wait for them.
        wait_for(
            lambda: metric(proc, "pmsync_writes_total", kind="comment") == 3.0,
            30,
            "the cycle's write metrics",
        )
        _, text = proc.get("/metrics")
        families = {f.name: f for f in text_string_to_metric_families(text)}
        assert set(families) >= FAMILIES
        leader = [s.value for s in families["pmsync_leader"].samples]
        assert leader == [1.0]
        overdue = {
            (s.labels["tracker"], s.labels["priority"], s.labels["severity"], s.labels["tier"]): (
                s.value
            )
            for s in families["pmsync_items_overdue"].samples
            if s.value
        }
        assert overdue == {("github", "P1", "SEV-2", "pmsync-overdue"): 3.0}  # the tier id
        assert [s.labels["version"] for s in families["pmsync_build_info"].samples] == [
            package_version()
        ]
        assert [s.labels["version"] for s in families["pmsync_policy_info"].samples] == ["svc-1"]
        written = {
            s.labels["kind"]: s.value
            for s in families["pmsync_writes"].samples
            if s.name == "pmsync_writes_total"
        }
        assert written == {"comment": 3.0, "add_labels": 3.0, "create_labels": 1.0}
        # The connector's own traffic reaches the scrape: every request the emulator
        # answered (it counts too), and the quota left as its last answer said.
        sent = sum(
            s.value
            for s in families["pmsync_tracker_requests"].samples
            if s.name == "pmsync_tracker_requests_total" and s.labels["tracker"] == "github"
        )
        assert 0 < sent <= sum(emulator.counters.values())
        remaining = [s.value for s in families["pmsync_rate_limit_remaining"].samples]
        assert len(remaining) == 1
        assert 0 < remaining[0] < 5000


class TestSignals:
    """SIGTERM stops the process cleanly; SIGHUP reloads the policy or keeps the old one."""

    def test_sigterm_during_or_after_a_cycle_exits_zero_within_ten_seconds(
        self, daemon: tuple[DaemonProcess, Path], emulator: GitHubEmulator
    ) -> None:
        """A SIGTERM while writes are under way ends the process with 0 in under 10 s."""
        proc, _ = daemon
        emulator.faults = Faults(latency_s=0.05)  # a cycle of ~40 writes now takes seconds
        add_overdue(emulator, 20)
        wait_for(lambda: emulator.request_count("POST") > 0, 30, "the first write")
        sent = time.monotonic()
        proc.signal(signal.SIGTERM)
        code = proc.proc.wait(10)
        assert code == 0
        assert time.monotonic() - sent < 10
        assert "daemon stopped" in proc.log_text()

    def test_sighup_with_an_invalid_policy_keeps_the_old_one_running(
        self, daemon: tuple[DaemonProcess, Path], emulator: GitHubEmulator
    ) -> None:
        """A broken file is refused with a log line; the process stays up and ready."""
        proc, policy = daemon
        wait_for(lambda: ready(proc), 30, "/readyz 200")
        policy.write_text("version: broken\ndaemon: {interval: not-a-span}\n", encoding="utf-8")
        proc.signal(signal.SIGHUP)
        # Wait on state (the flag on /metrics); the log line is written before it is set.
        wait_for(lambda: metric(proc, "pmsync_policy_reload_failed") == 1.0, 30, "the flag")
        assert proc.proc.poll() is None
        assert proc.get("/healthz")[0] == 200
        line = next(x for x in proc.log_text().splitlines() if "policy reload failed" in x)
        assert "svc-1" in line  # the version still in force
        assert metric(proc, "pmsync_policy_reloads_total", outcome="failure") == 1.0
        assert metric(proc, "pmsync_policy_info", version="svc-1") == 1.0
        status, body = proc.get("/readyz")
        assert status == 200
        answer = json.loads(body)
        assert answer["status"] == "degraded"
        assert answer["warnings"] == ["policy_reload"]
        assert "policy svc-1 is still in force" in answer["checks"]["policy_reload"]["detail"]
        assert "daemon.interval" in answer["checks"]["policy_reload"]["detail"]
        proc.signal(signal.SIGTERM)
        assert proc.proc.wait(10) == 0

    def test_sighup_with_a_valid_changed_policy_logs_the_new_version(
        self, daemon: tuple[DaemonProcess, Path], emulator: GitHubEmulator
    ) -> None:
        """A valid new file is loaded and its version logged."""
        proc, policy = daemon
        wait_for(lambda: ready(proc), 30, "/readyz 200")
        write_policy(policy, policy_dict(emulator.base_url, version="svc-2"))
        proc.signal(signal.SIGHUP)
        # Wait on state (the version /metrics publishes); the log line comes just after it.
        wait_for(lambda: metric(proc, "pmsync_policy_info", version="svc-2") == 1.0, 30, "v2")
        wait_for(lambda: "policy reloaded" in proc.log_text(), 30, "the reload's log line")
        line = next(x for x in proc.log_text().splitlines() if "policy reloaded" in x)
        assert "svc-2" in line
        assert metric(proc, "pmsync_policy_reloads_total", outcome="success") == 1.0
        assert metric(proc, "pmsync_policy_reload_failed") == 0.0
        proc.signal(signal.SIGTERM)
        assert proc.proc.wait(10) == 0
