"""After a sale event through its pages (Flask's test client, SQLite): the lot page's premium, the buyer's invoice
(from the order and the event page), the seller's shipments per buyer with "mark all shipped"."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from auction.models import AuctionPhoto, Order
from auction.orders import service as orders
from tests import test_after_the_sale as after
from tests.support.auctions import place
from tests.support.pages import as_user
from tests.test_after_the_sale import ADDRESS, event_with_lots, finish_all

pytestmark = pytest.mark.usefixtures("fast_passwords")
people = after.people  # the same cast: a seller, two funded bidders (ana, bia) and an admin


@pytest.fixture
def backend() -> str:
    return "sqlite"


@pytest.fixture
def app_config(app_config):
    return app_config | {"WTF_CSRF_ENABLED": False}


def test_the_invoice_groups_a_buyers_lots_and_the_seller_ships_them_at_once(app, db, people):
    event_id, lots = event_with_lots(db, people, "seller", lots=3)
    ana, bia, seller = people["ana"], people["bia"], people["seller"]
    lot_page = as_user(app, db, ana).get(f"/auctions/{lots[0]}").get_data(as_text=True)
    assert "Buyer's premium: 10% on top of the hammer price (at R$\u00a010,00 you pay R$\u00a011,00)" in lot_page
    assert 'data-premium-bps="1000"' in lot_page and "Lot 1 of Leilão de câmeras" in lot_page
    place(db, lots[0], ana, 2_000)
    place(db, lots[1], ana, 3_000)
    place(db, lots[2], bia, 1_000)
    finish_all(db)
    ana_orders = db.transaction(lambda s: s.scalars(select(Order.id).where(Order.buyer_id == ana)).all())
    buyer = as_user(app, db, ana)
    order_page = buyer.get(f"/orders/{ana_orders[0]}").get_data(as_text=True)
    assert "data-order-premium" in order_page and f"/events/{event_id}/invoice?buyer={ana}" in order_page
    assert f"/events/{event_id}/invoice" in buyer.get(f"/events/{event_id}").get_data(as_text=True)

    invoice = buyer.get(f"/events/{event_id}/invoice").get_data(as_text=True)
    assert invoice.count("data-invoice-line ") == 2
    assert "data-invoice-hammer>R$\u00a050,00<" in invoice
    assert "data-invoice-premium>R$\u00a05,00<" in invoice
    assert "<strong>R$\u00a055,00</strong>" in invoice
    assert as_user(app, db, bia).get(f"/events/{event_id}/invoice?buyer={ana}").status_code == 403
    assert as_user(app, db, seller).get(f"/events/{event_id}/invoice?buyer={ana}").status_code == 200
    portuguese = buyer.get(f"/events/{event_id}/invoice", headers={"Accept-Language": "pt-BR"}).get_data(True)
    assert "Nota de arremate" in portuguese and "Prêmio do comprador" in portuguese

    assert f"/events/{event_id}/invoice" in buyer.get("/me/bids").get_data(as_text=True)
    sales = as_user(app, db, seller)
    assert f"/events/{event_id}/shipments" in sales.get("/me/auctions").get_data(as_text=True)
    page = sales.get(f"/events/{event_id}/shipments").get_data(as_text=True)
    assert page.count("data-shipment ") == 2 and page.count("data-shipment-line ") == 3
    assert "Mark all 2 orders shipped" in page
    form = {"carrier": "Correios", "tracking_code": "BR1"}
    refused = sales.post(f"/events/{event_id}/shipments/{ana}", data=form)
    assert refused.status_code == 400  # no address yet: nothing is shipped
    assert db.transaction(lambda s: {o.status for o in s.scalars(select(Order).where(Order.buyer_id == ana))}) == {
        "paid"
    }
    for order_id in ana_orders:
        db.run(orders.set_address, orders.SetAddress(order_id, ana, ADDRESS))
    assert sales.post(f"/events/{event_id}/shipments/{ana}", data=form).status_code == 303
    shipped = db.transaction(
        lambda s: [(o.status, o.tracking_code) for o in s.scalars(select(Order).where(Order.buyer_id == ana))]
    )
    assert shipped == [("shipped", "BR1"), ("shipped", "BR1")]
    assert db.transaction(lambda s: s.scalar(select(Order.status).where(Order.buyer_id == bia))) == "paid"


def test_the_seller_relists_with_the_photos_and_offers_a_second_chance_the_bidder_accepts(app, db, people):
    """On the unsold lot's page: the seller offers it to bia (her page shows the offer, accept opens her order),
    then relists another unsold lot, whose copy keeps its photo file under a new name."""
    _, [offered, relisted] = event_with_lots(db, people, "seller", lots=2, reserve_price=50_000)
    photo = db.transaction(lambda s: _photo(app, s, relisted))
    for lot in (offered, relisted):
        place(db, lot, people["ana"], 2_000)
        place(db, lot, people["bia"], 3_000)
    finish_all(db)
    seller, bia = as_user(app, db, people["seller"]), as_user(app, db, people["bia"])
    page = seller.get(f"/auctions/{offered}").get_data(as_text=True)
    assert "data-after-sale" in page and f'data-offer-to="{people["bia"]}"' in page
    sent = seller.post(f"/auctions/{offered}/second-chance", data={"bidder_id": people["bia"]})
    assert sent.status_code == 303
    mine = bia.get(f"/auctions/{offered}").get_data(as_text=True)
    assert "data-second-chance" in mine and "R$\u00a033,00" in mine
    offer_id = int(mine.split('data-offer-id="', 1)[1].split('"', 1)[0])
    accepted = bia.post(f"/second-chance/{offer_id}/accept")
    assert accepted.status_code == 303 and "/orders/" in accepted.headers["Location"]
    again = bia.post(f"/second-chance/{offer_id}/accept")
    assert again.status_code == 409
    assert as_user(app, db, people["ana"]).post(f"/second-chance/{offer_id}/decline").status_code == 403

    relist = seller.post(f"/auctions/{relisted}/relist", data={"event_id": ""})
    new_id = int(relist.headers["Location"].rsplit("/", 1)[1])
    copied = db.transaction(lambda s: s.scalars(select(AuctionPhoto).where(AuctionPhoto.auction_id == new_id)).all())
    assert [p.filename != photo for p in copied] == [True]
    folder = Path(app.instance_path) / "uploads"
    assert (folder / copied[0].filename).read_bytes() == (folder / photo).read_bytes()
    assert f"/auctions/{new_id}" in seller.get(f"/auctions/{relisted}").get_data(as_text=True)
    assert seller.post(f"/auctions/{relisted}/relist", data={}).status_code == 409


def _photo(app, session, auction_id: int) -> str:
    """A photo file on the auction, as the sell form stores one."""
    with app.app_context():
        folder = Path(app.instance_path) / "uploads"
        folder.mkdir(parents=True, exist_ok=True)
        name = "ab" * 16 + ".png"
        (folder / name).write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 64)
        session.add(AuctionPhoto(auction_id=auction_id, position=0, filename=name, content_type="image/png", size=72))
    return name
