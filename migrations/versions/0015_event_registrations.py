"""event registrations: the terms version each bidder accepted for a sale event (habilitação)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 22:38:50.379500
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event_registrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("terms_version", sa.Integer(), nullable=False),
        sa.Column("accepted_at", sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb"), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["sale_events.id"], name=op.f("fk_event_registrations_event_id_sale_events")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_event_registrations_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_registrations")),
        sa.UniqueConstraint("event_id", "user_id", name="uq_event_registrations_event_user"),
        mariadb_charset="utf8mb4",
        mariadb_collate="utf8mb4_unicode_ci",
        mariadb_engine="InnoDB",
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
        mysql_engine="InnoDB",
    )
    with op.batch_alter_table("event_registrations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_event_registrations_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_table("event_registrations")
