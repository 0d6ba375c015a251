"""Withdrawals to a PIX key through Asaas transfers: limits, holds, the simulator, TRANSFER_* webhooks in any
order with duplicates, the validation webhook, a lost answer, racing withdrawals. Both backends; audited."""

from __future__ import annotations

import dataclasses
import json
import random
import re
import threading
import uuid
from datetime import date
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from asaas_sim import account as sim_account
from asaas_sim import sender
from asaas_sim import transfers as sim_transfers
from asaas_sim.models import AsaasSimObject, create_tables
from auction import wallet
from auction.errors import Forbidden, Invalid
from auction.models import Notification, User, Withdrawal
from auction.outbox import Outbox
from auction.payments.client import AsaasInvalid
from auction.payouts import queries as payout_queries
from auction.payouts import withdrawals as w
from auction.payouts.pix import KeyOwnerMismatch, KeyType, KeyTypeNotAllowed, parse_key
from auction.payouts.reconcile import reconcile
from tests.conftest import VALID_CPFS
from tests.support.auctions import fund, held, new_auction, place
from tests.support.payments import TOKEN, WSGIAdapter, sim_client, sim_deposit, sim_settings

pytestmark = pytest.mark.usefixtures("fast_passwords")
LIMITS = w.WithdrawalLimits(min_cents=1_000, max_cents=50_000, daily_cents=80_000, approval_cents=30_000)
OTHER_KEYS = dataclasses.replace(LIMITS, other_keys=True)  # WITHDRAWAL_OTHER_KEYS=true


@pytest.fixture
def app_config(app_config):
    return app_config | {
        "ASAAS_SIM_DELIVERY": "inline",
        "WTF_CSRF_ENABLED": False,
        "PUBLIC_URL": "http://sim.test",
        "ASAAS_SIM_CASHOUT_AUTH": "validation_webhook",
    }


@pytest.fixture
def seller(app, db, make_user):
    make_user("root", is_admin=True)
    user_id = make_user("sol")
    fund(db, user_id, 100_000)
    sim_deposit(app, db, "1000.00")  # the Asaas account holds what the wallets hold
    yield user_id
    assert db.transaction(wallet.audit) == []


def cpf_of(db, user_id: int) -> str:
    return db.transaction(lambda s: s.get(User, user_id).cpf_cnpj)


def request(db, user_id: int, amount: Any, key: str | None = None, key_type: str = "CPF", limits=LIMITS) -> Withdrawal:
    key = key if key is not None else cpf_of(db, user_id)
    return db.run(w.request_withdrawal, w.RequestWithdrawal(user_id, amount, key, key_type, limits))


def row(db, withdrawal_id: int) -> Withdrawal:
    return db.transaction(lambda s: s.get(Withdrawal, withdrawal_id))


def available(db, user_id: int) -> int:
    return db.transaction(wallet.balance, user_id).available


def sent_as(db, withdrawal_id: int, remote: dict) -> None:
    """As if `submit` had sent it and Asaas answered with `remote`."""
    db.run(w.claim, withdrawal_id)
    db.run(w.attach, withdrawal_id, remote)


def sim_finish(app, db, transfer_id: str, outcome: str) -> None:
    with app.test_request_context():
        sender.dispatch(db.transaction(sim_transfers.finish, transfer_id, outcome))


def sim_transfer_count(db) -> int:
    db.transaction(create_tables)
    return db.transaction(lambda s: s.scalar(select(func.count()).where(AsaasSimObject.kind == "transfer")))


# -- the PIX key (pure) ---------------------------------------------------------------------------------


def test_pix_keys_are_validated_and_normalized():
    assert parse_key("529.982.247-25", "cpf") == parse_key("52998224725", KeyType.CPF)
    # Asaas takes a phone key as 11 digits with the area code, no +55 (transfers reference).
    assert parse_key("+55 (11) 91234-5678", "PHONE").key == parse_key("11 91234-5678", "PHONE").key == "11912345678"
    assert parse_key("Ana@Example.com", "EMAIL").key == "ana@example.com"
    assert parse_key("123E4567-E89B-12D3-A456-426614174000", "EVP").key == "123e4567-e89b-12d3-a456-426614174000"
    assert parse_key("11.222.333/0001-81", "CNPJ").key == "11222333000181"
    for raw, kind in [
        ("52998224724", "CPF"),
        ("11222333000180", "CNPJ"),
        ("no-at", "EMAIL"),
        ("123", "PHONE"),
        ("(11) 3123-4567", "PHONE"),  # ten digits: a landline, not a key Asaas takes
        ("not-a-uuid", "EVP"),
        ("x", "IBAN"),
        ("", "CPF"),
    ]:
        with pytest.raises(Invalid):
            parse_key(raw, kind)


