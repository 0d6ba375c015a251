"""Top-ups, customers, links, reconciliation and the CLI, against the built-in simulator run in-process."""

from __future__ import annotations

import json
import re
import threading
from datetime import timedelta

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import func, select

from asaas_sim import gateway, sender
from asaas_sim.models import AsaasSimEvent, AsaasSimObject
from auction import clock, wallet
from auction.errors import Invalid
from auction.extensions import socketio
from auction.models import Notification, Payment, User, WebhookDelivery
from auction.outbox import Outbox
from auction.payments import links, queries, reconcile, topups
from auction.payments.client import AsaasClient
from auction.payments.errors import PaymentGatewayError
from auction.payments.events import CreditPolicy
from tests.support.payments import TOKEN, available, payment_row, sim_client, sim_deposit

pytestmark = pytest.mark.usefixtures("audited")
LIMITS = topups.TopUpLimits(min_cents=500, max_cents=1_000_000)
RECONCILE = reconcile.Reconcile(CreditPolicy(), budget=8_000, interval=60, expire_after=timedelta(hours=96))
PASSWORD = "correct horse battery"


@pytest.fixture
def backend() -> str:
    """SQLite for speed; the tests where MariaDB's row locks matter ask for both backends."""
    return "sqlite"


BOTH_BACKENDS = pytest.mark.parametrize("backend", ["sqlite", "mariadb"])


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return app_config | {"ASAAS_SIM_DELIVERY": "inline", "WTF_CSRF_ENABLED": False, "PUBLIC_URL": "http://sim.test"}


@pytest.fixture
def asaas(app) -> AsaasClient:
    client = sim_client(app)
    app.extensions["auction.asaas"] = client
    return client


def topup(db, asaas, user_id: int, amount: int = 5_000, billing_type: str = "PIX") -> topups.TopUp:
    return topups.create_topup(db, asaas, topups.StartTopUp(user_id, amount, LIMITS, billing_type=billing_type))


def press(client, url: str, action: str, **form: str):
    path = url.replace("http://sim.test", "")
    return client.post(f"{path}/{action}", data=form)


def sim_count(db, kind: str) -> int:
    return db.transaction(lambda s: s.scalar(select(func.count()).where(AsaasSimObject.kind == kind)))


def notes(db, user_id: int) -> list[str]:
    return db.transaction(
        lambda s: [
            n.kind
            for n in s.scalars(select(Notification).where(Notification.user_id == user_id).order_by(Notification.id))
        ]
    )


# -- amounts and customers ------------------------------------------------------------------


@pytest.mark.parametrize(
    "amount, message", [(499, "minimum"), (1_000_001, "maximum"), ("50", "whole"), (10.5, "whole")]
)
def test_bad_amounts_are_refused_with_a_clear_message(db, asaas, user, amount, message):
    with pytest.raises(Invalid, match=message):
        topup(db, asaas, user, amount)
    assert db.transaction(lambda s: s.scalar(select(func.count(Payment.id)))) == 0


def test_the_first_top_up_creates_the_customer_and_later_ones_reuse_it(db, asaas, user):
    topup(db, asaas, user)
    topup(db, asaas, user)
    customer = db.transaction(lambda s: s.get(User, user).asaas_customer_id)
    assert customer.startswith("cus_")
    assert sim_count(db, "customer") == 1
    remote = asaas.get_customer(customer)
    assert remote["externalReference"] == str(user) and remote["cpfCnpj"]


def test_an_existing_asaas_customer_is_found_by_reference_not_duplicated(db, asaas, user):
    existing = asaas.create_customer(name="x", cpf_cnpj="52998224725", external_reference=str(user))
    topup(db, asaas, user)
    assert db.transaction(lambda s: s.get(User, user).asaas_customer_id) == existing["id"]
    assert sim_count(db, "customer") == 1


@BOTH_BACKENDS
def test_two_concurrent_first_top_ups_create_one_customer(db, app, user):
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def go() -> None:
        start.wait()
        try:
            with app.app_context():
                topup(db, sim_client(app), user)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=go) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sim_count(db, "customer") == 1
    assert sim_count(db, "payment") == 4


# -- charges ----------------------------------------------------------------------------------


