"""Deposits (caução), buying power and approval of registrations through the service layer, on SQLite and MariaDB;
the two races (one balance for two deposits; one buying power for bids on two lots) on MariaDB with OS threads."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from auction import clock, wallet
from auction.auctions import closing, sale_events
from auction.auctions.errors import BuyingPowerExceeded, RegistrationPending, RegistrationRejected
from auction.db import Database
from auction.errors import Invalid, ServiceError
from auction.models import EventRegistration, Notification, SaleEvent, User
from auction.outbox import Outbox, user_room
from auction.wallet import InsufficientFunds
from tests.support.auctions import audit, fund, load_auction, new_auction, place
from tests.test_accounts import csrf_token
from tests.test_pages import log_in
from tests.test_sale_events import add, new_event

pytestmark = pytest.mark.usefixtures("fast_passwords")


@pytest.fixture
def people(make_user, db):
    ids = {name: make_user(name) for name in ("seller", "ana", "bia")}
    ids["admin"] = make_user("house", is_admin=True)
    fund(db, ids["ana"], 100_000)
    fund(db, ids["bia"], 100_000)
    return ids


def register(db: Database, event_id: int, user_id: int, buying_power: int | None = None, version: int = 1) -> int:
    return db.run(sale_events.register, sale_events.Register(event_id, user_id, version, buying_power))


def registration(db: Database, event_id: int, user_id: int) -> EventRegistration:
    return db.transaction(
        lambda s: s.scalar(
            select(EventRegistration).where(
                EventRegistration.event_id == event_id, EventRegistration.user_id == user_id
            )
        )
    )


def balance(db: Database, user_id: int) -> wallet.Balance:
    return db.transaction(wallet.balance, user_id)


def reasons(db: Database, user_id: int) -> list[str]:
    return [item.reason for item in reversed(db.transaction(wallet.history, user_id))]


def deposit_event(db: Database, people: dict[str, int], lots: int = 2, **fields) -> tuple[int, list[int]]:
    """An event taking a 10 % deposit of the buying power and a 10 % premium, with `lots` lots."""
    event_id = new_event(db, people["seller"], deposit_bps=1_000, premium_bps=1_000, **fields)
    auctions = [new_auction(db, people["seller"], seconds=7200) for _ in range(lots)]
    for auction_id in auctions:
        add(db, event_id, auction_id, people["seller"])
    return event_id, auctions


def test_deposit_is_held_at_registration_and_released_when_the_last_lot_finishes(db, people):
    event_id, (lot1, lot2) = deposit_event(db, people, lot_interval_seconds=3_600)  # lot 2 closes an hour after lot 1
    outbox = Outbox()
    db.run(sale_events.register, sale_events.Register(event_id, people["ana"], 1, 50_000), outbox=outbox)
    assert [(m.event, m.payload["available"]) for m in outbox if m.room == user_room(people["ana"])] == [
        ("wallet", 95_000)
    ]
    found = registration(db, event_id, people["ana"])
    assert (found.buying_power, found.deposit, found.status) == (50_000, 5_000, "approved")
    assert balance(db, people["ana"]).available == 95_000
    register(db, event_id, people["ana"], buying_power=30_000)  # asking less keeps the buying power
    register(db, event_id, people["ana"], buying_power=80_000)  # asking more holds the difference
    assert registration(db, event_id, people["ana"]).deposit == 8_000
    assert balance(db, people["ana"]).available == 92_000
    assert audit(db) == []

    place(db, lot1, people["ana"], 10_000)
    clock.advance(timedelta(hours=1, seconds=1))
    db.run(closing.finish_if_due, lot1)
    assert registration(db, event_id, people["ana"]).deposit == 8_000  # lot 2 is still open
    clock.advance(timedelta(hours=1))
    db.run(closing.finish_if_due, lot2)
    assert registration(db, event_id, people["ana"]).deposit == 0
    # The lot's price went to escrow when it finished; the deposit came back whole.
    assert balance(db, people["ana"]) == wallet.Balance(89_000, 0)  # 100,000 less lot 1 won: 10,000 + 10 % premium
    assert reasons(db, people["ana"]) == [
        "top_up",
        "event_deposit",
        "event_deposit",
        "bid_hold",
        "won",
        "deposit_released",
    ]
    assert audit(db) == []
    with pytest.raises(ServiceError):  # the event is over: no registration, no deposit
        register(db, event_id, people["bia"], buying_power=10_000)
    with pytest.raises(Invalid):  # nor a new lot (its schedule, an hour on, is still ahead): no deposit covers it
        add(db, event_id, new_auction(db, people["seller"], seconds=7200), people["seller"])


def test_a_deposit_beyond_the_available_balance_writes_nothing(db, people):
    event_id, _ = deposit_event(db, people, deposit_minimum=2_000)
    with pytest.raises(InsufficientFunds):
        register(db, event_id, people["ana"], buying_power=1_000_010)  # 10 % is 100,001 > 100,000
    assert registration(db, event_id, people["ana"]) is None
    assert balance(db, people["ana"]).available == 100_000
    with pytest.raises(Invalid) as error:  # an event with a deposit asks for a buying power
        register(db, event_id, people["ana"])
    assert error.value.details["field"] == "buying_power"
    register(db, event_id, people["ana"], buying_power=5_000)  # 10 % is 500: the minimum, 2,000, is held
    assert registration(db, event_id, people["ana"]).deposit == 2_000
    assert audit(db) == []


def test_without_a_deposit_rule_registration_is_terms_only_and_bids_have_no_limit(db, people):
    event_id = new_event(db, people["seller"])
    lot = new_auction(db, people["seller"], seconds=7200)
    add(db, event_id, lot, people["seller"])
    register(db, event_id, people["ana"], buying_power=1_000)  # ignored: nothing to hold
    assert (registration(db, event_id, people["ana"]).buying_power, balance(db, people["ana"]).available) == (
        None,
        100_000,
    )
    place(db, lot, people["ana"], 50_000)


def test_bids_beyond_the_buying_power_are_refused_across_lots(db, people):
    """Buying power 20,000 with a 10 % premium: a maximum of 10,000 on lot 1 commits 11,000; lot 2 may take a
    maximum of 8,000 (8,800) but not 8,200 (9,020); being outbid on lot 1 frees its share."""
    event_id, (lot1, lot2) = deposit_event(db, people)
    register(db, event_id, people["ana"], buying_power=20_000)
    place(db, lot1, people["ana"], 1_000, 10_000)
    with pytest.raises(BuyingPowerExceeded) as error:
        place(db, lot2, people["ana"], 8_200)
    assert error.value.details == {"committed": 20_020, "buying_power": 20_000}
    place(db, lot2, people["ana"], 8_000)
    with pytest.raises(BuyingPowerExceeded):  # raising lot 1 to 10,200 would commit 11,220 + 8,800
        place(db, lot1, people["ana"], 1_100, 10_200)
    register(db, event_id, people["bia"], buying_power=100_000)
    place(db, lot1, people["bia"], 12_000)  # ana is outbid on lot 1
    place(db, lot2, people["ana"], 9_000, 18_000)  # 19,800 within 20,000
    assert load_auction(db, lot2).leader_id == people["ana"]
    assert audit(db) == []


@pytest.fixture
def unverified(make_user, db):
    """A bidder with money but neither a confirmed e-mail nor a CPF."""
    user_id = make_user("caio")
    fund(db, user_id, 100_000)
    db.transaction(
        lambda s: s.execute(update(User).where(User.id == user_id).values(email_verified_at=None, cpf_cnpj=None))
    )
    return user_id


def test_approval_needs_a_verified_email_and_cpf_and_rejection_gives_the_deposit_back(db, people, unverified):
    event_id, (lot, _) = deposit_event(db, people, requires_approval=True)
    register(db, event_id, people["ana"], buying_power=10_000)
    register(db, event_id, unverified, buying_power=10_000)
    with pytest.raises(RegistrationPending):
        place(db, lot, people["ana"], 1_000)
    pending = db.transaction(sale_events.pending_registrations)
    assert [(row.username, row.email_verified, row.has_cpf, row.deposit) for row in pending] == [
        ("ana", True, True, 1_000),
        ("caio", False, False, 1_000),
    ]
    ana, caio = (row.id for row in pending)
    with pytest.raises(ServiceError):  # not an admin
        db.run(sale_events.decide_registration, sale_events.DecideRegistration(ana, people["bia"], True))
    with pytest.raises(Invalid):
        db.run(sale_events.decide_registration, sale_events.DecideRegistration(caio, people["admin"], True))
    db.run(sale_events.decide_registration, sale_events.DecideRegistration(ana, people["admin"], True))
    place(db, lot, people["ana"], 1_000)
    db.run(sale_events.decide_registration, sale_events.DecideRegistration(caio, people["admin"], False))
    assert balance(db, unverified).available == 100_000
    assert reasons(db, unverified)[-2:] == ["event_deposit", "deposit_released"]
    with pytest.raises(RegistrationRejected):
        place(db, lot, unverified, 2_000)
    with pytest.raises(RegistrationRejected):
        register(db, event_id, unverified, buying_power=10_000)
    with pytest.raises(Invalid):  # decided once
        db.run(sale_events.decide_registration, sale_events.DecideRegistration(caio, people["admin"], True))
    assert db.transaction(sale_events.pending_registrations) == []
    told = db.transaction(
        lambda s: s.scalars(select(Notification.message).where(Notification.kind == "registration")).all()
    )
    assert sorted(told) == [
        "Your registration for “Leilão de câmeras” was approved: bid away.",
        "Your registration for “Leilão de câmeras” was rejected; any deposit is back in your wallet.",
    ]
    assert audit(db) == []


# -- races on MariaDB: OS threads, each with its own connection ---------------------------------------------------


def _race(calls) -> list[object]:
    """Run the calls at once (a barrier releases them together); each one's result or the ServiceError it raised."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index: int, call) -> None:
        barrier.wait()
        try:
            results[index] = call()
        except ServiceError as refusal:
            results[index] = refusal

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


