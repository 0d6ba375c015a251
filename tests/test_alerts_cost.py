"""What the alerts round costs, counted in statements rather than timed: an idle round reads one row, a
channel that cannot reach its user costs no throttle read, a bidding war is planned with a fixed number of
statements however many were outbid; the VAPID header is signed once per push service; the messages' CPU runs
through the runtime's offload; an alert e-mail leaves in the round that queued it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import event, select

from auction import runtime
from auction.alerts import dispatch, preferences
from auction.alerts.deliveries import Subscription
from auction.alerts.push import Pusher
from auction.entrypoints import jobs
from auction.entrypoints.alerts import run_alerts, vapid
from auction.models import AlertDelivery, Notification, User
from auction.notifications import Note, notify_all
from auction.outbox import Outbox
from auction.uow import UnitOfWork
from tests.support.auctions import new_auction
from tests.support.push import BrowserKeys, PushEndpoint
from tests.test_alert_emails import register, smtp_app  # noqa: F401 (smtp_app: a fixture)
from tests.test_alerts import subscribe

pytestmark = [pytest.mark.usefixtures("fast_passwords"), pytest.mark.parametrize("backend", ["sqlite"])]
WINDOW = dispatch.DispatchAlerts(window=timedelta(minutes=10))


@pytest.fixture
def endpoint() -> Iterator[PushEndpoint]:
    server = PushEndpoint()
    yield server
    server.close()


@contextmanager
def statements(db) -> Iterator[list[str]]:
    """The SQL sent to the database inside the block (SQLite's BEGIN IMMEDIATE left out)."""
    seen: list[str] = []

    def record(_conn, _cursor, sql: str, *_args) -> None:
        if not sql.startswith("BEGIN"):
            seen.append(" ".join(sql.split()))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def outbid(db, user_ids: list[int], auction_id: int, message: str = "You were outbid") -> None:
    """Outbid notifications stored as a bid batch stores them (pending alerts)."""
    notes = [Note(user_id, "outbid", message, auction_id) for user_id in user_ids]
    db.transaction(lambda s: notify_all(UnitOfWork(s, Outbox()), notes))


def unverify(db, user_id: int) -> None:
    db.transaction(lambda s: setattr(s.get(User, user_id), "email_verified_at", None))


def test_an_idle_round_reads_one_row_and_writes_nothing(app, db):
    with statements(db) as seen, app.app_context():
        assert run_alerts(app) == 0
    assert len(seen) == 1 and seen[0].startswith("SELECT EXISTS")


def test_an_unproven_address_and_no_subscription_plan_nothing_and_read_no_throttle_state(app, db, make_user):
    # Outbid alerts are on by e-mail and push by default; this bidder can be reached by neither.
    seller, ana = make_user("sol"), make_user("ana")
    unverify(db, ana)
    outbid(db, [ana], new_auction(db, seller))
    with statements(db) as seen:
        assert db.run(dispatch.dispatch, WINDOW) == 0
    assert not [sql for sql in seen if "alert_deliveries" in sql]
    assert db.transaction(lambda s: s.scalar(select(Notification.id).where(Notification.alert_pending))) is None


def test_a_bidding_war_is_planned_with_the_same_statements_for_three_or_thirty_bidders(app, db, make_user, endpoint):
    seller = make_user("sol")
    auction_id = new_auction(db, seller)
    bidders = [make_user(f"bidder{i}") for i in range(30)]
    for user_id in bidders:
        subscribe(db, user_id, endpoint, f"/push/{user_id}")

    def planned(users: list[int]) -> int:
        outbid(db, users, auction_id)
        with statements(db) as seen:
            assert db.run(dispatch.dispatch, WINDOW) == 2 * len(users)  # e-mail and push each
        return len(seen)

    assert planned(bidders[:3]) == planned(bidders[3:]) <= 10


def test_outbids_in_one_round_make_one_delivery_per_channel_with_the_latest_text(app, db, make_user, endpoint):
    seller, ana = make_user("sol"), make_user("ana")
    subscribe(db, ana, endpoint)
    auction_id = new_auction(db, seller)
    for price in ("R$ 11", "R$ 12", "R$ 13"):
        outbid(db, [ana], auction_id, f"You were outbid: {price}")
    db.run(dispatch.dispatch, WINDOW)
    rows = db.transaction(lambda s: s.execute(select(AlertDelivery.channel, AlertDelivery.message)).all())
    assert sorted(rows) == [("email", "You were outbid: R$ 13"), ("push", "You were outbid: R$ 13")]
    # The first was due at once; the next outbids (a later round) join it while it waits, as before.
    outbid(db, [ana], auction_id, "You were outbid: R$ 14")
    db.run(dispatch.dispatch, WINDOW)
    rows = db.transaction(lambda s: s.execute(select(AlertDelivery.channel, AlertDelivery.message)).all())
    assert sorted(rows) == [("email", "You were outbid: R$ 14"), ("push", "You were outbid: R$ 14")]


def test_the_vapid_header_is_signed_once_per_push_service_and_reused(app, endpoint):
    keys = BrowserKeys()
    info = keys.subscription(endpoint.url("/push/ana"))
    subscription = Subscription(1, info["endpoint"], info["keys"]["p256dh"], info["keys"]["auth"])
    pusher = Pusher(vapid(app), app.config["VAPID_SUBJECT"])
    for n in range(2):
        assert pusher.send(subscription, {"title": "t", "body": str(n)}) == ("sent", None)
    first, second = endpoint.wait_for(2)
    assert first.headers["authorization"] == second.headers["authorization"]  # ES256 signs differently each time
    assert [keys.decrypt(r)["body"] for r in (first, second)] == ["0", "1"]


def test_the_words_and_encryption_of_a_round_run_through_the_runtimes_offload(
    app, db, make_user, endpoint, monkeypatch
):
    seller, ana = make_user("sol"), make_user("ana")
    subscribe(db, ana, endpoint)
    db.transaction(preferences.save, ana, {("outbid", "email"): False})
    outbid(db, [ana], new_auction(db, seller))
    offloaded: list[str] = []
    current = runtime.current()

    def offload(fn, *args):
        offloaded.append(fn.__name__)
        return fn(*args)

    monkeypatch.setattr(current, "offload", offload)
    with app.app_context():
        assert run_alerts(app) == 1
    assert offloaded == ["_prepare_all"]  # the database's units of work have their own offload, bound at start
    endpoint.wait_for(1)


def test_an_alert_email_leaves_in_the_round_that_queued_it(smtp_app, smtp_server):  # noqa: F811
    db = smtp_app.extensions["auction.db"]
    seller, ana = register(db, "sol"), register(db, "ana")
    outbid(db, [ana], new_auction(db, seller))
    with smtp_app.app_context():
        run_alerts(smtp_app)  # no mail round after it
    [message] = smtp_server.wait_for(1)
    assert message["To"] == "ana@example.com"


def test_after_a_failed_send_the_alerts_round_leaves_mail_to_the_mail_job_for_a_while(smtp_app, smtp_server):  # noqa: F811
    db = smtp_app.extensions["auction.db"]
    seller, ana, bob = register(db, "sol"), register(db, "ana"), register(db, "bob")
    auction_id = new_auction(db, seller)
    smtp_server.refuse = True  # a mail server answering errors: the round's e-mail fails and waits its retry
    outbid(db, [ana], auction_id)
    with smtp_app.app_context():
        run_alerts(smtp_app)
        smtp_server.refuse = False
        outbid(db, [bob], auction_id)
        run_alerts(smtp_app)  # bob's e-mail is queued, not sent: the mail job retries first
    assert smtp_server.messages == []
    with smtp_app.app_context():
        assert jobs.run_mail_round(smtp_app).sent == 1  # bob's; ana's waits its back-off
    assert [m["To"] for m in smtp_server.wait_for(1)] == ["bob@example.com"]


def test_without_a_vapid_key_no_push_is_planned(app, db, make_user, endpoint):
    seller, ana = make_user("sol"), make_user("ana")
    unverify(db, ana)
    subscribe(db, ana, endpoint)
    app.config["VAPID_PRIVATE_KEY"] = ""  # production without a key: push is off
    app.extensions.pop("auction.vapid", None)
    outbid(db, [ana], new_auction(db, seller))
    with app.app_context():
        assert run_alerts(app) == 0
    assert db.transaction(lambda s: s.scalar(select(AlertDelivery.id))) is None
