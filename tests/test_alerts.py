"""Alerts away from the page: planned in the event's transaction, sent by the jobs round to a real Web Push
endpoint (decrypted here with the subscription's keys), throttled, skipped for a watcher, retried, dead."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from auction import clock
from auction.alerts import preferences, push
from auction.entrypoints.alerts import run_alerts, vapid_public_key
from auction.entrypoints.sockets.presence import WatcherCounter
from auction.models import AlertDelivery, Notification, Order, PushSubscription
from auction.money import format_brl
from tests.conftest import IN_CI
from tests.support.auctions import fund, new_auction, place
from tests.support.push import BrowserKeys, PushEndpoint, vapid_claims
from tests.test_accounts import csrf_token

pytestmark = pytest.mark.usefixtures("fast_passwords")
# The whole path is checked on both backends by the first tests; the rules after them store the same rows.
SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"])


@pytest.fixture
def endpoint() -> Iterator[PushEndpoint]:
    server = PushEndpoint()
    yield server
    server.close()


@pytest.fixture
def war(db, make_user):
    """ana leads an auction at R$ 10,00; bob is about to outbid her. Both read their alerts in English, by
    push only (the e-mail channel has its own tests)."""
    seller, ana, bob = make_user("sol"), make_user("ana"), make_user("bob")
    for user in (ana, bob):
        fund(db, user, 1_000_000)
        email_off(db, user)
    auction_id = new_auction(db, seller, title="Câmera antiga", starting_price=1_000)
    place(db, auction_id, ana, 1_000)
    return {"seller": seller, "ana": ana, "bob": bob, "auction": auction_id}


def subscribe(db, user_id: int, endpoint: PushEndpoint, name: str = "/push/ana") -> BrowserKeys:
    keys = BrowserKeys()
    info = keys.subscription(endpoint.url(name))
    db.transaction(push.subscribe, user_id, info["endpoint"], info["keys"]["p256dh"], info["keys"]["auth"])
    return keys


def email_off(db, user_id: int, locale: str = "en") -> None:
    choices = {(kind, "email"): False for kind in ("outbid", "won", "auction_ended", "order")}
    db.transaction(preferences.save, user_id, choices, locale=locale)


def deliveries(db, user_id: int) -> list[AlertDelivery]:
    return list(
        db.transaction(lambda s: s.scalars(select(AlertDelivery).where(AlertDelivery.user_id == user_id)).all())
    )


def plain(text: str) -> str:
    """Amounts are written with a no-break space (R$\u00a015,00); compared here with a plain one."""
    return text.replace("\u00a0", " ")


def round_(app, **kw) -> int:
    with app.app_context():
        return run_alerts(app, **kw)


def test_outbid_push_arrives_encrypted_with_the_latest_price_and_a_link(app, db, war, endpoint):
    keys = subscribe(db, war["ana"], endpoint)
    db.transaction(preferences.save, war["ana"], {}, locale="pt_BR")
    place(db, war["auction"], war["bob"], 1_500)
    # The bid's own transaction stored the notification as a pending alert; nothing was sent yet.
    assert db.transaction(lambda s: s.scalar(select(Notification.alert_pending).where(Notification.kind == "outbid")))
    assert endpoint.received == []
    round_(app)
    [received] = endpoint.wait_for(1)
    assert received.path == "/push/ana"
    public_key, claims = vapid_claims(received)
    with app.app_context():
        assert public_key == vapid_public_key()
    assert claims["aud"] == endpoint.url("") and claims["sub"] == app.config["VAPID_SUBJECT"]
    payload = keys.decrypt(received)
    payload["body"] = plain(payload["body"])
    assert payload["title"] == "Seu lance foi superado"
    assert "R$ 15,00" in payload["body"] and "Câmera antiga" in payload["body"]
    assert payload["url"] == f"{app.config['PUBLIC_URL']}/auctions/{war['auction']}"
    assert [(d.channel, d.status) for d in deliveries(db, war["ana"])] == [("push", "sent")]


@SQLITE_ONLY
def test_thirty_outbids_in_a_bidding_war_send_two_pushes_the_second_with_the_final_price(app, db, war, endpoint):
    keys = subscribe(db, war["ana"], endpoint)
    price = 1_000
    for _ in range(30):
        # bob outbids ana, the jobs round runs, ana bids again: the war goes on.
        place(db, war["auction"], war["bob"], price + 500)
        round_(app)
        price += 1_000
        place(db, war["auction"], war["ana"], price)
    place(db, war["auction"], war["bob"], price + 500)
    assert len(endpoint.received) == 1
    # The throttle window passes; the one alert waiting goes, with the latest price.
    clock.advance(timedelta(seconds=app.config["ALERT_OUTBID_WINDOW"] + 1))
    round_(app)
    received = endpoint.wait_for(2)
    assert len(received) == 2
    assert format_brl(price + 500) in plain(keys.decrypt(received[-1])["body"])
    notes = db.transaction(lambda s: s.scalars(select(Notification).where(Notification.user_id == war["ana"])).all())
    assert len(notes) == 31


@SQLITE_ONLY
def test_a_waiting_outbid_alert_is_dropped_when_the_user_leads_again(app, db, war, endpoint):
    subscribe(db, war["ana"], endpoint)
    place(db, war["auction"], war["bob"], 1_500)
    round_(app)
    place(db, war["auction"], war["ana"], 2_000)
    place(db, war["auction"], war["bob"], 2_500)
    round_(app)
    place(db, war["auction"], war["ana"], 3_000)
    clock.advance(timedelta(seconds=app.config["ALERT_OUTBID_WINDOW"] + 1))
    round_(app)
    assert len(endpoint.received) == 1
    assert sorted((d.status, d.note) for d in deliveries(db, war["ana"])) == [
        ("sent", None),
        ("skipped", "leading_again"),
    ]


@SQLITE_ONLY
def test_nothing_is_sent_about_an_auction_the_user_watches_live(app, db, war, endpoint):
    subscribe(db, war["ana"], endpoint)
    place(db, war["auction"], war["bob"], 1_500)
    round_(app, watching_live=lambda user_id, auction_id: (user_id, auction_id) == (war["ana"], war["auction"]))
    assert endpoint.received == []
    assert [(d.status, d.note) for d in deliveries(db, war["ana"])] == [("skipped", "watching_live")]


@SQLITE_ONLY
def test_a_user_who_asked_for_alerts_while_watching_gets_them(app, db, war, endpoint):
    subscribe(db, war["ana"], endpoint)
    db.transaction(preferences.save, war["ana"], {}, while_watching=True)
    place(db, war["auction"], war["bob"], 1_500)
    round_(app, watching_live=lambda user_id, auction_id: True)
    endpoint.wait_for(1)


@SQLITE_ONLY
def test_a_subscription_the_push_service_calls_gone_is_removed(app, db, war, endpoint):
    subscribe(db, war["ana"], endpoint)
    endpoint.status = 410
    place(db, war["auction"], war["bob"], 1_500)
    round_(app)
    endpoint.wait_for(1)
    assert db.transaction(lambda s: s.scalars(select(PushSubscription)).all()) == []
    assert [(d.status, d.note) for d in deliveries(db, war["ana"])] == [("skipped", "subscriptions_gone")]


@SQLITE_ONLY
def test_a_failing_push_service_is_retried_with_back_off_then_dead_and_shown_to_admins(
    app, db, war, endpoint, client, make_user
):
    subscribe(db, war["ana"], endpoint)
    endpoint.status = 503
    app.config["ALERT_MAX_ATTEMPTS"] = 3
    place(db, war["auction"], war["bob"], 1_500)
    round_(app)
    [delivery] = deliveries(db, war["ana"])
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert delivery.due_at > clock.now() + timedelta(seconds=25)
    round_(app)  # not due yet: nothing tried
    assert len(endpoint.received) == 1
    for _ in range(2):
        clock.advance(timedelta(hours=1))
        round_(app)
    [delivery] = deliveries(db, war["ana"])
    assert (delivery.status, delivery.attempts, delivery.note) == ("dead", 3, "push service answered 503")
    assert len(endpoint.received) == 3
    # Admins see it: the counts per status and channel, and the dead delivery with its last error.
    make_user("root", is_admin=True)
    client.post(
        "/login",
        data={"username": "root", "password": "correct horse battery", "csrf_token": csrf_token(client, "/login")},
    )
    page = client.get("/admin/alerts").get_data(as_text=True)
    assert f'data-delivery-id="{delivery.id}"' in page and "push service answered 503" in page
    assert '<tr data-status="dead" data-channel="push">' in page


@SQLITE_ONLY
def test_no_push_without_a_subscription_and_none_for_kinds_turned_off(app, db, war, endpoint):
    place(db, war["auction"], war["bob"], 1_500)
    round_(app)
    assert deliveries(db, war["ana"]) == []
    subscribe(db, war["ana"], endpoint)
    db.transaction(preferences.save, war["ana"], {("outbid", "push"): False})
    place(db, war["auction"], war["ana"], 2_000)
    place(db, war["auction"], war["bob"], 2_500)
    round_(app)
    assert deliveries(db, war["ana"]) == []
    assert (
        db.transaction(lambda s: s.scalar(select(Notification.id).where(Notification.alert_pending.is_(True)))) is None
    )


@SQLITE_ONLY
def test_the_jobs_process_sees_who_watches_live_on_another_process_through_redis(app):
    """The jobs process holds no sockets: a web process's logged-in watcher reaches it through Redis."""
    channel = f"test-{uuid.uuid4().hex}"
    web, jobs = (WatcherCounter("redis://127.0.0.1:6379/0", channel, ttl=30) for _ in range(2))
    try:
        web._redis.ping()
    except Exception as exc:
        if IN_CI:
            raise
        pytest.skip(f"Redis not reachable: {exc}")
    with app.app_context():
        web.joined(7, "sid-of-ana", 42)
        web.joined(7, "sid-of-an-anonymous-watcher")
        assert jobs.watching(42, 7) and not jobs.watching(4, 7) and not jobs.watching(42, 8)
        web.left(7, "sid-of-ana", 42)
        assert not jobs.watching(42, 7)
        assert not WatcherCounter(None, "unused", ttl=30).watching(42, 7)


