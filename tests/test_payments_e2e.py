"""End to end: a real server with the simulator; a socket client adds money, pays on the checkout page, sees it live."""

from __future__ import annotations

import re
import threading

import requests
import socketio
from sqlalchemy import create_engine, text

from auction import wallet
from auction.db import Database

PASSWORD = "correct horse battery"
CSRF = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')


def register(http: requests.Session, base: str, username: str, cpf: str) -> None:
    token = CSRF.search(http.get(f"{base}/register").text).group(1)
    form = {
        "username": username,
        "email": f"{username}@example.com",
        "password": PASSWORD,
        "cpf_cnpj": cpf,
        "accept": "y",
        "csrf_token": token,
    }
    answer = http.post(f"{base}/register", data=form, allow_redirects=False)
    assert answer.status_code == 302, answer.text[:500]


def submit(http: requests.Session, page_url: str, action_path: str) -> requests.Response:
    """Submit one form of a page the way a browser would (with the page's CSRF token)."""
    page = http.get(page_url)
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    match = re.search(
        rf'<form method="post" action="({re.escape(action_path)})">\s*'
        r'<input type="hidden" name="csrf_token" value="([^"]+)">',
        page.text,
    )
    assert match, f"no form posting to {action_path}"
    base = page_url.split("/asaas-sim/")[0]
    return http.post(base + match.group(1), data={"csrf_token": match.group(2)}, allow_redirects=False)


def test_a_bidder_adds_money_through_the_simulator_and_sees_it_live(db_url, live_server_factory):
    server = live_server_factory(db_url)
    http = requests.Session()
    register(http, server.url, "e2e_payer", "52998224725")

    updates: list[dict] = []
    credited = threading.Event()
    sio = socketio.Client(http_session=http)

    @sio.on("wallet")
    def on_wallet(data: dict) -> None:
        updates.append(data)
        if data.get("available") == 4_200:
            credited.set()

    sio.connect(server.url, transports=["websocket"])
    try:
        ack = sio.call("add_money", {"amount": 4_200}, timeout=20)
        assert ack["ok"] is True, ack
        url = ack["payment_url"]
        assert url.startswith(f"{server.url}/asaas-sim/i/pay_")
        path = url.removeprefix(server.url)
        answer = submit(http, url, f"{path}/pay")
        assert answer.status_code == 302
        assert credited.wait(20), f"no wallet update; got {updates}\n{server.log()[-3000:]}"
    finally:
        sio.disconnect()

    engine_db = Database(db_url, pool_size=1)
    try:
        assert engine_db.transaction(wallet.audit) == []
        with create_engine(db_url).connect() as conn:
            status, credited_cents = conn.execute(text("SELECT status, credited FROM payments")).one()
        assert (status, credited_cents) == ("RECEIVED", 4_200)
    finally:
        engine_db.dispose()
