"""Initial state schema: cursors, decision ledger, daily counts, known markers, leader lease.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from syncer.state.schema import JSONDocument, UTCDateTime

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sync_cursor",
        sa.Column("source", sa.String(length=512), nullable=False),
        sa.Column("since", UTCDateTime(), nullable=True),
        sa.Column("etag", sa.String(length=512), nullable=True),
        sa.Column("full_sync_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_sync_cursor")),
    )
    op.create_table(
        "ledger_entry",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("cycle_id", sa.String(length=255), nullable=False),
        sa.Column("tracker", sa.String(length=255), nullable=False),
        sa.Column("item_key", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=255), nullable=False),
        sa.Column("rule", sa.String(length=255), nullable=False),
        sa.Column("policy_version", sa.String(length=255), nullable=False),
        sa.Column("outcome", sa.String(length=255), nullable=False),
        sa.Column("inputs", JSONDocument, nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entry")),
    )
    op.create_index("ix_ledger_entry_at", "ledger_entry", ["at"])
    op.create_index("ix_ledger_entry_item", "ledger_entry", ["tracker", "item_key", "at"])
    op.create_table(
        "daily_count",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("metric", sa.String(length=255), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "metric", name=op.f("pk_daily_count")),
    )
    op.create_table(
        "known_marker",
        sa.Column("tracker", sa.String(length=255), nullable=False),
        sa.Column("item_key", sa.String(length=255), nullable=False),
        sa.Column("marker", sa.String(length=512), nullable=False),
        sa.PrimaryKeyConstraint("tracker", "item_key", "marker", name=op.f("pk_known_marker")),
    )
    op.create_table(
        "leader_lease",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("holder", sa.String(length=255), nullable=True),
        sa.Column("fencing_token", sa.BigInteger(), nullable=False),
        sa.Column("acquired_at", UTCDateTime(), nullable=True),
        sa.Column("renewed_at", UTCDateTime(), nullable=True),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leader_lease")),
    )


def downgrade() -> None:
    op.drop_table("leader_lease")
    op.drop_table("known_marker")
    op.drop_table("daily_count")
    op.drop_index("ix_ledger_entry_item", table_name="ledger_entry")
    op.drop_index("ix_ledger_entry_at", table_name="ledger_entry")
    op.drop_table("ledger_entry")
    op.drop_table("sync_cursor")
