"""Production as deploy/ runs it: nginx (TLS, the rendered deploy/nginx site) in front of two site processes joined
by Redis, each with its own instance folder. Clients speak only to nginx, over wss and over the polling fallback.

Skipped only where nginx is not installed; CI installs Debian's nginx and fails instead of skipping.
"""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest
import requests
import socketio
from sqlalchemy import select

from auction.models import Bid
from tests.conftest import IN_CI
from tests.support.auctions import audit, fund, load_auction, new_auction
from tests.support.faults import wait_for
from tests.support.nginx import nginx_available
from tests.support.sockets import PASSWORD

pytestmark = [
    pytest.mark.parametrize("backend", ["mariadb"], indirect=True),
    pytest.mark.usefixtures("fast_passwords"),
    pytest.mark.skipif(not nginx_available() and not IN_CI, reason="nginx is not installed (apt-get install nginx)"),
]


def trusting(cert: str) -> requests.Session:
    """An HTTP session that trusts the test's certificate (and not the environment's CA bundle settings)."""
    http = requests.Session()
    http.trust_env = False
    http.verify = cert
    return http


class Tab:
    """One browser tab talking to nginx only: its cookies (nginx's route cookie, the login) in one HTTP session,
    Socket.IO over `transports`, reconnecting by itself and re-joining its auction on every connect, as
    static/js/auction.js does."""

    def __init__(
        self, site: str, cert: str, auction_id: int, *, username: str | None = None, transports: list[str] | None = None
    ) -> None:
        self.http = trusting(cert)
        self.auction_id = auction_id
        self.username = username
        self.events: list[tuple[str, Any]] = []
        self.joins: list[dict] = []
        self.lock = threading.Condition()
        if username:
            page = self.http.get(f"{site}/login", timeout=20).text
            token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
            assert token
            form = {"username": username, "password": PASSWORD, "csrf_token": token.group(1)}
            assert self.http.post(f"{site}/login", data=form, allow_redirects=False, timeout=20).status_code == 302
        self.sio = socketio.Client(
            http_session=self.http,
            reconnection=True,
            reconnection_delay=0.2,
            reconnection_delay_max=1,
            request_timeout=20,
        )
        self.sio.on("*", self._record)
        self.sio.on("connect", self._rejoin)
        self.sio.connect(site, transports=transports or ["websocket"], wait_timeout=20)
        wait_for(lambda: self.joins, timeout=20, what="the first join")

    def _record(self, event: str, payload: Any = None) -> None:
        with self.lock:
            self.events.append((event, payload))
            self.lock.notify_all()

    def _rejoin(self) -> None:
        def join() -> None:
            state = self.sio.call("join_auction", {"auction_id": self.auction_id}, timeout=20)
            with self.lock:
                self.joins.append(state)
                self.lock.notify_all()

        self.sio.start_background_task(join)

    @property
    def sid(self) -> str:
        return self.sio.get_sid()

    def bid_counts(self) -> list[int]:
        with self.lock:
            return [payload["bid_count"] for name, payload in self.events if name == "new_bid"]

    def close(self) -> None:
        self.sio.disconnect()


def process_of(tab: Tab, servers: list) -> int:
    """Which site process holds the tab's socket (each logs its sockets' connects at DEBUG)."""
    sid = tab.sid

    def find() -> int | None:
        for index, server in enumerate(servers):
            if f"event=socket_connect sid={sid} " in server.log():
                return index + 1
        return None

    return int(wait_for(find, timeout=10, what=f"the process of {sid}")) - 1


