"""Buy It Now (auction/auctions/buy_now.py): decided under the auction's row lock like a bid, settled
like a win, on SQLite and MariaDB; raced against a bid that reaches the reserve; the `buy_now` socket
event's ack and error codes; the pt_BR messages users read."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from auction import wallet
from auction.auctions import buy_now
from auction.auctions.errors import AuctionNotOpen, OwnAuction, TooLow
from auction.errors import Invalid
from auction.extensions import socketio
from auction.models import AuctionStatus, Order
from auction.outbox import Outbox
from auction.wallet import InsufficientFunds
from tests.support.auctions import audit, balance, fund, held, load_auction, new_auction, open_holds, place
from tests.test_accounts import csrf_token

pytestmark = pytest.mark.usefixtures("fast_passwords")
PASSWORD = "correct horse battery"


@pytest.fixture
def people(make_user, db):
    ids = {name: make_user(name) for name in ("seller", "ana", "bia", "broke")}
    for name in ("ana", "bia"):
        fund(db, ids[name], 100_000)
    return ids


def buy(db, auction_id: int, buyer_id: int):
    outbox = Outbox()
    return db.run(buy_now.buy, buy_now.BuyNow(auction_id, buyer_id), outbox=outbox), outbox


def test_buy_now_ends_the_auction_with_the_buyer_through_hold_and_capture(db, people):
    auction_id = new_auction(db, people["seller"], reserve_price=3_000, buy_now_price=5_000)
    place(db, auction_id, people["bia"], 1_000, 2_000)
    outcome, outbox = buy(db, auction_id, people["ana"])
    assert outcome.winner_id == people["ana"] and outcome.amount == 5_000 and outcome.reserve_met
    auction = load_auction(db, auction_id)
    assert auction.status == AuctionStatus.FINISHED and auction.winner_id == people["ana"]
    assert auction.final_price == 5_000 and auction.bid_count == 2
    # The price waits in escrow for the buyer's receipt (auction/orders): the seller is paid then.
    assert balance(db, people["seller"]).available == 0
    assert db.transaction(lambda s: s.scalar(select(Order.escrowed).where(Order.auction_id == auction_id))) == 5_000
    assert balance(db, people["ana"]) == wallet.Balance(95_000, 0)
    assert balance(db, people["bia"]) == wallet.Balance(100_000, 0), "the outbid leader's hold is released"
    assert open_holds(db, auction_id) == {}
    assert {m.event for m in outbox} >= {"auction_finished", "win", "notification", "wallet"}
    assert audit(db) == []


def test_the_leader_below_the_reserve_may_buy_and_only_the_difference_is_held_more(db, people):
    auction_id = new_auction(db, people["seller"], reserve_price=3_000, buy_now_price=5_000)
    place(db, auction_id, people["ana"], 1_000, 2_500)
    assert held(db, people["ana"], auction_id) == 2_500
    outcome, _ = buy(db, auction_id, people["ana"])
    assert outcome.winner_id == people["ana"]
    assert balance(db, people["ana"]) == wallet.Balance(95_000, 0)
    assert audit(db) == []


def test_buy_now_is_gone_once_a_bid_reaches_the_reserve_or_without_reserve_after_any_bid(db, people):
    with_reserve = new_auction(db, people["seller"], reserve_price=3_000, buy_now_price=5_000)
    place(db, with_reserve, people["bia"], 3_000)
    without = new_auction(db, people["seller"], buy_now_price=5_000)
    place(db, without, people["bia"], 1_000)
    for auction_id in (with_reserve, without):
        with pytest.raises(buy_now.BuyNowUnavailable):
            buy(db, auction_id, people["ana"])
        assert load_auction(db, auction_id).status == AuctionStatus.OPEN
    assert balance(db, people["ana"]) == wallet.Balance(100_000, 0)
    assert audit(db) == []


def test_refusals_write_nothing(db, people):
    plain = new_auction(db, people["seller"])
    with pytest.raises(buy_now.BuyNowUnavailable):
        buy(db, plain, people["ana"])
    priced = new_auction(db, people["seller"], buy_now_price=5_000)
    with pytest.raises(OwnAuction):
        buy(db, priced, people["seller"])
    with pytest.raises(InsufficientFunds):
        buy(db, priced, people["broke"])
    buy(db, priced, people["bia"])
    with pytest.raises(AuctionNotOpen):
        buy(db, priced, people["ana"])
    assert balance(db, people["ana"]) == wallet.Balance(100_000, 0)
    assert load_auction(db, plain).bid_count == 0
    assert audit(db) == []


def test_a_buy_now_price_below_the_reserve_is_refused_at_listing(db, people):
    with pytest.raises(Invalid) as refused:
        new_auction(db, people["seller"], reserve_price=3_000, buy_now_price=2_000)
    assert refused.value.details["field"] == "buy_now_price"


@pytest.mark.parametrize("round_number", range(6))
def test_buy_now_races_a_bid_that_reaches_the_reserve_and_exactly_one_decides(db, people, round_number):
    auction_id = new_auction(db, people["seller"], reserve_price=3_000, buy_now_price=5_000)
    barrier = threading.Barrier(2)
    results: dict[str, object] = {}

    def run(name, fn):
        barrier.wait()
        try:
            results[name] = fn()
        except Exception as exc:  # the loser's refusal is part of the result
            results[name] = exc

    threads = [
        threading.Thread(target=run, args=("buy", lambda: buy(db, auction_id, people["ana"])[0])),
        threading.Thread(target=run, args=("bid", lambda: place(db, auction_id, people["bia"], 3_000)[0])),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    auction = load_auction(db, auction_id)
    bought = not isinstance(results["buy"], Exception)
    if bought:
        # The purchase came first: the auction is over and the bid was refused, or it came first and lost.
        assert isinstance(results["bid"], AuctionNotOpen | TooLow) or auction.winner_id == people["ana"]
        assert auction.status == AuctionStatus.FINISHED and auction.winner_id == people["ana"]
        # The price waits in escrow for the buyer's receipt, as in the first test of this file.
        assert balance(db, people["seller"]).available == 0
        escrowed = db.transaction(lambda s: s.scalar(select(Order.escrowed).where(Order.auction_id == auction_id)))
        assert escrowed == 5_000
        assert balance(db, people["ana"]) == wallet.Balance(95_000, 0)
        assert balance(db, people["bia"]) == wallet.Balance(100_000, 0)
    else:
        assert isinstance(results["buy"], buy_now.BuyNowUnavailable), results
        assert results["bid"].leading and auction.status == AuctionStatus.OPEN
        assert held(db, people["bia"], auction_id) == 3_000
        assert balance(db, people["ana"]) == wallet.Balance(100_000, 0)
    assert audit(db) == []


@pytest.fixture
def sockets(app):
    clients = []

    def connect(username: str):
        http = app.test_client()
        form = {"username": username, "password": PASSWORD, "csrf_token": csrf_token(http, "/login")}
        assert http.post("/login", data=form).status_code == 302
        sio = socketio.test_client(app, flask_test_client=http)
        clients.append(sio)
        return sio

    yield connect
    for sio in clients:
        if sio.is_connected():
            sio.disconnect()


@pytest.mark.parametrize("backend", ["sqlite"])
def test_buy_now_socket_event_acks_and_refuses_with_codes(db, people, sockets, backend):
    auction_id = new_auction(db, people["seller"], buy_now_price=5_000)
    seller, ana = sockets("seller"), sockets("ana")
    own = seller.emit("buy_now", {"auction_id": auction_id}, callback=True)
    assert own["ok"] is False and own["error"] == "own_auction"
    bad = ana.emit("buy_now", {"auction_id": "x"}, callback=True)
    assert bad["ok"] is False and bad["error"] == "invalid"
    ack = ana.emit("buy_now", {"auction_id": auction_id}, callback=True)
    assert ack["ok"] and ack["bought"] and ack["winner_id"] == people["ana"] and ack["amount"] == 5_000
    again = ana.emit("buy_now", {"auction_id": auction_id}, callback=True)
    assert again == {"ok": False, "error": "auction_not_open", "message": "this auction is not open"}
    assert audit(db) == []


@pytest.mark.parametrize("backend", ["sqlite"])
def test_service_messages_reach_portuguese_readers_translated(app, db, people, backend):
    from auction.entrypoints.i18n import localize

    with app.test_request_context(headers={"Accept-Language": "pt-BR,pt;q=0.9"}):
        assert localize("amount: amount must be positive") == "o valor deve ser positivo"
        assert (
            localize("you are already leading; a new maximum must be at least R$ 10,01")
            == "você já está liderando; um novo máximo deve ser de pelo menos R$\u00a010,01"
        )
        assert localize("password must have at least 10 characters") == "a senha deve ter pelo menos 10 caracteres"
        assert localize("You won “Lamp” for R$ 5,00.") == "Você arrematou “Lamp” por R$\u00a05,00."
        assert localize("a message nobody translated") == "a message nobody translated"
    with app.test_request_context(headers={"Accept-Language": "en-US"}):
        assert localize("amount: amount must be positive") == "amount must be positive"


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_sell_form_sets_a_buy_now_price_and_refuses_one_below_the_reserve(client, db, people, backend):
    from tests.test_pages import log_in, sell_form

    log_in(client, db, people["seller"])
    refused = client.post(
        "/sell", data=sell_form(client, [], starting_price="100,00", reserve_price="200,00", buy_now_price="150,00")
    )
    html = refused.get_data(as_text=True)
    assert refused.status_code == 400 and 'data-error-for="buy_now_price"' in html
    assert "must not be below the starting price or the reserve price" in html and "buy_now_price:" not in html
    listed = client.post(
        "/sell", data=sell_form(client, [], starting_price="100,00", reserve_price="200,00", buy_now_price="250,00")
    )
    assert listed.status_code == 302
    auction_id = int(listed.headers["Location"].rsplit("/", 1)[1])
    assert load_auction(db, auction_id).buy_now_price == 25_000
    log_in(client, db, people["ana"])
    assert "Buy It Now for R$\u00a0250,00" in client.get(f"/auctions/{auction_id}").get_data(as_text=True)
