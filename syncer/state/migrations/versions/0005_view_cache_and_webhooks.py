"""The view cache beside each cursor, so conditional reads survive the process; the queue of
webhook deliveries.

``sync_cursor.view`` names the fingerprint of the view saved with the cursor; ``view_entry``
holds that view, one row per item of a source (the mapped item as JSON text).
``webhook_delivery`` queues deliveries for the leader and keeps their ids against replays.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-09
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from syncer.state.schema import JSONDocument, UTCDateTime

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sync_cursor") as batch:
        batch.add_column(sa.Column("view", sa.String(length=255), nullable=True))
    op.create_table(
        "view_entry",
        sa.Column("source", sa.String(length=512), nullable=False),
        sa.Column("item_key", sa.String(length=255), nullable=False),
        sa.Column("entry", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("source", "item_key", name=op.f("pk_view_entry")),
    )
    op.create_table(
        "webhook_delivery",
        sa.Column("delivery_id", sa.String(length=255), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("event", sa.String(length=255), nullable=False),
        sa.Column("targets", JSONDocument, nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("done_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("delivery_id", name=op.f("pk_webhook_delivery")),
    )
    op.create_index("ix_webhook_delivery_pending", "webhook_delivery", ["done_at", "received_at"])


def downgrade() -> None:
    op.drop_index("ix_webhook_delivery_pending", table_name="webhook_delivery")
    op.drop_table("webhook_delivery")
    op.drop_table("view_entry")
    with op.batch_alter_table("sync_cursor") as batch:
        batch.drop_column("view")
