"""HANDSHAKE_TIMEOUT under every runtime (auction/runtime/serving.py): a connection that never finishes its
request is closed after it, and an upgraded websocket is exempt (guard.py lifts the timeout)."""

from __future__ import annotations

import socket
import time

import pytest

from tests.support.sockets import SocketUser

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
TIMEOUT = 1.0


def _closed_within(sock: socket.socket, seconds: float) -> float | None:
    """How long until the server closed the connection (gevent's answers 400 first), or None if it was still
    open after `seconds`."""
    started = time.monotonic()
    sock.settimeout(seconds)
    try:
        while sock.recv(1024):
            pass
    except TimeoutError:
        return None
    except OSError:
        pass
    return time.monotonic() - started


@pytest.mark.parametrize("mode", ["eventlet", "gevent", "threading"])
def test_a_half_sent_request_is_dropped_and_an_open_websocket_is_not(db_url, live_server_factory, mode):
    server = live_server_factory(db_url, SOCKETIO_ASYNC_MODE=mode, HANDSHAKE_TIMEOUT=str(TIMEOUT))
    watcher = SocketUser(server.url)
    try:
        slow = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # never finished
        waited = _closed_within(slow, TIMEOUT + 4)
        slow.close()
        assert waited is not None, f"{mode}: a half-sent request held its connection past HANDSHAKE_TIMEOUT"
        time.sleep(TIMEOUT)  # the websocket has been idle longer than the timeout by now
        ack = watcher.sio.call("join_auction", {"auction_id": 999_999}, timeout=5)
        assert ack["error"] == "not_found" and watcher.sio.connected
    finally:
        watcher.sio.disconnect()