def test_a_top_up_stores_the_payment_and_returns_the_checkout_url(db, asaas, user):
    started = topup(db, asaas, user, 5_000)
    row = payment_row(db, started.payment_id)
    assert (row.status, row.value, row.external_reference) == ("PENDING", 5_000, f"topup-{row.id}")
    assert started.payment_url == row.invoice_url == f"http://sim.test/asaas-sim/i/{row.asaas_payment_id}"
    remote = asaas.get_payment(row.asaas_payment_id)
    assert (remote["billingType"], remote["value"], remote["externalReference"]) == (
        "PIX",
        50.0,
        row.external_reference,
    )


def test_a_failed_charge_leaves_the_row_for_reconciliation_to_find(db, app, asaas, user, httpserver: HTTPServer):
    topup(db, asaas, user)  # the customer exists now
    broken = AsaasClient(base_url=httpserver.url_for("/v3"), api_key="k", retries=1, sleep=lambda _s: None)
    httpserver.expect_request("/v3/payments", method="POST").respond_with_data("", status=503)
    with pytest.raises(PaymentGatewayError):
        topup(db, broken, user, 7_000)
    stuck = db.transaction(lambda s: s.scalars(select(Payment).where(Payment.status == "NEW")).one())
    assert stuck.asaas_payment_id is None and stuck.external_reference == f"topup-{stuck.id}"
    # The charge did reach Asaas after all (created by the first attempt): reconciliation finds it by reference.
    remote = asaas.create_payment(
        customer=stuck.asaas_customer_id,
        value="70.00",
        due_date=(clock.now() + timedelta(days=1)).date().isoformat(),
        external_reference=stuck.external_reference,
        description="retry",
    )
    clock.advance(timedelta(minutes=2))  # webhook-first: a new top-up is first asked about after a minute
    reconcile.reconcile(db, asaas, RECONCILE)
    assert payment_row(db, stuck.id).asaas_payment_id == remote["id"]


def test_a_charge_asaas_never_got_is_abandoned_after_an_hour(db, asaas, user, httpserver: HTTPServer):
    topup(db, asaas, user)
    broken = AsaasClient(base_url=httpserver.url_for("/v3"), api_key="k", retries=1, sleep=lambda _s: None)
    httpserver.expect_request("/v3/payments", method="POST").respond_with_data("", status=500)
    with pytest.raises(PaymentGatewayError):
        topup(db, broken, user, 7_000)
    clock.advance(timedelta(hours=2))
    results = reconcile.reconcile(db, asaas, RECONCILE)
    assert "abandoned" in [r.outcome for r in results]


# -- the checkout page and its webhooks (in-process) ---------------------------------------------------


@BOTH_BACKENDS
def test_paying_on_the_checkout_page_credits_the_wallet_and_notifies(db, client, asaas, user):
    started = topup(db, asaas, user, 5_000)
    page = client.get(started.payment_url.replace("http://sim.test", ""))
    assert page.status_code == 200 and b"Pay with PIX" in page.data
    assert "script" not in page.get_data(as_text=True).split("<main>")[1]
    assert press(client, started.payment_url, "pay").status_code == 302
    assert available(db, user) == 5_000
    assert notes(db, user) == ["payment_approved"]
    row = payment_row(db, started.payment_id)
    assert (row.status, row.credited, row.last_event) == ("RECEIVED", 5_000, "PAYMENT_RECEIVED")
    events = db.transaction(
        lambda s: [(e.event, e.status) for e in s.scalars(select(AsaasSimEvent).order_by(AsaasSimEvent.id))]
    )
    assert events == [("PAYMENT_CREATED", "delivered"), ("PAYMENT_RECEIVED", "delivered")]  # PIX: no CONFIRMED
    assert press(client, started.payment_url, "pay").status_code == 400  # paid already


def test_a_refused_card_is_visibly_refused_and_the_charge_stays_payable(db, client, asaas, user):
    started = topup(db, asaas, user, billing_type="CREDIT_CARD")
    press(client, started.payment_url, "refuse")
    assert notes(db, user) == ["payment_refused"]
    assert available(db, user) == 0
    assert payment_row(db, started.payment_id).status == "REFUSED"
    page = client.get(started.payment_url.replace("http://sim.test", "")).get_data(as_text=True)
    assert "Card refused" in page and "data-card-refused" in page
    assert press(client, started.payment_url, "pay_card").status_code == 302
    assert payment_row(db, started.payment_id).status == "CONFIRMED"


