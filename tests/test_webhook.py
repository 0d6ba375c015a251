"""POST /payment/webhook: authentication, validation, storage, and every event's effect on the wallet."""

from __future__ import annotations

import json
import threading
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from auction import create_app, wallet
from auction.models import LedgerTransaction, Notification, WebhookDelivery
from auction.payments.events import RULES
from tests.support.payments import TOKEN, available, event_body, known_payment, payment_row, post

pytestmark = pytest.mark.usefixtures("audited")


def deliveries(db) -> list[WebhookDelivery]:
    return db.transaction(lambda s: list(s.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id))))


# -- authentication, size and shape ------------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    [None, "", "wrong-token", TOKEN.upper(), TOKEN + "x", TOKEN[:-1]],
    ids=["missing", "empty", "wrong", "wrong-case", "longer", "shorter"],
)
def test_a_request_without_the_right_token_is_refused_and_not_stored(client, db, user, token, caplog):
    known_payment(db, user, "pay_auth")
    response = post(client, event_body("PAYMENT_RECEIVED", "pay_auth", status="RECEIVED"), token=token)
    assert response.status_code == 401
    assert deliveries(db) == []
    assert available(db, user) == 0
    assert "webhook_unauthorized" in caplog.text
    assert TOKEN not in caplog.text


