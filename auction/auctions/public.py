"""One shape for an auction's public state, and the one way a change to it is applied.

The page's initial state and the `join_auction` answer are `public_state`; every message to the auction's room
(`new_bid`, `auction_opened`, `auction_rescheduled`, `auction_finished`, `auction_cancelled`, built in
auctions/messages.py) carries the fields it changes under the same names (`price_state`, `finished_state`, ...),
plus a few of its own (`MESSAGE_ONLY`). `apply` updates a state with a message: the read model of auctions
(entrypoints/sockets/auction_cache.py) uses it, and static/js/auction.js's `apply` is its twin in the browser
(the page's initial state, the join answer and every room message go through it). A new public field is added
here, in auction.js's `apply` and in the page's template. A sale event's lot, as its catalogue shows it and its
event room's `lot` message carries it, is `lot_state` (static/js/event.js reads those names). People are
pseudonyms (auctions/privacy.py)."""

from __future__ import annotations

from typing import Any

from .. import clock
from ..models import Auction, AuctionStatus, Bid
from . import privacy
from .locking import AuctionRow, state_of

# What a room message carries besides the public state's own fields: `amount` repeats `current_price` (new_bid)
# or `final_price` (auction_finished) for older pages; `extended` says a bid moved the end (soft close).
MESSAGE_ONLY = frozenset({"amount", "extended"})


def price_state(auction: Auction | AuctionRow) -> dict[str, Any]:
    """The fields a bid changes, as everyone may see them."""
    rules = state_of(auction)
    price = auction.current_price
    return {
        "current_price": price,
        "leader": privacy.pseudonym(auction.id, auction.leader_id),
        "bid_count": auction.bid_count,
        "next_min": rules.next_minimum,
        "increment": rules.increment_at(price or auction.starting_price),
        "ends_at": clock.isoformat(auction.ends_at),
        "reserve_met": rules.reserve_met,
    }


def public_bid(bid: Bid | Any) -> dict[str, Any]:
    """A bid as every watcher may see it (a Bid, or a row with its id, amount, is_proxy and created_at)."""
    return {
        "bid_id": bid.id,
        "bidder": privacy.pseudonym(bid.auction_id, bid.bidder_id),
        "amount": bid.amount,
        "is_proxy": bid.is_proxy,
        "created_at": clock.isoformat(bid.created_at),
    }


def public_state(auction: Auction, recent: list[Any], now: str | None) -> dict[str, Any]:
    """Everything everyone may see of an auction (the seller's pseudonym is the same on all their auctions)."""
    finished = auction.status == AuctionStatus.FINISHED
    return {
        "auction_id": auction.id,
        "title": auction.title,
        "description": auction.description,
        "seller": privacy.seller_alias(auction.seller_id),
        "seller_id": auction.seller_id,
        "status": auction.status,
        "version": auction.version,
        "starting_price": auction.starting_price,
        **price_state(auction),
        "has_reserve": auction.reserve_price is not None,
        "condition": auction.item_condition,
        "delivery": auction.delivery,
        "shipping_cost": auction.shipping_cost,
        "city": auction.city,
        "uf": auction.uf,
        "starts_at": clock.isoformat(auction.starts_at),
        "winner": privacy.pseudonym(auction.id, auction.winner_id),
        "final_price": auction.final_price,
        # A finished auction keeps what finishing decided (an admin may finish it early).
        **({"reserve_met": auction.reserve_met} if finished else {}),
        "bids": [public_bid(bid) for bid in recent],
        "watchers": None,
        "server_time": now,
    }


def lot_state(auction: Auction | AuctionRow) -> dict[str, Any]:
    """A lot of a sale event as its catalogue shows it: the price (the hammer price once finished), the end, the
    status, the leader and the winner. The event room's `lot` message is this, whole, at each change."""
    finished = auction.status == AuctionStatus.FINISHED
    price = auction.final_price if finished else auction.current_price
    return {
        "auction_id": auction.id,
        "lot_number": auction.lot_number,
        "version": auction.version,
        "status": str(auction.status),
        "price": price if price is not None else auction.starting_price,
        "bid_count": auction.bid_count,
        "leader": privacy.pseudonym(auction.id, auction.leader_id),
        "winner": privacy.pseudonym(auction.id, auction.winner_id),
        "ends_at": clock.isoformat(auction.ends_at),
    }


def finished_state(auction: Auction) -> dict[str, Any]:
    """What finishing changes (an admin who finishes early moves the end to now)."""
    return {
        "status": AuctionStatus.FINISHED.value,
        "ends_at": clock.isoformat(auction.ends_at),
        "winner": privacy.pseudonym(auction.id, auction.winner_id),
        "final_price": auction.final_price,
        "reserve_met": bool(auction.reserve_met),
    }


def opened_state(ends_at: Any) -> dict[str, Any]:
    return {"status": AuctionStatus.OPEN.value, "ends_at": clock.isoformat(ends_at)}


def cancelled_state() -> dict[str, Any]:
    return {"status": AuctionStatus.CANCELLED.value}


def apply(state: dict[str, Any], message: dict[str, Any], *, keep_bids: int) -> None:
    """Update `state` (a `public_state`) with a room message: every field they share is copied, the message's
    `bids` (the rows its change added) are merged into the recent ones (newest first, at most `keep_bids`), and
    what the state does not have (`MESSAGE_ONLY`, a field added later) is ignored."""
    for key, value in message.items():
        if key == "bids":
            merged = {bid["bid_id"]: bid for bid in (*state["bids"], *value)}
            state["bids"] = sorted(merged.values(), key=lambda bid: bid["bid_id"], reverse=True)[:keep_bids]
        elif key in state:
            state[key] = value