# -- requesting -------------------------------------------------------------------------------------------


def test_a_withdrawal_holds_the_amount_at_once(db, seller):
    outbox = Outbox()
    made = db.run(
        w.request_withdrawal, w.RequestWithdrawal(seller, 10_000, cpf_of(db, seller), "CPF", LIMITS), outbox=outbox
    )
    assert (made.status, made.on_hold, made.external_reference) == ("queued", 10_000, f"withdrawal-{made.id}")
    assert available(db, seller) == 90_000
    assert {m.event for m in outbox} >= {"withdrawal", "wallet", "notification"}


def test_a_cpf_key_must_be_the_account_holders_own(db, seller):
    other = next(c for c in VALID_CPFS if c != cpf_of(db, seller))
    with pytest.raises(KeyOwnerMismatch):
        request(db, seller, 10_000, other, "CPF")
    # An e-mail, phone or random key names no owner we could check: refused unless an admin allows them.
    with pytest.raises(KeyTypeNotAllowed):
        request(db, seller, 10_000, "sol@example.com", "EMAIL")
    request(db, seller, 10_000, "sol@example.com", "EMAIL", limits=OTHER_KEYS)
    assert available(db, seller) == 90_000


def test_limits_minimum_maximum_and_daily_cap_refuse_and_write_nothing(db, seller):
    for amount in (999, 50_001):
        with pytest.raises(w.WithdrawalLimit):
            request(db, seller, amount)
    for amount in ("100", 10.5, True):
        with pytest.raises(Invalid):
            request(db, seller, amount)
    request(db, seller, 50_000)
    request(db, seller, 29_000)
    with pytest.raises(w.WithdrawalLimit, match="daily limit"):
        request(db, seller, 1_001)
    assert available(db, seller) == 21_000
    assert db.transaction(lambda s: s.scalar(select(func.count(Withdrawal.id)))) == 2


def test_only_available_money_leaves_never_what_a_bid_holds(db, seller, make_user):
    other = make_user("ana")
    auction_id = new_auction(db, other)
    place(db, auction_id, seller, 80_000)
    assert held(db, seller, auction_id) == 80_000
    with pytest.raises(wallet.InsufficientFunds, match="not enough available"):
        request(db, seller, 20_001)
    request(db, seller, 20_000)
    assert available(db, seller) == 0


def test_a_wallet_in_debt_cannot_withdraw(db, seller):
    db.transaction(lambda s: wallet.reverse(s, user_id=seller, amount=100_500, key="test-chargeback"))
    assert available(db, seller) == -500
    with pytest.raises(wallet.WalletInDebt):
        request(db, seller, 1_000)
    assert db.transaction(lambda s: s.scalar(select(func.count(Withdrawal.id)))) == 0


def test_above_the_threshold_an_admin_approves_or_refuses(app, db, seller, make_user):
    admin = db.transaction(lambda s: s.scalar(select(User.id).where(User.is_admin.is_(True))))
    with pytest.raises(Forbidden):
        db.run(w.approve, w.AdminDecision(request(db, seller, 40_000).id, seller))
    big = request(db, seller, 40_000)
    assert big.status == "awaiting_approval"
    assert w.submit(db, sim_client(app), big.id) == "skipped" and sim_transfer_count(db) == 0
    db.run(w.refuse, w.AdminDecision(big.id, admin, "looks odd"))
    assert row(db, big.id).status == "refused" and available(db, seller) == 60_000
    second = request(db, seller, 40_000)
    db.run(w.approve, w.AdminDecision(second.id, admin))
    with pytest.raises(w.WithdrawalState):
        db.run(w.approve, w.AdminDecision(second.id, admin))
    assert w.submit(db, sim_client(app), second.id) == "pending"