def test_card_then_chargeback_freezes_the_money(db, client, asaas, user):
    started = topup(db, asaas, user, billing_type="CREDIT_CARD")
    press(client, started.payment_url, "card_chargeback")
    assert db.transaction(wallet.balance, user) == wallet.Balance(0, 0, 5_000)
    assert notes(db, user) == ["payment_approved", "payment_frozen"]


def test_admin_buttons_are_admin_only(db, client, asaas, user):
    started = topup(db, asaas, user)
    press(client, started.payment_url, "pay")
    assert press(client, started.payment_url, "refund").status_code == 403
    assert press(client, started.payment_url, "chargeback").status_code == 403


def login(client, username: str) -> None:
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302


def test_an_admin_refunds_part_then_charges_back_then_wins_the_dispute(db, client, asaas, user, make_user):
    make_user("boss", is_admin=True)
    started = topup(db, asaas, user, 10_000)
    press(client, started.payment_url, "pay")
    login(client, "boss")
    assert b"Refund" in client.get(started.payment_url.replace("http://sim.test", "")).data
    press(client, started.payment_url, "refund", value="25.00")
    # The refund is PENDING at Asaas: the 25,00 are frozen, not gone yet.
    assert db.transaction(wallet.balance, user) == wallet.Balance(7_500, 0, 2_500)
    assert payment_row(db, started.payment_id).refunded == 0
    press(client, started.payment_url, "settle_refunds")
    assert db.transaction(wallet.balance, user) == wallet.Balance(7_500, 0, 0)
    press(client, started.payment_url, "chargeback")
    assert db.transaction(wallet.balance, user) == wallet.Balance(0, 0, 7_500)
    press(client, started.payment_url, "dispute_won")
    assert db.transaction(wallet.balance, user) == wallet.Balance(0, 0, 7_500)  # won, money not back yet
    press(client, started.payment_url, "chargeback_reversed")
    assert db.transaction(wallet.balance, user) == wallet.Balance(7_500, 0, 0)
    assert payment_row(db, started.payment_id).refunded == 2_500


def test_the_admin_page_replays_any_event(db, client, asaas, user, make_user):
    make_user("boss", is_admin=True)
    started = topup(db, asaas, user, 10_000)
    asaas_id = payment_row(db, started.payment_id).asaas_payment_id
    assert client.get("/asaas-sim/admin").status_code == 302  # not logged in
    login(client, "boss")
    page = client.get("/asaas-sim/admin").get_data(as_text=True)
    assert page.count('<option value="PAYMENT_') == 29
    for event in ("PAYMENT_RECEIVED", "PAYMENT_REFUNDED"):
        assert client.post("/asaas-sim/admin/replay", data={"payment_id": asaas_id, "event": event}).status_code == 302
    assert available(db, user) == 0
    assert notes(db, user) == ["payment_approved", "payment_refunded"]
    assert client.post("/asaas-sim/admin/replay", data={"payment_id": asaas_id, "event": "NOPE"}).status_code == 400


def test_the_simulator_api_wants_a_key_and_answers_errors_like_asaas(client):
    assert client.get("/asaas-sim/v3/payments/pay_x").status_code == 401
    answer = client.post("/asaas-sim/v3/customers", json={"name": "x", "cpfCnpj": "1"}, headers={"access_token": "k"})
    assert answer.status_code == 400
    assert answer.get_json()["errors"][0]["code"] == "invalid_cpfCnpj"
    missing = client.get("/asaas-sim/v3/payments/pay_x", headers={"access_token": "k"})
    assert missing.status_code == 404


# -- reconciliation, replay, CLI ------------------------------------------------------------------------


