"""after the sale: buyer's premium, relisting, second-chance offers

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-08 00:22:12.683067
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "second_chance_offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("auction_id", sa.Integer(), nullable=False),
        sa.Column("seller_id", sa.Integer(), nullable=False),
        sa.Column("bidder_id", sa.Integer(), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("premium", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="open", nullable=False),
        sa.Column("created_at", sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb"), nullable=False),
        sa.Column("expires_at", sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb"), nullable=False),
        sa.Column("decided_at", sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb"), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["auction_id"], ["auctions.id"], name=op.f("fk_second_chance_offers_auction_id_auctions")
        ),
        sa.ForeignKeyConstraint(["bidder_id"], ["users.id"], name=op.f("fk_second_chance_offers_bidder_id_users")),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_second_chance_offers_order_id_orders")),
        sa.ForeignKeyConstraint(["seller_id"], ["users.id"], name=op.f("fk_second_chance_offers_seller_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_second_chance_offers")),
        mariadb_charset="utf8mb4",
        mariadb_collate="utf8mb4_unicode_ci",
        mariadb_engine="InnoDB",
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
        mysql_engine="InnoDB",
    )
    with op.batch_alter_table("second_chance_offers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_second_chance_offers_auction_id"), ["auction_id"], unique=False)
        batch_op.create_index("ix_second_chance_offers_bidder_status", ["bidder_id", "status"], unique=False)

    with op.batch_alter_table("auctions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("relisted_from_id", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_auctions_relisted_from_id"), ["relisted_from_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_auctions_relisted_from_id_auctions"), "auctions", ["relisted_from_id"], ["id"]
        )

    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sale_round", sa.SmallInteger(), server_default=sa.text("0"), nullable=False))
        batch_op.add_column(sa.Column("premium", sa.BigInteger(), server_default=sa.text("0"), nullable=False))
        # The new unique index first: on MariaDB the foreign key on auction_id needs an index at every moment.
        batch_op.create_unique_constraint("uq_orders_auction_round", ["auction_id", "sale_round"])
        batch_op.drop_constraint("uq_orders_auction_id", type_="unique")


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_orders_auction_id", ["auction_id"])
        batch_op.drop_constraint("uq_orders_auction_round", type_="unique")
        batch_op.drop_column("premium")
        batch_op.drop_column("sale_round")

    with op.batch_alter_table("auctions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_auctions_relisted_from_id_auctions"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_auctions_relisted_from_id"), type_="unique")
        batch_op.drop_column("relisted_from_id")

    op.drop_table("second_chance_offers")
