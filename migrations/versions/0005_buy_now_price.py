"""buy it now price

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 18:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("auctions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("buy_now_price", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("auctions", schema=None) as batch_op:
        batch_op.drop_column("buy_now_price")