# -- through the simulator -------------------------------------------------------------------------------


def test_withdrawal_done_through_the_simulator_leaves_the_platform(app, db, seller):
    made = request(db, seller, 12_345)
    assert w.submit(db, sim_client(app), made.id) == "pending"
    sent = row(db, made.id)
    assert sent.asaas_transfer_id and sent.status == "pending" and sent.transfer_status == "PENDING"
    sim_finish(app, db, sent.asaas_transfer_id, "done")
    done = row(db, made.id)
    assert (done.status, done.on_hold, done.transfer_status) == ("done", 0, "DONE")
    assert available(db, seller) == 100_000 - 12_345
    # The settlement account's balance is derived from its entries (wallet.DERIVED): the withdrawal left it.
    assert db.transaction(wallet.derived_balance, wallet.SETTLEMENT) == -100_000 + 12_345


def test_withdrawal_failed_in_the_simulator_returns_the_money(app, db, seller):
    made = request(db, seller, 5_000)
    w.submit(db, sim_client(app), made.id)
    sim_finish(app, db, row(db, made.id).asaas_transfer_id, "fail")
    failed = row(db, made.id)
    assert failed.status == "failed" and "Chave Pix" in failed.fail_reason
    assert available(db, seller) == 100_000


class LostAnswer(WSGIAdapter):
    """Forwards the first POST /transfers to the simulator, then loses its answer (a timeout)."""

    def __init__(self, app: Any) -> None:
        super().__init__(app)
        self.lost = 0

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        response = super().send(request, **kwargs)
        if request.method == "POST" and not self.lost:
            self.lost += 1
            raise requests.Timeout("lost")
        return response


def test_a_lost_answer_is_looked_up_never_sent_twice(app, db, seller):
    client = sim_client(app)
    client.retries = 1
    client.session.mount("http://sim.test/", LostAnswer(app))
    made = request(db, seller, 7_000)
    assert w.submit(db, client, made.id) == "submitting"
    assert sim_transfer_count(db) == 1
    # The validation call already matched it by our reference while we waited.
    assert row(db, made.id).asaas_transfer_id is not None
    forget = {"asaas_transfer_id": None, "status": "submitting"}  # as if that call had not come
    db.transaction(lambda s: [setattr(s.get(Withdrawal, made.id), k, v) for k, v in forget.items()])
    assert reconcile(db, client, older_than_seconds=0) == 1
    after = row(db, made.id)
    assert after.status == "pending" and after.asaas_transfer_id and after.submit_attempts == 2
    assert sim_transfer_count(db) == 1


def test_asaas_refusing_the_transfer_returns_the_money(app, db, seller):
    client = sim_client(app)
    made = request(db, seller, 3_000)
    db.transaction(lambda s: s.get(Withdrawal, made.id).__setattr__("pix_key_type", "IBAN"))
    assert w.submit(db, client, made.id) == "failed"
    assert available(db, seller) == 100_000 and row(db, made.id).status == "failed"


def test_reconciliation_reads_transfers_not_final(app, db, seller, monkeypatch):
    made = request(db, seller, 4_000)
    w.submit(db, sim_client(app), made.id)
    transfer_id = row(db, made.id).asaas_transfer_id
    monkeypatch.setattr(sender, "dispatch", lambda _ids: None)  # the webhooks are lost
    sim_finish(app, db, transfer_id, "done")
    assert row(db, made.id).status == "pending"
    assert reconcile(db, sim_client(app), older_than_seconds=0) == 1
    assert row(db, made.id).status == "done"


# -- TRANSFER_* webhooks in any order, with duplicates -------------------------------------------------


def transfer_event(event: str, transfer_id: str, reference: str, value: str, status: str, **extra: Any) -> dict:
    return {
        "id": f"evt_{uuid.uuid4().hex}",
        "event": event,
        "dateCreated": "2026-12-01 10:00:00",
        "account": {"id": "acc", "ownerId": None},
        "transfer": {
            "object": "transfer",
            "id": transfer_id,
            "value": float(value),
            "status": status,
            "externalReference": reference,
            "failReason": extra.get("failReason"),
            "newField": 1,
        },
    }


def post(client, body: Any, token: str | None = TOKEN, path: str = "/payment/webhook"):
    headers = {"asaas-access-token": token} if token else {}
    return client.post(path, data=json.dumps(body), headers=headers, content_type="application/json")


