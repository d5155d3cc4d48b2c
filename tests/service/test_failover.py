"""Two real daemon replicas on one PostgreSQL schema: one leader, failover, no duplicate write."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from connectors.emulators.github import GitHubEmulator
from syncer.state import LeaderLease, StateStore
from tests.service.support import (
    LEASE_S,
    REPO,
    TOKEN,
    DaemonProcess,
    add_overdue,
    comment_pairs,
    policy_dict,
    seed_repo,
    start_daemon,
    wait_for,
    write_policy,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def emulator() -> Iterator[GitHubEmulator]:
    emu = GitHubEmulator(token=TOKEN)
    emu.start()
    seed_repo(emu)
    try:
        yield emu
    finally:
        emu.stop()


def holder(store: StateStore) -> str | None:
    """Who the lease row names, if its lease has not run out."""
    state = LeaderLease(store, holder_id="observer", lease_seconds=LEASE_S).state()
    if state is None or state.expires_at <= store.database_now():
        return None
    return state.holder


def role(proc: DaemonProcess) -> str:
    """The role /readyz reports ("role is leader" in its role check)."""
    _, body = proc.get("/readyz")
    detail = str(json.loads(body)["checks"]["role"]["detail"])
    return detail.removeprefix("role is ")


def metric(proc: DaemonProcess, name: str) -> float:
    """The sum of one series' samples on the replica's /metrics (0 when it has none)."""
    text = proc.get("/metrics")[1]
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    )


class TestFailover:
    """Exactly one replica writes; when it dies the other takes over and repeats nothing."""

    def test_the_standby_takes_over_a_killed_leader_without_duplicate_writes(
        self, emulator: GitHubEmulator, postgres_schema_url: str, tmp_path: Path
    ) -> None:
        """Leader A or B escalates, is SIGKILLed; the other escalates new items within 2 leases."""
        first = add_overdue(emulator, 4)
        policy = write_policy(tmp_path / "policy.yaml", policy_dict(emulator.base_url))
        store = StateStore.open(postgres_schema_url)
        replicas = {
            rid: start_daemon(policy, postgres_schema_url, tmp_path / f"{rid}.log", replica_id=rid)
            for rid in ("A", "B")
        }
        try:
            wait_for(lambda: holder(store) in replicas, 20, "a leader")
            leader_id = holder(store)
            assert leader_id is not None
            standby_id = next(r for r in replicas if r != leader_id)
            leader, standby = replicas[leader_id], replicas[standby_id]
            wait_for(lambda: len(comment_pairs(emulator, REPO, first)) == 4, 15, "escalations")
            # The comments are in before the cycle ends (its labels, then its metrics): wait
            # for the cycle's own record of its writes rather than race it.
            wait_for(
                lambda: metric(leader, "pmsync_writes_total") >= 8.0, 15, "the cycle's metrics"
            )
            wait_for(lambda: role(standby) == "standby", 10, "the standby's /readyz")
            assert role(leader) == "leader"
            assert standby.get("/readyz")[0] == 200
            # Only the leader ran cycles: the standby logged none and wrote nothing.
            assert "cycle finished" not in standby.log_text()
            assert "cycle finished" in leader.log_text()
            assert metric(standby, "pmsync_writes_total") == 0.0
            assert metric(standby, "pmsync_leader") == 0.0
            assert metric(leader, "pmsync_writes_total") >= 8.0  # 4 comments + 4 labels
            posts_before_kill = emulator.request_count("POST")

            leader.proc.send_signal(signal.SIGKILL)
            leader.proc.wait(5)
            killed = time.monotonic()
            taken = wait_for(lambda: holder(store) == standby_id, 4 * LEASE_S, "the takeover")
            took = time.monotonic() - killed
            print(f"takeover {took:.2f}s after SIGKILL (lease {LEASE_S}s)")
            assert took <= 2 * LEASE_S, f"takeover took {took:.1f}s (waited {taken:.1f}s)"

            later = add_overdue(emulator, 3)
            wait_for(lambda: len(comment_pairs(emulator, REPO, later)) == 3, 15, "new escalations")
            wait_for(lambda: role(standby) == "leader", 5, "the new leader's /readyz")
            pairs = comment_pairs(emulator, REPO, first + later)
            assert len(pairs) == 7
            assert set(pairs.values()) == {1}  # every (issue, marker) pair: exactly one comment
            assert emulator.request_count("POST") - posts_before_kill >= 3
            assert "became leader" in standby.log_text()
            standby.signal(signal.SIGTERM)
            assert standby.proc.wait(10) == 0
        finally:
            for proc in replicas.values():
                proc.stop()
            store.close()
