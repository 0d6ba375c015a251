"""The order page, the wallet's withdrawals (form and socket), and the admin pages for withdrawals, orders, disputes."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from sqlalchemy import select

from auction import clock, wallet
from auction.auctions import closing
from auction.entrypoints import i18n
from auction.extensions import socketio
from auction.models import Order, User, WebhookDelivery, Withdrawal
from tests.support.auctions import fund, new_auction, place
from tests.support.pages import as_user
from tests.support.payments import sim_client, sim_deposit

pytestmark = pytest.mark.usefixtures("fast_passwords")
PASSWORD = "correct horse battery"  # make_user's
ADDRESS = {
    "recipient": "Ana",
    "line1": "Rua A, 1",
    "line2": "",
    "city": "Recife",
    "state": "PE",
    "postal_code": "50000-000",
}


@pytest.fixture
def app_config(app_config):
    return app_config | {
        "ASAAS_SIM_DELIVERY": "inline",
        "WTF_CSRF_ENABLED": False,
        "PUBLIC_URL": "http://sim.test",
        "ASAAS_SIM_CASHOUT_AUTH": "validation_webhook",
    }


@pytest.fixture
def sold(app, db, make_user):
    app.extensions["auction.asaas"] = sim_client(app)
    ids = {"seller": make_user("sol"), "buyer": make_user("ana"), "admin": make_user("root", is_admin=True)}
    ids["stranger"] = make_user("eve")
    fund(db, ids["buyer"], 50_000)
    sim_deposit(app, db, "5000.00")
    auction_id = new_auction(db, ids["seller"], seconds=60, starting_price=20_000, title="Leica M3")
    place(db, auction_id, ids["buyer"], 20_000)
    clock.advance(timedelta(seconds=61))
    db.run(closing.finish_if_due, auction_id, fee_bps=500)
    ids["auction"] = auction_id
    ids["order"] = db.transaction(lambda s: s.scalar(select(Order.id).where(Order.auction_id == auction_id)))
    yield ids
    assert db.transaction(wallet.audit) == []


def test_the_order_walks_from_sale_to_paid_seller_through_its_page(app, db, sold):
    buyer, seller = as_user(app, db, sold["buyer"]), as_user(app, db, sold["seller"])
    page = buyer.get(f"/orders/{sold['order']}").get_data(as_text=True)
    assert "Leica M3" in page and "R$\u00a0200,00" in page and "data-address-form" in page
    assert f"/orders/{sold['order']}" in buyer.get("/me/bids").get_data(as_text=True)
    assert f"/orders/{sold['order']}" in seller.get("/me/auctions").get_data(as_text=True)
    assert f"/orders/{sold['order']}" in seller.get(f"/auctions/{sold['auction']}").get_data(as_text=True)
    assert buyer.post(f"/orders/{sold['order']}/address", data=ADDRESS | {"save": "1"}).status_code == 303
    form = {"carrier": "Correios", "tracking_code": "BR9"}
    assert buyer.post(f"/orders/{sold['order']}/ship", data=form).status_code == 403  # not the seller
    assert seller.post(f"/orders/{sold['order']}/ship", data=form).status_code == 303
    assert "BR9" in buyer.get(f"/orders/{sold['order']}").get_data(as_text=True)
    asked = buyer.post(f"/orders/{sold['order']}/confirm")  # the button asks first, without JavaScript too
    assert asked.status_code == 200 and "R$\u00a0190,00" in asked.get_data(as_text=True)
    assert "no longer open a dispute" in asked.get_data(as_text=True)
    assert db.transaction(wallet.balance, sold["seller"]).available == 0
    assert buyer.post(f"/orders/{sold['order']}/confirm", data={"confirmed": "yes"}).status_code == 303
    assert db.transaction(wallet.balance, sold["seller"]).available == 19_000


def test_strangers_cannot_see_an_order(app, db, sold):
    assert as_user(app, db, sold["stranger"]).get(f"/orders/{sold['order']}").status_code == 403
    assert as_user(app, db, sold["admin"]).get(f"/orders/{sold['order']}").status_code == 200
    assert app.test_client().get(f"/orders/{sold['order']}").status_code == 302  # to the login page
    assert as_user(app, db, sold["buyer"]).get("/orders/999999").status_code == 404


def test_a_bad_address_form_answers_400_and_saves_nothing(app, db, sold):
    buyer = as_user(app, db, sold["buyer"])
    answer = buyer.post(f"/orders/{sold['order']}/address", data=ADDRESS | {"postal_code": "x"})
    assert answer.status_code == 400
    assert db.transaction(lambda s: s.get(Order, sold["order"]).ship_line1) is None


def test_admin_resolves_a_dispute_from_the_disputes_page(app, db, sold):
    buyer, admin = as_user(app, db, sold["buyer"]), as_user(app, db, sold["admin"])
    buyer.post(f"/orders/{sold['order']}/dispute", data={"reason": "Lens scratched"})
    assert "Lens scratched" in admin.get("/admin/disputes").get_data(as_text=True)
    assert "Leica M3" in admin.get("/admin/orders").get_data(as_text=True)
    assert as_user(app, db, sold["seller"]).get("/admin/disputes").status_code == 403
    assert admin.post(f"/admin/orders/{sold['order']}/resolve", data={"decision": "refund"}).status_code == 303
    assert db.transaction(wallet.balance, sold["buyer"]).available == 50_000


def test_withdrawal_from_the_wallet_page_and_admin_approval(app, db, sold):
    buyer, admin = as_user(app, db, sold["buyer"]), as_user(app, db, sold["admin"])
    cpf = db.transaction(lambda s: s.get(User, sold["buyer"]).cpf_cnpj)
    answer = buyer.post(
        "/wallet/withdraw", data={"amount": "100,00", "pix_key": cpf, "pix_key_type": "CPF", "password": PASSWORD}
    )
    assert answer.status_code == 303
    page = buyer.get("/wallet").get_data(as_text=True)
    assert "Withdraw to PIX" in page and 'data-withdrawal-status="pending"' in page
    # Its time is the reader's (São Paulo until the browser says), like every other time: no "(UTC)" label.
    made = db.transaction(lambda s: s.scalars(select(Withdrawal.created_at)).one())
    with app.test_request_context(headers={"Cookie": "lang=en"}):
        shown = i18n.when(made.replace(tzinfo=UTC))
    assert "UTC" not in page and f">{shown}</time></td>" in page and "On its way" in page
    bad = buyer.post(
        "/wallet/withdraw",
        data={"amount": "100,00", "pix_key": "52998224724", "pix_key_type": "CPF", "password": PASSWORD},
    )
    assert bad.status_code == 400
    # Money goes only to the holder's own CPF/CNPJ (WITHDRAWAL_OTHER_KEYS off): the form offers no other key type,
    # and a posted e-mail key is refused saying why, in the reader's language.
    form = page.split("data-withdraw-key-type", 1)[1].split("</select>", 1)[0]
    assert 'value="CPF"' in form and 'value="EMAIL"' not in form
    email = {"amount": "100,00", "pix_key": "ana@example.com", "pix_key_type": "EMAIL", "password": PASSWORD}
    refused = buyer.post("/wallet/withdraw", data=email)
    assert refused.status_code == 400 and "your own CPF or CNPJ" in refused.get_data(as_text=True)
    buyer.set_cookie("lang", "pt_BR")
    assert "seu próprio CPF ou CNPJ" in buyer.post("/wallet/withdraw", data=email).get_data(as_text=True)
    buyer.set_cookie("lang", "en")
    big = buyer.post(
        "/wallet/withdraw", data={"amount": "2.500,00", "pix_key": cpf, "pix_key_type": "CPF", "password": PASSWORD}
    )
    assert big.status_code == 409  # over the R$ 300 left after the sale
    fund(db, sold["buyer"], 300_000)
    buyer.post(
        "/wallet/withdraw", data={"amount": "2.500,00", "pix_key": cpf, "pix_key_type": "CPF", "password": PASSWORD}
    )
    waiting = db.transaction(lambda s: s.scalars(select(Withdrawal).where(Withdrawal.amount == 250_000)).one())
    assert waiting.status == "awaiting_approval"
    assert cpf in admin.get("/admin/withdrawals").get_data(as_text=True)
    assert admin.post(f"/admin/withdrawals/{waiting.id}/approve").status_code == 303
    assert db.transaction(lambda s: s.get(Withdrawal, waiting.id).status) == "pending"


def test_the_withdraw_socket_event_answers_and_pushes_the_status(app, db, sold, make_user):
    http = as_user(app, db, sold["seller"])
    fund(db, sold["seller"], 20_000)
    sio = socketio.test_client(app, flask_test_client=http)
    cpf = db.transaction(lambda s: s.get(User, sold["seller"]).cpf_cnpj)
    ack = sio.emit(
        "withdraw", {"amount": 5_000, "pix_key": cpf, "pix_key_type": "CPF", "password": PASSWORD}, callback=True
    )
    assert ack["ok"] and ack["status"] == "pending"
    statuses = [m["args"][0]["status"] for m in sio.get_received() if m["name"] == "withdrawal"]
    assert statuses[-1] == "pending"
    refused = sio.emit(
        "withdraw", {"amount": 5, "pix_key": "x", "pix_key_type": "EMAIL", "password": PASSWORD}, callback=True
    )
    assert refused["ok"] is False and refused["error"] == "withdrawal_limit"
    anonymous = socketio.test_client(app, flask_test_client=app.test_client())
    assert anonymous.emit("withdraw", {"amount": 5_000}, callback=True)["error"] == "not_logged_in"
    sio.disconnect()
    anonymous.disconnect()


def test_an_admin_reprocesses_a_stored_transfer_delivery(app, db, sold):
    from tests.support.payments import TOKEN

    body = {"id": "evt_t1", "event": "TRANSFER_DONE", "transfer": {"id": "t-unknown", "status": "DONE", "value": 1}}
    answer = app.test_client().post("/payment/webhook", json=body, headers={"asaas-access-token": TOKEN})
    assert answer.get_json()["outcome"] == "unmatched"
    delivery_id = db.transaction(
        lambda s: s.scalar(select(WebhookDelivery.id).where(WebhookDelivery.event_id == "evt_t1"))
    )
    admin = as_user(app, db, sold["admin"])
    assert "TRANSFER_DONE" in admin.get("/admin/deliveries").get_data(as_text=True)
    assert admin.post(f"/admin/deliveries/{delivery_id}/reprocess").status_code == 302
    assert "Re-processed: Unmatched" in admin.get(f"/admin/deliveries/{delivery_id}").get_data(as_text=True)
    result = app.test_cli_runner().invoke(args=["payouts", "replay", "evt_t1"])
    assert result.exit_code == 0 and "unmatched" in result.output


def test_the_scheduler_job_releases_due_orders_and_the_cli_too(app, db, sold):
    from auction.entrypoints.jobs import run_order_release
    from auction.orders import service as orders

    db.run(orders.set_address, orders.SetAddress(sold["order"], sold["buyer"], ADDRESS))
    db.run(orders.ship, orders.Ship(sold["order"], sold["seller"], "Correios", "BR1", release_days=14))
    with app.app_context():
        assert run_order_release(app) == 0
        clock.advance(timedelta(days=14, minutes=1))
        assert run_order_release(app) == 1
    assert app.test_cli_runner().invoke(args=["orders", "release-due"]).output.strip() == "released 0 order(s)"
    assert db.transaction(lambda s: s.get(Order, sold["order"]).resolution) == "automatic"
