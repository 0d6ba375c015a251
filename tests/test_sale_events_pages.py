"""Sale events' pages through Flask's test client: create an event, add lots, the paginated catalogue, in pt-BR
and English."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from auction import clock
from auction.auctions import catalogue, closing, sale_events
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


def test_the_catalogue_filters_open_closed_my_lots_and_titles_across_pages(client, db, make_user, monkeypatch):
    """Filters are the server's: open or closed lots, the viewer's leading and outbid lots, a title search; the
    pager keeps them; an unknown value shows every lot; the lot closing now is named even off the page."""
    seller, ana, bia, admin = make_user("seller"), make_user("ana"), make_user("bia"), make_user("adm", is_admin=True)
    for user in (ana, bia):
        fund(db, user, 100_000)
    event_id = db.run(
        lambda uow: (
            sale_events.create_event(
                uow,
                sale_events.CreateEvent(
                    seller, "Leilão de discos", "", "Edital.", clock.now() + timedelta(hours=1), 60, 0
                ),
            ).id
        )
    )
    titles = ["Disco azul", "Disco verde", "Rádio 100%", "Disco preto", "Vitrola"]
    lots = [new_auction(db, seller, title=title, seconds=7200) for title in titles]
    for auction_id in lots:
        db.run(sale_events.add_lot, sale_events.AddLot(event_id, auction_id, seller))
    for user in (ana, bia):
        db.run(sale_events.register, sale_events.Register(event_id, user, 1))
    place(db, lots[1], ana, 1_000)  # ana leads lot 2
    place(db, lots[3], ana, 1_000)
    place(db, lots[3], bia, 2_000)  # ana was outbid on lot 4
    db.run(closing.finish, closing.FinishAuction(lots[0], admin))  # lot 1 closed early

    def listed(query: str) -> list[int]:
        page = client.get(f"/events/{event_id}{query}").get_data(as_text=True)
        return [int(found) for found in re.findall(r'<tr data-lot data-auction-id="(\d+)"', page)]

    log_in(client, db, ana)
    client.set_cookie("lang", "en")
    assert listed("") == lots
    assert listed("?show=open") == lots[1:]
    assert listed("?show=closed") == lots[:1]
    assert listed("?mine=leading") == [lots[1]]
    assert listed("?mine=outbid") == [lots[3]]
    assert listed("?q=disco") == [lots[0], lots[1], lots[3]]
    assert listed("?q=100%25") == [lots[2]]  # % is a character, not a wildcard
    assert listed("?q=_") == []
    assert listed("?show=open&q=DISCO") == [lots[1], lots[3]]
    assert listed("?show=everything&mine=mine") == lots

    monkeypatch.setattr(catalogue, "PER_PAGE", 1)
    page = client.get(f"/events/{event_id}?show=open&q=disco").get_data(as_text=True)
    assert f'href="/events/{event_id}?page=2&amp;show=open&amp;q=disco"' in page
    assert "2 lots match" in page
    # The lot closing now is lot 2 (lot 1 closed); on page 2 it is not listed but named, with the open lots' ends.
    second = client.get(f"/events/{event_id}?page=2&show=open").get_data(as_text=True)
    assert re.findall(r'<tr data-lot data-auction-id="(\d+)"', second) == [str(lots[2])]
    assert f'href="/auctions/{lots[1]}" data-closing-link>Lot 2</a>' in second
    assert "data-closing-now" not in second
    assert f"[{lots[4]}, 5, " in second  # every open lot's end, for the page script

    client.set_cookie("lang", "pt_BR")
    portuguese = client.get(f"/events/{event_id}?mine=outbid").get_data(as_text=True)
    assert "Meus lotes: Superado" in portuguese and "Encerrando agora" in portuguese
    lot_page = client.get(f"/auctions/{lots[1]}").get_data(as_text=True)  # the event's soft close is 0: none
    assert "Lances não prorrogam este lote" in lot_page and "segundos prorroga" not in lot_page

    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert listed("?mine=leading") == []  # no viewer, no lots of theirs


def test_finished_lots_say_won_and_lost_and_a_lot_page_states_its_events_soft_close(client, db, make_user):
    """Found walking an event in the browser (tests/browser/test_event_journey.py): back on the event page after
    the end, the winner read "Leading" and the leader of a lot whose reserve was not met read "Leading" too, where
    the page's script says "Won" and "Lost" of the same lots; and a lot's page stated the site's soft close, not
    its event's."""
    seller, ana, bia, admin = make_user("seller"), make_user("ana"), make_user("bia"), make_user("adm", is_admin=True)
    for user in (ana, bia):
        fund(db, user, 100_000)
    first_close = clock.now() + timedelta(hours=1)
    event = sale_events.CreateEvent(seller, "Leilão de discos", "", "Edital.", first_close, 60, 37)
    event_id = db.run(lambda uow: sale_events.create_event(uow, event).id)
    sold = new_auction(db, seller, title="Disco azul", seconds=7200)
    unsold = new_auction(db, seller, title="Vitrola", seconds=7200, reserve_price=90_000)
    for auction_id in (sold, unsold):
        db.run(sale_events.add_lot, sale_events.AddLot(event_id, auction_id, seller))
    for user in (ana, bia):
        db.run(sale_events.register, sale_events.Register(event_id, user, 1))
    place(db, sold, bia, 1_000)
    place(db, sold, ana, 2_000)  # ana wins the first lot, bia lost it
    place(db, unsold, ana, 1_000)
    place(db, unsold, bia, 2_000)  # bia leads the second when it ends below its reserve: no one won it

    client.set_cookie("lang", "en")
    log_in(client, db, ana)
    lot_page = client.get(f"/auctions/{sold}").get_data(as_text=True)
    assert "A bid in the last 37 seconds extends the auction" in lot_page
    for auction_id in (sold, unsold):
        db.run(closing.finish, closing.FinishAuction(auction_id, admin))

    def states(who: int, lang: str) -> dict[int, str]:
        log_in(client, db, who)
        client.set_cookie("lang", lang)
        page = client.get(f"/events/{event_id}").get_data(as_text=True)
        found = re.findall(r'<tr data-lot data-auction-id="(\d+)".*?data-field="state"[^>]*>([^<]*)</td>', page, re.S)
        return {int(auction_id): label for auction_id, label in found}

    assert states(ana, "en") == {sold: "Won", unsold: "Lost"}
    assert states(bia, "en") == {sold: "Lost", unsold: "Lost"}
    assert states(ana, "pt_BR") == {sold: "Arrematado", unsold: "Perdido"}