@pytest.mark.parametrize("backend", ["mariadb"])
def test_two_deposits_racing_for_one_balance_leave_exactly_one_held(db, make_user):
    """Each round: two events asking 5,000, ana has 6,000 available; both registrations at once."""
    seller, ana = make_user("seller"), make_user("ana")
    people = {"seller": seller}
    fund(db, ana, 1_000)
    for round_ in range(5):
        db.transaction(lambda s, r=round_: wallet.credit(s, user_id=ana, amount=5_000, key=f"race-{r}"))
        assert balance(db, ana).available == 6_000
        events = [deposit_event(db, people, lots=1)[0] for _ in range(2)]
        results = _race([lambda e=e: register(db, e, ana, buying_power=50_000) for e in events])
        assert sorted(type(r).__name__ for r in results) == ["InsufficientFunds", "int"], results
        held = [registration(db, e, ana) for e in events]
        assert sorted(r.deposit for r in held if r is not None) == [5_000]  # the refused one wrote nothing
        assert balance(db, ana).available == 1_000
    assert audit(db) == []


@pytest.mark.parametrize("backend", ["mariadb"])
def test_concurrent_bids_on_two_lots_never_exceed_the_buying_power(db, make_user):
    """Ana (buying power 20,000, premium 10 %) bids 10,000 on two lots at once, many rounds: each alone fits
    (11,000), both do not (22,000); exactly one is accepted every round and she never leads both."""
    seller, ana = make_user("seller"), make_user("ana")
    fund(db, ana, 1_000_000)
    people = {"seller": seller}
    for _ in range(6):
        event_id, (lot1, lot2) = deposit_event(db, people)
        register(db, event_id, ana, buying_power=20_000)
        results = _race([lambda lot=lot: place(db, lot, ana, 10_000)[0] for lot in (lot1, lot2)])
        refused = [r for r in results if isinstance(r, ServiceError)]
        assert [r.code for r in refused] == ["buying_power_exceeded"], results
        leaders = [load_auction(db, lot).leader_id for lot in (lot1, lot2)]
        assert leaders.count(ana) == 1
    assert audit(db) == []


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_pages_create_a_deposit_event_register_with_a_buying_power_and_admins_approve(client, db, people):
    """In pt-BR: the new-event form's deposit fields, the registration form's buying power (the deposit shown on
    the event page and the wallet), the admin's list of pending registrations and the approval."""
    client.set_cookie("lang", "pt_BR")
    log_in(client, db, people["seller"])
    form = {
        "csrf_token": csrf_token(client, "/events/new"),
        "title": "Leilão de rádios",
        "terms": "Caução de 10 %.",
        "first_close_in": "60",
        "lot_interval_seconds": "60",
        "soft_close_seconds": "120",
        "deposit_percent": "10",
        "deposit_minimum": "15,00",
        "requires_approval": "y",
    }
    assert client.post("/events/new", data=form | {"deposit_minimum": "abc"}).status_code == 400
    created = client.post("/events/new", data=form)
    event_id = int(re.search(r"/events/(\d+)", created.headers["Location"])[1])
    event = db.transaction(lambda s: s.get(SaleEvent, event_id))
    assert (event.deposit_bps, event.deposit_minimum, event.requires_approval) == (1_000, 1_500, True)
    add(db, event_id, new_auction(db, people["seller"], seconds=7200), people["seller"])

    log_in(client, db, people["ana"])
    page = client.get(f"/events/{event_id}").get_data(as_text=True)
    assert "Poder de compra que você pede" in page and "no mínimo R$" in page
    token = csrf_token(client, f"/events/{event_id}")
    accepted = {"csrf_token": token, "terms_version": "1", "accept": "yes", "buying_power": "500,00"}
    assert client.post(f"/events/{event_id}/register", data=accepted).status_code == 303
    page = client.get(f"/events/{event_id}").get_data(as_text=True)
    assert 'data-registration-status="pending"' in page and 'data-buying-power="50000"' in page
    wallet_page = client.get("/wallet").get_data(as_text=True)
    assert "Cauções retidas" in wallet_page and 'data-wallet-deposit data-cents="5000"' in wallet_page
    assert "Caução retida" in wallet_page  # the ledger line

    log_in(client, db, people["admin"])
    listing_page = client.get("/admin/registrations").get_data(as_text=True)
    assert "Habilitações aguardando aprovação" in listing_page and "ana" in listing_page
    registration_id = registration(db, event_id, people["ana"]).id
    token = csrf_token(client, "/admin/registrations")
    answer = client.post(f"/admin/registrations/{registration_id}/approve", data={"csrf_token": token})
    assert answer.status_code == 303
    assert registration(db, event_id, people["ana"]).status == "approved"
