"""Sale events through the service layer on SQLite and MariaDB: lots, the staggered schedule, a late bid's push."""

from __future__ import annotations

from datetime import timedelta

import pytest

from auction import clock
from auction.auctions import closing, listing, public, sale_events
from auction.auctions.errors import AuctionNotOpen, NotRegistered
from auction.errors import Forbidden, Invalid
from auction.outbox import Outbox
from tests.support.auctions import audit, fund, load_auction, new_auction, place

pytestmark = pytest.mark.usefixtures("fast_passwords")

INTERVAL = 60
SOFT_CLOSE = 120


@pytest.fixture
def people(make_user, db):
    ids = {name: make_user(name) for name in ("seller", "other", "ana", "bia")}
    ids["admin"] = make_user("house", is_admin=True)
    for name in ("ana", "bia"):
        fund(db, ids[name], 100_000)
    return ids


def new_event(db, organizer_id: int, **fields):
    values = {
        "organizer_id": organizer_id,
        "title": "Leilão de câmeras",
        "description": "Câmeras antigas.",
        "terms": "Edital: pagamento em 3 dias.",
        "first_close_at": clock.now() + timedelta(hours=1),
        "lot_interval_seconds": INTERVAL,
        "soft_close_seconds": SOFT_CLOSE,
        "premium_bps": 1_000,
    } | fields
    return db.run(lambda uow: sale_events.create_event(uow, sale_events.CreateEvent(**values)).id)


def add(db, event_id: int, auction_id: int, user_id: int) -> int:
    return db.run(sale_events.add_lot, sale_events.AddLot(event_id, auction_id, user_id))


def register(db, event_id: int, user_id: int, version: int = 1) -> int:
    return db.run(sale_events.register, sale_events.Register(event_id, user_id, version))


def test_lots_are_numbered_and_close_on_the_schedule_with_buy_now_off(db, people):
    event_id = new_event(db, people["seller"])
    auctions = [new_auction(db, people["seller"], seconds=7200, buy_now_price=50_000) for _ in range(3)]
    assert [add(db, event_id, auction_id, people["seller"]) for auction_id in auctions] == [1, 2, 3]
    first = clock.now() + timedelta(hours=1)
    for n, auction_id in enumerate(auctions):
        auction = load_auction(db, auction_id)
        assert (auction.event_id, auction.lot_number, auction.buy_now_price) == (event_id, n + 1, None)
        assert abs(auction.ends_at - (first + timedelta(seconds=n * INTERVAL))) < timedelta(seconds=1)


def test_only_the_organizers_lots_unless_a_house_sale(db, people):
    own = new_event(db, people["seller"])
    others = new_auction(db, people["other"])
    with pytest.raises(Forbidden):
        add(db, own, others, people["seller"])
    with pytest.raises(Forbidden):
        add(db, own, new_auction(db, people["seller"]), people["other"])
    house = new_event(db, people["admin"])
    assert add(db, house, others, people["admin"]) == 1
    with pytest.raises(Invalid):  # an auction is a lot of at most one event
        add(db, house, others, people["admin"])
    bid_on = new_auction(db, people["other"])
    place(db, bid_on, people["ana"], 1_000)
    with pytest.raises(AuctionNotOpen):
        add(db, house, bid_on, people["admin"])
    assert load_auction(db, bid_on).event_id is None

    change = sale_events.UpdateTerms(own, people["seller"], "Edital: pagamento em 2 dias.")
    assert db.run(sale_events.update_terms, change) == 2  # a new text is a new version
    assert db.run(sale_events.update_terms, change) == 2
    with pytest.raises(Forbidden):
        db.run(sale_events.update_terms, sale_events.UpdateTerms(own, people["other"], "x"))


INVALID = [
    ({"title": "ab"}, "title"),
    ({"terms": " "}, "terms"),
    ({"first_close_at": "past"}, "first_close_at"),
    ({"lot_interval_seconds": 0}, "lot_interval_seconds"),
    ({"soft_close_seconds": -1}, "soft_close_seconds"),
    ({"premium_bps": 5_001}, "premium_bps"),
    ({"deposit_bps": 0}, "deposit_bps"),
]


@pytest.mark.parametrize("backend", ["sqlite"])  # refused before anything is written
def test_create_event_names_the_invalid_field(db):
    for fields, field in INVALID:
        if fields.get("first_close_at") == "past":
            fields = {"first_close_at": clock.now() - timedelta(seconds=1)}
        with pytest.raises(Invalid) as error:
            new_event(db, 1, **fields)
        assert error.value.details["field"] == field


