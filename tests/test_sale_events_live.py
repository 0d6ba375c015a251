"""A sale event's catalogue live over its one room: the real server (run.py) and real python-socketio clients."""

from __future__ import annotations

from datetime import timedelta

import pytest

from auction import accounts, clock
from auction.auctions import listing, public, sale_events
from auction.db import Database
from tests.support.auctions import FACTS, audit, fund, load_auction
from tests.support.sockets import PASSWORD, SocketUser
from tests.test_realtime_live import backend, database  # noqa: F401 - fixtures: MariaDB, the test's own connection

pytestmark = [pytest.mark.live, pytest.mark.usefixtures("fast_passwords")]


def register(db: Database, name: str) -> int:
    return db.transaction(
        lambda s: (
            accounts.register(
                s, username=name, email=f"{name}@example.com", password=PASSWORD, cpf_cnpj="52998224725"
            ).id
        )
    )


def test_the_event_room_hears_a_bid_and_the_push_of_the_later_lot(live_server_factory, db_url, database):  # noqa: F811
    """One `join_event`, no join per lot: a bid on lot 2 inside the soft-close window reaches the catalogue as a
    `lot` with its price and new end, and lot 3's push as a `lot` with its new end, in version order: each `lot`
    the lot's whole public state (`public.lot_state`)."""
    seller, ana = register(database, "seller"), register(database, "ana")
    fund(database, ana, 100_000)
    event = sale_events.CreateEvent(
        organizer_id=seller,
        title="Leilão de relógios",
        description="",
        terms="Edital.",
        first_close_at=clock.now() + timedelta(seconds=30),
        lot_interval_seconds=1,
        soft_close_seconds=120,  # every bid of this test is inside the window
    )
    event_id = database.run(lambda uow: sale_events.create_event(uow, event).id)
    lots = []
    for _ in range(3):
        command = listing.NewAuction(
            seller_id=seller,
            title="Relógio",
            description="",
            starting_price=1_000,
            min_increment=None,
            reserve_price=None,
            ends_at=clock.now() + timedelta(hours=1),
            facts=FACTS,
        )
        auction_id = database.run(lambda uow, c=command: listing.create(uow, c).id)
        database.run(sale_events.add_lot, sale_events.AddLot(event_id, auction_id, seller))
        lots.append(auction_id)
    database.run(sale_events.register, sale_events.Register(event_id, ana, 1))
    server = live_server_factory(db_url, LOG_LEVEL="INFO")
    watcher, bidder = SocketUser(server.url), SocketUser(server.url, "ana")
    try:
        assert watcher.call("join_event", {"event_id": event_id}) == {"ok": True, "event_id": event_id}
        assert watcher.call("join_event", {"event_id": "1"})["error"] == "invalid"
        ack = bidder.call("bid", {"auction_id": lots[1], "amount": 1_000})
        assert ack["ok"] and ack["extended"]
        bid = watcher.wait_for("lot", lambda d: d["auction_id"] == lots[1])
        push = watcher.wait_for("lots_rescheduled", lambda d: d["event_id"] == event_id)
        after = [load_auction(database, auction_id) for auction_id in lots]
        assert bid["event_id"] == event_id and bid["price"] == 1_000 and bid["bid_count"] == 1
        assert bid["leader"] and bid["status"] == "open" and bid["lot_number"] == 2
        assert bid["ends_at"] == clock.isoformat(after[1].ends_at) and bid["version"] == after[1].version
        # The push: one message for the cascade, the lot after the extended one with its new end and version.
        assert push["first_ends_at"] == clock.isoformat(after[2].ends_at) and push["interval_seconds"] == 1
        assert push["lots"] == [[lots[2], 3, after[2].version]]
        assert after[2].ends_at == after[1].ends_at + timedelta(seconds=1)
        assert set(bid) == {"event_id", "server_time", *public.lot_state(after[2])}
        assert [d["auction_id"] for d in watcher.received("lot")] == [lots[1]]
        assert watcher.received("new_bid") == []  # the catalogue is in no lot's room
    finally:
        watcher.close()
        bidder.close()
    assert audit(database) == []
