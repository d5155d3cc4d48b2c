"""The leader lease elects exactly one writing replica and hands over when the leader dies."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from syncer.state import LeaderLease, StateStore
from tests.state.conftest import FakeClock

LEASE = 30.0
REPO = Path(__file__).resolve().parents[2]


def lease_for(store: StateStore, holder: str, clock: FakeClock) -> LeaderLease:
    """A lease handle for ``holder`` on the shared fake clock."""
    return LeaderLease(store, name="pmsync", holder_id=holder, lease_seconds=LEASE, clock=clock)


class TestElection:
    def test_of_two_holders_exactly_one_leads(self, store: StateStore, clock: FakeClock) -> None:
        """The first to ask leads; the second is told no and does not lead."""
        a, b = lease_for(store, "a", clock), lease_for(store, "b", clock)
        assert (a.try_acquire_or_renew(), b.try_acquire_or_renew()) == (True, False)
        assert (a.is_leader(), b.is_leader()) == (True, False)
        assert (a.fencing_token, b.fencing_token) == (1, None)

    def test_neither_leads_before_asking(self, store: StateStore, clock: FakeClock) -> None:
        """A handle that never acquired is not the leader, and no row exists yet."""
        a = lease_for(store, "a", clock)
        assert (a.is_leader(), a.state()) == (False, None)

    def test_renewing_keeps_the_epoch_and_pushes_the_expiry(
        self, store: StateStore, clock: FakeClock
    ) -> None:
        """A leader that renews in time stays leader in the same epoch for as long as it renews."""
        a, b = lease_for(store, "a", clock), lease_for(store, "b", clock)
        a.try_acquire_or_renew()
        acquired = clock.now
        for _ in range(10):
            clock.advance(a.renew_interval)
            assert a.try_acquire_or_renew()
            assert not b.try_acquire_or_renew()
        state = a.state()
        assert state is not None
        assert (state.holder, state.fencing_token, state.acquired_at) == ("a", 1, acquired)
        assert state.expires_at == clock.now + timedelta(seconds=LEASE)

    def test_a_lease_names_one_group_of_replicas(self, store: StateStore, clock: FakeClock) -> None:
        """Two deployments sharing a database elect their leaders separately."""
        prod = LeaderLease(store, name="prod", holder_id="a", lease_seconds=LEASE, clock=clock)
        staging = LeaderLease(
            store, name="staging", holder_id="b", lease_seconds=LEASE, clock=clock
        )
        assert (prod.try_acquire_or_renew(), staging.try_acquire_or_renew()) == (True, True)


class TestFailover:
    def test_the_standby_takes_over_only_once_the_lease_has_expired(
        self, store: StateStore, clock: FakeClock
    ) -> None:
        """Before expiry the standby is refused; at expiry it leads in a new epoch."""
        a, b = lease_for(store, "a", clock), lease_for(store, "b", clock)
        a.try_acquire_or_renew()
        clock.advance(LEASE - 0.001)
        assert not b.try_acquire_or_renew()
        clock.advance(0.001)
        assert b.try_acquire_or_renew()
        assert (b.fencing_token, b.is_leader()) == (2, True)

    def test_a_standby_polling_every_renew_interval_takes_over_within_two_lease_periods(
        self, store: StateStore, clock: FakeClock
    ) -> None:
        """The leader stops renewing; the polling standby leads before two leases have passed."""
        a, b = lease_for(store, "a", clock), lease_for(store, "b", clock)
        a.try_acquire_or_renew()
        last_renewal = clock.now
        clock.advance(b.renew_interval / 2)  # the standby polls out of phase with the leader
        while not b.try_acquire_or_renew():
            clock.advance(b.renew_interval)
        took_over_after = (clock.now - last_renewal).total_seconds()
        assert LEASE <= took_over_after <= 2 * LEASE
        assert took_over_after <= LEASE + b.renew_interval

    def test_a_leader_whose_lease_was_taken_is_fenced_off(
        self, store: StateStore, clock: FakeClock
    ) -> None:
        """After a pause longer than its lease, the old leader's is_leader() is False."""
        a, b = lease_for(store, "a", clock), lease_for(store, "b", clock)
        a.try_acquire_or_renew()
        clock.advance(LEASE + 1)
        b.try_acquire_or_renew()
        assert (a.is_leader(), b.is_leader()) == (False, True)
        assert not a.try_acquire_or_renew()
        assert a.fencing_token is None

    def test_a_leader_that_missed_its_renewal_stops_leading_even_if_nobody_took_over(
        self, store: StateStore, clock: FakeClock
    ) -> None:
        """Expiry alone ends leadership: no write after the lease ran out."""
        a = lease_for(store, "a", clock)
        a.try_acquire_or_renew()
        clock.advance(LEASE)
        assert not a.is_leader()
        assert a.try_acquire_or_renew()
        assert (a.is_leader(), a.fencing_token) == (True, 1)

    def test_every_change_of_holder_increments_the_fencing_token(
        self, store: StateStore, clock: FakeClock
    ) -> None:
        """a, b, a again: epochs 1, 2, 3."""
        a, b = lease_for(store, "a", clock), lease_for(store, "b", clock)
        tokens = []
        for holder in (a, b, a):
            clock.advance(LEASE)
            assert holder.try_acquire_or_renew()
            tokens.append(holder.fencing_token)
        assert tokens == [1, 2, 3]

    def test_releasing_lets_the_standby_take_over_at_once(
        self, store: StateStore, clock: FakeClock
    ) -> None:
        """A clean shutdown hands over without waiting for expiry."""
        a, b = lease_for(store, "a", clock), lease_for(store, "b", clock)
        a.try_acquire_or_renew()
        a.release()
        assert (a.is_leader(), a.fencing_token) == (False, None)
        assert b.try_acquire_or_renew()
        assert b.fencing_token == 2

    def test_a_release_by_a_fenced_off_leader_does_not_free_the_new_leaders_lease(
        self, store: StateStore, clock: FakeClock
    ) -> None:
        """Releasing what is no longer ours changes nothing."""
        a, b = lease_for(store, "a", clock), lease_for(store, "b", clock)
        a.try_acquire_or_renew()
        clock.advance(LEASE)
        b.try_acquire_or_renew()
        a.release()
        state = b.state()
        assert state is not None
        assert (state.holder, b.is_leader()) == ("b", True)


