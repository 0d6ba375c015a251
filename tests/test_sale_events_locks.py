"""The lock order of a late bid's push, on MariaDB: a bid that extends a lot and pushes the later lots takes its
auction locks in the same order as every batch (ascending id, before the wallets), so it cannot deadlock with one.

The interleaving is forced, not hoped for: a third connection holds the first bidder's wallet, so the late bid
stops there holding what it locked; the batch then stops on what the late bid holds; the wallet is let go.
Before the fix the late bid locked lot 1 only, waited for the wallet, then locked lot 2 for the push while the
batch held lot 2 and waited for lot 1: a deadlock, which MariaDB broke by rolling one back (a retry).
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, text

from auction import clock
from auction.auctions import bids, closing, sale_events
from auction.outbox import Outbox
from tests.support.auctions import audit, load_auction, new_auction
from tests.test_sale_events import INTERVAL, SOFT_CLOSE, add, new_event, people, register  # noqa: F401

pytestmark = pytest.mark.usefixtures("fast_passwords")


@pytest.fixture(params=["mariadb"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


def waiting_on(engine, table: str) -> set[int]:
    """Connections of this test's database running a locking read of `table` now."""
    with engine.connect() as conn:
        return set(
            conn.execute(
                text(
                    "SELECT id FROM information_schema.processlist"
                    " WHERE db = DATABASE() AND info LIKE :query AND id <> CONNECTION_ID()"
                ),
                {"query": f"%FROM {table}%FOR UPDATE%"},
            ).scalars()
        )


def wait_until_stuck(engine, table: str, results: dict) -> None:
    """Until one connection has been on the same locking read of `table` for 0.3 s: it waits for a row lock
    (MariaDB shows such a wait of a one-row read as the statement, not always in innodb_lock_waits)."""
    deadline, seen = time.monotonic() + 10, set()
    while not (stuck := seen & waiting_on(engine, table)):
        assert time.monotonic() < deadline, f"nothing waits for a lock on {table}: {results}"
        seen = waiting_on(engine, table)
        time.sleep(0.3)
    assert len(stuck) == 1


def test_a_late_bids_push_and_a_batch_on_the_same_lots_do_not_deadlock(db, people, db_url):  # noqa: F811
    # Lot 1 has the higher id: the push (lot order) and a batch (id order) would meet in opposite orders.
    event_id = new_event(db, people["seller"], first_close_at=clock.now() + timedelta(seconds=600))
    lot2_id = new_auction(db, people["seller"], seconds=7200)
    lot1_id = new_auction(db, people["seller"], seconds=7200)
    assert add(db, event_id, lot1_id, people["seller"]) == 1 and add(db, event_id, lot2_id, people["seller"]) == 2
    assert lot2_id < lot1_id
    for name in ("ana", "bia"):
        register(db, event_id, people[name])
    clock.advance(timedelta(seconds=600 - 30))  # lot 1 is inside its soft-close window (120 s)
    lot2_before = load_auction(db, lot2_id)

    attempts = {"late": 0, "batch": 0}
    results: dict[str, object] = {}

    def counted(name: str, commands: list[bids.PlaceBid]):
        def work(uow):
            attempts[name] += 1
            return bids.place_batch(uow, commands)

        def run() -> None:
            try:
                results[name] = db.run(work, outbox=Outbox())
            except Exception as exc:  # reported by the assertion below
                results[name] = exc

        return threading.Thread(target=run)

    late = counted("late", [bids.PlaceBid(lot1_id, people["ana"], 1_000)])
    batch = counted(
        "batch", [bids.PlaceBid(lot2_id, people["bia"], 1_000), bids.PlaceBid(lot1_id, people["bia"], 2_000)]
    )
    engine = create_engine(db_url, pool_size=2)
    try:
        with engine.connect() as holder:
            holder.begin()
            holder.execute(text("SELECT id FROM wallets WHERE user_id = :u FOR UPDATE"), {"u": people["ana"]})
            late.start()
            wait_until_stuck(engine, "wallets", results)  # the late bid waits for ana's wallet, its auction locks taken
            batch.start()
            wait_until_stuck(engine, "auctions", results)  # the batch waits for an auction the late bid holds
            holder.rollback()
        late.join(30)
        batch.join(30)
    finally:
        engine.dispose()

    assert not isinstance(results["late"], Exception) and not isinstance(results["batch"], Exception), results
    assert attempts == {"late": 1, "batch": 1}  # neither was rolled back and run again
    [late_outcome] = results["late"]
    assert late_outcome.extended
    lot1, lot2 = load_auction(db, lot1_id), load_auction(db, lot2_id)
    assert lot2.ends_at >= lot1.ends_at + timedelta(seconds=INTERVAL) > lot2_before.ends_at
    assert lot1.leader_id == people["bia"] and lot2.leader_id == people["bia"]
    assert audit(db) == []


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_lots_locked_up_front_are_the_later_open_lots_of_a_lot_inside_its_window(db, people, backend):  # noqa: F811
    """The set the push may touch, and nothing more: later movable lots of a lot whose end is inside the event's
    soft-close window at the batch's moment; none for a lot outside it, a single auction, or a finished lot."""
    event_id = new_event(db, people["seller"], first_close_at=clock.now() + timedelta(seconds=600))
    lots = [new_auction(db, people["seller"], seconds=7200) for _ in range(4)]
    for auction_id in lots:
        add(db, event_id, auction_id, people["seller"])
    single = new_auction(db, people["seller"], seconds=60)
    db.run(closing.finish, closing.FinishAuction(lots[3], people["admin"]))  # lot 4 ended early: it never moves

    def may_push(ids: set[int], seconds_before_lot1: float) -> set[int]:
        at = load_auction(db, lots[0]).ends_at - timedelta(seconds=seconds_before_lot1)
        return db.transaction(lambda s: sale_events.lots_a_bid_may_push(s, ids, at))

    assert may_push({lots[0], single}, SOFT_CLOSE) == set()  # exactly the window away: a bid would not extend
    assert may_push({lots[0], single}, SOFT_CLOSE - 1) == {lots[1], lots[2]}
    assert may_push({lots[1]}, SOFT_CLOSE - 1) == set()  # lot 2 is an interval further: outside its window
    assert may_push({lots[1]}, SOFT_CLOSE - INTERVAL - 1) == {lots[2]}
    assert may_push({single}, 599) == set()
