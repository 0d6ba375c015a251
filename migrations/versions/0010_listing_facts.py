"""listing facts

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 21:32:22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("auctions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("item_condition", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("delivery", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("shipping_cost", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("city", sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column("uf", sa.String(length=2), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("auctions", schema=None) as batch_op:
        batch_op.drop_column("uf")
        batch_op.drop_column("city")
        batch_op.drop_column("shipping_cost")
        batch_op.drop_column("delivery")
        batch_op.drop_column("item_condition")
