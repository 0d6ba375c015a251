"""join_auction from the per-process read model: one read for a crowd, always as new as the last message.

Through Flask-SocketIO's test client (SQLite and MariaDB), and the cache's message handling on its own.
The two-process case (Redis) is in test_realtime_live.py.
"""

from __future__ import annotations

import pytest

from auction.auctions import queries
from auction.auctions.privacy import pseudonym
from auction.entrypoints.sockets.auction_cache import AuctionCache
from auction.extensions import socketio
from tests.support.auctions import fund, new_auction
from tests.test_accounts import csrf_token

PASSWORD = "correct horse battery"
pytestmark = pytest.mark.usefixtures("fast_passwords")
COMPARED = (
    "current_price",
    "leader",
    "bid_count",
    "next_min",
    "increment",
    "reserve_met",
    "status",
    "version",
    "ends_at",
    "winner",
    "final_price",
    "bids",
    "title",
    "seller",
    "has_reserve",
)


@pytest.fixture
def people(make_user, db):
    ids = {name: make_user(name) for name in ("seller", "ana", "bia")}
    fund(db, ids["ana"], 100_000)
    fund(db, ids["bia"], 100_000)
    return ids


@pytest.fixture
def connect(app):
    clients = []

    def factory(username: str | None = None):
        http = app.test_client()
        if username:
            form = {"username": username, "password": PASSWORD, "csrf_token": csrf_token(http, "/login")}
            assert http.post("/login", data=form).status_code == 302
        sio = socketio.test_client(app, flask_test_client=http)
        clients.append(sio)
        return sio

    yield factory
    for sio in clients:
        if sio.is_connected():
            sio.disconnect()


def _same_as_the_database(db, ack: dict, auction_id: int) -> None:
    truth = db.transaction(queries.auction_state, auction_id)
    assert {k: ack[k] for k in COMPARED} == {k: truth[k] for k in COMPARED}


def test_a_crowd_joining_reads_the_database_once_and_sees_every_bid(app, db, people, connect):
    auction_id = new_auction(db, people["seller"], reserve_price=1_500)
    cache = app.extensions["auction.cache"]
    watchers = [connect() for _ in range(12)]
    for watcher in watchers:
        assert watcher.emit("join_auction", {"auction_id": auction_id}, callback=True)["ok"]
    assert cache.loads == 1

    ana, bia = connect("ana"), connect("bia")
    assert ana.emit("bid", {"auction_id": auction_id, "amount": 1_000, "max_amount": 1_400}, callback=True)["ok"]
    assert bia.emit("bid", {"auction_id": auction_id, "amount": 1_200}, callback=True)["ok"]  # ana's proxy answers
    assert bia.emit("bid", {"auction_id": auction_id, "amount": 1_500, "max_amount": 2_000}, callback=True)["ok"]
    late = connect()
    ack = late.emit("join_auction", {"auction_id": auction_id}, callback=True)
    assert cache.loads == 1, "the bids' own messages kept the cached state current"
    _same_as_the_database(db, ack, auction_id)
    assert ack["reserve_met"] and ack["leader"] == pseudonym(auction_id, people["bia"]) and ack["version"] == 3


def test_what_only_the_viewer_may_see_is_added_per_join(app, db, people, connect):
    auction_id = new_auction(db, people["seller"])
    ana, bia, seller = connect("ana"), connect("bia"), connect("seller")
    assert ana.emit("watch", {"auction_id": auction_id}, callback=True)["watching"] is True
    assert ana.emit("bid", {"auction_id": auction_id, "amount": 1_000, "max_amount": 3_000}, callback=True)["ok"]
    mine = ana.emit("join_auction", {"auction_id": auction_id}, callback=True)
    theirs = bia.emit("join_auction", {"auction_id": auction_id}, callback=True)
    own = seller.emit("join_auction", {"auction_id": auction_id}, callback=True)
    assert (mine["you_lead"], mine["your_max"], mine["watching"], mine["is_seller"]) == (True, 3_000, True, False)
    assert (theirs["you_lead"], theirs["your_max"], theirs["watching"]) == (False, None, False)
    assert own["is_seller"] is True
    assert ana.emit("unwatch", {"auction_id": auction_id}, callback=True)["watching"] is False
    assert ana.emit("join_auction", {"auction_id": auction_id}, callback=True)["watching"] is False


def test_finishing_and_unknown_auctions(app, db, people, connect, make_user):
    admin = make_user("admin", is_admin=True)
    del admin
    auction_id = new_auction(db, people["seller"])
    watcher = connect()
    assert watcher.emit("join_auction", {"auction_id": auction_id}, callback=True)["status"] == "open"
    ana = connect("ana")
    assert ana.emit("bid", {"auction_id": auction_id, "amount": 1_000}, callback=True)["ok"]
    assert connect("admin").emit("finish_auction", {"auction_id": auction_id}, callback=True)["ok"]
    ack = watcher.emit("join_auction", {"auction_id": auction_id}, callback=True)
    winner = pseudonym(auction_id, people["ana"])
    assert (ack["status"], ack["winner"], ack["final_price"]) == ("finished", winner, 1_000)
    _same_as_the_database(db, ack, auction_id)
    assert watcher.emit("join_auction", {"auction_id": 987_654}, callback=True)["error"] == "not_found"


def _primed(db, people) -> tuple[AuctionCache, int]:
    auction_id = new_auction(db, people["seller"])
    cache = AuctionCache(db)
    assert cache.state(auction_id)["version"] == 0
    return cache, auction_id


def test_a_missed_message_drops_the_entry_and_an_old_one_changes_nothing(db, people):
    cache, auction_id = _primed(db, people)
    bid = {
        "auction_id": auction_id,
        "amount": 2_000,
        "current_price": 2_000,
        "increment": 100,
        "leader": "ana",
        "bid_count": 1,
        "next_min": 2_100,
        "ends_at": "2030-01-01T00:00:00.000Z",
        "reserve_met": True,
        "bids": [],
        "extended": False,
    }
    cache.observe("new_bid", {**bid, "version": 1})
    assert cache.state(auction_id)["current_price"] == 2_000 and cache.loads == 1
    cache.observe(
        "new_bid", {**bid, "version": 1, "amount": 9_999, "current_price": 9_999}
    )  # a repeat (own and Redis copies)
    assert cache.state(auction_id)["current_price"] == 2_000
    cache.observe(
        "new_bid", {**bid, "version": 5, "amount": 7_000, "current_price": 7_000}
    )  # versions 2-4 never arrived here
    assert cache.state(auction_id)["current_price"] is None  # read afresh: the database never saw those bids
    assert cache.loads == 2