@BOTH_BACKENDS
def test_reconcile_applies_a_payment_whose_webhooks_were_lost(db, app, asaas, user):
    started = topup(db, asaas, user, 5_000)
    asaas_id = payment_row(db, started.payment_id).asaas_payment_id
    db.transaction(gateway.apply_events, asaas_id, ("PAYMENT_CONFIRMED", "PAYMENT_RECEIVED"))  # never dispatched
    assert available(db, user) == 0
    assert "checked 0 payment(s)" in app.test_cli_runner().invoke(args=["payments", "reconcile"]).output  # not due
    clock.advance(timedelta(minutes=2))
    result = app.test_cli_runner().invoke(args=["payments", "reconcile"])
    assert result.exit_code == 0, result.output
    assert f"payment {started.payment_id}: applied, wallet moved by 5000 cents" in result.output
    assert available(db, user) == 5_000
    assert "checked 0 payment(s)" in app.test_cli_runner().invoke(args=["payments", "reconcile"]).output


def test_replay_reprocesses_a_stored_delivery_without_a_second_effect(db, app, client, asaas, user):
    started = topup(db, asaas, user, 5_000)
    press(client, started.payment_url, "pay")
    event_id = db.transaction(
        lambda s: s.scalars(select(WebhookDelivery.event_id).where(WebhookDelivery.event == "PAYMENT_RECEIVED")).one()
    )
    result = app.test_cli_runner().invoke(args=["payments", "replay", event_id])
    assert result.exit_code == 0 and "recorded, wallet moved by 0 cents" in result.output
    assert available(db, user) == 5_000
    assert app.test_cli_runner().invoke(args=["payments", "replay", "evt_nope"]).exit_code == 1


def test_send_test_webhook_posts_a_signed_example(app, httpserver: HTTPServer):
    httpserver.expect_request(
        "/payment/webhook", method="POST", headers={"asaas-access-token": TOKEN}
    ).respond_with_json({"received": True})
    result = app.test_cli_runner().invoke(
        args=["payments", "send-test-webhook", "--url", httpserver.url_for("/payment/webhook"), "--payment-id", "pay_t"]
    )
    assert result.exit_code == 0, result.output
    body = json.loads(httpserver.log[0][0].get_data())
    assert body["event"] == "PAYMENT_RECEIVED" and body["payment"]["id"] == "pay_t" and body["id"].startswith("evt_")


# -- payment links and unmatched payments --------------------------------------------------------------------


def test_a_link_payment_is_matched_to_the_user_by_cpf(db, client, asaas, user, make_user):
    admin = make_user("boss", is_admin=True)
    link = links.create_payment_link(db, asaas, links.CreatePaymentLink(admin, "", 2_000, LIMITS))
    assert link.url.startswith("http://sim.test/asaas-sim/c/")
    cpf = db.transaction(lambda s: s.get(User, user).cpf_cnpj)
    answer = client.post(link.url.replace("http://sim.test", ""), data={"name": "Payer", "cpfCnpj": cpf, "email": ""})
    invoice = answer.headers["Location"]
    press(client, invoice, "pay")
    # The webhook did not call Asaas to learn who paid: the payer is looked up by the background job.
    row = db.transaction(lambda s: s.scalars(select(Payment).where(Payment.payment_link_id == link.id)).one())
    assert row.user_id is None and available(db, user) == 0
    [matched] = links.resolve_payers(db, asaas, CreditPolicy())
    assert matched.moved == 2_000 and available(db, user) == 2_000
    row = db.transaction(lambda s: s.scalars(select(Payment).where(Payment.payment_link_id == link.id)).one())
    assert row.user_id == user and row.matched
    assert links.resolve_payers(db, asaas, CreditPolicy()) == []  # looked up once


@BOTH_BACKENDS
def test_an_unmatched_link_payment_is_kept_and_an_admin_assigns_it(db, client, asaas, user, make_user):
    admin = make_user("boss", is_admin=True)
    link = links.create_payment_link(db, asaas, links.CreatePaymentLink(admin, "R$ 30", 3_000, LIMITS))
    stranger = {"name": "Stranger", "cpfCnpj": "123.456.789-09", "email": "stranger@example.org"}
    answer = client.post(link.url.replace("http://sim.test", ""), data=stranger)
    press(client, answer.headers["Location"], "pay")
    unmatched = db.transaction(queries.list_unmatched)
    [row] = unmatched["payments"]
    assert row.user_id is None and not row.matched and row.credited == 0
    outbox = Outbox()
    assert links.resolve_payers(db, asaas, CreditPolicy()) == []  # nobody here has that CPF or email
    assign = links.AssignPayment(row.id, user, policy=CreditPolicy())
    applied = db.run(links.assign_unmatched, assign, outbox=outbox)
    assert applied.moved == 3_000 and available(db, user) == 3_000
    assert [m.event for m in outbox] == ["wallet", "notification", "payment"]
    # The balance in the message is the one the credit left (taken from the row it locked, not read again).
    from auction import wallet

    assert outbox[0].payload == db.transaction(lambda s: wallet.balance(s, user)).as_dict()
    with pytest.raises(Invalid):
        db.run(links.assign_unmatched, assign)