SEQUENCES = {
    "done": [
        "TRANSFER_CREATED",
        "TRANSFER_PENDING",
        "TRANSFER_IN_BANK_PROCESSING",
        "TRANSFER_BLOCKED",
        "TRANSFER_DONE",
    ],
    "failed": ["TRANSFER_CREATED", "TRANSFER_PENDING", "TRANSFER_IN_BANK_PROCESSING", "TRANSFER_FAILED"],
    "failed_cancelled": ["TRANSFER_CREATED", "TRANSFER_BLOCKED", "TRANSFER_CANCELLED"],
}
STATUS = {
    "TRANSFER_CREATED": "PENDING",
    "TRANSFER_PENDING": "PENDING",
    "TRANSFER_IN_BANK_PROCESSING": "BANK_PROCESSING",
    "TRANSFER_BLOCKED": "BLOCKED",
    "TRANSFER_DONE": "DONE",
    "TRANSFER_FAILED": "FAILED",
    "TRANSFER_CANCELLED": "CANCELLED",
}


@pytest.mark.parametrize("seed", range(4))
def test_every_transfer_event_in_shuffled_order_with_duplicates_converges(db, client, seller, seed):
    rng = random.Random(seed)
    expected = {}
    bodies = []
    for name, sequence in SEQUENCES.items():
        made = request(db, seller, 2_000)
        transfer_id = str(uuid.uuid4())
        sent_as(db, made.id, {"id": transfer_id, "status": "PENDING"})
        for event in sequence:
            body = transfer_event(event, transfer_id, made.external_reference, "20.00", STATUS[event])
            bodies += [body] * rng.randint(1, 3)  # the same event id delivered again
        expected[made.id] = "done" if name == "done" else "failed"
    rng.shuffle(bodies)
    for body in bodies:
        answer = post(client, body)
        assert answer.status_code == 200, answer.get_json()
        assert answer.get_json()["outcome"] in {"applied", "recorded", "duplicate"}
    for withdrawal_id, status in expected.items():
        assert (row(db, withdrawal_id).status, row(db, withdrawal_id).on_hold) == (status, 0)
    assert available(db, seller) == 100_000 - 2_000


def test_transfer_webhooks_need_the_token_and_a_transfer(db, client, seller):
    body = transfer_event("TRANSFER_DONE", "t-1", "withdrawal-999", "10.00", "DONE")
    assert post(client, body, token="wrong").status_code == 401
    # Authentic JSON is always stored and answered 200 (15 non-200s pause Asaas's whole queue); no transfer moves.
    odd = post(client, {"id": "evt_x", "event": "TRANSFER_DONE"})
    assert odd.status_code == 200 and odd.get_json()["outcome"] == "stored"
    answer = post(client, body)  # authentic, but not ours: stored, 200, nothing moves, the admins are alerted
    assert answer.status_code == 200 and answer.get_json()["outcome"] == "unmatched"
    alerts = db.transaction(lambda s: s.scalar(select(func.count()).where(Notification.kind == "admin_alert")))
    assert alerts == 1


def test_conflicting_final_events_keep_the_first_and_alert_the_admins(db, client, seller):
    made = request(db, seller, 2_000)
    sent_as(db, made.id, {"id": "t-conflict", "status": "PENDING"})
    post(client, transfer_event("TRANSFER_DONE", "t-conflict", made.external_reference, "20.00", "DONE"))
    post(client, transfer_event("TRANSFER_FAILED", "t-conflict", made.external_reference, "20.00", "FAILED"))
    assert row(db, made.id).status == "done"
    alerts = db.transaction(lambda s: s.scalar(select(func.count()).where(Notification.kind == "admin_alert")))
    assert alerts == 1


# -- the transfer validation webhook -----------------------------------------------------------------------


def validation(transfer: dict) -> dict:
    return {"type": "TRANSFER", "transfer": transfer}


