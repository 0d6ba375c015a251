"""When reconciliation asks Asaas about a payment again: webhook-first, with a per-payment backoff.

Asaas allows about 25,000 API requests per 12 h per account and will not raise it for accounts that poll
(docs/payments.md, "Reconciliation" has the arithmetic). The webhook is the source of truth; reconciliation
only catches what it missed, so each payment is asked about on a growing schedule:

- not final (waiting for payment, a refund or chargeback open): 1 min, 10 min, 1 h, 6 h, then daily;
- final and settled (received, refunded): weekly, for the watch window of its billing type, because a card
  chargeback can arrive months later and a paused Asaas queue deletes events after 14 days;
- after that window: never (`next_check_at` NULL).

Every webhook for the payment schedules it again from the new state (its checks count is kept), so a
payment whose webhooks arrive is hardly ever fetched.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from .. import clock
from ..models import Payment
from .events import FINAL_STATUSES, State, settled

BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=10),
    timedelta(hours=1),
    timedelta(hours=6),
    timedelta(days=1),
)
SETTLED_EVERY = timedelta(days=7)
# How long a final payment stays under watch, by billing type: card chargebacks can be opened up to
# 180 days after the purchase; a PIX refund through the central bank's MED up to 90 days; a boleto has no
# chargeback, only refunds the merchant starts (its own webhook). Unknown types get the longest window.
WATCH_WINDOW = {
    "CREDIT_CARD": timedelta(days=180),
    "PIX": timedelta(days=90),
    "BOLETO": timedelta(days=30),
}
DEFAULT_WATCH_WINDOW = timedelta(days=180)


def watch_window(billing_type: str | None) -> timedelta:
    return WATCH_WINDOW.get(billing_type or "", DEFAULT_WATCH_WINDOW)


def next_check(payment: Payment, state: State, now: datetime) -> datetime | None:
    """When to ask Asaas about `payment` next (None: never again)."""
    if payment.status in FINAL_STATUSES and settled(state):
        if payment.status == "ABANDONED" or payment.status == "DELETED":
            return None
        end = payment.created_at + watch_window(payment.billing_type)
        at = now + SETTLED_EVERY
        return at if at <= end else None
    return now + BACKOFF[min(payment.checks, len(BACKOFF) - 1)]


def schedule_next(payment: Payment, state: State) -> None:
    payment.next_check_at = next_check(payment, state, clock.now())