def test_deliveries_are_listed_and_shown_without_secrets(db, client, asaas, user):
    started = topup(db, asaas, user)
    press(client, started.payment_url, "pay")
    rows = db.transaction(lambda s: queries.list_deliveries(s, limit=10))
    assert [r.event for r in rows] == ["PAYMENT_RECEIVED", "PAYMENT_CREATED"]
    shown = db.transaction(queries.get_delivery, rows[0].id)
    assert json.loads(shown["raw_body"])["event"] == "PAYMENT_RECEIVED"
    assert TOKEN not in json.dumps(shown)
    mine = db.transaction(queries.list_user_payments, user)
    assert [p.id for p in mine] == [started.payment_id]


# -- the add_money socket event ------------------------------------------------------------------------------


def test_add_money_over_the_socket_answers_with_the_checkout_url(app, db, asaas, user):
    http = app.test_client()
    login(http, "payer")
    sio = socketio.test_client(app, flask_test_client=http)
    ack = sio.emit("add_money", {"amount": 2_500}, callback=True)
    assert ack["ok"] is True and re.match(r"http://sim.test/asaas-sim/i/pay_\w+", ack["payment_url"])
    assert sio.emit("add_money", {"amount": 1}, callback=True)["error"] == "invalid"
    assert sio.emit("add_money", "junk", callback=True)["error"] == "invalid"
    http.post(ack["payment_url"].replace("http://sim.test", "") + "/pay")
    wallet_updates = [m["args"][0] for m in sio.get_received() if m["name"] == "wallet"]
    assert wallet_updates[-1]["available"] == 2_500
    sio.disconnect()
    anonymous = socketio.test_client(app)
    assert anonymous.emit("add_money", {"amount": 2_500}, callback=True)["error"] == "not_logged_in"
    anonymous.disconnect()
    assert db.transaction(wallet.audit) == []


def test_the_simulator_retries_a_webhook_until_the_site_answers_200(db, app, asaas, user, monkeypatch):
    started = topup(db, asaas, user, 5_000)
    asaas_id = payment_row(db, started.payment_id).asaas_payment_id
    [event_id] = db.transaction(gateway.apply_events, asaas_id, ("PAYMENT_RECEIVED",))
    answers = iter([503, 0, 200])
    sent: list[dict] = []

    def flaky(_app, body: str, _hook) -> int:
        payload = json.loads(body)
        if payload["id"] != event_id:
            return 200  # a background delivery left over from an earlier test, sleeping on the same hub
        sent.append(payload)
        return next(answers)

    monkeypatch.setattr(sender, "_post", flaky)
    sender.deliver_events(app, [event_id], delays=(0.01, 0.01, 0.01))
    row = db.transaction(lambda s: s.scalars(select(AsaasSimEvent).where(AsaasSimEvent.event_id == event_id)).one())
    assert (row.status, row.attempts, row.last_status) == ("delivered", 3, 200)
    assert {body["id"] for body in sent} == {event_id} and sent[0]["payment"]["status"] == "RECEIVED"


def test_the_simulator_gives_up_after_its_last_retry(db, app, asaas, user, monkeypatch):
    started = topup(db, asaas, user, 5_000)
    asaas_id = payment_row(db, started.payment_id).asaas_payment_id
    [event_id] = db.transaction(gateway.apply_events, asaas_id, ("PAYMENT_RECEIVED",))
    monkeypatch.setattr(sender, "_post", lambda _app, _body, _hook: 500)
    sender.deliver_events(app, [event_id], delays=(0.01,))
    row = db.transaction(lambda s: s.scalars(select(AsaasSimEvent).where(AsaasSimEvent.event_id == event_id)).one())
    assert (row.status, row.attempts) == ("failed", 2)
    assert event_id in db.transaction(sender.pending_event_ids)