def test_the_validation_webhook_approves_ours_and_refuses_a_forged_one(db, client, seller):
    made = request(db, seller, 2_500)
    sent_as(db, made.id, {"id": "t-ours", "status": "PENDING"})
    ours = {"id": "t-ours", "value": 25.0, "pixAddressKey": made.pix_key, "externalReference": made.external_reference}
    path = "/payment/transfer-validation"
    assert post(client, validation(ours), path=path).get_json() == {"status": "APPROVED"}
    for forged in (
        ours | {"id": "t-forged", "externalReference": None},  # a transfer we never created
        ours | {"value": 2500.0},  # ours, but another amount
        ours | {"pixAddressKey": "thief@example.com"},  # ours, but another key
    ):
        answer = post(client, validation(forged), path=path).get_json()
        assert answer["status"] == "REFUSED" and answer["refuseReason"]
    assert post(client, validation(ours), token="wrong", path=path).status_code == 401
    assert post(client, {"nonsense": True}, path=path).get_json()["status"] == "REFUSED"
    alerts = db.transaction(lambda s: s.scalar(select(func.count()).where(Notification.kind == "admin_alert")))
    assert alerts == 4
    assert row(db, made.id).status == "pending" and available(db, seller) == 97_500


def test_a_finished_withdrawal_is_not_approved_again(db, client, seller):
    made = request(db, seller, 2_500)
    sent_as(db, made.id, {"id": "t-done", "status": "DONE"})
    ours = {"id": "t-done", "value": 25.0, "pixAddressKey": made.pix_key}
    answer = post(client, validation(ours), path="/payment/transfer-validation").get_json()
    assert answer["status"] == "REFUSED"


# -- racing ------------------------------------------------------------------------------------------------


def test_two_withdrawals_racing_for_one_balance_only_one_fits(db, seller):
    db.transaction(lambda s: wallet.reverse(s, user_id=seller, amount=70_000, key="test-spend"))  # 30 000 left
    barrier = threading.Barrier(2)
    results: list[str] = []

    def one() -> None:
        barrier.wait()
        try:
            request(db, seller, 20_000)
            results.append("ok")
        except wallet.InsufficientFunds:
            results.append("refused")

    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results) == ["ok", "refused"]
    assert available(db, seller) == 10_000


def test_a_transfer_with_our_reference_but_another_amount_cannot_take_our_place(db, client, seller):
    made = request(db, seller, 2_500)
    db.run(w.claim, made.id)  # sent; Asaas's answer not stored yet
    ref, path = made.external_reference, "/payment/transfer-validation"
    forged = {"id": "t-thief", "value": 9_000.0, "pixAddressKey": "thief@example.com", "externalReference": ref}
    assert post(client, validation(forged), path=path).get_json()["status"] == "REFUSED"
    post(client, transfer_event("TRANSFER_CANCELLED", "t-thief", ref, "9000.00", "CANCELLED"))
    assert row(db, made.id).asaas_transfer_id is None and row(db, made.id).on_hold == 2_500
    ours = {"id": "t-ours", "value": 25.0, "pixAddressKey": made.pix_key, "externalReference": ref}
    assert post(client, validation(ours), path=path).get_json() == {"status": "APPROVED"}
    assert row(db, made.id).asaas_transfer_id == "t-ours"


# -- Asaas as it really behaves (docs.asaas.com, review 2026-12-07) -------------------------------------------


def alerts(db) -> list[str]:
    return db.transaction(
        lambda s: list(s.scalars(select(Notification.message).where(Notification.kind == "admin_alert")))
    )


