"""Socket.IO handlers through Flask-SocketIO's test client: every event and every error code.

The handlers are adapters, so these run on SQLite only; the rules themselves are
tested on both backends in test_bidding.py.
"""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest
from flask import url_for
from sqlalchemy import select

from auction import clock
from auction.auctions.privacy import pseudonym
from auction.db import DatabaseUnavailable
from auction.extensions import socketio
from auction.models import Watch
from tests.conftest import IN_CI
from tests.support.auctions import fund, held, load_auction, new_auction
from tests.test_accounts import csrf_token

PASSWORD = "correct horse battery"
pytestmark = pytest.mark.usefixtures("fast_passwords")


@pytest.fixture
def backend() -> str:
    return "sqlite"


@pytest.fixture
def people(make_user, db):
    ids = {name: make_user(name) for name in ("seller", "ana", "bia")}
    ids["admin"] = make_user("admin", is_admin=True)
    fund(db, ids["ana"], 100_000)
    fund(db, ids["bia"], 100_000)
    return ids


def logged_in(app, username: str):
    """An HTTP test client logged in as `username` (its cookie is what a socket connects with)."""
    http = app.test_client()
    form = {"username": username, "password": PASSWORD, "csrf_token": csrf_token(http, "/login")}
    assert http.post("/login", data=form).status_code == 302
    return http


@pytest.fixture
def connect(app):
    """connect(username or None) -> a socket test client, logged in over HTTP first when named."""
    clients = []

    def factory(username: str | None = None):
        http = logged_in(app, username) if username else app.test_client()
        sio = socketio.test_client(app, flask_test_client=http)
        assert sio.is_connected()
        clients.append(sio)
        return sio

    yield factory
    for sio in clients:
        if sio.is_connected():
            sio.disconnect()


def received(sio, name: str) -> list[dict]:
    return [message["args"][0] for message in sio.get_received() if message["name"] == name]


def by_name(sio) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for message in sio.get_received():
        out.setdefault(message["name"], []).append(message["args"][0])
    return out


def test_join_returns_full_state_and_counts_watchers(connect, db, people):
    auction_id = new_auction(db, people["seller"])
    anonymous = connect()
    state = anonymous.emit("join_auction", {"auction_id": auction_id}, callback=True)
    assert state["ok"] and state["status"] == "open" and state["current_price"] is None
    assert state["next_min"] == 1_000 and state["bid_count"] == 0 and state["bids"] == []
    assert state["watchers"] == 1 and state["server_time"].endswith("Z") and state["ends_at"].endswith("Z")
    ana = connect("ana")
    assert ana.emit("join_auction", {"auction_id": auction_id}, callback=True)["watchers"] == 2
    assert received(anonymous, "watchers")[-1] == {"auction_id": auction_id, "count": 2}
    assert ana.emit("leave_auction", {"auction_id": auction_id}, callback=True) == {
        "ok": True,
        "auction_id": auction_id,
    }
    assert received(anonymous, "watchers")[-1]["count"] == 1
    ana.emit("join_auction", {"auction_id": auction_id}, callback=True)
    ana.disconnect()
    assert received(anonymous, "watchers")[-1]["count"] == 1


@pytest.mark.parametrize("event", ["join_auction", "leave_auction", "bid", "finish_auction", "watch", "unwatch"])
def test_bad_auction_id_is_invalid(connect, people, event):
    ana = connect("ana")
    for payload in (None, {}, {"auction_id": "1"}, {"auction_id": True}, {"auction_id": 0}, [1]):
        ack = ana.emit(event, payload, callback=True)
        assert ack["ok"] is False and ack["error"] == "invalid", payload


def test_unknown_auction_is_not_found(connect, people):
    ana = connect("ana")
    for event in ("join_auction", "bid", "finish_auction", "watch"):
        assert ana.emit(event, {"auction_id": 424242, "amount": 1_000}, callback=True)["error"] == "not_found"


@pytest.mark.parametrize("event", ["bid", "finish_auction", "watch", "unwatch"])
def test_anonymous_may_watch_but_not_act(connect, db, people, event):
    auction_id = new_auction(db, people["seller"])
    ack = connect().emit(event, {"auction_id": auction_id, "amount": 1_000}, callback=True)
    assert ack == {"ok": False, "error": "not_logged_in", "message": ack["message"]}


