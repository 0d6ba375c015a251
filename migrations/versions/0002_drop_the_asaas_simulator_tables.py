"""drop the asaas simulator tables

The development Asaas simulator left the product (asaas_sim/, beside auction/) and creates its
own tables where it runs, so they are no longer part of the schema. Databases installed from an
older sql/schema.sql, or upgraded through 0001, hold them empty (the simulator never runs in
production): IF EXISTS, since a database may never have had them. The downgrade puts them back
as 0001 made them.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 17:44:48.406137
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Revisions import no app code: 0001's table options, as written there.
TABLE_OPTIONS = {
    "mariadb_charset": "utf8mb4",
    "mariadb_collate": "utf8mb4_unicode_ci",
    "mariadb_engine": "InnoDB",
    "mysql_charset": "utf8mb4",
    "mysql_collate": "utf8mb4_unicode_ci",
    "mysql_engine": "InnoDB",
}
DATETIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.drop_table("asaas_sim_objects", if_exists=True)
    op.drop_table("asaas_sim_events", if_exists=True)


def downgrade() -> None:
    op.create_table(
        "asaas_sim_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=100), nullable=False),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("payment_id", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("created_at", DATETIME, nullable=False),
        sa.Column("delivered_at", DATETIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asaas_sim_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_asaas_sim_events_event_id")),
        if_not_exists=True,
        **TABLE_OPTIONS,
    )
    op.create_index(
        op.f("ix_asaas_sim_events_payment_id"), "asaas_sim_events", ["payment_id"], unique=False, if_not_exists=True
    )
    op.create_table(
        "asaas_sim_objects",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("external_reference", sa.String(length=100), nullable=True),
        sa.Column("cpf_cnpj", sa.String(length=14), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asaas_sim_objects")),
        if_not_exists=True,
        **TABLE_OPTIONS,
    )
    op.create_index(
        op.f("ix_asaas_sim_objects_cpf_cnpj"), "asaas_sim_objects", ["cpf_cnpj"], unique=False, if_not_exists=True
    )
    op.create_index(
        "ix_asaas_sim_objects_kind_ref",
        "asaas_sim_objects",
        ["kind", "external_reference"],
        unique=False,
        if_not_exists=True,
    )