def test_the_simulator_is_as_strict_as_asaas_about_transfers(app, db, seller):
    client = sim_client(app)
    sim_settings(app, db, cashoutAuth="critical")
    with pytest.raises(AsaasInvalid) as refused:
        client.create_transfer(
            value="10.00",
            pix_key="52998224725",
            pix_key_type="CPF",
            description="x",
            external_reference="r1",
            since=date.today(),
        )
    assert refused.value.needs_critical_authorisation and refused.value.codes == ["invalid_action"]
    sim_settings(app, db, cashoutAuth="ip_allowlist", allowedIps=["127.0.0.1"])
    post = client.session.post
    url, headers = f"{client.base_url}/transfers", {"access_token": "$aact_test"}
    for bad, code in (
        ({"value": "10.00", "pixAddressKey": "52998224725", "pixAddressKeyType": "CPF"}, "invalid_value"),
        ({"value": 10, "pixAddressKey": "+5511912345678", "pixAddressKeyType": "PHONE"}, "invalid_pixAddressKey"),
        ({"value": 1001, "pixAddressKey": "52998224725", "pixAddressKeyType": "CPF"}, "invalid_value"),  # > balance
    ):
        answer = post(url, json=bad, headers=headers)
        assert answer.status_code == 400 and answer.json()["errors"][0]["code"] == code, bad
    made = post(
        url, json={"value": 10, "pixAddressKey": "thief@example.com", "pixAddressKeyType": "EMAIL"}, headers=headers
    )
    body = made.json()
    assert body["authorized"] is True and body["bankAccount"]["cpfCnpj"].startswith("***.")
    # Asaas reports its per-endpoint limit in headers; the 12-hour quota has none.
    assert int(made.headers["RateLimit-Limit"]) == 100 and int(made.headers["RateLimit-Remaining"]) < 100
    assert client.balance()["balance"] == 990.0
    sim_settings(app, db, rateLimit=1)
    assert client.session.get(f"{client.base_url}/finance/balance", headers=headers).status_code == 429
    # The 12-hour quota counts every endpoint and says nothing in the headers until it refuses.
    sim_settings(app, db, rateLimit=100, quota=1)
    refused = client.session.get(f"{client.base_url}/transfers", headers=headers)
    assert refused.status_code == 429 and "12 horas" in refused.json()["errors"][0]["description"]


def test_charges_have_the_new_id_format_and_qr_codes_last_a_year_after_the_due_date(app, db, seller):
    client = sim_client(app)
    customer = client.create_customer(name="Ana", cpf_cnpj="52998224725")
    payment = client.create_payment(
        customer=customer["id"], value="10.00", due_date="2026-12-20", external_reference="topup-x", description="x"
    )
    assert re.fullmatch(r"pay_[1-9]_[A-Za-z0-9]{14}", payment["id"])
    assert client.pix_qr_code(payment["id"])["expirationDate"].startswith("2027-12-20")


@pytest.mark.parametrize("setup", ["ip_allowlist", "validation_webhook"])
def test_a_withdrawal_waits_for_authorisation_and_goes_once_the_account_is_set_up(app, db, seller, setup):
    sim_settings(app, db, cashoutAuth="critical")
    client = sim_client(app)
    first, second = request(db, seller, 4_000), request(db, seller, 6_000)
    assert w.submit(db, client, first.id) == w.submit(db, client, second.id) == "needs_authorization"
    assert available(db, seller) == 90_000 and sim_transfer_count(db) == 0
    assert len(alerts(db)) == 1 and "critical authorisation" in alerts(db)[0]  # once, not per withdrawal
    # Still refused: one request a round, nothing else changes.
    assert reconcile(db, client, older_than_seconds=0) == 0
    sim_settings(app, db, cashoutAuth=setup, allowedIps=["127.0.0.1"])
    assert reconcile(db, client, older_than_seconds=0) == 2
    for made in (first, second):
        sent = row(db, made.id)
        assert sent.status == "pending" and sent.asaas_transfer_id
        sim_finish(app, db, sent.asaas_transfer_id, "done")
        assert row(db, made.id).status == "done"
    assert available(db, seller) == 90_000 and len(alerts(db)) == 1


def test_a_transfer_waiting_for_the_token_is_pending_and_a_blocked_one_is_shown(app, db, seller):
    sim_settings(app, db, cashoutAuth="token")
    client = sim_client(app)
    made = request(db, seller, 5_000)
    assert w.submit(db, client, made.id) == "pending"  # authorized: false is not a failure
    transfer_id = row(db, made.id).asaas_transfer_id
    with app.test_request_context():
        sender.dispatch(db.transaction(sim_transfers.authorise, transfer_id))
    sim_finish(app, db, transfer_id, "block")
    blocked = row(db, made.id)
    assert (blocked.status, blocked.transfer_status, blocked.on_hold) == ("pending", "BLOCKED", 5_000)
    told = db.transaction(lambda s: list(s.scalars(select(Notification.message).where(Notification.user_id == seller))))
    assert any("blocked at Asaas" in text for text in told) and any("blocked transfer" in t for t in alerts(db))
    sim_finish(app, db, transfer_id, "fail")
    assert row(db, made.id).status == "failed" and available(db, seller) == 100_000


