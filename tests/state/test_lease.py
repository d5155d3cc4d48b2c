"""The leader lease elects exactly one writing replica and hands over when the leader dies."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from syncer.state import LeaderLease, LeaseFence, StateStore
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


class TestRenewalInTheMiddleOfACycle:
    """``renew`` extends our epoch's lease and never takes one; ``seconds_left`` reads it."""

    def test_seconds_left_counts_down_on_the_lease_clock(
        self, store: StateStore, clock: FakeClock
    ) -> None:
        """30 s after acquiring, 12 s later 18 s are left; negative once expired."""
        a = lease_for(store, "a", clock)
        assert a.seconds_left() is None
        a.try_acquire_or_renew()
        clock.advance(12)
        assert a.seconds_left() == LEASE - 12
        clock.advance(20)
        assert a.seconds_left() == -2

    def test_renew_pushes_the_expiry_a_full_lease_in_the_same_epoch(
        self, store: StateStore, clock: FakeClock
    ) -> None:
        """After renewing at 25 s, the lease runs until 55 s, still in epoch 1."""
        a = lease_for(store, "a", clock)
        a.try_acquire_or_renew()
        clock.advance(25)
        assert a.renew() == LEASE
        state = a.state()
        assert state is not None
        assert (state.fencing_token, state.expires_at) == (1, clock.now + timedelta(seconds=LEASE))

    def test_renew_never_takes_a_lease_it_lost(self, store: StateStore, clock: FakeClock) -> None:
        """Once a standby took over, renew says None and the handle stops leading."""
        a, b = lease_for(store, "a", clock), lease_for(store, "b", clock)
        a.try_acquire_or_renew()
        clock.advance(LEASE + 1)
        assert b.try_acquire_or_renew()
        assert a.renew() is None
        assert (a.fencing_token, a.is_leader()) == (None, False)
        state = b.state()
        assert state is not None
        assert (state.holder, state.fencing_token) == ("b", 2)

    def test_renew_after_a_release_does_not_take_the_free_lease(
        self, store: StateStore, clock: FakeClock
    ) -> None:
        """A released lease is free for anyone, but ``renew`` is not acquiring: None."""
        a = lease_for(store, "a", clock)
        a.try_acquire_or_renew()
        a.release()
        assert a.renew() is None
        state = a.state()
        assert state is not None
        assert state.holder is None

    def test_an_expired_lease_nobody_took_is_renewed_in_its_epoch(
        self, store: StateStore, clock: FakeClock
    ) -> None:
        """Nobody else led meanwhile, so renewing is safe and keeps epoch 1."""
        a = lease_for(store, "a", clock)
        a.try_acquire_or_renew()
        clock.advance(LEASE + 5)
        assert a.renew() == LEASE
        assert a.fencing_token == 1


