"""After a sale event on the real server (run.py) with real Socket.IO clients and HTTP: a bid's hold includes the
buyer's premium, the scheduler's close opens the order with it, a second-chance offer on the unsold lot reaches
the underbidder live and her accept opens her order, and the invoice adds it all up."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import update

from auction import clock
from auction.auctions import listing, sale_events
from auction.models import Auction
from tests.support.auctions import FACTS, audit, fund
from tests.support.sockets import SocketUser, login_cookie
from tests.test_realtime_live import backend, database  # noqa: F401 - fixtures: MariaDB, the test's own connection
from tests.test_sale_events import new_event
from tests.test_sale_events_live import register

pytestmark = [pytest.mark.live, pytest.mark.usefixtures("fast_passwords")]


def browser(url: str, username: str) -> requests.Session:
    http = requests.Session()
    # On the server's host, so the session the pages send back (with the form token) replaces this one.
    http.cookies.set("auction_session", login_cookie(url, username), domain=urlsplit(url).hostname, path="/")
    return http


def post_form(http: requests.Session, url: str, page: str, action: str) -> requests.Response:
    """Post the page's form whose action is `action`, with the page's CSRF token."""
    text = http.get(f"{url}{page}", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', text)
    assert token and f'action="{action}"' in text, f"no form for {action} on {page}"
    return http.post(f"{url}{action}", data={"csrf_token": token.group(1)}, allow_redirects=False, timeout=10)


def test_premium_close_second_chance_and_invoice_through_the_running_site(live_server_factory, db_url, database):  # noqa: F811
    seller, ana, bia = (register(database, name) for name in ("seller", "ana", "bia"))
    for user in (ana, bia):
        fund(database, user, 100_000)
    event_id = new_event(database, seller, first_close_at=clock.now() + timedelta(minutes=5), soft_close_seconds=0)
    lots = []
    for reserve in (None, 50_000):
        command = listing.NewAuction(
            seller_id=seller,
            title="Relógio",
            description="",
            starting_price=1_000,
            reserve_price=reserve,
            ends_at=clock.now() + timedelta(hours=1),
            facts=FACTS,
        )
        auction_id = database.run(lambda uow, c=command: listing.create(uow, c).id)
        database.run(sale_events.add_lot, sale_events.AddLot(event_id, auction_id, seller))
        lots.append(auction_id)
    sold, unsold = lots
    for user in (ana, bia):
        database.run(sale_events.register, sale_events.Register(event_id, user, 1))
    server = live_server_factory(db_url)
    ana_socket, bia_socket = SocketUser(server.url, "ana"), SocketUser(server.url, "bia")
    try:
        assert ana_socket.call("bid", {"auction_id": sold, "amount": 1_000, "max_amount": 2_000})["ok"]
        assert ana_socket.wait_for("wallet", lambda w: w["held"] == 2_200)  # R$ 20,00 + 10 %
        assert bia_socket.call("bid", {"auction_id": unsold, "amount": 3_000})["ok"]
        assert ana_socket.call("bid", {"auction_id": unsold, "amount": 3_100})["ok"]
        # ana held both lots (R$ 20,00 and R$ 31,00, each + 10 %).
        ana_socket.wait_for("wallet", lambda w: w["held"] == 2_200 + 3_410)
        # The hammer falls now (as an admin's "finish now" would): the server's scheduler closes both lots.
        database.transaction(
            lambda s: s.execute(update(Auction).where(Auction.id.in_(lots)).values(ends_at=clock.now()))
        )
        opened = ana_socket.wait_for("order", lambda o: o["auction_id"] == sold, timeout=20)
        ana_socket.wait_for("wallet", lambda w: w["held"] == 0, timeout=20)  # the unsold lot's hold released too

        owner = browser(server.url, "seller")
        page = owner.get(f"{server.url}/auctions/{unsold}", timeout=10).text
        assert f'data-offer-to="{ana}"' in page and f'data-offer-to="{bia}"' in page
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        sent = owner.post(
            f"{server.url}/auctions/{unsold}/second-chance",
            data={"csrf_token": token, "bidder_id": bia},
            allow_redirects=False,
            timeout=10,
        )
        assert sent.status_code == 303
        note = bia_socket.wait_for("notification", lambda n: n["kind"] == "second_chance_offer")
        assert "R$" in note["message"]
        buyer = browser(server.url, "bia")
        offer_id = re.search(r'data-offer-id="(\d+)"', buyer.get(f"{server.url}/auctions/{unsold}").text).group(1)
        accepted = post_form(buyer, server.url, f"/auctions/{unsold}", f"/second-chance/{offer_id}/accept")
        assert accepted.status_code == 303 and "/orders/" in accepted.headers["Location"]
        second = bia_socket.wait_for("order", lambda o: o["auction_id"] == unsold)
        assert bia_socket.wait_for("wallet", lambda w: w["available"] == 100_000 - 3_300)
        page = buyer.get(f"{server.url}/auctions/{unsold}", timeout=10).text
        assert "data-second-chance" not in page  # answered: the offer's box is gone
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        again = buyer.post(f"{server.url}/second-chance/{offer_id}/accept", data={"csrf_token": token}, timeout=10)
        assert again.status_code == 409  # offer_closed: nothing written

        invoice = browser(server.url, "ana").get(f"{server.url}/events/{event_id}/invoice", timeout=10).text
        assert f'data-order-id="{opened["order_id"]}"' in invoice
        assert "data-invoice-premium>R$\u00a01,00<" in invoice and "<strong>R$\u00a011,00</strong>" in invoice
        theirs = buyer.get(f"{server.url}/events/{event_id}/invoice", timeout=10).text
        assert f'data-order-id="{second["order_id"]}"' in theirs and "<strong>R$\u00a033,00</strong>" in theirs
    finally:
        ana_socket.close()
        bia_socket.close()
    assert audit(database) == []
