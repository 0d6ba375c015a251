"""The socket messages and notifications auction decisions cause (see docs/socket-protocol.md).

Queued on the unit of work's outbox; `Database.run` delivers them after the commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from .. import clock
from ..models import Auction, Bid
from ..money import format_brl
from ..notifications import Note, notify, notify_all
from ..outbox import Outbox
from ..uow import UnitOfWork
from .locking import AuctionRow
from .public import cancelled_state, finished_state, lot_state, opened_state, price_state, public_bid
from .watching import watcher_ids


def _now() -> str | None:
    return clock.isoformat(clock.now())


def opened(outbox: Outbox, auction: Auction | AuctionRow) -> None:
    payload = {
        "auction_id": auction.id,
        "version": auction.version,
        **opened_state(auction.ends_at),
        "server_time": _now(),
    }
    outbox.to_auction(auction.id, "auction_opened", payload)
    _lot(outbox, auction)


def rescheduled(outbox: Outbox, lot: Auction | AuctionRow) -> None:
    """A lot of a sale event closes at a new time (its row already says when): made a lot."""
    _rescheduled(outbox, lot)
    _lot(outbox, lot)


def lots_pushed(outbox: Outbox, event_id: int, pushed: Sequence[AuctionRow], interval_seconds: int) -> None:
    """A late bid's cascade (auctions/staggering.py `pushed`): each pushed lot's own room hears its new end, and the
    event's room hears ONE `lots_rescheduled` for all of them, the ends being the first plus k intervals. One `lot`
    message per pushed lot made a late bid on an early lot of a 300-lot event ~300 messages to every member of the
    event's room, which lost a 2,000-watcher room its sockets (docs/performance.md, "A sale event")."""
    for lot in pushed:
        _rescheduled(outbox, lot)
    payload = {
        "event_id": event_id,
        "first_ends_at": clock.isoformat(pushed[0].ends_at),
        "interval_seconds": interval_seconds,
        "lots": [[lot.id, lot.lot_number, lot.version] for lot in pushed],
        "server_time": _now(),
    }
    outbox.to_event(event_id, "lots_rescheduled", payload)


def _rescheduled(outbox: Outbox, lot: Auction | AuctionRow) -> None:
    payload = {
        "auction_id": lot.id,
        "version": lot.version,
        "ends_at": clock.isoformat(lot.ends_at),
        "server_time": _now(),
    }
    outbox.to_auction(lot.id, "auction_rescheduled", payload)


def _lot(outbox: Outbox, lot: Auction | AuctionRow) -> None:
    """A lot's whole public state (`public.lot_state`) to its event's one room, the catalogue page; nothing for a
    single auction."""
    if lot.event_id is not None:
        outbox.to_event(lot.event_id, "lot", {"event_id": lot.event_id, **lot_state(lot), "server_time": _now()})


def cancelled(outbox: Outbox, auction: Auction) -> None:
    payload = {"auction_id": auction.id, "version": auction.version, **cancelled_state(), "server_time": _now()}
    outbox.to_auction(auction.id, "auction_cancelled", payload)
    _lot(outbox, auction)


def new_bid(outbox: Outbox, auction: Auction | AuctionRow, *, extended: bool, added: Iterable[Bid | Any]) -> None:
    """The room hears the new price, leader and minimum (the public state's fields a bid changes, `public.price_state`),
    with the rows this decision added (oldest first). `amount` repeats `current_price` for older pages."""
    price = price_state(auction)
    payload = {
        "auction_id": auction.id,
        "version": auction.version,
        "amount": price["current_price"],
        **price,
        "extended": extended,
        "bids": [public_bid(bid) for bid in added],
        "server_time": _now(),
    }
    outbox.to_auction(auction.id, "new_bid", payload)
    _lot(outbox, auction)


def outbid_all(
    uow: UnitOfWork,
    outbids: Iterable[tuple[Auction | AuctionRow, list[int]]],
    now: datetime,
    max_reached: Iterable[tuple[Auction | AuctionRow, int]] = (),
) -> None:
    """Each user outbid on an auction hears it once (`outbid`, at the auction's price now) and gets one
    notification, and a leader whose maximum others' bids just reached is told before being outbid; the
    notifications of every auction are stored with one INSERT."""
    notes = [
        Note(
            user_id,
            "max_reached",
            f"Your maximum of {format_brl(auction.current_price or 0)} on “{auction.title}” was reached: "
            "the next bid outbids you.",
            auction_id=auction.id,
        )
        for auction, user_id in max_reached
    ]
    for auction, user_ids in outbids:
        price = auction.current_price or 0
        payload = {"auction_id": auction.id, "amount": price, "server_time": clock.isoformat(now)}
        text = f"You were outbid on “{auction.title}”: the price is now {format_brl(price)}."
        for user_id in user_ids:
            uow.outbox.to_user(user_id, "outbid", payload)
            notes.append(Note(user_id, "outbid", text, auction_id=auction.id))
    notify_all(uow, notes)


def finished(uow: UnitOfWork, auction: Auction, winner_name: str | None) -> None:
    """The room, the winner, the seller and every other watcher hear how the auction ended.

    Only the seller, a party to the sale, is told the winner's name; everyone else hears their pseudonym.
    """
    now_text = _now()
    state = finished_state(auction)
    winner_alias = state["winner"]
    # `amount` repeats `final_price` for older pages.
    payload = {
        "auction_id": auction.id,
        "version": auction.version,
        **state,
        "amount": auction.final_price,
        "server_time": now_text,
    }
    uow.outbox.to_auction(auction.id, "auction_finished", payload)
    _lot(uow.outbox, auction)
    title, price = auction.title, auction.final_price or 0
    if auction.winner_id is not None:
        uow.outbox.to_user(
            auction.winner_id, "win", {"auction_id": auction.id, "amount": auction.final_price, "server_time": now_text}
        )
        notify(
            uow,
            auction.winner_id,
            "win",
            f"You won “{title}” for {format_brl(price)}.",
            auction_id=auction.id,
        )
        seller_text = f"“{title}” sold to {winner_name} for {format_brl(price)}."
        result = f"“{title}” was won by {winner_alias} for {format_brl(price)}."
    else:
        if auction.leader_id is not None:
            seller_text = f"“{title}” ended without a sale: the reserve price was not met."
        else:
            seller_text = f"“{title}” ended without bids."
        result = f"“{title}” ended without a sale."
    kind = "sale" if auction.winner_id is not None else "no_sale"
    notify(uow, auction.seller_id, kind, seller_text, auction_id=auction.id)
    skip = {auction.seller_id, auction.winner_id}
    for user_id in watcher_ids(uow.session, auction.id):
        if user_id not in skip:
            notify(uow, user_id, "auction_result", result, auction_id=auction.id)


def ending_soon(uow: UnitOfWork, auction_id: int, title: str, remaining: timedelta) -> None:
    """Everyone who watches the auction or bid on it hears how long is left (in whole minutes, at least 1)."""
    minutes = max(1, int(remaining.total_seconds() // 60))
    text = f"“{title}” ends in {minutes} minutes."
    bidders = uow.session.scalars(select(Bid.bidder_id).where(Bid.auction_id == auction_id).distinct())
    notify_all(
        uow,
        [
            Note(user_id, "ending_soon", text, auction_id=auction_id)
            for user_id in sorted(set(watcher_ids(uow.session, auction_id)) | set(bidders))
        ],
    )
