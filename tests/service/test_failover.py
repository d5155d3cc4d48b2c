"""Two real daemon replicas on one PostgreSQL schema: one leader, failover, no duplicate write."""

from __future__ import annotations

import signal
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
    TOKEN_ENV,
    DaemonProcess,
    add_overdue,
    comment_pairs,
    holder,
    policy_dict,
    role,
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


def metric(proc: DaemonProcess, name: str) -> float:
    """The sum of one series' samples on the replica's /metrics (0 when it has none)."""
    text = proc.get("/metrics")[1]
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    )


def escalated(emu: GitHubEmulator, numbers: list[int]) -> bool:
    """Every item has its comment and the label that records it: the change is complete."""
    return len(comment_pairs(emu, REPO, numbers)) == len(numbers) and all(
        "pmsync/overdue" in emu.labels_of(REPO, n) for n in numbers
    )


def requests_by(emu: GitHubEmulator, token: str) -> int:
    return sum(1 for r in emu.request_log() if r.credential == token)


TOKENS = {"A": "ghp_failover-replica-a-5d1f", "B": "ghp_failover-replica-b-93ce"}


class TestFailover:
    """Exactly one replica writes; when it dies the other takes over and repeats nothing.

    Every wait is on state (the lease row, the emulator, /readyz, /metrics), never on log
    lines: each replica has its own token, so the emulator's request log says who sent what.
    """

    def test_the_standby_takes_over_a_killed_leader_without_duplicate_writes(
        self, emulator: GitHubEmulator, postgres_schema_url: str, tmp_path: Path
    ) -> None:
        """Leader A or B escalates, is SIGKILLed; the other escalates new items within 2 leases."""
        first = add_overdue(emulator, 4)
        for token in TOKENS.values():
            emulator.add_token(token)
        policy = write_policy(tmp_path / "policy.yaml", policy_dict(emulator.base_url))
        store = StateStore.open(postgres_schema_url)
        replicas = {
            rid: start_daemon(
                policy,
                postgres_schema_url,
                tmp_path / f"{rid}.log",
                replica_id=rid,
                extra_env={TOKEN_ENV: TOKENS[rid]},
            )
            for rid in ("A", "B")
        }
        try:
            wait_for(lambda: holder(store) in replicas, 30, "a leader")
            leader_id = holder(store)
            assert leader_id is not None
            standby_id = next(r for r in replicas if r != leader_id)
            leader, standby = replicas[leader_id], replicas[standby_id]
            wait_for(lambda: escalated(emulator, first), 30, "escalations")
            # 1 label created + 4 comments + 4 labels, counted once the cycle is recorded.
            wait_for(lambda: metric(leader, "pmsync_writes_total") >= 9, 30, "the cycle's metrics")
            wait_for(lambda: role(standby) == "standby", 15, "the standby's /readyz")
            assert role(leader) == "leader"
            assert standby.get("/readyz")[0] == 200
            # Only the leader talked to the tracker: the standby sent no request at all.
            assert requests_by(emulator, TOKENS[standby_id]) == 0
            assert requests_by(emulator, TOKENS[leader_id]) > 0
            assert metric(standby, "pmsync_writes_total") == 0.0
            assert metric(standby, "pmsync_leader") == 0.0
            assert metric(leader, "pmsync_leader") == 1.0

            leader.proc.send_signal(signal.SIGKILL)
            leader.proc.wait(10)
            before = LeaderLease(store, holder_id="observer").state()
            assert before is not None
            assert (before.holder, before.fencing_token) == (leader_id, 1)
            wait_for(lambda: holder(store) == standby_id, 6 * LEASE_S, "the takeover")
            after = LeaderLease(store, holder_id="observer").state()
            assert after is not None
            assert after.fencing_token == 2
            assert before.renewed_at is not None
            assert after.acquired_at is not None
            # By the database's clock: the standby led within two leases of the last renewal.
            took = (after.acquired_at - before.renewed_at).total_seconds()
            print(f"takeover {took:.2f}s after the dead leader's last renewal (lease {LEASE_S}s)")
            assert LEASE_S <= took <= 2 * LEASE_S

            later = add_overdue(emulator, 3)
            wait_for(lambda: escalated(emulator, later), 30, "new escalations")
            wait_for(lambda: role(standby) == "leader", 15, "the new leader's /readyz")
            pairs = comment_pairs(emulator, REPO, first + later)
            assert len(pairs) == 7
            assert set(pairs.values()) == {1}  # every (issue, marker) pair: exactly one comment
            assert metric(standby, "pmsync_leader") == 1.0
            standby.signal(signal.SIGTERM)
            assert standby.proc.wait(15) == 0
        finally:
            for proc in replicas.values():
                proc.stop()
            store.close()
