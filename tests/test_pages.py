"""Pages through Flask's test client: who may see what, no one else's data, photo uploads, admin actions."""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from auction import accounts, clock, notifications, wallet
from auction.auctions import bids, closing, listing, watching
from auction.errors import Invalid
from auction.models import Auction, AuctionPhoto, Notification, Order, Payment, WebhookDelivery
from tests.browser.conftest import make_png
from tests.support.auctions import FACTS
from tests.test_accounts import csrf_token


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    """Page rules do not depend on the database: SQLite, except where a test asks for both."""
    return request.param


USER_PAGES = ["/sell", "/me/bids", "/me/auctions", "/wallet", "/wallet/payments", "/notifications"]
ADMIN_PAGES = [
    "/admin/",
    "/admin/users",
    "/admin/auctions",
    "/admin/payments",
    "/admin/deliveries",
    "/admin/withdrawals",
    "/admin/orders",
    "/admin/disputes",
]
TOKEN = "test-webhook-token-0123456789abcdef"


def log_in(client, db, user_id: int) -> None:
    token = db.transaction(accounts.start_session, user_id)
    with client.session_transaction() as session:
        session["sid"] = token


def new_auction(db, seller_id: int, title: str = "Film camera", **kwargs) -> int:
    ends_at = kwargs.pop("ends_at", clock.now() + timedelta(hours=1))
    command = listing.NewAuction(
        seller_id=seller_id,
        title=title,
        description=kwargs.get("description", "Works well."),
        starting_price=kwargs.get("starting_price", 10_000),
        reserve_price=kwargs.get("reserve_price"),
        ends_at=ends_at,
        facts=kwargs.get("facts", FACTS),
    )
    return db.run(lambda uow: listing.create(uow, command).id)


def place_bid(db, auction_id: int, bidder_id: int, amount: int) -> None:
    db.run(bids.place, bids.PlaceBid(auction_id, bidder_id, amount))


def fund(db, user_id: int, amount: int = 100_000) -> None:
    db.transaction(lambda s: wallet.credit(s, user_id=user_id, amount=amount, key=f"fund-{user_id}-{amount}"))


# -- who may see what -------------------------------------------------------------------------


@pytest.mark.parametrize("path", USER_PAGES + ADMIN_PAGES)
def test_user_and_admin_pages_send_anonymous_visitors_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("path", USER_PAGES)
def test_user_pages_render_for_a_logged_in_user(client, db, make_user, path):
    log_in(client, db, make_user("alice"))
    response = client.get(path)
    assert response.status_code == 200
    assert "alice" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ADMIN_PAGES)
def test_admin_pages_are_forbidden_to_bidders_and_open_to_admins(client, db, make_user, path):
    log_in(client, db, make_user("bidder"))
    assert client.get(path).status_code == 403
    log_in(client, db, make_user("boss", is_admin=True))
    assert client.get(path).status_code == 200


def test_admin_actions_are_forbidden_to_bidders(client, db, make_user):
    seller = make_user("seller")
    auction_id = new_auction(db, seller)
    log_in(client, db, make_user("bidder"))
    token = csrf_token(client, "/wallet")
    for path in (f"/admin/auctions/{auction_id}/cancel", f"/admin/auctions/{auction_id}/finish"):
        assert client.post(path, data={"csrf_token": token}).status_code == 403
    assert db.transaction(lambda s: s.get(Auction, auction_id).status) == "open"


def test_nav_shows_the_users_balance_and_unread_count(client, db, make_user):
    user = make_user("alice")
    fund(db, user, 12_345)
    db.run(lambda uow: notifications.notify(uow, user, "outbid", "You were outbid."))
    log_in(client, db, user)
    html = client.get("/").get_data(as_text=True)
    assert 'data-wallet-available data-cents="12345">R$\u00a0123,45<' in html
    assert "data-unread-count>1<" in html