def test_another_refusal_gives_the_money_back_with_asaass_reason(app, db, seller):
    sim_settings(app, db, cashoutAuth="ip_allowlist", allowedIps=["127.0.0.1"], transferFee=995.0)
    made = request(db, seller, 1_000)
    assert w.submit(db, sim_client(app), made.id) == "failed"
    failed = row(db, made.id)
    assert "Saldo insuficiente" in failed.fail_reason and available(db, seller) == 100_000


def others_transfers(app, db, count: int) -> None:
    """Transfers the account made after ours (by hand, other systems): newer, so listed first."""
    with app.app_context():
        for n in range(count):
            data = {"value": 1 + n / 100, "pixAddressKey": VALID_CPFS[1], "pixAddressKeyType": "CPF"}
            db.transaction(sim_transfers.create_transfer, data, sim_account.defaults())


def test_the_look_up_after_a_lost_answer_reads_every_page_and_never_pays_twice(app, db, seller, monkeypatch):
    sim_settings(app, db, cashoutAuth="ip_allowlist", allowedIps=["127.0.0.1"])
    monkeypatch.setattr(sim_transfers, "dispatch", lambda _ids: None)  # no webhook tells us the transfer id
    sim_deposit(app, db, "5000.00")
    client = sim_client(app)
    client.retries = 1
    client.session.mount("http://sim.test/", LostAnswer(app))
    made = request(db, seller, 7_000)
    assert w.submit(db, client, made.id) == "submitting"
    others_transfers(app, db, 105)  # more than one page of 100 newer than ours
    assert reconcile(db, client, older_than_seconds=0) == 1
    after = row(db, made.id)
    assert after.status == "pending" and after.asaas_transfer_id and after.submit_attempts == 2
    assert sim_transfer_count(db) == 106


class BrokenList(WSGIAdapter):
    """Loses every POST's answer and fails every GET /transfers: a look-up that cannot finish."""

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        if request.method == "GET" and "/transfers" in (request.url or ""):
            raise requests.ConnectionError("down")
        response = super().send(request, **kwargs)
        if request.method == "POST":
            raise requests.Timeout("lost")
        return response


def test_an_incomplete_look_up_never_sends_again(app, db, seller):
    sim_settings(app, db, cashoutAuth="ip_allowlist", allowedIps=["127.0.0.1"])
    client = sim_client(app)
    client.session.mount("http://sim.test/", BrokenList(app))
    made = request(db, seller, 7_000)
    assert w.submit(db, client, made.id) == "submitting"
    assert reconcile(db, client, older_than_seconds=0) == 0
    assert sim_transfer_count(db) == 1 and row(db, made.id).on_hold == 7_000


class LostThenRefused(WSGIAdapter):
    """The first POST reaches Asaas and its answer is lost; later ones are answered 400."""

    def __init__(self, app: Any) -> None:
        super().__init__(app)
        self.posts = 0

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        if request.method == "POST":
            self.posts += 1
            if self.posts > 1:
                return refusal(request)
            super().send(request, **kwargs)
            raise requests.Timeout("lost")
        if "/transfers" in (request.url or ""):  # the list does not show it yet (Asaas is still processing it)
            return listing(request)
        return super().send(request, **kwargs)


def refusal(request: requests.PreparedRequest) -> requests.Response:
    answer = requests.Response()
    answer.status_code, answer.request = 400, request
    answer._content = json.dumps({"errors": [{"code": "invalid_value", "description": "Saldo insuficiente."}]}).encode()
    return answer


def listing(request: requests.PreparedRequest) -> requests.Response:
    answer = requests.Response()
    answer.status_code, answer.request = 200, request
    answer._content = json.dumps({"object": "list", "hasMore": False, "data": []}).encode()
    return answer


def test_a_refused_resend_after_a_lost_answer_keeps_the_money_held(app, db, seller, monkeypatch):
    sim_settings(app, db, cashoutAuth="ip_allowlist", allowedIps=["127.0.0.1"])
    monkeypatch.setattr(sim_transfers, "dispatch", lambda _ids: None)
    client = sim_client(app)
    client.session.mount("http://sim.test/", LostThenRefused(app))
    made = request(db, seller, 7_000)
    assert w.submit(db, client, made.id) == "needs_review"
    review = row(db, made.id)
    assert review.on_hold == 7_000 and available(db, seller) == 93_000
    assert any("may exist" in text or "no answer" in text for text in alerts(db))
    # The transfer turns up: reconciliation binds it, never resending.
    assert reconcile(db, sim_client(app), older_than_seconds=0) == 1
    assert row(db, made.id).status == "pending" and sim_transfer_count(db) == 1