def test_tls_the_route_cookie_and_static_files_from_nginx(topology):
    nginx, servers = topology
    http = trusting(str(nginx.cert))
    page = http.get(f"{nginx.url}/", timeout=20)
    assert page.status_code == 200 and "leilao_route" in http.cookies
    static = http.get(f"{nginx.url}/static/js/auction.js", timeout=20)
    for answer in (page, static):
        assert answer.raw.headers.getlist("Strict-Transport-Security") == ["max-age=31536000"]
    assert static.status_code == 200 and "public" in static.headers["Cache-Control"]
    assert "javascript" in static.headers["Content-Type"]
    # Served by nginx from disk: no site process logged a request for it.
    assert all("/static/js/auction.js" not in server.log() for server in servers)
    plain = requests.get(f"http://127.0.0.1:{nginx.http_port}/x", allow_redirects=False, timeout=20)
    # The redirect keeps the HTTPS port when it is not 443.
    assert plain.status_code == 301 and plain.headers["Location"] == f"https://127.0.0.1:{nginx.https_port}/x"


def test_bids_cross_processes_over_wss_and_polling_and_survive_a_killed_process(topology, db, make_user):
    nginx, servers = topology
    seller, ana, bia = make_user("seller"), make_user("ana"), make_user("bia")
    fund(db, ana, 1_000_000)
    fund(db, bia, 1_000_000)
    auction_id = new_auction(db, seller, min_increment=100)
    site, cert = nginx.url, str(nginx.cert)
    tabs = [
        Tab(site, cert, auction_id, username="ana"),
        Tab(site, cert, auction_id, username="bia", transports=["polling"]),
    ]
    # Watchers until both processes hold some (nginx spreads them by its route cookie), half of them on polling.
    watchers: list[Tab] = []
    for attempt in range(24):
        watchers.append(Tab(site, cert, auction_id, transports=["polling"] if attempt % 2 else ["websocket"]))
        placed = {process_of(tab, servers) for tab in watchers}
        if len(watchers) >= 4 and placed == {0, 1}:
            break
    everyone = tabs + watchers
    homes = [process_of(tab, servers) for tab in everyone]
    assert set(homes) == {0, 1}, homes
    try:
        acked: list[int] = []
        unknown = 0
        refused: list[str] = []
        next_min = 1_000

        def bid(tab: Tab) -> None:
            nonlocal next_min, unknown
            try:
                ack = tab.sio.call("bid", {"auction_id": auction_id, "amount": next_min}, timeout=20)
            except (socketio.exceptions.TimeoutError, socketio.exceptions.BadNamespaceError):
                unknown += 1
                return
            if ack["ok"]:
                acked.append(ack["bid_id"])
                next_min = ack["next_min"]
            elif ack["error"] == "too_low":
                next_min = ack["next_min"]
            else:
                refused.append(ack["error"])  # only while the killed process's sockets move

        for round_ in range(6):
            bid(tabs[round_ % 2])
        # Every watcher, on either process, saw the last bid (it went through Redis).
        last = len(acked)
        for tab in everyone:
            wait_for(lambda tab=tab: last in tab.bid_counts(), timeout=20, what=f"new_bid {last} at {tab.sid}")

        victim = homes[0]  # ana's process
        servers[victim].kill()
        moved = [tab for tab, home in zip(everyone, homes, strict=True) if home == victim]
        for round_ in range(6, 14):
            tab = tabs[round_ % 2]
            wait_for(lambda tab=tab: tab.sio.connected and tab.joins, timeout=30, what="reconnected")
            bid(tab)
        # The killed process's clients reconnected through nginx to the survivor and re-joined with the state.
        in_db = db.transaction(lambda s: list(s.scalars(select(Bid.id).where(Bid.auction_id == auction_id))))
        final = load_auction(db, auction_id)
        for tab in moved:
            wait_for(lambda tab=tab: tab.sio.connected and len(tab.joins) >= 2, timeout=30, what="re-joined")
            assert process_of(tab, servers) != victim
        for tab in everyone:
            wait_for(
                lambda tab=tab: tab.joins[-1]["bid_count"] == final.bid_count or final.bid_count in tab.bid_counts(),
                timeout=30,
                what="the final state",
            )
        assert set(acked) <= set(in_db), "an acked bid is missing"
        assert len(acked) >= 10 and unknown <= 2 and set(refused) <= {"unavailable"}, (len(acked), unknown, refused)
        assert audit(db) == []
    finally:
        for tab in everyone:
            tab.close()