@pytest.mark.parametrize("backend", ["sqlite", "mariadb"], indirect=True)
def test_every_page_renders_with_live_data(client, db, make_user):
    seller, alice, boss = make_user("seller"), make_user("alice"), make_user("boss", is_admin=True)
    fund(db, alice)
    open_id = new_auction(db, seller, "Film camera")
    done_id = new_auction(db, seller, "Old radio", ends_at=clock.now() + timedelta(seconds=5))
    place_bid(db, open_id, alice, 10_000)
    place_bid(db, done_id, alice, 10_000)
    clock.advance(timedelta(minutes=3))  # past the soft-close extension
    db.run(closing.finish_if_due, done_id)
    for user, paths in (
        (alice, [*USER_PAGES, f"/auctions/{open_id}", f"/auctions/{done_id}", "/?filter=finished"]),
        (seller, ["/me/auctions", "/wallet"]),
        (boss, ADMIN_PAGES),
    ):
        log_in(client, db, user)
        for path in paths:
            assert client.get(path).status_code == 200, path
    log_in(client, db, seller)
    mine = client.get("/me/auctions").get_data(as_text=True)
    assert 'data-outcome="sold"' in mine and "data-order-link" in mine  # paid when the order completes
    assert "Withdraw to PIX" in client.get("/wallet").get_data(as_text=True)


# -- no one else's data ------------------------------------------------------------------------


def test_unknown_auction_and_delivery_are_404(client, db, make_user):
    assert client.get("/auctions/999").status_code == 404
    log_in(client, db, make_user("boss", is_admin=True))
    assert client.get("/admin/deliveries/999").status_code == 404


def test_payments_page_lists_only_the_users_own_payments(client, db, make_user):
    alice, bob = make_user("alice"), make_user("bob")
    now = clock.now()
    for owner, value in ((alice, 11_100), (bob, 22_200)):
        db.transaction(
            lambda s, o=owner, v=value: s.add(
                Payment(user_id=o, value=v, status="PENDING", created_at=now, updated_at=now)
            )
        )
    log_in(client, db, alice)
    html = client.get("/wallet/payments").get_data(as_text=True)
    assert "R$\u00a0111,00" in html and "Waiting for payment" in html
    assert "R$\u00a0222,00" not in html


def test_marking_someone_elses_notification_read_changes_nothing(client, db, make_user):
    alice, bob = make_user("alice"), make_user("bob")
    theirs = db.run(lambda uow: notifications.notify(uow, bob, "outbid", "Bob was outbid."))
    db.run(lambda uow: notifications.notify(uow, alice, "win", "Alice won."))
    log_in(client, db, alice)
    token = csrf_token(client, "/notifications")
    client.post("/notifications/read", data={"csrf_token": token, "id": str(theirs)})
    assert db.transaction(lambda s: s.get(Notification, theirs).read_at) is None
    page = client.get("/notifications").get_data(as_text=True)
    assert "Alice won." in page and "Bob was outbid." not in page
    client.post("/notifications/read", data={"csrf_token": token})
    assert db.transaction(lambda s: notifications.unread_count(s, alice)) == 0
    assert db.transaction(lambda s: notifications.unread_count(s, bob)) == 1


def test_my_bids_and_my_auctions_show_only_the_users_standing(client, db, make_user):
    seller, alice, bob = make_user("seller"), make_user("alice"), make_user("bob")
    fund(db, alice)
    fund(db, bob)
    camera = new_auction(db, seller, "Film camera")
    new_auction(db, bob, "Bob's lamp")
    place_bid(db, camera, alice, 10_000)
    place_bid(db, camera, bob, 10_500)
    log_in(client, db, alice)
    html = client.get("/me/bids").get_data(as_text=True)
    assert 'data-outcome="outbid"' in html and "Film camera" in html
    assert "Bob&#39;s lamp" not in html
    log_in(client, db, bob)
    assert 'data-outcome="leading"' in client.get("/me/bids").get_data(as_text=True)
    mine = client.get("/me/auctions").get_data(as_text=True)
    assert "Bob&#39;s lamp" in mine and "Film camera" not in mine


# -- pages show the right things ------------------------------------------------------------------


