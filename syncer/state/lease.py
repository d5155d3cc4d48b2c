"""Leader election between pmsync replicas: a lease row with an expiry and a fencing token.

Several replicas may run against one PostgreSQL state store; exactly one of them, the leader,
may write to the trackers. Leadership is a row of ``leader_lease``: the holder, when the lease
expires, and a fencing token that grows by one at every change of holder.

Why a lease row rather than a PostgreSQL advisory lock. A session advisory lock lives as long
as one database connection: it needs a dedicated connection held for the whole life of the
process, it is silently lost when that connection drops (a restart of PostgreSQL, a network
blip, an idle timeout) without the holder noticing until it checks, it does not work behind a
transaction pooler (PgBouncer in transaction mode hands each transaction a different server
connection), and it does not exist on SQLite. A lease row needs no connection of its own:
every check is one short transaction, so it works behind poolers, on SQLite (one host, several
processes) as on PostgreSQL, and the row is also what ``/readyz`` and the logs show (who leads,
since when, until when). Its cost is that a dead leader is replaced only when its lease
expires, so a failover takes between one and two lease periods (a standby polling every third
of a lease takes over at most ``lease + lease/3`` after the leader's last renewal).

Acquire or renew is one conditional UPDATE::

    UPDATE leader_lease SET holder = me, expires_at = now + lease, renewed_at = now,
           fencing_token = CASE WHEN holder = me THEN fencing_token ELSE fencing_token + 1 END
     WHERE name = :name AND (holder = me OR holder IS NULL OR expires_at <= now)

PostgreSQL re-checks the WHERE clause of a concurrent UPDATE on the row version the other
transaction committed, and SQLite runs one writer at a time, so two contenders can never both
match. Before every write the replica asks :class:`LeaseFence`, which re-reads the row
(holder, token and expiry), renews it when due, and says no unless a safety margin of the
lease is left: a replica that paused longer than its lease (a GC pause, a stopped VM) finds it
has lost leadership and stops writing instead of racing the new leader. The connectors ask the
same fence right before a write request leaves, after any pause on the way. The trackers take
no fencing token, so the token cannot stop a stale request at the server; it tells the epochs
apart in the lease row and the logs (the README's HA section says what risk remains).

Time: by default "now" is the database's clock (PostgreSQL ``clock_timestamp()``, read in the
same transaction), so replicas on hosts with skewed clocks still agree on when a lease
expires. Tests and the soak test inject a clock instead; every replica sharing a lease must
then use the same clock.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import case, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from syncer.state.schema import LeaderLeaseRow
from syncer.state.store import StateStore

Clock = Callable[[], datetime]
"""Returns the current time as an aware datetime."""

_NEVER = datetime(1970, 1, 1, tzinfo=UTC)

log = structlog.get_logger(__name__)


def default_holder_id() -> str:
    """A holder id unique to this process: host name, process id and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class LeaseState:
    """What the lease row says: who holds it, in which epoch, until when."""

    name: str
    holder: str | None
    fencing_token: int
    acquired_at: datetime | None
    renewed_at: datetime | None
    expires_at: datetime