@SQLITE_ONLY
def test_a_leader_whose_maximum_was_reached_is_pushed_before_being_outbid(app, db, war, endpoint):
    keys = subscribe(db, war["bob"], endpoint, "/push/bob")
    place(db, war["auction"], war["bob"], 1_500, max_amount=3_000)
    place(db, war["auction"], war["ana"], 3_000)  # bob's maximum defends him, at its very top
    round_(app)
    [received] = endpoint.wait_for(1)
    assert received.path == "/push/bob"
    payload = keys.decrypt(received)
    assert payload["title"] == "Your maximum bid was reached"
    assert (
        plain(payload["body"]) == "Your maximum of R$ 30,00 on “Câmera antiga” was reached: the next bid outbids you."
    )


@SQLITE_ONLY
def test_the_buyer_is_reminded_once_before_the_automatic_release_and_the_push_leads_to_the_order(
    app, db, war, endpoint
):
    from auction.auctions import closing
    from auction.entrypoints import jobs
    from auction.orders import service as orders
    from tests.test_orders import ADDRESS

    keys = subscribe(db, war["ana"], endpoint)
    clock.advance(timedelta(hours=2))  # the auction (one hour) is over; ana won it at R$ 10,00
    db.run(closing.finish_if_due, war["auction"], fee_bps=0)
    order_id = db.transaction(lambda s: s.scalar(select(Order.id).where(Order.auction_id == war["auction"])))
    db.run(orders.set_address, orders.SetAddress(order_id, war["ana"], ADDRESS))
    db.run(orders.ship, orders.Ship(order_id, war["seller"], "Correios", "BR123456789BR", release_days=3))
    round_(app)
    before = len(endpoint.received)  # won, shipped
    with app.app_context():
        jobs.run_order_release(app)  # three days away: not yet
        clock.advance(timedelta(days=2))
        jobs.run_order_release(app)
        jobs.run_order_release(app)
    round_(app)
    [reminder] = endpoint.wait_for(before + 1)[before:]
    payload = keys.decrypt(reminder)
    assert payload["title"] == "News about your order"
    assert payload["body"].startswith(f"Order #{order_id}: the payment goes to the seller automatically in 23 hours.")
    assert payload["url"] == f"{app.config['PUBLIC_URL']}/orders/{order_id}"
    assert len(endpoint.received) == before + 1