def test_bid_reaches_the_room_and_outbids_the_leader(connect, db, people):
    auction_id = new_auction(db, people["seller"])
    ana, bia, watcher = connect("ana"), connect("bia"), connect()
    for sio in (ana, bia, watcher):
        sio.emit("join_auction", {"auction_id": auction_id}, callback=True)
        sio.get_received()
    first = ana.emit("bid", {"auction_id": auction_id, "amount": 1_000}, callback=True)
    assert first["ok"] and first["leading"] and first["amount"] == 1_000 and first["next_min"] == 1_050
    assert received(watcher, "new_bid")[0]["leader"] == pseudonym(auction_id, people["ana"])
    assert received(ana, "wallet")[-1] == {"available": 99_000, "held": 1_000, "frozen": 0, "in_debt": False}
    second = bia.emit("bid", {"auction_id": auction_id, "amount": 1_200, "max_amount": 5_000}, callback=True)
    assert second["ok"] and second["leading"] and second["amount"] == 1_200
    news = received(watcher, "new_bid")[0]
    assert {k: news[k] for k in ("auction_id", "amount", "leader", "bid_count", "next_min")} == {
        "auction_id": auction_id,
        "amount": 1_200,
        "leader": pseudonym(auction_id, people["bia"]),
        "bid_count": 2,
        "next_min": 1_250,
    }
    assert news["ends_at"] and news["server_time"]
    ana_got = by_name(ana)
    assert ana_got["outbid"] == [
        {"auction_id": auction_id, "amount": 1_200, "server_time": ana_got["outbid"][0]["server_time"]}
    ]
    assert ana_got["notification"][0]["kind"] == "outbid"
    assert ana_got["wallet"][-1]["held"] == 0
    assert held(db, people["bia"], auction_id) == 5_000
    state = bia.emit("join_auction", {"auction_id": auction_id}, callback=True)
    assert state["you_lead"] and state["your_max"] == 5_000


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"amount": 999}, "too_low"),
        ({"amount": True}, "invalid"),
        ({"amount": 1000.0}, "invalid"),
        ({"amount": "1000"}, "invalid"),
        ({}, "invalid"),
        ({"amount": 2_000, "max_amount": 1_000}, "invalid"),
        ({"amount": 500_000}, "insufficient_funds"),
    ],
)
def test_bid_refusals(connect, db, people, payload, code):
    auction_id = new_auction(db, people["seller"])
    ack = connect("ana").emit("bid", {"auction_id": auction_id, **payload}, callback=True)
    assert ack["ok"] is False and ack["error"] == code and ack["message"]
    if code == "too_low":
        assert ack["next_min"] == 1_000
    assert load_auction(db, auction_id).bid_count == 0


def test_own_auction_and_closed_auction(connect, db, people):
    auction_id = new_auction(db, people["seller"], seconds=10)
    assert connect("seller").emit("bid", {"auction_id": auction_id, "amount": 1_000}, callback=True)["error"] == (
        "own_auction"
    )
    clock.advance(timedelta(seconds=11))
    ack = connect("ana").emit("bid", {"auction_id": auction_id, "amount": 1_000}, callback=True)
    assert ack["error"] == "auction_not_open"


def test_bids_are_rate_limited_per_user(app, connect, db, people, frozen_window):
    """Ten bids a second per user (LIMITS["bid_user"]). The limiter's clock stands still while the twelve go out:
    on the wall clock, twelve bids on a loaded machine can take longer than the window, or straddle a boundary,
    and the first ones age out."""
    app.extensions["auction.ratelimit"].enabled = True
    auction_id = new_auction(db, people["seller"])
    ana, bia = connect("ana"), connect("bia")

    def bid(user) -> str:
        return user.emit("bid", {"auction_id": auction_id, "amount": 1}, callback=True)["error"]

    codes = [bid(ana) for _ in range(12)]
    assert codes[:10] == ["too_low"] * 10 and codes[10:] == ["rate_limited"] * 2
    assert bid(bia) == "too_low"  # per user: another bidder in the same second is not limited
    frozen_window.advance(2)  # past the window and the one it is weighed against
    assert bid(ana) == "too_low"