def signed_in(app, db, user_id: int, **cookies: str):
    from auction import accounts

    reader = app.test_client()
    for name, value in cookies.items():
        reader.set_cookie(name, value)
    with reader.session_transaction() as session:
        session["sid"] = db.transaction(accounts.start_session, user_id)
    return reader


@pytest.mark.parametrize("credit_value", ["gross", "net"])
def test_asaas_fee_is_shown_to_the_payer_only_when_it_comes_out_of_their_credit(
    app, db, client, asaas, user, credit_value
):
    app.config["ASAAS_CREDIT_VALUE"] = credit_value
    started = topup(db, asaas, user, 5_000)
    press(client, started.payment_url, "pay")
    row = payment_row(db, started.payment_id)
    assert row.net_value is not None and row.net_value < row.value
    reader = signed_in(app, db, user)
    pages = [reader.get(url).get_data(as_text=True) for url in ("/wallet/payments", f"/wallet/payments/{row.id}")]
    shown = ["Asaas fee" in pages[0], "data-asaas-fee" in pages[1]]
    assert shown == ([True, True] if credit_value == "net" else [False, False])
    assert row.credited == (row.net_value if credit_value == "net" else row.value)


def test_the_simulator_keeps_asaas_s_calendar_in_brasilia_time(app, db, asaas):
    """At 01:30 UTC it is still yesterday in São Paulo: Asaas takes a charge due that day (UTC's date would call
    it past due) and dates the payment, and the statement line, on the Brasília day."""
    now = clock.now()
    target = (now + timedelta(days=1)).replace(hour=1, minute=30, second=0, microsecond=0)
    clock.advance(target - now)
    brasilia_today = (target - timedelta(hours=3)).date().isoformat()
    customer = asaas.create_customer(name="Ana Souza", cpf_cnpj="24971563792", external_reference="cal-1")
    charge = asaas.create_payment(
        customer=customer["id"], value="10.00", due_date=brasilia_today, external_reference="cal-1", description="x"
    )
    assert charge["dueDate"] == charge["dateCreated"] == brasilia_today
    sim_deposit(app, db, "25.00")
    day = (target - timedelta(hours=3)).date()
    assert [line["date"] for line in asaas.financial_transactions(day, day)] == [brasilia_today]


def test_asaas_dates_are_brasilia_time_the_due_date_sent_and_the_pix_expiry_shown(db, app, asaas, user):
    """Asaas's dueDate and expirationDate are Brasília time (UTC-3): 01:30 UTC is still yesterday there, and a
    PIX code valid until 23:59:59 is shown as 23:59 to a reader in São Paulo, not three hours early."""
    from datetime import UTC, datetime

    from auction.models import PaymentInstructions

    now = clock.now()
    target = (now + timedelta(days=1)).replace(hour=1, minute=30, second=0, microsecond=0)
    clock.advance(target - now)
    started = topup(db, asaas, user)
    asaas_id = payment_row(db, started.payment_id).asaas_payment_id
    due = (target - timedelta(hours=3)).date() + timedelta(days=topups.DUE_DAYS)
    assert asaas.get_payment(asaas_id)["dueDate"] == due.isoformat()

    page = (
        signed_in(app, db, user, tz="America/Sao_Paulo")
        .get(f"/wallet/payments/{started.payment_id}")
        .get_data(as_text=True)
    )
    # The code's own expirationDate, as Asaas writes it: "YYYY-MM-DD 23:59:59", Brasília time.
    expires = datetime.fromisoformat(asaas.pix_qr_code(asaas_id)["expirationDate"])
    assert (expires.hour, expires.minute) == (23, 59)
    shown = re.search(r"data-pix-expires>Valid until ([^<]+)\.<", page)
    assert shown is not None and shown.group(1) == f"{expires.day} {expires:%b %Y}, 23:59"
    stored = db.transaction(lambda s: s.get(PaymentInstructions, started.payment_id).expires_at)
    assert stored.replace(tzinfo=UTC) == expires.replace(tzinfo=UTC) + timedelta(hours=3)
