"""Seller reputation: the buyer of a completed order rates the seller once, the seller answers once, and the
seller's profile, auction pages and cards show the rating, completed sales, losses of the last 12 months, and
"New seller" until the third completed sale."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from auction import clock
from auction.auctions import closing, privacy
from auction.models import Order, SellerRating
from auction.orders import ratings
from auction.orders import service as orders
from tests.support.auctions import audit, fund, new_auction, place
from tests.support.pages import as_user
from tests.test_orders_pages import ADDRESS, app_config  # noqa: F401 - the fixture: forms without CSRF

pytestmark = pytest.mark.usefixtures("fast_passwords")


@pytest.fixture
def people(make_user, db):
    names = {"sol": "solvendedora", "ana": "anacompradora", "eve": "eve", "root": "root"}
    ids = {key: make_user(name, is_admin=key == "root") for key, name in names.items()}
    fund(db, ids["ana"], 100_000)
    return ids


def sold(db, people, title: str = "Leica M3") -> dict[str, int]:
    auction_id = new_auction(db, people["sol"], seconds=60, starting_price=10_000, title=title)
    place(db, auction_id, people["ana"], 10_000)
    clock.advance(timedelta(seconds=61))
    db.run(closing.finish_if_due, auction_id, fee_bps=500)
    order_id = db.transaction(lambda s: s.scalar(select(Order.id).where(Order.auction_id == auction_id)))
    db.run(orders.set_address, orders.SetAddress(order_id, people["ana"], ADDRESS))
    return {"auction": auction_id, "order": order_id}


def completed(db, people, title: str = "Leica M3") -> dict[str, int]:
    sale = sold(db, people, title)
    db.run(orders.ship, orders.Ship(sale["order"], people["sol"], "Correios", "BR1", release_days=14))
    db.run(orders.confirm, orders.OrderAction(sale["order"], people["ana"]))
    return sale


def text_of(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def test_the_buyer_rates_a_completed_order_once_and_the_seller_answers_once(app, db, people):
    early = sold(db, people)
    buyer, seller = as_user(app, db, people["ana"]), as_user(app, db, people["sol"])
    assert buyer.post(f"/orders/{early['order']}/rating", data={"stars": "5", "comment": "ok"}).status_code == 409
    sale = completed(db, people, "Rolleiflex")
    path = f"/orders/{sale['order']}"
    assert "data-rating-form" in buyer.get(path).get_data(as_text=True)
    assert "data-rating-form" not in seller.get(path).get_data(as_text=True)
    for stars, comment in (("0", "good"), ("6", "good"), ("x", "good"), ("4", "   ")):
        refused = buyer.post(f"{path}/rating", data={"stars": stars, "comment": comment}, follow_redirects=True)
        assert refused.status_code == 400
    assert seller.post(f"{path}/rating", data={"stars": "5", "comment": "great"}).status_code == 403
    assert db.transaction(lambda s: s.scalar(select(func.count(SellerRating.id)))) == 0

    assert buyer.post(f"{path}/rating", data={"stars": "4", "comment": "Came  well packed."}).status_code == 303
    assert buyer.post(f"{path}/rating", data={"stars": "1", "comment": "changed my mind"}).status_code == 409
    assert as_user(app, db, people["eve"]).post(f"{path}/rating/reply", data={"reply": "hi"}).status_code == 403
    assert buyer.post(f"{path}/rating/reply", data={"reply": "me too"}).status_code == 403
    assert seller.post(f"{path}/rating/reply", data={"reply": "Thanks, Ana!"}).status_code == 303
    assert seller.post(f"{path}/rating/reply", data={"reply": "again"}).status_code == 409
    rating = db.transaction(lambda s: s.scalars(select(SellerRating)).one())
    assert (rating.stars, rating.comment, rating.reply, rating.order_id) == (
        4,
        "Came well packed.",
        "Thanks, Ana!",
        sale["order"],
    )
    page = text_of(seller.get(path))
    assert "★★★★☆" in page and "Came well packed." in page and "Thanks, Ana!" in page
    assert "data-reply-form" not in seller.get(path).get_data(as_text=True)
    assert audit(db) == []


def test_listings_and_the_profile_show_the_sellers_reputation(app, db, people):
    public = as_user(app, db, None)
    fresh = new_auction(db, people["sol"], title="Hasselblad")
    card = text_of(public.get("/"))
    assert "New seller" in card and "0 completed sales" in card

    # A dispute decided for the buyer more than a year ago no longer counts; one this year does.
    for age in (timedelta(days=400), timedelta(0)):
        lost = sold(db, people, "Pentax")
        db.run(orders.ship, orders.Ship(lost["order"], people["sol"], "Correios", "BR2", release_days=14))
        db.run(orders.dispute, orders.OpenDispute(lost["order"], people["ana"], "never arrived"))
        db.run(orders.resolve, orders.Resolve(lost["order"], people["root"], "refund"))
        clock.advance(age)
    for stars, title in ((5, "Nikon F"), (4, "Canon AE-1"), (4, "Olympus OM-1")):
        sale = completed(db, people, title)
        db.run(ratings.rate, ratings.RateSeller(sale["order"], people["ana"], stars, f"{title} as described"))

    stats = db.transaction(ratings.seller_stats, [people["sol"]])[people["sol"]]
    assert (stats.ratings, round(stats.average, 2), stats.completed_sales, stats.lost_last_year) == (3, 4.33, 3, 1)
    assert not stats.is_new
    fresh = new_auction(db, people["sol"], title="Hasselblad 500")
    expected = "★ 4.3 (3 ratings) · 3 completed sales · 1 cancellation or dispute lost in 12 months"
    auction_page = text_of(public.get(f"/auctions/{fresh}"))
    assert expected in auction_page and "New seller" not in auction_page
    assert expected in text_of(public.get("/"))
    profile = text_of(public.get(f"/sellers/{people['sol']}"))
    assert privacy.seller_alias(people["sol"]) in profile and expected in profile
    assert "Nikon F as described" in profile and "solvendedora" not in profile and "anacompradora" not in profile
    pt = public.get(f"/sellers/{people['sol']}", headers={"Accept-Language": "pt-BR"})
    assert "★ 4,3 (3 avaliações) · 3 vendas concluídas" in text_of(pt)
    assert public.get(f"/sellers/{people['eve']}").status_code == 404  # not a seller
    assert public.get("/sellers/999999").status_code == 404
    assert audit(db) == []
