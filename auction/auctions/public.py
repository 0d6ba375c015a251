"""One shape for an auction's public state. The page and the `join_auction` answer (`public_state`), the room's
`new_bid` (`price_state`) and the read model of auctions (entrypoints/sockets/auction_cache.py, which applies a
`new_bid`'s `PRICE_FIELDS` to the state it keeps) all take it from here, and static/js/auction.js reads the
same names, so a new public field is added in one place. A sale event's lot, as its catalogue shows it and its
event room's `lot` message carries it, is `lot_state` (static/js/event.js reads those names). People are
pseudonyms (auctions/privacy.py)."""

from __future__ import annotations

from typing import Any

from .. import clock
from ..models import Auction, AuctionStatus, Bid
from . import privacy
from .locking import AuctionRow, state_of

# What a batch of bids changes: a `new_bid` carries these and the read model copies them as they are.
PRICE_FIELDS = ("current_price", "leader", "bid_count", "next_min", "increment", "ends_at", "reserve_met")


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
