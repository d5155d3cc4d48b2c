"""A leader keeps its lease through a long cycle of paced writes (the fence renews it).

The lease used to be renewed only between jobs, so a cycle of 50 writes paced 1 s apart
(50 s) outlived the default 30 s lease and the leader fenced itself off mid-cycle. Here the
daemon runs on one injected clock (emulator, connectors, pacing sleep and lease): real
pacing code, the default lease and margin, 50 s of emulator time in a fraction of a second.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from connectors.emulators.github import GitHubEmulator
from syncer.service.daemon import Daemon
from syncer.service.settings import Settings
from tests.service.support import (
    REPO,
    TOKEN,
    TOKEN_ENV,
    add_overdue,
    comment_pairs,
    policy_dict,
    seed_repo,
    write_policy,
)

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class Clock:
    """One clock for everything; sleeping moves it."""

    def __init__(self) -> None:
        self.now = START
        self.slept = 0.0

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept += seconds
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def emulator(clock: Clock) -> Iterator[GitHubEmulator]:
    emu = GitHubEmulator(token=TOKEN, clock=clock)
    emu.start()
    seed_repo(emu)
    emu.add_label(REPO, "pmsync/overdue")  # 25 items x (comment + label) = the whole budget
    try:
        yield emu
    finally:
        emu.stop()


class TestAFullBudgetCycle:
    """One replica, the default 30 s lease, 50 writes paced 1 s apart."""

    def test_the_leader_never_loses_its_lease_during_a_50_second_cycle(
        self,
        emulator: GitHubEmulator,
        clock: Clock,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """All 50 writes land in one cycle, nothing is fenced, the epoch stays 1 and the
        lease was renewed during the cycle (its expiry is 30 s after the last writes)."""
        monkeypatch.setenv(TOKEN_ENV, TOKEN)
        numbers = add_overdue(emulator, 25)
        data = policy_dict(emulator.base_url)
        data["daemon"] = {"interval": "15m"}  # default lease (30s) and safety margin (17s)
        data["trackers"]["github"][0]["seconds_between_writes"] = 1
        data["trackers"]["github"][0]["request_timeout_s"] = 15
        daemon = Daemon(
            write_policy(tmp_path / "policy.yaml", data),
            Settings(health_port=0, replica_id="solo"),
            clock=clock,
            state_url=f"sqlite:///{tmp_path / 'state.db'}",
            lease_clock=clock,
            sleep=clock.sleep,
        )
        assert daemon.lease.lease_seconds == 30
        assert daemon.write_fence.margin_seconds == 17
        try:
            with capture_logs() as logs:
                daemon.renew_lease()  # takes the lease, then runs its first (full) cycle
            state = daemon.lease.state()
        finally:
            daemon.store.close()
        writes = [r for r in emulator.request_log() if r.method != "GET"]
        assert len(writes) == 50
        assert set(comment_pairs(emulator, REPO, numbers).values()) == {1}
        assert len(comment_pairs(emulator, REPO, numbers)) == 25
        assert clock.slept >= 49  # the pacing really spanned more than a lease and a half
        assert (writes[-1].at - writes[0].at).total_seconds() >= 49
        assert daemon.leader
        assert state is not None
        assert (state.holder, state.fencing_token) == ("solo", 1)
        assert state.renewed_at is not None
        assert state.renewed_at >= START + timedelta(seconds=40)  # renewed mid-cycle
        events = [e["event"] for e in logs]
        assert "leadership lost; writes stop" not in events
        assert "write refused: lease lost or too close to expiry" not in events
        assert "lost leadership" not in events
