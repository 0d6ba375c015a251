"""The group-commit queue (entrypoints/sockets/bid_queue.py) with a stand-in database: which bids share a
batch, how long a batch waits, and that one auction is never in two batches at once."""

from __future__ import annotations

import gc
import threading
import time
import weakref

import pytest
from flask import Flask

from auction.auctions import bids
from auction.auctions.rules import TooLow
from auction.entrypoints.sockets.bid_queue import BidQueue

WAIT = 0.3


class Recorder:
    """Stands in for Database.run: records each batch (its auctions, when it began) and answers every bid."""

    def __init__(self) -> None:
        self.batches: list[tuple[float, list[int]]] = []
        self.hold = threading.Event()
        self.hold.set()
        self.inside: set[int] = set()
        self.overlaps = 0

    def run(self, _decide, batch):
        auctions = [item.command.auction_id for item in batch]
        if self.inside & set(auctions):
            self.overlaps += 1
        self.inside |= set(auctions)
        self.batches.append((time.monotonic(), auctions))
        self.hold.wait(5)
        self.inside -= set(auctions)
        return [f"decided {auction_id}" for auction_id in auctions]


@pytest.fixture
def queue_and_db():
    app = Flask(__name__)
    app.config.update(BID_BATCH_MAX=50, BID_WORKERS=1, BID_BATCH_WAIT=WAIT, BID_GATHER_WAIT=0)
    db = app.extensions["auction.db"] = Recorder()
    return BidQueue(app), db


def submit_all(queue: BidQueue, auction_ids: list[int]) -> tuple[dict[int, object], list[threading.Thread]]:
    results: dict[int, object] = {}

    def one(index: int, auction_id: int) -> None:
        results[index] = queue.submit(bids.PlaceBid(auction_id, 1, 1_000), token=None)

    threads = [threading.Thread(target=one, args=pair) for pair in enumerate(auction_ids)]
    for thread in threads:
        thread.start()
        time.sleep(0.01)  # in this order
    return results, threads


def test_a_bid_after_a_quiet_spell_is_decided_at_once(queue_and_db):
    queue, db = queue_and_db
    queue.submit(bids.PlaceBid(8, 1, 1_000), token=None)  # warm up
    started = time.monotonic()
    assert queue.submit(bids.PlaceBid(7, 1, 1_000), token=None) == "decided 7"
    assert time.monotonic() - started < WAIT / 2
    assert [auctions for _, auctions in db.batches] == [[8], [7]]


def test_bids_that_wait_share_one_batch_across_auctions_and_a_hot_auction_gathers(queue_and_db):
    queue, db = queue_and_db
    db.hold.clear()  # the first batch stays in the database while the others arrive
    results, threads = submit_all(queue, [1, 2, 3, 1, 4, 2])
    time.sleep(0.05)
    db.hold.set()
    for thread in threads:
        thread.join(5)
    # Auctions in the order their oldest waiting bid came, each auction's bids together and in order; auction 1
    # had a batch a moment ago, so its next one gathers until BID_BATCH_WAIT after that one began.
    assert [auctions for _, auctions in db.batches] == [[1], [2, 2, 3, 4], [1]]
    assert results == {i: f"decided {a}" for i, a in enumerate([1, 2, 3, 1, 4, 2])}
    assert db.batches[1][0] - db.batches[0][0] < WAIT / 2
    assert db.batches[2][0] - db.batches[0][0] >= WAIT * 0.95


def test_an_auction_in_a_batch_waits_for_it_while_others_go_ahead(queue_and_db):
    queue, db = queue_and_db
    queue._workers_max, queue._wait = 2, 0.0
    db.hold.clear()
    results, threads = submit_all(queue, [1, 1, 2])
    time.sleep(0.05)
    assert [auctions for _, auctions in db.batches] == [[1], [2]]  # auction 1's second bid waits its turn
    db.hold.set()
    for thread in threads:
        thread.join(5)
    assert sorted(auctions for _, auctions in db.batches) == [[1], [1], [2]]
    assert db.overlaps == 0
    assert results == {0: "decided 1", 1: "decided 1", 2: "decided 2"}


def test_a_busy_process_gathers_bids_of_many_auctions_into_its_next_batch(queue_and_db):
    queue, db = queue_and_db
    queue._workers_max, queue._wait, queue._gather = 2, 0.0, WAIT
    queue.submit(bids.PlaceBid(9, 1, 1_000), token=None)  # a batch began just now
    started = time.monotonic()
    results, threads = submit_all(queue, [1, 2, 3])  # a free worker, but the process gathers
    for thread in threads:
        thread.join(5)
    assert [auctions for _, auctions in db.batches] == [[9], [1, 2, 3]]
    assert results == {0: "decided 1", 1: "decided 2", 2: "decided 3"}
    assert db.batches[1][0] - db.batches[0][0] >= WAIT * 0.95
    assert time.monotonic() - started < WAIT * 1.5


def test_a_full_batch_does_not_wait_for_the_gather(queue_and_db):
    queue, db = queue_and_db
    queue._max, queue._wait, queue._gather = 3, 0.0, 5.0
    queue.submit(bids.PlaceBid(9, 1, 1_000), token=None)
    started = time.monotonic()
    results, threads = submit_all(queue, [1, 2, 3])
    for thread in threads:
        thread.join(5)
    assert [auctions for _, auctions in db.batches] == [[9], [1, 2, 3]]
    assert results == {0: "decided 1", 1: "decided 2", 2: "decided 3"}
    assert time.monotonic() - started < 1.0  # not the 5 s gather: BID_BATCH_MAX bids were waiting


def test_a_refusal_raised_to_the_bidder_is_freed_at_once(queue_and_db):
    """`submit` raises the batch's refusal without keeping it in its own frame (which the traceback holds):
    with the collector off, the refusal is gone as soon as the handler is done with it."""
    queue, db = queue_and_db
    db.run = lambda _decide, batch: [TooLow("the minimum bid is R$ 10,00", next_min=1_000) for _ in batch]

    def refused() -> weakref.ref:
        try:
            queue.submit(bids.PlaceBid(9, 1, 500), token=None)
        except TooLow as refusal:
            assert refusal.code == "too_low"
            return weakref.ref(refusal)
        raise AssertionError("the bid was not refused")

    refused()  # warm up
    gc.collect()
    gc.disable()
    try:
        assert refused()() is None
    finally:
        gc.enable()