def test_list_filters_and_search(client, db, make_user):
    seller = make_user("seller")
    new_auction(db, seller, "Film camera", ends_at=clock.now() + timedelta(minutes=20))
    new_auction(db, seller, "Road bicycle", ends_at=clock.now() + timedelta(days=3))
    finished = new_auction(db, seller, "Old radio", ends_at=clock.now() + timedelta(seconds=5))
    clock.advance(timedelta(seconds=10))
    db.run(closing.finish_if_due, finished)

    def titles(query: str) -> set[str]:
        html = client.get(f"/?{query}").get_data(as_text=True)
        return {t for t in ("Film camera", "Road bicycle", "Old radio") if t in html}

    assert titles("") == {"Film camera", "Road bicycle"}
    assert titles("filter=ending") == {"Film camera"}
    assert titles("filter=finished") == {"Old radio"}
    assert titles("q=BICY") == {"Road bicycle"}
    assert titles("q=%25") == set()


def test_user_text_is_escaped_on_the_list_and_the_auction_page(client, db, make_user):
    auction_id = new_auction(db, make_user("seller"), "<script>alert(1)</script>", description="<img src=x>")
    for path in ("/", f"/auctions/{auction_id}"):
        html = client.get(path).get_data(as_text=True)
        assert "<script>alert(1)" not in html and "<img src=x>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_auction_page_prefills_the_next_minimum_and_shows_the_result(client, db, make_user):
    seller, alice = make_user("seller"), make_user("alice")
    fund(db, alice)
    auction_id = new_auction(db, seller, ends_at=clock.now() + timedelta(seconds=30), reserve_price=50_000)
    place_bid(db, auction_id, alice, 10_000)
    log_in(client, db, alice)
    html = client.get(f"/auctions/{auction_id}").get_data(as_text=True)
    # The leader types a new maximum (nothing more is held without it); others get the next minimum.
    assert "Raise your maximum" in html and 'data-bid-amount value=""' in html and 'data-next-min="10250"' in html
    assert "Reserve price not met yet." in html
    log_in(client, db, make_user("bob"))
    assert 'value="102,50"' in client.get(f"/auctions/{auction_id}").get_data(as_text=True)
    clock.advance(timedelta(minutes=5))
    db.run(closing.finish_if_due, auction_id)
    html = client.get(f"/auctions/{auction_id}").get_data(as_text=True)
    assert "the reserve price was not met" in html


def test_wallet_page_shows_balances_and_readable_reasons(client, db, make_user):
    seller, alice = make_user("seller"), make_user("alice")
    fund(db, alice, 30_000)
    place_bid(db, new_auction(db, seller), alice, 10_000)
    log_in(client, db, alice)
    html = client.get("/wallet").get_data(as_text=True)
    assert 'data-wallet-available data-cents="20000"' in html and 'data-wallet-held data-cents="10000"' in html
    assert "Top-up" in html and "Bid hold" in html


def test_topup_form_refuses_a_bad_amount_on_the_wallet_page(client, db, make_user):
    log_in(client, db, make_user("alice"))
    token = csrf_token(client, "/wallet")
    response = client.post("/wallet/topup", data={"csrf_token": token, "amount": "1,00"}, follow_redirects=True)
    assert "Could not add money" in response.get_data(as_text=True)
    assert db.transaction(lambda s: s.scalar(select(func.count(Payment.id)))) == 0


# -- selling with photos -----------------------------------------------------------------------------


def sell_form(client, photos: list[tuple[bytes, str]], **fields) -> dict:
    data = {
        "csrf_token": csrf_token(client, "/sell"),
        "title": "Road bicycle",
        "description": "Aluminium frame.",
        "starting_price": "600,00",
        "starts_in": "0",
        "duration": "2",
        "duration_unit": "hours",
        "condition": "like_new",
        "delivery": "ship",
        "shipping_cost": "35,00",
        "city": "Porto Alegre",
        "uf": "RS",
        **fields,
    }
    data["photos"] = [(io.BytesIO(body), name) for body, name in photos]
    return data