@pytest.mark.parametrize(
    "body, reason",
    [
        ("this is not json", "not JSON"),
        ("[" * 5000, "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (json.dumps({"id": "evt_1", "event": "PAYMENT_CREATED", "payment": {"id": "p\ud800"}}), "invalid unicode"),
    ],
)
def test_a_malformed_body_gets_400_and_is_not_stored(client, db, body, reason):
    response = post(client, body)
    assert response.status_code == 400
    assert reason in response.get_json()["error"]
    assert deliveries(db) == []


def test_an_oversized_body_gets_413(client, db, app, caplog):
    body = event_body("PAYMENT_RECEIVED", "pay_big", description="x" * app.config["WEBHOOK_MAX_BYTES"])
    assert post(client, body).status_code == 413
    assert deliveries(db) == []
    assert "event=webhook_too_large" in caplog.text


def test_an_unknown_payment_is_stored_as_unmatched_and_acknowledged(client, db):
    body = event_body("PAYMENT_RECEIVED", "pay_nobody_knows", status="RECEIVED")
    response = post(client, body)
    assert response.status_code == 200
    [row] = deliveries(db)
    assert (row.event_id, row.event, row.asaas_payment_id, row.outcome) == (
        body["id"],
        "PAYMENT_RECEIVED",
        "pay_nobody_knows",
        "unmatched",
    )
    assert json.loads(row.raw_body) == body
    assert TOKEN not in row.raw_body


def test_an_informational_event_is_recorded_with_no_money_moved(client, db, user):
    payment_id = known_payment(db, user, "pay_info")
    assert post(client, event_body("PAYMENT_CHECKOUT_VIEWED", "pay_info")).status_code == 200
    assert [d.outcome for d in deliveries(db)] == ["recorded"]
    assert payment_row(db, payment_id).last_event == "PAYMENT_CHECKOUT_VIEWED"
    assert available(db, user) == 0


def test_database_down_answers_503_so_asaas_retries(tmp_path):
    app = create_app(
        {
            "DATABASE_URL": "mariadb+mariadbconnector://root:@127.0.0.1:1/nothing",
            "INSTANCE_PATH": str(tmp_path),
            "SECRET_KEY": "k",
            "ASAAS_WEBHOOK_TOKEN": TOKEN,
            "TESTING": True,
        }
    )
    response = post(app.test_client(), event_body("PAYMENT_RECEIVED", "pay_down", status="RECEIVED"))
    assert response.status_code == 503


# -- every event, table-driven from the same table as docs/payments.md --------------------------------


def body_for(event: str, asaas_id: str, value: str = "100.00") -> dict:
    rule = next(r for r in RULES if r.event == event)
    refunds = None
    if event == "PAYMENT_PARTIALLY_REFUNDED":
        refunds = [{"dateCreated": "2026-11-27 16:02:40", "status": "DONE", "value": 40.00, "description": "part"}]
    return event_body(event, asaas_id, value=value, status=rule.status, refunds=refunds)


def test_every_event_moves_the_wallet_to_its_documented_level(client, db, make_user):
    # Each event on a payment and a payer of its own, all in one app and database per backend (a fresh app for
    # each of the 29 cost more than the events themselves); every event that misses its level is named.
    missed = []
    for n, rule in enumerate(RULES):
        user, asaas_id = make_user(f"payer{n}"), f"pay_table_{n}"
        payment_id = known_payment(db, user, asaas_id, value=10_000)
        answers = [post(client, body_for(event, asaas_id)).status_code for event in (*rule.before, rule.event)]
        expected, frozen = 10_000 * rule.level_after // 100, 10_000 * rule.frozen_after // 100
        row = payment_row(db, payment_id)
        seen = (answers, db.transaction(wallet.balance, user), (row.credited, row.frozen), deliveries(db)[-1].outcome)
        if seen[:3] != ([200] * len(answers), wallet.Balance(expected - frozen, 0, frozen), (expected, frozen)) or (
            seen[3] not in {"applied", "recorded"}
        ):
            missed.append((rule.event, seen))
    assert missed == []


def test_there_are_29_events():
    assert len(RULES) == 29 == len({r.event for r in RULES})
    assert "PAYMENT_BANK_SLIP_CANCELLED" in {r.event for r in RULES}


def test_confirmed_credits_when_configured_to(app_config, db, user):
    app = create_app(app_config | {"ASAAS_CREDIT_ON": "CONFIRMED"})
    known_payment(db, user, "pay_conf")
    assert post(app.test_client(), body_for("PAYMENT_CONFIRMED", "pay_conf")).status_code == 200
    assert available(db, user) == 10_000
    assert post(app.test_client(), body_for("PAYMENT_RECEIVED", "pay_conf")).status_code == 200
    assert available(db, user) == 10_000
    app.extensions["auction.db"].dispose()


# -- idempotency, order, debt, notifications ------------------------------------------------------------


def test_the_same_event_twice_has_one_effect(client, db, user):
    payment_id = known_payment(db, user, "pay_twice")
    body = body_for("PAYMENT_RECEIVED", "pay_twice")
    assert post(client, body).get_json()["outcome"] == "applied"
    assert post(client, body).get_json()["outcome"] == "duplicate"
    assert available(db, user) == 10_000
    [row] = deliveries(db)
    assert row.attempts == 2
    moves = db.transaction(
        lambda s: s.scalar(select(func.count(LedgerTransaction.id)).where(LedgerTransaction.payment_id == payment_id))
    )
    assert moves == 1


def test_approval_and_refund_notify_the_user_and_reasons_show_in_the_ledger(client, db, user):
    payment_id = known_payment(db, user, "pay_notes")
    for event in ("PAYMENT_RECEIVED", "PAYMENT_PARTIALLY_REFUNDED", "PAYMENT_CHARGEBACK_REQUESTED"):
        post(client, body_for(event, "pay_notes"))
    post(client, body_for("PAYMENT_AWAITING_CHARGEBACK_REVERSAL", "pay_notes"))
    assert available(db, user) == 0  # dispute won, money not back yet: still frozen
    back = event_body("PAYMENT_UPDATED", "pay_notes", status="RECEIVED", chargeback={"status": "REVERSED"})
    post(
        client,
        back
        | {"payment": back["payment"] | {"refunds": body_for("PAYMENT_PARTIALLY_REFUNDED", "x")["payment"]["refunds"]}},
    )
    assert available(db, user) == 6_000
    notes = db.transaction(lambda s: [n.kind for n in s.scalars(select(Notification).order_by(Notification.id))])
    assert notes == ["payment_approved", "payment_refunded", "payment_frozen", "payment_unfrozen"]
    reasons = db.transaction(
        lambda s: [
            (t.reason, t.kind, t.amount)
            for t in s.scalars(
                select(LedgerTransaction)
                .where(LedgerTransaction.payment_id == payment_id)
                .order_by(LedgerTransaction.id)
            )
        ]
    )
    assert reasons == [
        ("top_up", "credit", 10_000),
        ("refund", "reverse", 4_000),
        ("frozen_chargeback", "freeze", 6_000),
        ("unfrozen", "unfreeze", 6_000),
    ]


def test_a_refused_card_notifies_without_moving_money(client, db, user):
    known_payment(db, user, "pay_refused")
    post(client, body_for("PAYMENT_CREDIT_CARD_CAPTURE_REFUSED", "pay_refused"))
    notes = db.transaction(lambda s: [n.kind for n in s.scalars(select(Notification))])
    assert notes == ["payment_refused"]
    assert available(db, user) == 0


def test_a_chargeback_of_spent_money_leaves_recorded_debt(client, db, user):
    known_payment(db, user, "pay_spent")
    post(client, body_for("PAYMENT_RECEIVED", "pay_spent"))
    db.transaction(lambda s: wallet.reverse(s, user_id=user, amount=7_000, key="spent-elsewhere", reason="test_spend"))
    post(client, body_for("PAYMENT_CHARGEBACK_REQUESTED", "pay_spent"))
    assert db.transaction(wallet.balance, user) == wallet.Balance(-7_000, 0, 10_000)
    debt = db.transaction(
        lambda s: (
            s.scalars(select(LedgerTransaction).where(LedgerTransaction.reason == "frozen_chargeback"))
            .one()
            .created_debt
        )
    )
    assert debt
    lost = event_body("PAYMENT_CHARGEBACK_DISPUTE", "pay_spent", status="CHARGEBACK_DISPUTE")
    post(client, lost | {"payment": lost["payment"] | {"chargeback": {"status": "DISPUTE_LOST"}}})
    assert db.transaction(wallet.balance, user) == wallet.Balance(-7_000, 0, 0)


LIFECYCLE = [
    "PAYMENT_CREATED",
    "PAYMENT_CONFIRMED",
    "PAYMENT_RECEIVED",
    "PAYMENT_PARTIALLY_REFUNDED",
    "PAYMENT_CHARGEBACK_REQUESTED",
    "PAYMENT_CHARGEBACK_DISPUTE",
    "PAYMENT_AWAITING_CHARGEBACK_REVERSAL",
]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.permutations(LIFECYCLE), repeats=st.lists(st.sampled_from(LIFECYCLE), max_size=3))
def test_a_lifecycle_in_any_order_ends_at_the_same_balance(client, db, user, order, repeats):
    asaas_id = f"pay_{uuid.uuid4().hex[:12]}"
    payment_id = known_payment(db, user, asaas_id)
    bodies = {event: body_for(event, asaas_id) for event in LIFECYCLE}
    before = available(db, user)
    for event in [*order, *repeats]:
        assert post(client, bodies[event]).status_code == 200
    # The dispute was won but the money is not back: the 6,000 left after the refund stays frozen.
    assert available(db, user) - before == 0
    row = payment_row(db, payment_id)
    assert (row.credited, row.frozen) == (6_000, 6_000)
    assert db.transaction(wallet.audit) == []


