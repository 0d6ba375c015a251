"""event deposits: buying power, caução held and admin approval of registrations

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08 00:26:32.526622
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("event_registrations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status", sa.String(length=16), server_default="approved", nullable=False))
        batch_op.add_column(sa.Column("buying_power", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("deposit", sa.BigInteger(), server_default=sa.text("0"), nullable=False))
        batch_op.add_column(sa.Column("decided_by", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "decided_at", sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb"), nullable=True
            )
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_event_registrations_decided_by_users"), "users", ["decided_by"], ["id"]
        )

    with op.batch_alter_table("sale_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deposit_minimum", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("requires_approval", sa.Boolean(), server_default=sa.text("0"), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("sale_events", schema=None) as batch_op:
        batch_op.drop_column("requires_approval")
        batch_op.drop_column("deposit_minimum")

    with op.batch_alter_table("event_registrations", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_event_registrations_decided_by_users"), type_="foreignkey")
        batch_op.drop_column("decided_at")
        batch_op.drop_column("decided_by")
        batch_op.drop_column("deposit")
        batch_op.drop_column("buying_power")
        batch_op.drop_column("status")