def uploads(app) -> list[Path]:
    folder = Path(app.instance_path) / "uploads"
    return list(folder.iterdir()) if folder.exists() else []


def test_selling_with_photos_stores_them_and_serves_them_safely(app, client, db, make_user):
    log_in(client, db, make_user("seller"))
    png = make_png(8, 8)
    response = client.post("/sell", data=sell_form(client, [(png, "bike.png"), (b"GIF89a" + b"\0" * 20, "x.exe")]))
    assert response.status_code == 302
    auction_id = int(response.headers["Location"].rsplit("/", 1)[1])
    photos = db.transaction(
        lambda s: list(s.scalars(select(AuctionPhoto).where(AuctionPhoto.auction_id == auction_id)))
    )
    assert [p.content_type for p in photos] == ["image/png", "image/gif"]
    assert all(p.filename.endswith((".png", ".gif")) and "bike" not in p.filename for p in photos)
    assert len(uploads(app)) == 2

    served = client.get(f"/photos/{photos[0].filename}")
    assert served.status_code == 200 and served.data == png
    assert served.headers["Content-Type"] == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Content-Disposition"] == "inline"
    assert "sandbox" in served.headers["Content-Security-Policy"]
    assert client.get("/photos/../secret_key").status_code == 404
    assert client.get("/photos/" + "0" * 32 + ".png").status_code == 404
    assert photos[0].filename in client.get(f"/auctions/{auction_id}").get_data(as_text=True)


@pytest.mark.parametrize(
    ("photos", "message"),
    [
        ([(b"<html><script>alert(1)</script>", "cat.png")], "is not a JPEG, PNG, WebP or GIF image"),
        ([(b"\x89PNG\r\n\x1a\n" + b"\0" * 2048, "huge.png")], "is larger than 1 KB"),
        ([(make_png(2, 2), f"p{i}.png") for i in range(6)], "at most 5 photos"),
    ],
    ids=["wrong-type", "too-big", "too-many"],
)
def test_bad_photos_are_refused_on_the_form_and_nothing_is_stored(app, client, db, make_user, photos, message):
    app.config["PHOTO_MAX_BYTES"] = 1024
    log_in(client, db, make_user("seller"))
    response = client.post("/sell", data=sell_form(client, photos))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.transaction(lambda s: s.scalar(select(func.count(Auction.id)))) == 0
    assert uploads(app) == []