def test_a_burst_of_50_copies_of_one_event_credits_once(app, db, user, backend):
    if backend != "mariadb":
        pytest.skip("the row-lock race is the point on MariaDB; SQLite serializes whole transactions")
    known_payment(db, user, "pay_burst")
    body = json.dumps(body_for("PAYMENT_RECEIVED", "pay_burst"))
    statuses: list[int] = []
    start = threading.Barrier(50)

    def deliver() -> None:
        client = app.test_client()
        start.wait()
        statuses.append(post(client, body).status_code)

    threads = [threading.Thread(target=deliver) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 50
    assert available(db, user) == 10_000
    [row] = deliveries(db)
    assert row.attempts == 50
    assert row.outcome == "applied"


def test_a_delivery_that_fails_to_process_is_kept_and_processed_on_redelivery(client, db, user, monkeypatch):
    from auction.payments import deliveries as processing

    known_payment(db, user, "pay_bug")
    body = body_for("PAYMENT_RECEIVED", "pay_bug")
    real = processing.apply_facts

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(processing, "apply_facts", broken)
    answer = post(client, body)
    assert answer.status_code == 200 and answer.get_json()["outcome"] == "failed"
    [row] = deliveries(db)
    assert (row.outcome, row.detail) == ("failed", "RuntimeError")
    monkeypatch.setattr(processing, "apply_facts", real)
    assert post(client, body).get_json()["outcome"] == "applied"
    assert available(db, user) == 10_000
    [row] = deliveries(db)
    assert row.outcome == "applied" and row.attempts == 2  # the failed delivery was kept; the redelivery counted


def test_database_lost_while_processing_answers_503_and_the_redelivery_processes_it(client, db, user, monkeypatch):
    """A delivery is stored and processed in one transaction: a database lost in the middle takes both back,
    answers 503, and Asaas's redelivery (same event id) stores and applies it once."""
    from auction.db import DatabaseUnavailable
    from auction.payments import deliveries as processing

    known_payment(db, user, "pay_outage")
    body = body_for("PAYMENT_RECEIVED", "pay_outage")
    real = processing.apply_facts

    def database_gone(*args, **kwargs):
        raise DatabaseUnavailable("the database is unavailable")

    monkeypatch.setattr(processing, "apply_facts", database_gone)
    answer = post(client, body)
    assert answer.status_code == 503
    assert deliveries(db) == []
    assert available(db, user) == 0
    monkeypatch.setattr(processing, "apply_facts", real)
    assert post(client, body).get_json()["outcome"] == "applied"
    assert available(db, user) == 10_000
    [row] = deliveries(db)
    assert row.outcome == "applied" and row.attempts == 1  # nothing of the first try was kept
