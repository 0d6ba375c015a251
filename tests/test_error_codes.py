"""The error codes of docs/socket-protocol.md are the code's: generated from the ServiceError classes, and every
code a socket handler answers (found by driving each event through many payloads and states) is declared for it.

Adapters only, so SQLite (the rules behind the codes run on both backends in test_bidding.py).
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from pathlib import Path

import pytest

from auction import clock, wallet
from auction.db import Database, DatabaseUnavailable
from auction.entrypoints.sockets import codes
from auction.errors import ServiceError
from auction.extensions import socketio
from tests.support.auctions import fund, new_auction
from tests.test_accounts import csrf_token

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "correct horse battery"
pytestmark = pytest.mark.usefixtures("fast_passwords")

AMOUNTS = [None, "12", 1.5, -5, 1_000, 5_000, 10**12]
# Events whose handler reads no field but the id (auction_id_of, or event_id): the amounts would send it the same
# payload fourteen times over, so they get each id once.
ID_ONLY = {"join_auction", "leave_auction", "join_event", "leave_event", "finish_auction", "watch", "unwatch"}
ID_ONLY.add("buy_now")


@pytest.fixture
def backend() -> str:
    return "sqlite"


@pytest.fixture
def app_config(app_config: dict) -> dict:
    # One bid at a time, each its own batch: no wait for others to gather (the codes do not depend on batching).
    return app_config | {"BID_BATCH_WAIT": 0, "BID_GATHER_WAIT": 0}


def test_the_docs_table_is_generated_from_the_code(app):
    assert codes.markdown_table() in (ROOT / "docs" / "socket-protocol.md").read_text()


def test_every_service_error_has_a_unique_code_a_status_and_a_docstring(app):
    classes = codes.service_errors()
    assert "wallet_in_debt" in {cls.code for cls in classes}
    for cls in classes:
        assert cls.__doc__ and cls.__doc__ is not ServiceError.__doc__, cls
        assert 400 <= cls.http_status < 600, cls
    every = [cls.code for cls in classes] + [adapter.code for adapter in codes.ADAPTER_CODES]
    assert len(every) == len(set(every))
    declared = {codes.code_of(entry) for entries in codes.EVENT_ERRORS.values() for entry in entries}
    assert declared <= set(every)


def _login(app, username: str | None):
    http = app.test_client()
    if username:
        form = {"username": username, "password": PASSWORD, "csrf_token": csrf_token(http, "/login")}
        assert http.post("/login", data=form).status_code == 302
    sio = socketio.test_client(app, flask_test_client=http)
    assert sio.is_connected()
    return sio


def _payloads(auction_ids: list[object], *, amounts: bool = True) -> list[dict]:
    out: list[dict] = [{}]
    for auction_id in auction_ids:
        out.append({"auction_id": auction_id})
        for amount, max_amount in itertools.product(AMOUNTS, [None, 900]) if amounts else ():
            out.append({"auction_id": auction_id, "amount": amount, "max_amount": max_amount})
    return out


@pytest.fixture
def scene(app, db: Database, make_user):
    """Users in every state (anonymous, seller, funded, poor, in debt, admin) and auctions in every state."""
    ids = {name: make_user(name) for name in ("seller", "rich", "poor", "debtor")}
    ids["admin"] = make_user("admin", is_admin=True)
    fund(db, ids["rich"], 100_000)
    fund(db, ids["poor"], 500)
    db.transaction(lambda s: wallet.reverse(s, user_id=ids["debtor"], amount=300, key="cb", reason="chargeback"))
    auctions = {
        "open": new_auction(db, ids["seller"]),
        "scheduled": new_auction(db, ids["seller"], starts_in=3600),
        "ended": new_auction(db, ids["seller"], seconds=60),
        "finished": new_auction(db, ids["seller"]),
    }
    finished = _login(app, "admin").emit("finish_auction", {"auction_id": auctions["finished"]}, callback=True)
    assert finished["ok"], finished
    clock.advance(timedelta(seconds=120))
    return ids, auctions


def _drive(app, auction_ids: list[object], events: list[str]) -> dict[str, set[str]]:
    """Every event, every payload, from every kind of user: the codes each event answered."""
    answered: dict[str, set[str]] = {name: set() for name in events}
    for username in (None, "seller", "rich", "poor", "debtor", "admin"):
        sio = _login(app, username)
        for name in events:
            payloads = _payloads(auction_ids, amounts=name not in ID_ONLY)
            if name == "add_money":
                payloads = [{"amount": a} for a in AMOUNTS]
            for payload in payloads:
                ack = sio.emit(name, payload, callback=True)
                assert isinstance(ack, dict) and "ok" in ack, (name, payload, ack)
                if not ack["ok"]:
                    assert ack["message"], ack
                    answered[name].add(ack["error"])
        sio.disconnect()
    return answered


def test_every_code_a_handler_answers_is_documented_for_that_event(app, scene, monkeypatch):
    _ids, auctions = scene
    # add_money finds no Asaas here and answers payment_unavailable after its retries: without their back-off.
    monkeypatch.setattr(app.extensions["auction.asaas"], "sleep", lambda _seconds: None)
    events = list(codes.EVENT_ERRORS)
    answered = _drive(app, [*auctions.values(), 999_999, "7", -1], events)
    for name, seen in answered.items():
        declared = {codes.code_of(entry) for entry in codes.EVENT_ERRORS[name]}
        assert seen <= declared, f"{name} answered undeclared codes {seen - declared}"
    # The drive reached the codes that matter, so the check above is not vacuous.
    assert {
        "not_logged_in",
        "invalid",
        "not_found",
        "auction_not_open",
        "own_auction",
        "too_low",
        "insufficient_funds",
        "wallet_in_debt",
    } <= answered["bid"]
    assert {"forbidden", "not_ended", "auction_not_open"} <= answered["finish_auction"]
    assert "not_found" in answered["join_auction"] and "invalid" in answered["add_money"]


def test_every_event_that_reads_the_database_answers_unavailable_when_it_is_down(app, scene, monkeypatch):
    _ids, auctions = scene

    def down(*_args, **_kwargs):
        raise DatabaseUnavailable("the database is unavailable")

    sio = _login(app, "rich")
    monkeypatch.setattr(Database, "offloaded", down)
    for name in ("join_auction", "bid", "finish_auction", "watch", "unwatch"):
        ack = sio.emit(name, {"auction_id": auctions["open"], "amount": 1_000}, callback=True)
        assert ack["error"] == "unavailable", (name, ack)
        assert name in codes.events_answering("unavailable")