def test_database_down_answers_unavailable(connect, db, people, monkeypatch):
    auction_id = new_auction(db, people["seller"])
    ana = connect("ana")

    def down(*_args, **_kwargs):
        raise DatabaseUnavailable("down")

    monkeypatch.setattr(db, "run", down)
    monkeypatch.setattr(db, "transaction", down)
    for event in ("bid", "join_auction", "finish_auction", "watch"):
        assert ana.emit(event, {"auction_id": auction_id, "amount": 1_000}, callback=True)["error"] == "unavailable"


def test_a_login_the_connect_could_not_look_up_is_looked_up_at_the_next_event(app, db, people, monkeypatch):
    """The database down at connect leaves a logged-in browser's socket neither anonymous nor refused:
    its events answer `unavailable` until the login can be read, then it bids and hears its own room."""
    auction_id = new_auction(db, people["seller"])
    http = logged_in(app, "ana")

    def down(*_args, **_kwargs):
        raise DatabaseUnavailable("down")

    with monkeypatch.context() as patch:
        patch.setattr(db, "transaction", down)
        ana = socketio.test_client(app, flask_test_client=http)
        assert ana.is_connected()
        refused = ana.emit("bid", {"auction_id": auction_id, "amount": 1_000}, callback=True)
        assert refused["error"] == "unavailable", refused

    placed = ana.emit("bid", {"auction_id": auction_id, "amount": 1_000}, callback=True)
    assert placed["ok"] is True, placed
    wallets = received(ana, "wallet")
    assert wallets and wallets[-1]["held"] == 1_000, wallets
    ana.disconnect()


def test_finish_auction_by_seller_after_end_and_by_admin_early(connect, db, people):
    early = new_auction(db, people["seller"])
    later = new_auction(db, people["seller"], seconds=60)
    ana, seller, admin, bia = connect("ana"), connect("seller"), connect("admin"), connect("bia")
    bia.emit("join_auction", {"auction_id": early}, callback=True)
    ana.emit("bid", {"auction_id": early, "amount": 1_000}, callback=True)
    assert ana.emit("finish_auction", {"auction_id": early}, callback=True)["error"] == "forbidden"
    assert seller.emit("finish_auction", {"auction_id": early}, callback=True)["error"] == "not_ended"
    ack = admin.emit("finish_auction", {"auction_id": early}, callback=True)
    assert ack["ok"] and ack["winner_id"] == people["ana"] and ack["amount"] == 1_000 and ack["reserve_met"]
    assert admin.emit("finish_auction", {"auction_id": early}, callback=True)["error"] == "auction_not_open"
    finished = received(bia, "auction_finished")[0]
    assert {k: finished[k] for k in ("auction_id", "winner", "amount", "reserve_met")} == {
        "auction_id": early,
        "winner": pseudonym(early, people["ana"]),
        "amount": 1_000,
        "reserve_met": True,
    }
    ana_got = by_name(ana)
    assert ana_got["win"][0]["amount"] == 1_000 and ana_got["wallet"][-1]["held"] == 0
    assert [n["kind"] for n in by_name(seller)["notification"]] == ["order_opened", "sale"]
    clock.advance(timedelta(seconds=61))
    assert seller.emit("finish_auction", {"auction_id": later}, callback=True)["reserve_met"] is False


def test_watch_and_unwatch_persist(connect, db, people):
    auction_id = new_auction(db, people["seller"])
    ana = connect("ana")

    def watching() -> bool:
        return db.transaction(lambda s: s.scalar(select(Watch.id).where(Watch.auction_id == auction_id))) is not None

    assert ana.emit("watch", {"auction_id": auction_id}, callback=True) == {
        "ok": True,
        "auction_id": auction_id,
        "watching": True,
    }
    assert watching() and ana.emit("join_auction", {"auction_id": auction_id}, callback=True)["watching"]
    assert ana.emit("unwatch", {"auction_id": auction_id}, callback=True)["watching"] is False
    assert not watching()


def test_watcher_counts_are_shared_through_redis_and_expire(app):
    from auction.entrypoints.sockets.presence import WatcherCounter

    counter = WatcherCounter("redis://127.0.0.1:6379/0", f"test-{uuid.uuid4().hex}", ttl=0.5)
    try:
        counter._redis.ping()
    except Exception as exc:
        if IN_CI:
            raise
        pytest.skip(f"Redis not reachable: {exc}")
    counter.joined(7, "sid-on-process-a")
    counter.joined(7, "sid-on-process-b")
    assert counter.count(7) == 2 and counter.count(8) == 0
    counter.left(7, "sid-on-process-a")
    assert counter.count(7) == 1
    time.sleep(0.6)  # process B died: nobody refreshed its socket
    assert counter.count(7) == 0
    assert WatcherCounter(None, "unused", ttl=30).count(7) == 0


