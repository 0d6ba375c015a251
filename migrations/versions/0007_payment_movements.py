"""payment movements

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 06:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("movements", sa.Integer(), server_default=sa.text("0"), nullable=False))
    # The count the ledger keys were numbered by until now, so the next key follows on.
    op.execute(
        "UPDATE payments SET movements = "
        "(SELECT count(*) FROM ledger_transactions WHERE ledger_transactions.payment_id = payments.id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_column("movements")