class TestLeaseFence:
    """A write is allowed only with the safety margin left; the fence renews when due."""

    def test_a_fresh_lease_allows_writes_without_renewing(
        self, store: StateStore, clock: FakeClock
    ) -> None:
        """Within the first third of the lease the check is one read: renewed_at stays."""
        a = lease_for(store, "a", clock)
        a.try_acquire_or_renew()
        acquired = clock.now
        fence = LeaseFence(a, margin_seconds=17)
        clock.advance(a.renew_interval - 1)
        assert fence()
        state = a.state()
        assert state is not None
        assert state.renewed_at == acquired

    def test_the_fence_renews_once_a_third_of_the_lease_has_passed(
        self, store: StateStore, clock: FakeClock
    ) -> None:
        """At 10 s of a 30 s lease the fence renews: the lease then runs 30 s from now."""
        a = lease_for(store, "a", clock)
        a.try_acquire_or_renew()
        fence = LeaseFence(a, margin_seconds=17)
        clock.advance(a.renew_interval)
        assert fence()
        state = a.state()
        assert state is not None
        assert (state.renewed_at, state.fencing_token) == (clock.now, 1)

    def test_writes_spread_over_ten_leases_never_find_the_lease_lost(
        self, store: StateStore, clock: FakeClock
    ) -> None:
        """A write every second for 300 s (ten 30 s leases) is always allowed: the fence
        renews between writes, so a long cycle keeps its lease; a standby never gets it."""
        a, b = lease_for(store, "a", clock), lease_for(store, "b", clock)
        a.try_acquire_or_renew()
        fence = LeaseFence(a, margin_seconds=17)
        allowed = []
        for second in range(300):
            clock.advance(1)
            allowed.append(fence())
            if second % 5 == 0:
                assert not b.try_acquire_or_renew()
        assert all(allowed)
        assert a.fencing_token == 1

    def test_a_leader_frozen_past_its_lease_is_refused_after_the_takeover(
        self, store: StateStore, clock: FakeClock
    ) -> None:
        """A pause longer than the lease, a standby leads: the old leader's fence says no."""
        a, b = lease_for(store, "a", clock), lease_for(store, "b", clock)
        a.try_acquire_or_renew()
        fence = LeaseFence(a, margin_seconds=17)
        assert fence()
        clock.advance(LEASE + 1)  # frozen
        assert b.try_acquire_or_renew()
        assert not fence()
        assert a.fencing_token is None

    def test_less_than_the_margin_left_renews_or_refuses(
        self, store: StateStore, clock: FakeClock
    ) -> None:
        """A write needs the margin: short of it the fence renews; when it cannot, it refuses."""
        a = lease_for(store, "a", clock)
        a.try_acquire_or_renew()
        fence = LeaseFence(a, margin_seconds=29)
        clock.advance(2)  # 28 s left, less than 29, though no renewal is due by time
        assert fence()
        assert a.seconds_left() == LEASE

    def test_an_unreadable_database_means_no_write(self, store_url: str, clock: FakeClock) -> None:
        """When the lease cannot be read the fence refuses rather than guesses."""
        opened = StateStore.open(store_url)
        a = lease_for(opened, "a", clock)
        a.try_acquire_or_renew()
        fence = LeaseFence(a, margin_seconds=17)
        with opened.engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE leader_lease")
        assert not fence()
        opened.close()

    def test_a_margin_as_long_as_the_lease_is_refused(self, store: StateStore) -> None:
        """No write could ever pass: a configuration mistake, said at once."""
        with pytest.raises(ValueError, match="shorter than the lease"):
            LeaseFence(LeaderLease(store, lease_seconds=10), margin_seconds=10)


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
        """Two replicas contend on the database clock (a few seconds of real time).

        Only what holds whatever the scheduler does is asserted, so a busy machine cannot
        break it: leaderships of two epochs never overlap, each epoch has one holder, both
        processes led, and the standby was refused while the other led. How fast a standby
        takes over is a property of the polling, proved on a fake clock above.
        """
        lease, lead_for = 1.0, 1.5
        StateStore.open(store_url).close()  # migrate once, so both start at the same moment
        workers = [_start(store_url, holder, lease, lead_for) for holder in ("p1", "p2")]
        for worker in workers:
            assert worker.stdin is not None
            worker.stdin.write("go\n")
            worker.stdin.flush()
        claims: list[dict[str, Any]] = []
        for worker in workers:
            out, _ = worker.communicate(timeout=60)
            assert worker.returncode == 0
            claims += [json.loads(line) for line in out.splitlines()]
        leads = [c for c in claims if "token" in c]
        assert {c["holder"] for c in leads} == {"p1", "p2"}
        holder_of: dict[int, set[str]] = {}
        for c in leads:
            holder_of.setdefault(c["token"], set()).add(c["holder"])
        assert all(len(holders) == 1 for holders in holder_of.values())
        tokens = sorted(holder_of)
        assert tokens == list(range(1, len(tokens) + 1))  # one more per change of holder
        for earlier, later in itertools.pairwise(tokens):
            assert holder_of[earlier] != holder_of[later]
            ends = max(
                datetime.fromisoformat(c["expires_at"]) for c in leads if c["token"] == earlier
            )
            starts = min(
                datetime.fromisoformat(c["renewed_at"]) for c in leads if c["token"] == later
            )
            assert ends <= starts, f"epochs {earlier} and {later} overlapped"
        polls = {c["holder"]: c["polls"] for c in claims if c.get("done")}
        led = {h: sum(1 for c in leads if c["holder"] == h) for h in ("p1", "p2")}
        assert any(polls[h] > led[h] for h in polls), "nobody was ever refused: no contention"