def test_an_unexpected_failure_is_a_server_error_ack(connect, db, people, monkeypatch):
    from auction.auctions import bids

    auction_id = new_auction(db, people["seller"])

    def broken(*_args, **_kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(bids, "place_batch", broken)
    ana = connect("ana")
    ack = ana.emit("bid", {"auction_id": auction_id, "amount": 1_000}, callback=True)
    assert ack["error"] == "server_error" and "bug" not in ack["message"]
    assert ana.is_connected()


def test_socket_events_skip_url_matching_and_keep_their_language(app, connect, db, people, monkeypatch):
    """A socket event's request context is the handshake's (/socket.io/): no route is matched for it
    (auction.entrypoints.contexts), while pages still route; its refusals are in the socket's language."""
    from werkzeug.routing import MapAdapter

    matched: list[str] = []
    real_match = MapAdapter.match
    monkeypatch.setattr(
        MapAdapter, "match", lambda self, *a, **k: matched.append(self.path_info) or real_match(self, *a, **k)
    )
    from werkzeug.routing import Map

    bound: list[str] = []
    real_bind = Map.bind_to_environ
    monkeypatch.setattr(
        Map,
        "bind_to_environ",
        lambda self, environ, **k: bound.append(environ["PATH_INFO"]) or real_bind(self, environ, **k),
    )
    auction_id = new_auction(db, people["seller"])
    ana = connect("ana")
    matched.clear()
    bound.clear()
    for _ in range(3):
        ack = ana.emit("bid", {"auction_id": auction_id, "amount": 1}, callback=True)
        assert ack["error"] == "too_low"
    assert matched == []
    assert len(bound) <= 1, "the URL map is bound once per socket, not per event"
    assert app.test_client().get("/").status_code == 200
    assert matched == ["/"]
    # A context on a socket's environ (as each event gets) still builds URLs, from its one binding.
    environ = {**app.test_request_context("/socket.io/").request.environ}
    for _ in range(2):
        with app.request_context(environ):
            assert url_for("pages.index") == "/" and url_for("pages.index", _external=True) == "http://localhost/"
    assert bound.count("/socket.io/") == 1

    def anonymous_refusal(language: str) -> str:
        http = app.test_client()
        http.set_cookie("lang", language)
        sock = socketio.test_client(app, flask_test_client=http)
        try:
            messages = {
                sock.emit("bid", {"auction_id": auction_id, "amount": 1}, callback=True)["message"] for _ in "ab"
            }
        finally:
            sock.disconnect()
        [message] = messages  # the same answer every time: remembered per socket and per language
        return message

    assert anonymous_refusal("pt_BR") != anonymous_refusal("en")
    assert anonymous_refusal("en") == anonymous_refusal("en")


def test_socket_events_reuse_the_sockets_session_instead_of_reopening_its_cookie(app, connect, db, people):
    """Flask-SocketIO gives each socket its own session copy; the request context of each event is
    handed that copy (auction.entrypoints.contexts), so the handshake's cookie is opened at most once,
    and what an event keeps in the socket's session is there at the next event, as before."""
    auction_id = new_auction(db, people["seller"])
    ana = connect("ana")
    assert ana.emit("bid", {"auction_id": auction_id, "amount": 1}, callback=True)["error"] == "too_low"
    opened: list[str] = []
    interface = app.session_interface
    real_open = interface.open_session
    interface.open_session = lambda a, request: opened.append(request.path) or real_open(a, request)
    try:
        for _ in range(3):
            assert ana.emit("bid", {"auction_id": auction_id, "amount": 1}, callback=True)["error"] == "too_low"
        ack = ana.emit("bid", {"auction_id": auction_id, "amount": 1_000}, callback=True)
        assert ack["ok"] and ack["leading"], "still logged in as ana: her session is the socket's copy"
        assert opened == []
        assert app.test_client().get("/").status_code == 200
        assert opened == ["/"], "pages still open their cookie"
    finally:
        del interface.open_session
    assert held(db, people["ana"], auction_id) == 1_000
