"""Issue #15, money: cash receipts, frozen refunds and chargebacks, refunds not done, watch windows, gross or net."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from auction import clock, create_app, wallet
from auction.errors import Invalid
from auction.models import LedgerTransaction, Notification, Payment
from auction.payments import cash, watch
from auction.payments.events import CreditPolicy, State, facts_of, frozen, level
from tests.support.payments import available, event_body, known_payment, payment_row, post

pytestmark = pytest.mark.usefixtures("audited")
PASSWORD = "correct horse battery"


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return app_config | {"WTF_CSRF_ENABLED": False}


def balance(db, user_id: int) -> wallet.Balance:
    return db.transaction(wallet.balance, user_id)


def kinds(db, user_id: int) -> list[str]:
    return db.transaction(
        lambda s: [n.kind for n in s.scalars(select(Notification).where(Notification.user_id == user_id))]
    )


def login(client, username: str) -> None:
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302


# -- cash receipts ------------------------------------------------------------------------------------


def cash_body(asaas_id: str) -> dict:
    return event_body("PAYMENT_RECEIVED", asaas_id, status="RECEIVED_IN_CASH")


def test_a_cash_receipt_credits_nothing_and_alerts_the_admins(client, db, user, make_user):
    boss = make_user("boss", is_admin=True)
    payment_id = known_payment(db, user, "pay_cash")
    assert post(client, cash_body("pay_cash")).status_code == 200
    assert balance(db, user) == wallet.Balance(0, 0, 0)
    row = payment_row(db, payment_id)
    assert (row.status, row.cash_stage, row.credited) == ("RECEIVED_IN_CASH", 1, 0)
    assert kinds(db, boss) == ["cash_receipt"]
    assert kinds(db, user) == []


def test_an_admin_credits_a_cash_receipt_from_the_payments_page_and_it_is_recorded(client, db, user, make_user):
    boss = make_user("boss", is_admin=True)
    payment_id = known_payment(db, user, "pay_cash2")
    post(client, cash_body("pay_cash2"))
    login(client, "boss")
    page = client.get("/admin/payments").get_data(as_text=True)
    assert "Received in cash" in page and f'data-cash-payment-id="{payment_id}"' in page
    assert client.post(f"/admin/payments/{payment_id}/credit-cash").status_code == 302
    assert available(db, user) == 10_000
    row = payment_row(db, payment_id)
    assert row.cash_credited_by_id == boss and row.cash_credited_at is not None
    reasons = db.transaction(
        lambda s: [
            t.reason for t in s.scalars(select(LedgerTransaction).where(LedgerTransaction.payment_id == payment_id))
        ]
    )
    assert reasons == ["cash_top_up"]
    # A second press changes nothing and says why.
    client.post(f"/admin/payments/{payment_id}/credit-cash")
    assert available(db, user) == 10_000
    assert "already credited" in client.get("/admin/payments").get_data(as_text=True)
    # Undone at Asaas: the credit goes back.
    post(client, event_body("PAYMENT_RECEIVED_IN_CASH_UNDONE", "pay_cash2", status="PENDING"))
    assert available(db, user) == 0


def test_only_a_cash_receipt_can_be_credited_by_hand(db, user, make_user):
    boss = make_user("boss", is_admin=True)
    payment_id = known_payment(db, user, "pay_not_cash")
    with pytest.raises(cash.NotACashReceipt):
        db.run(cash.credit_cash_receipt, cash.CreditCashReceipt(payment_id, boss, CreditPolicy()))
    assert available(db, user) == 0


def test_with_cash_receipts_set_to_credit_they_credit_at_once(app_config, db, user):
    app = create_app(app_config | {"ASAAS_CASH_RECEIPTS": "credit"})
    known_payment(db, user, "pay_cash3")
    assert post(app.test_client(), cash_body("pay_cash3")).status_code == 200
    assert available(db, user) == 10_000
    app.extensions["auction.db"].dispose()


# -- frozen money -------------------------------------------------------------------------------------------


def test_a_refund_in_progress_freezes_the_amount_and_it_cannot_be_bid_with(client, db, user):
    payment_id = known_payment(db, user, "pay_ref")
    post(client, event_body("PAYMENT_RECEIVED", "pay_ref", status="RECEIVED"))
    pending = [{"status": "PENDING", "value": 30.0, "dateCreated": "2026-12-01"}]
    post(client, event_body("PAYMENT_REFUND_IN_PROGRESS", "pay_ref", status="REFUND_IN_PROGRESS", refunds=pending))
    assert balance(db, user) == wallet.Balance(7_000, 0, 3_000)
    with pytest.raises(wallet.InsufficientFunds):
        db.transaction(lambda s: wallet.hold(s, user_id=user, auction_id=1, amount=7_001, key="bid-too-much"))
    page = login(client, "payer") or client.get("/wallet").get_data(as_text=True)
    assert "Frozen: refund in progress" in page and 'data-wallet-frozen data-cents="3000"' in page
    # Still not DONE: no balance change, and the payment stays under close watch.
    row = payment_row(db, payment_id)
    assert (row.refunded, row.refund_stage) == (0, 1) and row.next_check_at - clock.now() <= timedelta(days=1)
    done = [{"status": "DONE", "value": 30.0, "dateCreated": "2026-12-01"}]
    post(client, event_body("PAYMENT_PARTIALLY_REFUNDED", "pay_ref", status="RECEIVED", refunds=done))
    assert balance(db, user) == wallet.Balance(7_000, 0, 0)
    assert payment_row(db, payment_id).refunded == 3_000


@pytest.mark.parametrize("status", ["PENDING", "AWAITING_CRITICAL_ACTION_AUTHORIZATION", "CANCELLED"])
def test_a_refund_that_is_not_done_moves_no_money(client, db, user, status):
    known_payment(db, user, "pay_nd")
    post(client, event_body("PAYMENT_RECEIVED", "pay_nd", status="RECEIVED"))
    refunds = [{"status": status, "value": 100.0}]
    post(client, event_body("PAYMENT_REFUNDED", "pay_nd", status="RECEIVED", refunds=refunds))
    assert balance(db, user).available + balance(db, user).frozen == 10_000


def test_a_cancelled_refund_unfreezes(client, db, user):
    known_payment(db, user, "pay_cancel")
    post(client, event_body("PAYMENT_RECEIVED", "pay_cancel", status="RECEIVED"))
    post(client, event_body("PAYMENT_REFUND_IN_PROGRESS", "pay_cancel", status="REFUND_IN_PROGRESS"))
    assert balance(db, user) == wallet.Balance(0, 0, 10_000)  # no amount given: the whole charge is at stake
    cancelled = [{"status": "CANCELLED", "value": 100.0}]
    post(client, event_body("PAYMENT_UPDATED", "pay_cancel", status="RECEIVED", refunds=cancelled))
    assert balance(db, user) == wallet.Balance(10_000, 0, 0)


def chargeback(event: str, asaas_id: str, status: str, chargeback_status: str | None) -> dict:
    extra = {"chargeback": {"status": chargeback_status, "reason": "FRAUD"}} if chargeback_status else {}
    return event_body(event, asaas_id, status=status, **extra)


def test_a_won_dispute_stays_frozen_until_the_money_is_back(client, db, user):
    known_payment(db, user, "pay_cb")
    post(client, event_body("PAYMENT_RECEIVED", "pay_cb", status="RECEIVED"))
    post(client, chargeback("PAYMENT_CHARGEBACK_REQUESTED", "pay_cb", "CHARGEBACK_REQUESTED", "REQUESTED"))
    assert balance(db, user) == wallet.Balance(0, 0, 10_000)
    post(client, chargeback("PAYMENT_CHARGEBACK_DISPUTE", "pay_cb", "CHARGEBACK_DISPUTE", "IN_DISPUTE"))
    post(client, chargeback("PAYMENT_AWAITING_CHARGEBACK_REVERSAL", "pay_cb", "AWAITING_CHARGEBACK_REVERSAL", None))
    assert balance(db, user) == wallet.Balance(0, 0, 10_000)
    post(client, chargeback("PAYMENT_UPDATED", "pay_cb", "RECEIVED", "REVERSED"))
    assert balance(db, user) == wallet.Balance(10_000, 0, 0)


@pytest.mark.parametrize("lost", ["DISPUTE_LOST", "DONE"])
def test_a_lost_chargeback_takes_the_frozen_money(client, db, user, lost):
    known_payment(db, user, "pay_lost")
    post(client, event_body("PAYMENT_RECEIVED", "pay_lost", status="RECEIVED"))
    post(client, chargeback("PAYMENT_CHARGEBACK_REQUESTED", "pay_lost", "CHARGEBACK_REQUESTED", "REQUESTED"))
    post(client, chargeback("PAYMENT_CHARGEBACK_DISPUTE", "pay_lost", "CHARGEBACK_DISPUTE", lost))
    assert balance(db, user) == wallet.Balance(0, 0, 0)
    assert "payment_chargeback" in kinds(db, user)


def test_the_audit_finds_frozen_money_that_no_payment_accounts_for(db, user):
    db.transaction(lambda s: wallet.credit(s, user_id=user, amount=1_000, key="demo", reason="demo_credit"))
    payment_id = known_payment(db, user, "pay_audit")
    wallet_id = db.transaction(lambda s: wallet.ensure_wallet(s, user).id)
    db.transaction(
        lambda s: wallet.freeze(s, user_id=user, amount=400, key="f", reason="frozen_refund", payment_id=payment_id)
    )
    problems = db.transaction(wallet.audit)
    # Frozen by hand, not by payments.levels: the payment neither says the money is frozen nor counts the movement.
    assert problems == [
        f"wallet {wallet_id} (user {user}): frozen is 400 but its payments' frozen amounts sum to 0",
        f"payment {payment_id}: 0 movements recorded but 1 made",
    ]
    db.transaction(lambda s: _account_for(s.get(Payment, payment_id)))


# -- gross or net ---------------------------------------------------------------------------------------------


def test_the_wallet_gets_the_gross_value_by_default_and_the_net_one_when_configured(app_config, client, db, user):
    known_payment(db, user, "pay_gross")
    post(client, event_body("PAYMENT_RECEIVED", "pay_gross", status="RECEIVED", netValue=94.51))
    assert available(db, user) == 10_000
    net_app = create_app(app_config | {"ASAAS_CREDIT_VALUE": "net"})
    payment_id = known_payment(db, user, "pay_net")
    post(net_app.test_client(), event_body("PAYMENT_RECEIVED", "pay_net", status="RECEIVED", netValue=94.51))
    assert available(db, user) == 10_000 + 9_451
    # Asaas's fee is shown only where the payer pays it: with `net` it came out of their credit.
    net_reader = net_app.test_client()
    login(net_reader, "payer")
    assert "R$\u00a05,49" in net_reader.get("/wallet/payments").get_data(as_text=True)
    net_app.extensions["auction.db"].dispose()
    login(client, "payer")
    assert "R$\u00a05,49" not in client.get("/wallet/payments").get_data(as_text=True)
    assert payment_row(db, payment_id).net_value == 9_451


def test_a_bad_credit_value_setting_is_refused():
    from auction.config import ConfigError, load_config

    with pytest.raises(ConfigError, match="ASAAS_CREDIT_VALUE"):
        load_config({"ASAAS_CREDIT_VALUE": "half"})


# -- the pure model -----------------------------------------------------------------------------------------------


def test_received_in_cash_is_not_paid_in_the_model():
    state = State(value=5_000).merge(facts_of("PAYMENT_RECEIVED", {"value": 50, "status": "RECEIVED_IN_CASH"}))
    assert level(state) == 0
    assert level(state, CreditPolicy(cash_receipts="credit")) == 5_000


def test_frozen_never_exceeds_the_level():
    state = State(value=5_000).merge(facts_of("PAYMENT_RECEIVED", {"value": 50, "status": "RECEIVED"}))
    state = state.merge(facts_of("PAYMENT_CHARGEBACK_REQUESTED", {"value": 50, "status": "CHARGEBACK_REQUESTED"}))
    assert frozen(state) == level(state) == 5_000


# -- the watch windows ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("billing, days", [("CREDIT_CARD", 180), ("PIX", 90), ("BOLETO", 30), (None, 180)])
def test_a_received_payment_stays_under_weekly_watch_for_its_billing_types_window(client, db, user, billing, days):
    payment_id = known_payment(db, user, "pay_watch", billing_type=billing)
    post(client, event_body("PAYMENT_RECEIVED", "pay_watch", status="RECEIVED"))
    row = payment_row(db, payment_id)
    assert abs(row.next_check_at - clock.now() - timedelta(days=7)) < timedelta(seconds=5)
    assert watch.watch_window(billing) == timedelta(days=days)
    clock.advance(timedelta(days=days - 3))
    post(client, event_body("PAYMENT_SPLIT_CANCELLED", "pay_watch", status="RECEIVED"))
    assert payment_row(db, payment_id).next_check_at is None  # the next weekly check would be past the window


def _account_for(payment: Payment) -> None:
    """What payments.levels would have recorded of the one freeze a test made by hand."""
    payment.frozen, payment.movements = 400, 1


def test_a_freeze_is_idempotent_by_key_and_refuses_a_key_used_for_another_movement(db, user):
    payment_id = known_payment(db, user, "pay_key", frozen=300, movements=1)  # the freeze below, made once
    db.transaction(lambda s: wallet.credit(s, user_id=user, amount=1_000, key="in", reason="demo_credit"))

    def freeze(s):
        return wallet.freeze(s, user_id=user, amount=300, key="fz", reason="frozen_refund", payment_id=payment_id)

    first, again = db.transaction(freeze), db.transaction(freeze)
    assert again.replayed and again.transaction_id == first.transaction_id
    assert balance(db, user) == wallet.Balance(700, 0, 300)
    with pytest.raises(Invalid, match="already used"):
        db.transaction(lambda s: wallet.unfreeze(s, user_id=user, amount=300, key="fz", payment_id=payment_id))
