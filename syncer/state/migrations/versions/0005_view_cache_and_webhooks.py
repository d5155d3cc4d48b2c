"""The view cache beside each cursor, so conditional reads survive the process.

``sync_cursor.view`` names the fingerprint of the view saved with the cursor; ``view_entry``
holds that view, one row per item of a source (the mapped item as JSON text).

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-09
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0003"
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


def downgrade() -> None:
    op.drop_table("view_entry")
    with op.batch_alter_table("sync_cursor") as batch:
        batch.drop_column("view")
