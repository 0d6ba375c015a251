"""ending soon stages

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 21:58:29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("auctions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("ending_soon_stage", sa.SmallInteger(), server_default=sa.text("0"), nullable=False)
        )
    # An auction that had its one notice already is past every stage: nobody hears of it twice.
    op.execute("UPDATE auctions SET ending_soon_stage = 100 WHERE ending_soon_sent = 1")
    with op.batch_alter_table("auctions", schema=None) as batch_op:
        batch_op.drop_column("ending_soon_sent")


def downgrade() -> None:
    with op.batch_alter_table("auctions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ending_soon_sent", sa.Boolean(), server_default=sa.text("0"), nullable=False))
    op.execute("UPDATE auctions SET ending_soon_sent = 1 WHERE ending_soon_stage > 0")
    with op.batch_alter_table("auctions", schema=None) as batch_op:
        batch_op.drop_column("ending_soon_stage")