class TestClocks:
    def test_the_default_clock_is_the_databases(self, store: StateStore) -> None:
        """Without an injected clock, expiry is the database's now plus the lease."""
        a = LeaderLease(store, holder_id="a", lease_seconds=LEASE)
        before = store.database_now()
        assert a.try_acquire_or_renew()
        after = store.database_now()
        state = a.state()
        assert state is not None
        assert state.renewed_at is not None
        assert before <= state.renewed_at <= after
        assert state.expires_at == state.renewed_at + timedelta(seconds=LEASE)
        assert a.is_leader()

    def test_a_naive_clock_is_refused(self, store: StateStore) -> None:
        """A clock without a zone would compare wrongly across replicas."""
        a = LeaderLease(store, holder_id="a", clock=lambda: datetime(2026, 11, 23, 9, 0))
        with pytest.raises(ValueError, match="naive"):
            a.try_acquire_or_renew()

    def test_a_lease_must_last_some_time(self, store: StateStore) -> None:
        """A zero lease is a configuration mistake."""
        with pytest.raises(ValueError, match="positive"):
            LeaderLease(store, lease_seconds=0)

    def test_default_holder_ids_differ_between_handles(self, store: StateStore) -> None:
        """Two replicas on one host never share an id by default."""
        assert LeaderLease(store).holder_id != LeaderLease(store).holder_id


def _start(url: str, holder: str, lease: float, lead_for: float) -> subprocess.Popen[str]:
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.state.lease_worker",
            url,
            holder,
            str(lease),
            str(lead_for),
            "15",
        ],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert worker.stdout is not None
    assert worker.stdout.readline().strip() == "ready"
    return worker


class TestRealProcesses:
    def test_two_processes_never_lead_at_once_and_the_survivor_takes_over(
        self, store_url: str
    ) -> None:
        """Two replicas contend on the database clock (about 3 s of real time, by necessity)."""
        lease, lead_for = 0.6, 1.0
        StateStore.open(store_url).close()  # migrate once, so both start at the same moment
        workers = [_start(store_url, holder, lease, lead_for) for holder in ("p1", "p2")]
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        claims: list[dict[str, Any]] = []
        for worker in workers:
            out, _ = worker.communicate(timeout=30)
            assert worker.returncode == 0
            claims += [json.loads(line) for line in out.splitlines()]
        leads = sorted(
            (c for c in claims if "token" in c), key=lambda c: (c["renewed_at"], c["holder"])
        )
        holders_in_order = [c["holder"] for c in leads]
        first, second = holders_in_order[0], holders_in_order[-1]
        assert {first, second} == {"p1", "p2"}
        assert holders_in_order == sorted(holders_in_order, key=[first, second].index)
        assert all(c["is_leader"] for c in leads)
        assert {(c["holder"], c["token"]) for c in leads} == {(first, 1), (second, 2)}
        first_leads = [c for c in leads if c["holder"] == first]
        second_leads = [c for c in leads if c["holder"] == second]
        first_end = datetime.fromisoformat(first_leads[-1]["expires_at"])
        second_start = datetime.fromisoformat(second_leads[0]["renewed_at"])
        last_renewal = datetime.fromisoformat(first_leads[-1]["renewed_at"])
        assert first_end <= second_start, "the two leaderships overlapped"
        assert (second_start - last_renewal).total_seconds() <= 2 * lease
        polls = {c["holder"]: c["polls"] for c in claims if c.get("done")}
        assert polls[second] > len(second_leads), "the standby was never refused: no contention"
