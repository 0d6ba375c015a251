"""The per-address guard in front of Socket.IO (auction/entrypoints/guard.py): it counts sessions, never
refuses a request of a session that exists, and reads the handshake's query as Engine.IO does."""

from __future__ import annotations

import pytest
import socketio
from werkzeug.test import Client

from auction import create_app
from auction.entrypoints.guard import Guard, protect
from tests.support.auctions import new_auction
from tests.support.sockets import SocketUser

NAT = {"X-Forwarded-For": "203.0.113.9"}


def handshake(client: Client, extra: str = "") -> int:
    return client.get(f"/socket.io/?EIO=4&transport=polling{extra}").status_code


def guarded_engine(**limits: int) -> Client:
    """A real python-socketio server (threading) behind the guard, driven over WSGI."""
    server = socketio.Server(async_mode="threading")
    guard = Guard(socketio.WSGIApp(server), trusted_proxies=0, **limits)
    guard.watch(server.eio)
    return Client(guard)


@pytest.mark.parametrize("extra", ["", "&xsid=1", "&sid=", "&sidx=1&asid=2"])
def test_a_handshake_is_what_engineio_reads_as_one_whatever_else_the_query_holds(extra):
    client = guarded_engine(sockets_per_address=100, handshakes_per_second=2)
    assert [handshake(client, extra) for _ in range(3)] == [200, 200, 429]


def test_at_the_session_limit_new_handshakes_are_refused_but_existing_sessions_are_served():
    client = guarded_engine(sockets_per_address=2, handshakes_per_second=100)
    sids = []
    for _ in range(2):
        opened = client.get("/socket.io/?EIO=4&transport=polling")
        sids.append(opened.get_data(as_text=True).split('"sid":"')[1].split('"')[0])
    assert handshake(client) == 429
    for sid in sids:
        sent = client.post(f"/socket.io/?EIO=4&transport=polling&sid={sid}", data="40")
        assert sent.status_code == 200
        assert client.get(f"/socket.io/?EIO=4&transport=polling&sid={sid}").get_data(as_text=True).startswith("40")
    # A session that ends frees its place.
    assert client.post(f"/socket.io/?EIO=4&transport=polling&sid={sids[0]}", data="1").status_code == 200
    assert handshake(client) == 200


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("enabled", "limited"), [(True, True), (False, False)])
def test_rate_limits_enabled_turns_the_handshake_rate_limit_on_and_off(app_config, enabled, limited):
    app = create_app({**app_config, "RATE_LIMITS_ENABLED": enabled, "HANDSHAKES_PER_SECOND": 3})
    client = Client(protect(app))
    statuses = [handshake(client) for _ in range(6)]
    assert (429 in statuses) is limited, statuses
    app.extensions["auction.db"].dispose()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_as_many_polling_clients_as_the_limit_behind_one_address_all_keep_working(
    db, db_url, make_user, live_server_factory
):
    """Each polling session keeps a GET waiting and sends POSTs beside it (and upgrades with its sid): counting
    requests refused them all at the limit; counting sessions serves every one, and only the next is refused."""
    auction_id = new_auction(db, make_user("seller"))
    server = live_server_factory(db_url, TRUSTED_PROXIES="1", SOCKETS_PER_ADDRESS="4")
    tabs = [SocketUser(server.url, headers=NAT, transports=("polling",)) for _ in range(3)]
    tabs.append(SocketUser(server.url, headers=NAT, transports=("polling", "websocket")))
    try:
        for _round in range(3):
            for tab in tabs:
                assert tab.call("join_auction", {"auction_id": auction_id})["ok"]
                assert tab.call("leave_auction", {"auction_id": auction_id})["ok"]
        assert tabs[-1].sio.transport() == "websocket"
        with pytest.raises(socketio.exceptions.ConnectionError):
            SocketUser(server.url, headers=NAT, transports=("polling",))
        tabs.pop(0).close()
        tabs.append(SocketUser(server.url, headers=NAT, transports=("polling",)))
        assert tabs[-1].call("join_auction", {"auction_id": auction_id})["ok"]
    finally:
        for tab in tabs:
            tab.close()
    assert "event=connection_refused limit=sockets address=203.0.113.9" in server.log()
