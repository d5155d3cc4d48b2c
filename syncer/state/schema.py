"""The state store's tables, as typed SQLAlchemy ORM classes.

This module is the one description of the schema: the store queries through it, and the
migrations under ``migrations/versions`` must produce exactly it (a test compares the two the
way ``alembic check`` does). Change a table here, then add a migration.

Every timestamp is stored in UTC and comes back as an aware UTC ``datetime``: SQLite has no
time-zone type, so :class:`UTCDateTime` normalises on the way in and out, and a naive datetime
is refused rather than guessed at.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Dialect,
    Index,
    Integer,
    MetaData,
    String,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAME_LENGTH = 255
"""Length of short identifiers: tracker names, item keys, rule and metric names."""

SOURCE_LENGTH = 512
"""Length of cursor source names and markers, which may embed a query or a week key."""


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime stored as UTC on every backend.

    PostgreSQL keeps ``timestamp with time zone``; SQLite keeps SQLAlchemy's fixed-width text,
    which sorts (and so compares and indexes) in time order once every value is in UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                f"naive datetime {value.isoformat()}: the state store needs aware ones"
            )
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


JSONDocument = JSON().with_variant(JSONB(), "postgresql")
"""JSON text on SQLite, ``jsonb`` on PostgreSQL (indexable and queryable if ever needed)."""


class Base(DeclarativeBase):
    """Declarative base of the state store; its metadata is the migrations' target."""

    # Named constraints, so migrations can refer to them on every backend.
    metadata = MetaData(
        naming_convention={
            "pk": "pk_%(table_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        }
    )


class SyncCursor(Base):
    """Where one source's last incremental fetch ended (see ``syncer.core.cursors.Cursor``)."""

    __tablename__ = "sync_cursor"

    source: Mapped[str] = mapped_column(String(SOURCE_LENGTH), primary_key=True)
    since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    etag: Mapped[str | None] = mapped_column(String(SOURCE_LENGTH))
    full_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Fingerprint of the view saved with this cursor (``view_entry`` rows of this source).
    view: Mapped[str | None] = mapped_column(String(NAME_LENGTH))


class ViewEntryRow(Base):
    """One record of a source as its last answer showed it (``syncer.core.cursors.ViewEntry``).

    A cache: with it a 304 can be turned back into the items it stands for in any process.
    """

    __tablename__ = "view_entry"

    source: Mapped[str] = mapped_column(String(SOURCE_LENGTH), primary_key=True)
    item_key: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    entry: Mapped[str] = mapped_column(Text())


class WebhookDeliveryRow(Base):
    """A webhook delivery (``syncer.core.deliveries.Delivery``): queued for the leader, then kept
    as handled until ``daemon.webhooks.keep_deliveries`` so a replay is recognised."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (Index("ix_webhook_delivery_pending", "done_at", "received_at"),)

    delivery_id: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    source: Mapped[str] = mapped_column(String(NAME_LENGTH))
    event: Mapped[str] = mapped_column(String(NAME_LENGTH))
    targets: Mapped[list[Any]] = mapped_column(JSONDocument)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class LedgerRow(Base):
    """One decision or write (see ``core.ledger.LedgerEntry``); rows are only ever inserted."""

    __tablename__ = "ledger_entry"
    __table_args__ = (
        Index("ix_ledger_entry_at", "at"),
        Index("ix_ledger_entry_item", "tracker", "item_key", "at"),
        Index("ux_ledger_entry_dedupe_key", "dedupe_key", unique=True),
    )

    # SQLite only auto-numbers an INTEGER PRIMARY KEY (the rowid); BIGINT elsewhere.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    cycle_id: Mapped[str] = mapped_column(String(NAME_LENGTH))
    tracker: Mapped[str] = mapped_column(String(NAME_LENGTH))
    item_key: Mapped[str] = mapped_column(String(NAME_LENGTH))
    kind: Mapped[str] = mapped_column(String(NAME_LENGTH))
    rule: Mapped[str] = mapped_column(String(NAME_LENGTH))
    policy_version: Mapped[str] = mapped_column(String(NAME_LENGTH))
    outcome: Mapped[str] = mapped_column(String(NAME_LENGTH))
    inputs: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    detail: Mapped[str] = mapped_column(Text())
    # Decisions recorded once (a closure accepted) carry a key; NULLs never collide.
    dedupe_key: Mapped[str | None] = mapped_column(String(NAME_LENGTH), nullable=True)


class DailyCount(Base):
    """One metric's value on one day, for trends in the weekly report."""

    __tablename__ = "daily_count"

    day: Mapped[date] = mapped_column(Date(), primary_key=True)
    metric: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger())


class KnownMarker(Base):
    """A hidden comment marker known to be posted on an item: a cache, never the truth."""

    __tablename__ = "known_marker"

    tracker: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    item_key: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    marker: Mapped[str] = mapped_column(String(SOURCE_LENGTH), primary_key=True)


class UserLookup(Base):
    """What a tracker last said about one account (``syncer.core.directory``): a day's cache."""

    __tablename__ = "user_lookup"

    tracker: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    # Case-folded: GitHub logins are case-insensitive.
    handle: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    active: Mapped[bool] = mapped_column(Boolean())
    detail: Mapped[str] = mapped_column(String(NAME_LENGTH))
    checked_on: Mapped[date] = mapped_column(Date())
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LeaderLeaseRow(Base):
    """Who leads the replicas named ``name``, until when, and in which epoch."""

    __tablename__ = "leader_lease"

    name: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    fencing_token: Mapped[int] = mapped_column(BigInteger())
    acquired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    renewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WriteWindowRow(Base):
    """One write reserved against a tracker host's rate-limit windows (see
    ``syncer.core.write_windows``); rows older than the longest window are deleted as new ones
    come."""

    __tablename__ = "write_window"
    __table_args__ = (Index("ix_write_window_host_at", "host", "at"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    host: Mapped[str] = mapped_column(String(NAME_LENGTH))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
