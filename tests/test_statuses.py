"""The wallet and payments status enums: every value fits the column that stores it."""

from __future__ import annotations

import pytest
from sqlalchemy import Column

from auction.models import Hold, LedgerEntry, LedgerTransaction, Payment, WebhookDelivery, Withdrawal
from auction.payments.events import PaymentStatus
from auction.payments.levels import Outcome
from auction.payouts.withdrawals import WithdrawalStatus
from auction.wallet import Bucket, HoldStatus, Kind


@pytest.mark.parametrize(
    "enum, column",
    [
        (Bucket, LedgerEntry.__table__.c.bucket),
        (Kind, LedgerTransaction.__table__.c.kind),
        (HoldStatus, Hold.__table__.c.status),
        (PaymentStatus, Payment.__table__.c.status),
        (Outcome, WebhookDelivery.__table__.c.outcome),
        (WithdrawalStatus, Withdrawal.__table__.c.status),
    ],
)
def test_every_value_fits_its_column(enum: type, column: Column) -> None:
    assert max(len(member) for member in enum) <= column.type.length


def test_the_stored_defaults_are_enum_values() -> None:
    assert Hold.__table__.c.status.server_default.arg == HoldStatus.OPEN
    assert Payment.__table__.c.status.server_default.arg == PaymentStatus.NEW
    assert WebhookDelivery.__table__.c.outcome.server_default.arg == Outcome.RECEIVED
