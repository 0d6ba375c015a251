"""sale events: a catalogue of lots closing one after another

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 22:12:23.826185
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sale_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organizer_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("terms", sa.Text(), nullable=False),
        sa.Column("terms_version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "first_close_at", sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb"), nullable=False
        ),
        sa.Column("lot_interval_seconds", sa.Integer(), nullable=False),
        sa.Column("soft_close_seconds", sa.Integer(), nullable=False),
        sa.Column("premium_bps", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("deposit_bps", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb"), nullable=False),
        sa.ForeignKeyConstraint(["organizer_id"], ["users.id"], name=op.f("fk_sale_events_organizer_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sale_events")),
        mariadb_charset="utf8mb4",
        mariadb_collate="utf8mb4_unicode_ci",
        mariadb_engine="InnoDB",
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
        mysql_engine="InnoDB",
    )
    with op.batch_alter_table("sale_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sale_events_organizer_id"), ["organizer_id"], unique=False)

    with op.batch_alter_table("auctions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("event_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("lot_number", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint("uq_auctions_event_lot", ["event_id", "lot_number"])
        batch_op.create_foreign_key(batch_op.f("fk_auctions_event_id_sale_events"), "sale_events", ["event_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("auctions", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_auctions_event_id_sale_events"), type_="foreignkey")
        batch_op.drop_constraint("uq_auctions_event_lot", type_="unique")
        batch_op.drop_column("lot_number")
        batch_op.drop_column("event_id")

    op.drop_table("sale_events")