def test_a_late_bid_extends_its_lot_and_pushes_the_later_lots_in_order(db, people):
    """Lot 2 extended by the event's soft close (not the bidder's): lot 3 moves to lot 2's end plus the interval
    and its room hears it, lot 1 does not move; a lot added afterwards closes after the pushed one; the scheduler
    then closes them in lot order."""
    event_id = new_event(db, people["seller"], first_close_at=clock.now() + timedelta(seconds=600))
    lots = [new_auction(db, people["seller"], seconds=7200) for _ in range(3)]
    for auction_id in lots:
        add(db, event_id, auction_id, people["seller"])
    lot1, lot2, lot3 = (load_auction(db, auction_id) for auction_id in lots)

    register(db, event_id, people["ana"])
    clock.advance(timedelta(seconds=600 + INTERVAL - 30))  # 30 s before lot 2 closes
    outcome, outbox = place(db, lot2.id, people["ana"], 1_000, soft_close_seconds=5)
    assert outcome.extended
    new_end = clock.now() + timedelta(seconds=SOFT_CLOSE)
    after = [load_auction(db, auction_id) for auction_id in lots]
    assert after[0].ends_at == lot1.ends_at
    assert abs(after[1].ends_at - new_end) < timedelta(seconds=1)
    assert after[2].ends_at == after[1].ends_at + timedelta(seconds=INTERVAL) > lot3.ends_at
    assert after[2].version == lot3.version + 1
    messages = [(m.event, m.payload["auction_id"]) for m in outbox if m.event in ("new_bid", "auction_rescheduled")]
    assert messages == [("new_bid", lot2.id), ("auction_rescheduled", lot3.id)]
    rescheduled = next(m.payload for m in outbox if m.event == "auction_rescheduled")
    assert rescheduled == {
        "auction_id": lot3.id,
        "version": after[2].version,
        "ends_at": clock.isoformat(after[2].ends_at),
        "server_time": rescheduled["server_time"],
    }
    lot4 = new_auction(db, people["seller"], seconds=7200)
    assert add(db, event_id, lot4, people["seller"]) == 4
    assert load_auction(db, lot4).ends_at == after[2].ends_at + timedelta(seconds=INTERVAL)
    lots.append(lot4)

    clock.advance(timedelta(seconds=SOFT_CLOSE + 2 * INTERVAL + 1))
    due = db.transaction(closing.due_auction_ids)
    assert due == lots  # ordered by end: lot order
    for auction_id in due:
        db.run(closing.finish_if_due, auction_id)
    assert [load_auction(db, auction_id).status for auction_id in lots] == ["finished"] * 4
    assert load_auction(db, lot2.id).winner_id == people["ana"]
    assert audit(db) == []


def test_a_bid_needs_the_events_current_terms_accepted(db, people):
    """not_registered before registering and again after the terms change; a registration with a stale version of
    the terms is refused; nothing is held for a refused bid."""
    event_id = new_event(db, people["seller"])
    lot = new_auction(db, people["seller"], seconds=7200)
    add(db, event_id, lot, people["seller"])
    with pytest.raises(NotRegistered):
        place(db, lot, people["ana"], 1_000)
    assert register(db, event_id, people["ana"]) == 1
    assert register(db, event_id, people["ana"]) == 1  # accepting again changes nothing
    place(db, lot, people["ana"], 1_000)

    db.run(sale_events.update_terms, sale_events.UpdateTerms(event_id, people["seller"], "Edital: pagamento em 1 dia."))
    with pytest.raises(NotRegistered):
        place(db, lot, people["bia"], 2_000)
    register(db, event_id, people["bia"], 2)
    with pytest.raises(NotRegistered):  # ana accepted version 1
        place(db, lot, people["ana"], 3_000)
    with pytest.raises(Invalid):
        register(db, event_id, people["ana"], 1)
    assert register(db, event_id, people["ana"], 2) == 2
    outcome, _ = place(db, lot, people["ana"], 3_000)
    assert outcome.leading
    assert audit(db) == []


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_cascade_reaches_the_event_room_as_one_message_whatever_its_length(db, people):
    """A late bid on lot 1 of eight pushes lots 2-8: their rooms hear their own ends, the event's room one
    `lots_rescheduled` (the k-th pushed lot at the first end plus k intervals), not seven `lot` messages: one per lot
    cost a 2,000-member room its sockets (docs/performance.md)."""
    event_id = new_event(db, people["seller"], first_close_at=clock.now() + timedelta(seconds=600))
    lots = [new_auction(db, people["seller"], seconds=7200) for _ in range(8)]
    for auction_id in lots:
        add(db, event_id, auction_id, people["seller"])
    register(db, event_id, people["ana"])
    clock.advance(timedelta(seconds=600 - 30))  # 30 s before lot 1 closes
    outcome, outbox = place(db, lots[0], people["ana"], 1_000, soft_close_seconds=5)
    assert outcome.extended
    after = [load_auction(db, auction_id) for auction_id in lots]
    to_event = [m for m in outbox if m.room == f"event:{event_id}"]
    assert [m.event for m in to_event] == ["lot", "lots_rescheduled"]
    cascade = to_event[1].payload
    assert cascade["lots"] == [[lot.id, lot.lot_number, lot.version] for lot in after[1:]]
    first = after[1].ends_at
    assert cascade["first_ends_at"] == clock.isoformat(first) and cascade["interval_seconds"] == INTERVAL
    assert [lot.ends_at for lot in after[1:]] == [first + k * timedelta(seconds=INTERVAL) for k in range(7)]
    assert sorted(m.payload["auction_id"] for m in outbox if m.event == "auction_rescheduled") == sorted(lots[1:])


def test_the_event_room_hears_a_lot_open_and_a_lot_cancelled(db, people, backend):
    """Every change of a lot's version reaches the catalogue: a scheduled lot opening and a lot cancelled by an
    admin are `lot` messages with the lot's whole public state, as bids, pushes and ends are."""
    event_id = new_event(db, people["seller"])
    scheduled = new_auction(db, people["seller"], starts_in=60, seconds=3600)
    cancelled = new_auction(db, people["seller"], seconds=7200)
    for auction_id in (scheduled, cancelled):
        add(db, event_id, auction_id, people["seller"])
    clock.advance(timedelta(seconds=61))
    outbox = Outbox()
    assert db.run(listing.open_due, outbox=outbox) == [scheduled]
    db.run(listing.cancel, cancelled, people["admin"], outbox=outbox)
    lots = [(m.room, m.payload) for m in outbox if m.event == "lot"]
    assert [room for room, _ in lots] == [f"event:{event_id}"] * 2
    for (_, payload), auction_id in zip(lots, (scheduled, cancelled), strict=True):
        assert payload == {
            "event_id": event_id,
            **public.lot_state(load_auction(db, auction_id)),
            "server_time": payload["server_time"],
        }
    assert [payload["status"] for _, payload in lots] == ["open", "cancelled"]
