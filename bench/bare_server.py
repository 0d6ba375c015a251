"""The transport ceiling: a bare python-socketio server on eventlet, no Flask, no database.

It speaks the same protocol as the project for what the harness uses (join_auction, bid -> ack and a
new_bid broadcast to the room with server_time), keeping the auction state in memory, so the same client
harness measures what Socket.IO on eventlet can do on this machine. `python -m bench.bare_server` with
PORT set; scenarios start it themselves.
"""

from __future__ import annotations

import eventlet

eventlet.monkey_patch()

import os  # noqa: E402
import socket  # noqa: E402
from typing import Any  # noqa: E402

import socketio  # noqa: E402

from auction import clock  # noqa: E402

sio = socketio.Server(async_mode="eventlet", cors_allowed_origins=None)
state: dict[int, dict[str, int]] = {}


def auction_state(auction_id: int) -> dict[str, int]:
    return state.setdefault(auction_id, {"price": 0, "bid_count": 0, "next_min": 100})


@sio.on("join_auction")
def join_auction(sid: str, data: dict[str, Any]) -> dict[str, Any]:
    auction_id = int(data["auction_id"])
    sio.enter_room(sid, f"auction:{auction_id}")
    return {"ok": True, **auction_state(auction_id), "server_time": clock.isoformat(clock.now())}


@sio.on("bid")
def bid(sid: str, data: dict[str, Any]) -> dict[str, Any]:
    auction_id, amount = int(data["auction_id"]), int(data["amount"])
    current = auction_state(auction_id)
    if amount < current["next_min"]:
        return {"ok": False, "error": "too_low", "message": "too low", "next_min": current["next_min"]}
    current.update(price=amount, bid_count=current["bid_count"] + 1, next_min=amount + 1)
    payload = {
        "auction_id": auction_id,
        "amount": amount,
        "leader": sid[:8],
        "bid_count": current["bid_count"],
        "next_min": current["next_min"],
        "ends_at": None,
        "server_time": clock.isoformat(clock.now()),
    }
    sio.emit("new_bid", payload, to=f"auction:{auction_id}")
    return {"ok": True, "amount": amount}


def health(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]


def main() -> None:
    app = socketio.WSGIApp(sio, health)
    sock = eventlet.listen(("127.0.0.1", int(os.environ["PORT"])))
    if os.environ.get("TCP_NODELAY", "") == "1":
        # Accepted sockets inherit it on Linux: small frames (acks) go out without waiting for Nagle.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    # max_size: eventlet's default of 1,024 simultaneous requests caps the websockets one process holds.
    eventlet.wsgi.server(sock, app, log_output=False, max_size=int(os.environ.get("WSGI_MAX_SIZE", "100000")))


if __name__ == "__main__":
    main()