def test_an_admin_may_refuse_a_withdrawal_in_review_and_the_money_comes_back(db, seller):
    made = request(db, seller, 7_000)
    db.run(w.claim, made.id)
    db.run(w._refused_by_asaas, made.id, "Saldo insuficiente.", True)
    assert row(db, made.id).status == "needs_review"
    assert made.id in [r.id for r in db.transaction(lambda s: payout_queries.for_admin(s, awaiting_only=True))]
    admin = db.transaction(lambda s: s.scalar(select(User.id).where(User.is_admin.is_(True))))
    db.run(w.refuse, w.AdminDecision(made.id, admin, "no transfer at Asaas"))
    assert row(db, made.id).status == "refused" and available(db, seller) == 100_000


def test_validation_compares_phone_keys_in_one_form(db, client, seller):
    made = request(db, seller, 2_500, "+55 11 91234-5678", "PHONE", limits=OTHER_KEYS)
    db.transaction(lambda s: s.get(Withdrawal, made.id).__setattr__("pix_key", "+5511912345678"))  # stored before
    sent_as(db, made.id, {"id": "t-phone", "status": "PENDING"})
    ours = {
        "id": "t-phone",
        "value": 25.0,
        "pixAddressKey": "11912345678",
        "externalReference": made.external_reference,
    }
    answer = post(client, validation(ours), path="/payment/transfer-validation").get_json()
    assert answer == {"status": "APPROVED"}


@pytest.mark.parametrize("kind", ["PIX_REFUND", "BILL", "PIX_QR_CODE", "MOBILE_PHONE_RECHARGE", "PAYMENT_SPLIT"])
def test_the_validation_webhook_refuses_cash_outs_the_site_never_makes(app, db, seller, kind):
    sim_settings(app, db, cashoutAuth="validation_webhook")
    assert sim_transfers.ask(app, kind, {"id": "x-1", "value": 10.0}) == "REFUSED"
    assert len(alerts(db)) == 1 and kind in alerts(db)[0]


@pytest.mark.parametrize("setup", ["ip_allowlist", "validation_webhook"])
def test_a_key_leading_to_another_persons_account_gets_nothing(app, db, seller, setup):
    sim_settings(app, db, cashoutAuth=setup, allowedIps=["127.0.0.1"])
    with app.app_context():  # the simulated DICT: her e-mail key is hers, the thief's is his
        db.transaction(sim_transfers.register_key, "sol@example.com", "EMAIL", "Sol", cpf_of(db, seller))
        db.transaction(sim_transfers.register_key, "thief@example.com", "EMAIL", "Eve", VALID_CPFS[4])
    client = sim_client(app)
    own = request(db, seller, 3_000, "sol@example.com", "EMAIL", limits=OTHER_KEYS)
    assert w.submit(db, client, own.id) == "pending"
    stolen = request(db, seller, 5_000, "thief@example.com", "EMAIL", limits=OTHER_KEYS)
    w.submit(db, client, stolen.id)
    after = row(db, stolen.id)
    assert (after.status, after.on_hold, after.transfer_status) == ("failed", 0, "CANCELLED")
    assert available(db, seller) == 100_000 - 3_000
    assert any("another person" in text for text in alerts(db))


def test_asaas_transfer_fee_is_the_platforms_expense_in_the_ledger(app, db, seller):
    sim_settings(app, db, cashoutAuth="ip_allowlist", allowedIps=["127.0.0.1"], transferFee=2.0)
    made = request(db, seller, 5_000)
    w.submit(db, sim_client(app), made.id)
    sim_finish(app, db, row(db, made.id).asaas_transfer_id, "done")
    assert row(db, made.id).status == "done" and available(db, seller) == 95_000  # the user pays no fee
    assert db.transaction(wallet.derived_balance, wallet.ASAAS_FEES) == 200
