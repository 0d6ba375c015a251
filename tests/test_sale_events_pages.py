"""Sale events' pages through Flask's test client: create an event, add lots, the paginated catalogue, in pt-BR
and English."""

from __future__ import annotations

import re

import pytest

from auction.auctions import catalogue
from auction.models import Auction, SaleEvent
from tests.support.auctions import fund, new_auction, place
from tests.test_accounts import csrf_token
from tests.test_pages import log_in

pytestmark = pytest.mark.usefixtures("fast_passwords")


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


def test_a_seller_creates_an_event_adds_lots_and_bidders_see_the_catalogue(client, db, make_user, monkeypatch):
    seller, ana = make_user("seller"), make_user("ana")
    fund(db, ana, 100_000)
    log_in(client, db, seller)
    form = {
        "csrf_token": csrf_token(client, "/events/new"),
        "title": "Leilão de câmeras",
        "terms": "Pagamento em 3 dias.",
        "first_close_in": "60",
        "lot_interval_seconds": "60",
        "soft_close_seconds": "120",
        "premium_percent": "10",
    }
    refused = client.post("/events/new", data=form | {"lot_interval_seconds": "0"})
    assert refused.status_code == 400 and db.transaction(lambda s: s.query(SaleEvent).count()) == 0
    created = client.post("/events/new", data=form)
    assert created.status_code == 302
    event_id = int(re.search(r"/events/(\d+)", created.headers["Location"])[1])
    assert db.transaction(lambda s: s.get(SaleEvent, event_id).premium_bps) == 1_000

    auctions = [new_auction(db, seller, title=f"Câmera {n}", buy_now_price=90_000) for n in (1, 2, 3)]
    token = csrf_token(client, f"/events/{event_id}")
    for auction_id in auctions:
        added = client.post(f"/events/{event_id}/lots", data={"csrf_token": token, "auction_id": auction_id})
        assert added.status_code == 303
    assert db.transaction(lambda s: [s.get(Auction, i).lot_number for i in auctions]) == [1, 2, 3]

    log_in(client, db, ana)
    client.set_cookie("lang", "en")
    page = client.get(f"/events/{event_id}").get_data(as_text=True)
    assert "data-register" in page and "data-registered" not in page
    token = csrf_token(client, f"/events/{event_id}")
    unticked = client.post(f"/events/{event_id}/register", data={"csrf_token": token, "terms_version": "1"})
    assert unticked.status_code == 303 and "data-registered" not in client.get(f"/events/{event_id}").get_data(True)
    accepted = {"csrf_token": token, "terms_version": "1", "accept": "yes"}
    assert client.post(f"/events/{event_id}/register", data=accepted).status_code == 303
    place(db, auctions[1], ana, 1_000)
    monkeypatch.setattr(catalogue, "PER_PAGE", 2)
    english = client.get(f"/events/{event_id}").get_data(as_text=True)
    rows = re.findall(r'<tr data-lot data-auction-id="(\d+)"', english)
    assert rows == [str(auctions[0]), str(auctions[1])]  # two a page: lots 1 and 2
    assert "Buyer's premium: 10% on top" in english and "Add lot" not in english
    assert re.search(rf'data-auction-id="{auctions[0]}"[^>]*data-closing-now', english)
    assert 'data-state="leading">Leading' in english and "data-registered" in english
    assert f'href="/events/{event_id}?page=2"' in english
    second = client.get(f"/events/{event_id}?page=2").get_data(as_text=True)
    assert re.findall(r'<tr data-lot data-auction-id="(\d+)"', second) == [str(auctions[2])]

    client.set_cookie("lang", "pt_BR")
    portuguese = client.get(f"/events/{event_id}").get_data(as_text=True)
    assert "Prêmio do comprador" in portuguese and "Liderando" in portuguese
    assert "Buyer" not in portuguese and "Time left" not in portuguese
    assert client.get("/events/999").status_code == 404
