"""The auction scheduler: opens, finishes and announces auctions on time, with nobody connected.

It runs in every server process (see auction.background). Each step is decided in
the database (a conditional UPDATE or a locked row), so with several processes
every auction is opened, finished and announced exactly once. Its first round runs
as the server starts, which finishes auctions that ended while it was down.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask

from . import bidding
from .background import periodic
from .extensions import get_db
from .outbox import Outbox, deliver

log = logging.getLogger(__name__)
T = TypeVar("T")


def _run_with_outbox(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """One unit of work `fn(session, outbox, ...)`, then its messages."""
    outbox = Outbox()
    result = get_db().transaction(fn, outbox, *args, **kwargs)
    deliver(outbox)
    return result


@periodic("auction_scheduler", "SCHEDULER_INTERVAL")
def run_scheduler(app: Flask) -> None:
    """One round: open due auctions, send ending-soon notices, finish due auctions."""
    for auction_id in _run_with_outbox(bidding.open_due_auctions):
        log.info("event=auction_opened auction_id=%s", auction_id)
    for auction_id in _run_with_outbox(bidding.send_ending_soon, app.config["ENDING_SOON_SECONDS"]):
        log.info("event=auction_ending_soon auction_id=%s", auction_id)
    for auction_id in get_db().transaction(bidding.due_auction_ids):
        try:
            outcome = _run_with_outbox(bidding.finish_if_due, auction_id, fee_bps=app.config["PLATFORM_FEE_BPS"])
        except Exception:
            # One broken auction must not stop the others from finishing; it is retried next round.
            log.exception("event=auction_finish_failed auction_id=%s", auction_id)
            continue
        if outcome is not None:
            log.info(
                "event=auction_finished auction_id=%s winner_id=%s amount=%s reserve_met=%s by=scheduler",
                auction_id,
                outcome.winner_id,
                outcome.amount,
                outcome.reserve_met,
            )
