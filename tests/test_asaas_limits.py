"""Issue #15, limits and integration: every body answered 200, no Asaas call in the webhook, reconciliation within
the quota, the webhook at Asaas, the simulator behaving like Asaas, and PIX paid on our own page."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
import requests
from sqlalchemy import select

from asaas_sim import account as sim_account
from asaas_sim import gateway, sender
from asaas_sim.models import AsaasSimEvent
from auction import clock, wallet
from auction.extensions import socketio
from auction.models import AsaasApiUsage, Notification, Payment, WebhookDelivery
from auction.payments import deliveries, instructions, quota, reconcile, topups
from auction.payments.client import AsaasClient, AsaasRateLimited
from auction.payments.events import CreditPolicy
from auction.payments.levels import Applied, Outcome
from tests.support.payments import TOKEN, available, event_body, payment_row, post, sim_client, sim_settings

pytestmark = pytest.mark.usefixtures("audited")
LIMITS = topups.TopUpLimits(min_cents=500, max_cents=1_000_000)
PASSWORD = "correct horse battery"


@pytest.fixture
def app_config(app_config: dict) -> dict:
    return app_config | {
        "ASAAS_SIM_DELIVERY": "inline",
        "WTF_CSRF_ENABLED": False,
        "PUBLIC_URL": "http://sim.test",
        "ASAAS_SIM_CARD_RECEIVE_DELAY": 3600,
    }


class CountingMeter:
    def __init__(self) -> None:
        self.statuses: list[int] = []

    def observed(self, *, status: int, **_headers) -> None:
        self.statuses.append(status)


@pytest.fixture
def meter() -> CountingMeter:
    return CountingMeter()


@pytest.fixture
def asaas(app, meter) -> AsaasClient:
    client = sim_client(app)
    client.meter = meter
    app.extensions["auction.asaas"] = client
    return client


def topup(db, asaas, user_id: int, amount: int = 5_000, billing_type: str = "PIX") -> topups.TopUp:
    command = topups.StartTopUp(
        user_id, amount, LIMITS, billing_type=billing_type, return_url="http://sim.test/wallet/payments/{id}"
    )
    return topups.create_topup(db, asaas, command)


def press(client, url: str, action: str, **form: str):
    return client.post(f"{url.replace('http://sim.test', '')}/{action}", data=form)


def login(client, username: str) -> None:
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302


def stored(db) -> list[WebhookDelivery]:
    return db.transaction(lambda s: list(s.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id))))


def sim_events(db) -> list[str]:
    return db.transaction(lambda s: [e.event for e in s.scalars(select(AsaasSimEvent).order_by(AsaasSimEvent.id))])


def command(budget: int = 8_000) -> reconcile.Reconcile:
    return reconcile.Reconcile(CreditPolicy(), budget=budget, interval=60, expire_after=timedelta(hours=96))


# -- every authentic body is answered 200 --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"id": "evt_c1", "event": "CHECKOUT_PAID", "checkout": {"id": "chk_1"}},
        {"id": "evt_t1", "event": "TRANSFER_DONE", "transfer": {"id": "tra_1", "value": 10}, "account": {"id": "a"}},
        {"id": "evt_s1", "event": "SUBSCRIPTION_CREATED", "subscription": {"id": "sub_1"}},
        {"id": "evt_i1", "event": "INVOICE_AUTHORIZED", "invoice": {"id": "inv_1"}},
        {"id": "evt_u1", "event": "SOMETHING_NEW_FROM_ASAAS", "payload": [1, 2]},
        {"id": "evt_p1", "event": "PAYMENT_RECEIVED"},
        {"event": "PAYMENT_RECEIVED", "payment": {"id": "pay_noid"}},
        {"id": "evt_n1", "payment": {"id": "pay_noevent"}},
        {"type": "TRANSFER", "transfer": {"id": "tra_2"}},
        [1, 2],
    ],
    ids=[
        "checkout",
        "transfer",
        "subscription",
        "invoice",
        "unknown",
        "no-payment",
        "no-id",
        "no-event",
        "typed",
        "array",
    ],
)
def test_every_authentic_json_body_is_stored_and_answered_200(client, db, body):
    assert post(client, body).status_code == 200
    [row] = stored(db)
    assert json.loads(row.raw_body) == body
    assert row.outcome in {"stored", "unmatched"}
    assert post(client, body).get_json()["outcome"] == "duplicate"  # a redelivery, even without an event id


def test_an_unreadable_payment_is_stored_as_failed_and_answered_200(client, db, user):
    body = event_body("PAYMENT_RECEIVED", "pay_bad") | {"payment": {"id": "pay_bad", "value": "x"}}
    answer = post(client, body)
    assert answer.status_code == 200 and answer.get_json()["outcome"] == "failed"
    assert "not a decimal amount" in stored(db)[0].detail


def test_another_kind_of_event_plugs_in_with_one_registration(client, db, monkeypatch):
    seen: list[str] = []

    def process_transfer(uow, command, row, body):
        seen.append(body["transfer"]["id"])
        return Applied(None, Outcome.RECORDED)

    monkeypatch.setitem(deliveries.PROCESSORS, "TRANSFER_", process_transfer)
    assert post(client, {"id": "evt_tx", "event": "TRANSFER_DONE", "transfer": {"id": "tra_9"}}).status_code == 200
    assert seen == ["tra_9"] and stored(db)[0].outcome == "recorded"


# -- no call to Asaas inside the webhook ---------------------------------------------------------------------------


def test_the_webhook_never_calls_asaas_even_for_an_unknown_link_payer(app, client, db, asaas, user, make_user):
    from auction.payments import links

    admin = make_user("boss", is_admin=True)
    link = links.create_payment_link(db, asaas, links.CreatePaymentLink(admin, "", 2_000, LIMITS))
    asaas_calls: list[str] = []

    class Refusing(requests.Session):
        def send(self, request, **kwargs):
            asaas_calls.append(request.url)
            raise AssertionError("the webhook called Asaas")

    app.extensions["auction.asaas"] = AsaasClient(base_url="http://asaas.invalid/v3", api_key="k", session=Refusing())
    body = event_body("PAYMENT_RECEIVED", "pay_link1", status="RECEIVED", paymentLink=link.asaas_link_id)
    assert post(client, body).status_code == 200
    assert asaas_calls == []
    row = db.transaction(lambda s: s.scalars(select(Payment).where(Payment.asaas_payment_id == "pay_link1")).one())
    assert row.user_id is None and row.asaas_customer_id == "cus_000000000001"


# -- reconciliation within the quota -------------------------------------------------------------------------------


def test_a_webhooked_payment_is_not_polled_and_an_open_one_backs_off(db, client, asaas, meter, user):
    paid = topup(db, asaas, user)
    press(client, paid.payment_url, "pay")
    waiting = topup(db, asaas, user)
    meter.statuses.clear()
    gaps = []
    for _ in range(5):
        due = payment_row(db, waiting.payment_id).next_check_at
        gaps.append(round((due - clock.now()).total_seconds() / 60))
        clock.advance(due - clock.now() + timedelta(seconds=1))
        reconcile.reconcile(db, asaas, command())
    assert gaps == [1, 10, 60, 360, 1440]  # after creation, then after each check: 10 min, 1 h, 6 h, daily
    assert payment_row(db, waiting.payment_id).checks == 5
    assert len(meter.statuses) == 5  # one request per check, none for the paid payment
    assert payment_row(db, paid.payment_id).checks == 0


def test_many_due_payments_are_read_with_the_list_endpoint(db, asaas, meter, user):
    started = [topup(db, asaas, user, 1_000 + i) for i in range(12)]
    clock.advance(timedelta(minutes=2))
    meter.statuses.clear()
    results = reconcile.reconcile(db, asaas, command())
    assert len(results) == 12
    assert len(meter.statuses) == 1  # one page of 100, not 12 GETs
    assert all(payment_row(db, s.payment_id).checks == 1 for s in started)


def test_a_round_never_spends_more_than_its_share_of_the_budget(db, asaas, meter, user):
    topup(db, asaas, user)
    clock.advance(timedelta(minutes=2))
    meter.statuses.clear()
    assert reconcile.reconcile(db, asaas, command(budget=0)) == []
    assert meter.statuses == []


def test_an_abandoned_top_up_is_deleted_at_asaas_and_never_asked_about_again(db, asaas, meter, user):
    started = topup(db, asaas, user)
    asaas_id = payment_row(db, started.payment_id).asaas_payment_id
    clock.advance(timedelta(hours=97))
    results = reconcile.reconcile(db, asaas, command())
    assert Outcome.ABANDONED in [r.outcome for r in results]
    assert asaas.get_payment(asaas_id)["deleted"] is True
    row = payment_row(db, started.payment_id)
    assert (row.status, row.next_check_at) == ("DELETED", None)
    meter.statuses.clear()
    clock.advance(timedelta(days=30))
    reconcile.reconcile(db, asaas, command())
    assert meter.statuses == []


def test_the_meter_counts_requests_and_a_429_blocks_the_next_round(app, db, user, httpserver):
    meter = quota.QuotaMeter(db)
    client = AsaasClient(base_url=httpserver.url_for("/v3"), api_key="k", meter=meter, sleep=lambda _s: None)
    httpserver.expect_request("/v3/payments/pay_q").respond_with_data(
        "", status=429, headers={"RateLimit-Limit": "25000", "RateLimit-Remaining": "0", "RateLimit-Reset": "120"}
    )
    with pytest.raises(AsaasRateLimited):
        client.get_payment("pay_q")
    usage = db.transaction(quota.usage, 8_000)
    assert (usage.requests, usage.rate_limited, usage.last_remaining, usage.blocked) == (1, 1, 0, True)
    assert db.transaction(quota.round_allowance, 8_000, 60) == 0
    clock.advance(timedelta(minutes=3))
    # RateLimit-Remaining: 0 was that endpoint's window, not the 12-hour quota: rounds go on once the reset passed.
    assert db.transaction(quota.round_allowance, 8_000, 60) > 0


def test_reconciliation_stops_only_when_our_own_count_nears_the_quota(db):
    # Half-way through a 12-hour window, so 1,000 requests are behind the pro-rata pace whatever the hour the
    # suite runs at (a CI run at 00:05 UTC found 1,000 ahead of the pace five minutes into a window).
    start = quota.window_start(clock.now())
    clock.advance(start + quota.WINDOW / 2 - clock.now())

    def used(session, count):
        session.add(
            AsaasApiUsage(
                window_start=quota.window_start(clock.now()),
                requests=count,
                rate_limited=0,
                last_limit=100,
                last_remaining=3,  # a per-endpoint header: says nothing about the quota
                updated_at=clock.now(),
            )
        )

    db.transaction(used, 1_000)
    usage = db.transaction(quota.usage, 8_000)
    assert usage.percent_of_quota == 4 and db.transaction(quota.round_allowance, 8_000, 3_600) > 0
    db.transaction(lambda s: s.get(AsaasApiUsage, usage.window_start).__setattr__("requests", 22_500))
    assert db.transaction(quota.round_allowance, 8_000, 3_600) == 0


def test_the_admin_page_shows_the_meter_and_the_webhook_queue(app, client, db, asaas, user, make_user):
    make_user("boss", is_admin=True)
    started = topup(db, asaas, user)
    app.extensions["auction.asaas"].meter = quota.QuotaMeter(db)
    asaas.get_customer(payment_row(db, started.payment_id).asaas_customer_id)
    login(client, "boss")
    page = client.get("/admin/payments").get_data(as_text=True)
    assert "Asaas API this 12-hour window: 1 requests" in page
    health = client.get("/admin/payments/asaas").get_data(as_text=True)
    assert "No webhook for this site is registered at Asaas." in health
    # The simulator's per-endpoint RateLimit headers, beside our own count of the quota.
    assert "<code>GET /customers/{id}</code>" in health and "Counted from our own requests" in health
    assert client.post("/admin/payments/asaas/setup").status_code == 302
    assert "data-queue-running" in client.get("/admin/payments/asaas").get_data(as_text=True)


# -- the webhook at Asaas: setup, status, the paused queue, resume -------------------------------------------------


def test_webhook_setup_status_and_resume_after_asaas_paused_the_queue(app, client, db, asaas, user, monkeypatch):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["payments", "webhook", "setup"])
    assert result.exit_code == 0 and "queue running" in result.output, result.output
    [hook] = asaas.list_webhooks()
    assert hook["url"] == "http://sim.test/payment/webhook" and hook["sendType"] == "NON_SEQUENTIALLY"
    assert "PAYMENT_BANK_SLIP_CANCELLED" in hook["events"] and "TRANSFER_DONE" in hook["events"]
    assert hook.get("authToken") is None  # never shown back
    assert runner.invoke(args=["payments", "webhook", "setup"]).exit_code == 0  # idempotent: updated, not added
    assert len(asaas.list_webhooks()) == 1
    started = topup(db, asaas, user)
    asaas_id = payment_row(db, started.payment_id).asaas_payment_id
    monkeypatch.setattr(sender, "_post", lambda _app, _body, _hook: 500)
    event_ids = db.transaction(gateway.apply_events, asaas_id, ("PAYMENT_RECEIVED",) * 2)
    sender.deliver_events(app, event_ids, delays=(0.0,) * 14)  # 15 failed attempts in a row
    status = runner.invoke(args=["payments", "webhook", "status"])
    assert status.exit_code == 1 and "interrupted" in status.output
    monkeypatch.undo()
    sender.deliver_events(app, db.transaction(sender.pending_event_ids), delays=())  # nothing goes out while paused
    assert available(db, user) == 0
    resumed = runner.invoke(args=["payments", "webhook", "resume"])
    assert resumed.exit_code == 0 and "queue running" in resumed.output
    assert available(db, user) == 5_000  # what waited was delivered


# -- the simulator behaves like Asaas ------------------------------------------------------------------------------


def test_pix_goes_created_then_received_and_payloads_carry_the_account(db, client, asaas, user):
    started = topup(db, asaas, user)
    answer = press(client, started.payment_url, "pay")
    assert answer.headers["Location"] == f"http://sim.test/wallet/payments/{started.payment_id}"  # callback.successUrl
    assert sim_events(db) == ["PAYMENT_CREATED", "PAYMENT_RECEIVED"]
    body = json.loads(stored(db)[-1].raw_body)
    assert body["account"]["id"] and body["payment"]["billingType"] == "PIX"


def test_a_card_is_confirmed_then_received_after_the_delay(db, client, asaas, user):
    started = topup(db, asaas, user, billing_type="CREDIT_CARD")
    page = client.get(started.payment_url.replace("http://sim.test", "")).get_data(as_text=True)
    assert re.search(r"data-billing-type[^>]*>CREDIT_CARD<", page) and "Pay with PIX" not in page
    press(client, started.payment_url, "pay_card")
    assert payment_row(db, started.payment_id).status == "CONFIRMED" and available(db, user) == 0
    clock.advance(timedelta(hours=1, seconds=1))
    asaas.get_payment(payment_row(db, started.payment_id).asaas_payment_id)  # Asaas releases it on its own
    assert sim_events(db) == ["PAYMENT_CREATED", "PAYMENT_CONFIRMED", "PAYMENT_RECEIVED"]
    assert available(db, user) == 5_000


def test_a_refund_is_pending_then_done(db, client, asaas, user, make_user):
    make_user("boss", is_admin=True)
    started = topup(db, asaas, user, 10_000)
    press(client, started.payment_url, "pay")
    asaas_id = payment_row(db, started.payment_id).asaas_payment_id
    refunded = asaas.refund_payment(asaas_id, "40.00")
    assert refunded["status"] == "REFUND_IN_PROGRESS" and refunded["refunds"][0]["status"] == "PENDING"
    assert db.transaction(wallet.balance, user) == wallet.Balance(6_000, 0, 4_000)
    login(client, "boss")
    press(client, started.payment_url, "settle_refunds")
    assert db.transaction(wallet.balance, user) == wallet.Balance(6_000, 0, 0)
    assert asaas.get_payment(asaas_id)["refunds"][0]["status"] == "DONE"


def test_lists_page_with_has_more_like_asaas(client, asaas, db, user):
    for amount in range(1_000, 1_012):
        topup(db, asaas, user, amount)
    first = client.get("/asaas-sim/v3/payments?limit=5", headers={"access_token": "k"}).get_json()
    assert (first["hasMore"], first["limit"], first["totalCount"], len(first["data"])) == (True, 5, 12, 5)
    last = client.get("/asaas-sim/v3/payments?limit=5&offset=10", headers={"access_token": "k"}).get_json()
    assert (last["hasMore"], len(last["data"])) == (False, 2)
    assert client.get("/asaas-sim/v3/payments", headers={"access_token": "k"}).get_json()["limit"] == 10


@pytest.mark.parametrize("chaos", [["duplicate"], ["reorder"], ["duplicate", "reorder"]])
def test_duplicated_and_reordered_deliveries_end_at_the_same_balance(app, db, client, asaas, user, chaos):
    app.config["ASAAS_SIM_CHAOS"] = chaos
    started = topup(db, asaas, user, 10_000)
    press(client, started.payment_url, "card_chargeback")
    copies = db.transaction(lambda s: [d.attempts for d in s.scalars(select(WebhookDelivery))])
    assert ("duplicate" not in chaos) or max(copies) == 2
    assert db.transaction(wallet.balance, user) == wallet.Balance(0, 0, 10_000)


# -- PIX on our own page, end to end -------------------------------------------------------------------------------


def test_pix_on_our_page_through_the_simulator_to_a_credited_wallet(app, db, client, asaas, user):
    login(client, "payer")
    sio = socketio.test_client(app, flask_test_client=client)
    ack = sio.emit("add_money", {"amount": 4_200, "billing_type": "PIX"}, callback=True)
    assert ack["ok"] and ack["pay_url"] == f"/wallet/payments/{ack['payment_id']}"
    page = client.get(ack["pay_url"]).get_data(as_text=True)
    assert "data-pix-qr" in page and "br.gov.bcb.pix" in page and 'data-paid="false"' in page
    calls = asaas.meter.statuses[:]
    assert client.get(ack["pay_url"]).status_code == 200 and asaas.meter.statuses == calls  # kept, not refetched
    press(client, ack["payment_url"], "pay")
    [paid] = [m["args"][0] for m in sio.get_received() if m["name"] == "payment" and m["args"][0]["paid"]]
    assert (paid["payment_id"], paid["credited"]) == (ack["payment_id"], 4_200)
    assert available(db, user) == 4_200
    assert 'data-paid="true"' in client.get(ack["pay_url"]).get_data(as_text=True)
    sio.disconnect()


def test_a_boleto_shows_its_line_and_a_card_its_invoice_link(db, asaas, user):
    boleto = topup(db, asaas, user, billing_type="BOLETO")
    page = instructions.pay_page(db, asaas, boleto.payment_id, user)
    assert page.kind == "boleto" and page.code.startswith("23793.")
    card = topup(db, asaas, user, billing_type="CREDIT_CARD")
    page = instructions.pay_page(db, asaas, card.payment_id, user)
    assert page.kind is None and page.invoice_url == card.payment_url


def test_someone_elses_pay_page_is_not_found(client, db, asaas, user, make_user):
    started = topup(db, asaas, user)
    make_user("other")
    login(client, "other")
    assert client.get(f"/wallet/payments/{started.payment_id}").status_code == 404


def test_the_token_is_never_in_what_the_simulator_lists(asaas, app):
    asaas.create_webhook({"name": "x", "url": "http://sim.test/payment/webhook", "authToken": TOKEN})
    assert TOKEN not in json.dumps(asaas.list_webhooks())


def test_a_bad_billing_type_is_refused_and_writes_nothing(app, db, client, asaas, user):
    login(client, "payer")
    sio = socketio.test_client(app, flask_test_client=client)
    ack = sio.emit("add_money", {"amount": 2_500, "billing_type": "BITCOIN"}, callback=True)
    assert (ack["ok"], ack["error"]) == (False, "invalid")
    sio.disconnect()
    assert db.transaction(lambda s: s.scalars(select(Payment)).all()) == []


def test_without_javascript_the_form_leads_to_our_pay_page(db, client, asaas, user):
    login(client, "payer")
    answer = client.post("/wallet/topup", data={"amount": "30,00", "billing_type": "BOLETO"})
    [payment] = db.transaction(lambda s: s.scalars(select(Payment)).all())
    assert answer.headers["Location"] == f"/wallet/payments/{payment.id}"
    page = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "data-boleto-line" in page and payment.billing_type == "BOLETO"


def test_webhook_status_says_when_none_is_registered(app, asaas):
    result = app.test_cli_runner().invoke(args=["payments", "webhook", "status"])
    assert result.exit_code == 0 and "no webhook for this site at Asaas" in result.output


def test_an_updated_charge_gets_a_new_qr_code(db, client, asaas, meter, user):
    started = topup(db, asaas, user)
    instructions.pay_page(db, asaas, started.payment_id, user)
    asaas_id = payment_row(db, started.payment_id).asaas_payment_id
    post(client, event_body("PAYMENT_UPDATED", asaas_id, value="60.00", status="PENDING"))
    meter.statuses.clear()
    page = instructions.pay_page(db, asaas, started.payment_id, user)
    assert page.kind == "pix" and meter.statuses == [200]  # fetched anew


# -- the ledger against the Asaas balance and statement --------------------------------------------------------


def test_the_balance_check_finds_a_planted_difference(app, client, db, asaas, user, make_user):
    """Money in through a paid top-up and out through a withdrawal match line by line; a deposit nobody
    credited (planted) is listed, with the balance it puts off, by the command and as an admin alert."""
    make_user("boss", is_admin=True)
    started = topup(db, asaas, user, 20_000)
    press(client, started.payment_url, "pay")
    assert available(db, user) == 20_000
    runner = app.test_cli_runner()
    # Asaas kept its fee (1 % in the simulator): the ledger records it as the platform's expense, so all matches.
    clean = runner.invoke(args=["payments", "reconcile-balance"])
    assert clean.exit_code == 0 and "Asaas balance R$ 198,00, ledger expects R$ 198,00" in clean.output, clean.output
    assert db.transaction(wallet.derived_balance, wallet.ASAAS_FEES) == 200
    with app.app_context():
        db.transaction(sim_account.deposit, Decimal("12.34"))  # money at Asaas the ledger never heard of
    found = runner.invoke(args=["payments", "reconcile-balance"])
    assert found.exit_code == 1
    assert "DEPOSIT R$ 12,34" in found.output and "no counterpart in the ledger" in found.output
    assert "BALANCE" in found.output
    alerts = db.transaction(
        lambda s: [n.message for n in s.scalars(select(Notification).where(Notification.kind == "admin_alert"))]
    )
    assert any("DEPOSIT" in text for text in alerts)
    login(client, "boss")
    client.set_cookie("lang", "pt_BR")
    page = client.post("/admin/payments/asaas/balance-check").get_data(as_text=True)
    assert "data-balance-differences" in page and "uma movimentação sem contrapartida no livro-razão" in page
    assert "<title>" in page and "data-balance-check" not in page.split("</title>", 1)[0]


def test_a_pix_refund_the_site_did_not_ask_for_is_refused_by_the_validation_webhook(
    app, db, client, asaas, user, make_user
):
    """With "Ativar autorização de saque para estornos Pix", Asaas asks the validation webhook about a PIX refund;
    the site asks for none, so one made in the panel is refused and cancelled, and the wallet keeps its money."""
    make_user("boss", is_admin=True)
    sim_settings(app, db, cashoutAuth="validation_webhook", pixRefundValidation=True)
    started = topup(db, asaas, user, 10_000)
    press(client, started.payment_url, "pay")
    asaas_id = payment_row(db, started.payment_id).asaas_payment_id
    asaas.refund_payment(asaas_id, "40.00")
    refunds = asaas.get_payment(asaas_id)["refunds"]
    assert [r["status"] for r in refunds] == ["CANCELLED"]
    assert db.transaction(wallet.balance, user) == wallet.Balance(10_000, 0, 0)
    alerts = db.transaction(
        lambda s: [n.message for n in s.scalars(select(Notification).where(Notification.kind == "admin_alert"))]
    )
    assert any("PIX_REFUND" in text and "asked for no PIX refund" in text for text in alerts)
