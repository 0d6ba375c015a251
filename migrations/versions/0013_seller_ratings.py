"""seller ratings

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 21:53:54
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "seller_ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("seller_id", sa.Integer(), nullable=False),
        sa.Column("buyer_id", sa.Integer(), nullable=False),
        sa.Column("stars", sa.SmallInteger(), nullable=False),
        sa.Column("comment", sa.String(length=1000), nullable=False),
        sa.Column("reply", sa.String(length=1000), nullable=True),
        sa.Column("replied_at", sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb"), nullable=True),
        sa.Column("created_at", sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb"), nullable=False),
        sa.ForeignKeyConstraint(["buyer_id"], ["users.id"], name=op.f("fk_seller_ratings_buyer_id_users")),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_seller_ratings_order_id_orders")),
        sa.ForeignKeyConstraint(["seller_id"], ["users.id"], name=op.f("fk_seller_ratings_seller_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seller_ratings")),
        sa.UniqueConstraint("order_id", name=op.f("uq_seller_ratings_order_id")),
        mariadb_charset="utf8mb4",
        mariadb_collate="utf8mb4_unicode_ci",
        mariadb_engine="InnoDB",
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
        mysql_engine="InnoDB",
    )
    with op.batch_alter_table("seller_ratings", schema=None) as batch_op:
        batch_op.create_index("ix_seller_ratings_seller_id_created_at", ["seller_id", "created_at"], unique=False)


def downgrade() -> None:
    op.drop_table("seller_ratings")