def test_sell_form_shows_field_errors(client, db, make_user):
    log_in(client, db, make_user("seller"))
    response = client.post(
        "/sell", data=sell_form(client, [], title="", starting_price="12,345", reserve_price="1,00", duration="0")
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'data-error-for="title"' in html and 'data-error-for="starting_price"' in html
    assert 'data-error-for="duration"' in html
    response = client.post("/sell", data=sell_form(client, [], reserve_price="1,00"))
    assert response.status_code == 400
    assert "must not be below the starting price" in response.get_data(as_text=True)


def test_the_item_facts_are_required_and_shown_on_the_auction_page(app, client, db, make_user):
    log_in(client, db, make_user("seller"))
    missing = {"condition": "", "delivery": "", "city": "", "uf": ""}
    response = client.post("/sell", data=sell_form(client, [(make_png(8, 8), "a.png")], **missing))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert dict(re.findall(r'data-error-for="(\w+)">([^<]*)', html)) == {
        "condition": "Choose the item's condition.",
        "delivery": "Choose how the buyer gets the item.",
        "city": "Fill this in.",
        "uf": "Choose the state.",
    }
    response = client.post("/sell", data=sell_form(client, [(make_png(8, 8), "a.png")], shipping_cost=""))
    assert response.status_code == 400
    assert "Give the shipping cost, or choose free shipping or pickup." in response.get_data(as_text=True)
    response = client.post("/sell", data=sell_form(client, [], uf="XX"))
    assert response.status_code == 400 and 'data-error-for="uf"' in response.get_data(as_text=True)
    assert db.transaction(lambda s: s.scalar(select(func.count(Auction.id)))) == 0
    assert uploads(app) == []

    listed = {}
    for delivery, cost, shown in [
        ("ship", "35,00", "Shipping R$\u00a035,00, paid by the buyer"),
        ("free_shipping", "", "Free shipping"),
        ("pickup", "99,00", "Pickup in Porto Alegre - RS"),  # a cost typed before choosing pickup is ignored
    ]:
        response = client.post("/sell", data=sell_form(client, [], delivery=delivery, shipping_cost=cost))
        assert response.status_code == 302
        auction_id = int(response.headers["Location"].rsplit("/", 1)[1])
        page = client.get(f"/auctions/{auction_id}").get_data(as_text=True)
        assert shown in page and "Like new" in page and "Porto Alegre - RS" in page
        listed[delivery] = db.transaction(lambda s, i=auction_id: s.get(Auction, i))
    assert [(a.item_condition, a.delivery, a.shipping_cost, a.city, a.uf) for a in listed.values()] == [
        ("like_new", "ship", 3_500, "Porto Alegre", "RS"),
        ("like_new", "ship", 0, "Porto Alegre", "RS"),
        ("like_new", "pickup", None, "Porto Alegre", "RS"),
    ]


def test_the_listing_service_refuses_missing_facts_naming_the_field(db, make_user):
    seller = make_user("seller")
    bad = [
        (listing.ItemFacts("mint", "ship", "Recife", "PE", 100), "condition"),
        (listing.ItemFacts("used", "ship", "Recife", "PE", None), "shipping_cost"),
        (listing.ItemFacts("used", "drone", "Recife", "PE", None), "delivery"),
        (listing.ItemFacts("used", "pickup", " ", "PE"), "city"),
        (listing.ItemFacts("used", "pickup", "Recife", "ZZ"), "uf"),
    ]
    for facts, field in bad:
        with pytest.raises(Invalid) as refused:
            new_auction(db, seller, facts=facts)
        assert refused.value.details["field"] == field
    assert db.transaction(lambda s: s.scalar(select(func.count(Auction.id)))) == 0


# -- admin ----------------------------------------------------------------------------------------------


def test_admin_cancels_an_auction_without_bids_and_finishes_one_early(client, db, make_user):
    seller, alice = make_user("seller"), make_user("alice")
    fund(db, alice)
    quiet = new_auction(db, seller, "Quiet lot")
    busy = new_auction(db, seller, "Busy lot")
    place_bid(db, busy, alice, 10_000)
    log_in(client, db, make_user("boss", is_admin=True))
    token = csrf_token(client, "/admin/auctions")
    page = client.get("/admin/auctions").get_data(as_text=True)
    assert f"/admin/auctions/{busy}/cancel" not in page and f"/admin/auctions/{quiet}/cancel" in page
    client.post(f"/admin/auctions/{quiet}/cancel", data={"csrf_token": token})
    refused = client.post(f"/admin/auctions/{busy}/cancel", data={"csrf_token": token}, follow_redirects=True)
    assert "cannot be cancelled" in refused.get_data(as_text=True)
    client.post(f"/admin/auctions/{busy}/finish", data={"csrf_token": token})
    status = db.transaction(lambda s: {a.title: (a.status, a.winner_id) for a in s.scalars(select(Auction))})
    assert status == {"Quiet lot": ("cancelled", None), "Busy lot": ("finished", alice)}
    # The price waits in escrow for the order (tests/test_orders.py), not on the seller's balance yet.
    assert db.transaction(lambda s: s.scalar(select(Order.escrowed).where(Order.auction_id == busy))) == 10_000


def test_admin_sees_deliveries_and_the_raw_body_without_the_token(client, db, make_user):
    body = json.dumps({"id": "evt_1", "event": "PAYMENT_RECEIVED", "payment": {"id": "pay_1"}, "echo": TOKEN})
    delivery_id = db.transaction(
        lambda s: _add_delivery(s, "evt_1", "PAYMENT_RECEIVED", body, outcome="failed", detail="boom")
    )
    log_in(client, db, make_user("boss", is_admin=True))
    listing = client.get("/admin/deliveries").get_data(as_text=True)
    assert "PAYMENT_RECEIVED" in listing and "pay_1" in listing and "boom" in listing
    assert f"/admin/deliveries/{delivery_id}/reprocess" in listing
    assert "evt_1" not in client.get("/admin/deliveries?outcome=applied").get_data(as_text=True)
    detail = client.get(f"/admin/deliveries/{delivery_id}").get_data(as_text=True)
    assert "&#34;event&#34;: &#34;PAYMENT_RECEIVED&#34;" in detail
    assert TOKEN not in detail and "[redacted]" in detail


def _add_delivery(session, event_id: str, event: str, body: str, **fields) -> int:
    row = WebhookDelivery(
        event_id=event_id, event=event, asaas_payment_id="pay_1", raw_body=body, received_at=clock.now(), **fields
    )
    session.add(row)
    session.flush()
    return row.id


def test_admin_assigns_an_unmatched_payment_to_a_user(client, db, make_user):
    alice = make_user("alice")
    now = clock.now()
    payment_id = db.transaction(
        lambda s: _add_payment(s, Payment(user_id=None, matched=False, value=5_000, status="RECEIVED", created_at=now))
    )
    log_in(client, db, make_user("boss", is_admin=True))
    assert "unmatched" in client.get("/admin/payments?unmatched=1").get_data(as_text=True)
    token = csrf_token(client, "/admin/payments")
    missing = client.post(
        f"/admin/payments/{payment_id}/assign", data={"csrf_token": token, "username": "nobody"}, follow_redirects=True
    )
    assert "no user named" in missing.get_data(as_text=True)
    client.post(f"/admin/payments/{payment_id}/assign", data={"csrf_token": token, "username": "alice"})
    assert db.transaction(lambda s: s.get(Payment, payment_id).user_id) == alice


def _add_payment(session, payment: Payment) -> int:
    payment.updated_at = payment.created_at
    session.add(payment)
    session.flush()
    return payment.id


def test_admin_reprocesses_a_failed_delivery(client, db, make_user):
    body = json.dumps({"id": "evt_2", "event": "PAYMENT_RECEIVED", "payment": {"id": "pay_unknown", "value": 10}})
    delivery_id = db.transaction(lambda s: _add_delivery(s, "evt_2", "PAYMENT_RECEIVED", body, outcome="failed"))
    log_in(client, db, make_user("boss", is_admin=True))
    token = csrf_token(client, "/admin/deliveries")
    page = client.post(f"/admin/deliveries/{delivery_id}/reprocess", data={"csrf_token": token}, follow_redirects=True)
    assert "Re-processed: Unmatched" in page.get_data(as_text=True)
    assert db.transaction(lambda s: s.get(WebhookDelivery, delivery_id).outcome) == "unmatched"


def test_watch_button_works_without_javascript(client, db, make_user):
    auction_id = new_auction(db, make_user("seller"))
    alice = make_user("alice")
    log_in(client, db, alice)
    token = csrf_token(client, f"/auctions/{auction_id}")
    client.post(f"/auctions/{auction_id}/watch", data={"csrf_token": token, "watch": "1"})
    assert db.transaction(lambda s: watching.is_watching(s, alice, auction_id))
    assert "Stop watching" in client.get(f"/auctions/{auction_id}").get_data(as_text=True)
    client.post(f"/auctions/{auction_id}/watch", data={"csrf_token": token, "watch": "0"})
    assert not db.transaction(lambda s: watching.is_watching(s, alice, auction_id))
    assert client.post("/auctions/999/watch", data={"csrf_token": token, "watch": "1"}).status_code == 404


def test_an_oversized_upload_gets_a_readable_413(app, client, db, make_user):
    app.config["MAX_CONTENT_LENGTH"] = 4096
    log_in(client, db, make_user("seller"))
    response = client.post("/sell", data=sell_form(client, [(make_png(64, 64) + b"\0" * 8192, "big.png")]))
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)