class LeaderLease:
    """One replica's handle on the lease ``name``.

    Call :meth:`try_acquire_or_renew` every :attr:`renew_interval` seconds (a standby calls it
    too, to take over when the leader's lease expires) and :meth:`is_leader` before every write.
    ``holder_id`` must be unique per process; the default is.
    """

    def __init__(
        self,
        store: StateStore,
        *,
        name: str = "pmsync",
        holder_id: str | None = None,
        lease_seconds: float = 30.0,
        clock: Clock | None = None,
    ) -> None:
        if lease_seconds <= 0:
            raise ValueError(f"lease_seconds must be positive, got {lease_seconds}")
        self._store = store
        self.name = name
        self.holder_id = holder_id or default_holder_id()
        self.lease_seconds = lease_seconds
        self._clock = clock
        self._token: int | None = None

    @property
    def renew_interval(self) -> float:
        """Seconds between two calls of :meth:`try_acquire_or_renew`: a third of the lease."""
        return self.lease_seconds / 3

    @property
    def fencing_token(self) -> int | None:
        """The epoch of our leadership when we last acquired or renewed it, else None."""
        return self._token

    def try_acquire_or_renew(self) -> bool:
        """Renew our lease, or take the lease if it is free or expired; True if we lead."""
        me = LeaderLeaseRow.holder == self.holder_id
        with self._store.transaction() as session:
            self._ensure_row(session)
            now = self._now(session)
            statement = (
                update(LeaderLeaseRow)
                .where(
                    LeaderLeaseRow.name == self.name,
                    or_(me, LeaderLeaseRow.holder.is_(None), LeaderLeaseRow.expires_at <= now),
                )
                .values(
                    holder=self.holder_id,
                    fencing_token=case(
                        (me, LeaderLeaseRow.fencing_token),
                        else_=LeaderLeaseRow.fencing_token + 1,
                    ),
                    acquired_at=case((me, LeaderLeaseRow.acquired_at), else_=now),
                    renewed_at=now,
                    expires_at=now + timedelta(seconds=self.lease_seconds),
                )
                .returning(LeaderLeaseRow.fencing_token)
                .execution_options(synchronize_session=False)
            )
            token = session.execute(statement).scalar_one_or_none()
        self._token = token
        return token is not None

    def seconds_left(self) -> float | None:
        """Seconds until our lease expires (by the lease's clock), negative once it has.

        None when the lease is not ours: never acquired, another holder, or another epoch
        (and from then on this handle does not lead). One short read transaction.
        """
        if self._token is None:
            return None
        with self._store.transaction() as session:
            now = self._now(session)
            expires_at = session.execute(
                select(LeaderLeaseRow.expires_at).where(
                    LeaderLeaseRow.name == self.name,
                    LeaderLeaseRow.holder == self.holder_id,
                    LeaderLeaseRow.fencing_token == self._token,
                )
            ).scalar_one_or_none()
        if expires_at is None:
            self._token = None
            return None
        return (expires_at - now).total_seconds()

    def renew(self) -> float | None:
        """Extend our lease by a full period, only while it is still ours in our epoch.

        Unlike :meth:`try_acquire_or_renew` it never takes the lease: called in the middle of
        a cycle, a replica that lost its epoch must stop, not start a new one with a plan made
        in the old one. Returns the seconds left after renewing (the lease length), or None
        when the lease is no longer ours (and from then on this handle does not lead). A lease
        that ran out while nobody else took it is renewed: no other replica wrote meanwhile.
        """
        if self._token is None:
            return None
        with self._store.transaction() as session:
            now = self._now(session)
            expires_at = session.execute(
                update(LeaderLeaseRow)
                .where(
                    LeaderLeaseRow.name == self.name,
                    LeaderLeaseRow.holder == self.holder_id,
                    LeaderLeaseRow.fencing_token == self._token,
                )
                .values(renewed_at=now, expires_at=now + timedelta(seconds=self.lease_seconds))
                .returning(LeaderLeaseRow.expires_at)
                .execution_options(synchronize_session=False)
            ).scalar_one_or_none()
        if expires_at is None:
            self._token = None
            return None
        return (expires_at - now).total_seconds()

    def is_leader(self) -> bool:
        """Whether the database still says we hold the lease, unexpired, in our epoch."""
        left = self.seconds_left()
        return left is not None and left > 0

    def release(self) -> None:
        """Give the lease up now (on shutdown), so a standby need not wait for it to expire."""
        if self._token is None:
            return
        with self._store.transaction() as session:
            now = self._now(session)
            session.execute(
                update(LeaderLeaseRow)
                .where(
                    LeaderLeaseRow.name == self.name,
                    LeaderLeaseRow.holder == self.holder_id,
                    LeaderLeaseRow.fencing_token == self._token,
                )
                .values(holder=None, expires_at=now)
                .execution_options(synchronize_session=False)
            )
        self._token = None

    def state(self) -> LeaseState | None:
        """The lease row as it is now, or None if no replica ever tried to acquire it."""
        with self._store.transaction() as session:
            row = session.get(LeaderLeaseRow, self.name)
            if row is None:
                return None
            return LeaseState(
                name=row.name,
                holder=row.holder,
                fencing_token=row.fencing_token,
                acquired_at=row.acquired_at,
                renewed_at=row.renewed_at,
                expires_at=row.expires_at,
            )

    def _now(self, session: Session) -> datetime:
        if self._clock is None:
            return self._store.database_now(session)
        now = self._clock()
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("the lease clock returned a naive datetime: return an aware one")
        return now

    def _ensure_row(self, session: Session) -> None:
        values = {"name": self.name, "holder": None, "fencing_token": 0, "expires_at": _NEVER}
        if self._store.dialect == "postgresql":
            session.execute(
                postgresql.insert(LeaderLeaseRow).values(values).on_conflict_do_nothing()
            )
        else:
            session.execute(sqlite.insert(LeaderLeaseRow).values(values).on_conflict_do_nothing())


class LeaseFence:
    """May this replica send a write now? The one check every write to a tracker passes.

    The applier asks it before each change, and the connectors' HTTP layer asks it again right
    before each write request leaves, after every pause on the way (write spacing, the
    content-creation pacer): a replica frozen inside a pause (SIGSTOP, a long GC pause, a
    suspended VM) finds on waking that its epoch is over and sends nothing.

    A write is allowed only while the lease has at least ``margin_seconds`` left, so that a
    request sent now has time to reach the tracker and be answered (its timeout) before any
    standby can take over, with room for clock skew. The check renews the lease itself when a
    renewal is due (a third of the lease has passed, or less than the margin is left), so a
    long cycle of paced writes never outlives the lease; the renewal happens on the thread that
    writes, between two writes, never behind its back. Each call is one short transaction
    (two when it renews). When the database cannot be read the answer is no: a replica that
    cannot prove it leads does not write.
    """

    def __init__(self, lease: LeaderLease, margin_seconds: float) -> None:
        if not 0 <= margin_seconds < lease.lease_seconds:
            raise ValueError(
                f"the safety margin ({margin_seconds:g}s) must be shorter than the lease "
                f"({lease.lease_seconds:g}s)"
            )
        self.lease = lease
        self.margin_seconds = margin_seconds

    def __call__(self) -> bool:
        lease = self.lease
        try:
            left = lease.seconds_left()
            renewal_due = left is not None and (
                left < self.margin_seconds or left <= lease.lease_seconds - lease.renew_interval
            )
            if renewal_due:
                left = lease.renew()
        except SQLAlchemyError:
            log.warning("lease check failed; write refused", holder=lease.holder_id, exc_info=True)
            return False
        if left is None or left < self.margin_seconds:
            log.warning(
                "write refused: lease lost or too close to expiry",
                holder=lease.holder_id,
                seconds_left=None if left is None else round(left, 3),
                margin_s=self.margin_seconds,
            )
            return False
        return True
