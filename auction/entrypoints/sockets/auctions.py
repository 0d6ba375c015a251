"""Socket.IO events of auctions: join and leave a room, bid, finish, watch (docs/socket-protocol.md).

Each handler parses its payload, calls one use case through `usecases.perform`, and returns the ack;
the use case's messages are delivered after its commit, and failures become error acks in `acks.event`.
"""

from __future__ import annotations

from typing import Any

from flask import current_app

from ...accounts import PublicUser
from ...auctions import bids, closing
from ...auctions import watching as watching_
from ...db import DatabaseUnavailable
from ...errors import Invalid, RateLimited
from ..usecases import perform
from . import presence
from .acks import event
from .connection import client_ip, rate_limited, socket_user, watched


def auction_id_of(data: dict[str, Any]) -> int:
    value = data.get("auction_id")
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise Invalid("auction_id must be a positive whole number")
    return value


@event("join_auction")
def on_join_auction(data: dict[str, Any]) -> dict[str, Any]:
    auction_id = auction_id_of(data)
    try:
        user = socket_user()
    except DatabaseUnavailable:  # a login still not looked up: watch as anyone may; the next join is personal
        user = None
    cache = current_app.extensions["auction.cache"]
    state = cache.state(auction_id, viewer=user, watching=auction_id in watched())
    state["watchers"] = presence.enter(auction_id)
    return {"ok": True, **state}


@event("leave_auction")
def on_leave_auction(data: dict[str, Any]) -> dict[str, Any]:
    auction_id = auction_id_of(data)
    presence.leave(auction_id)
    return {"ok": True, "auction_id": auction_id}


def _bid_limits(user: PublicUser | None) -> None:
    if user is not None and (rate_limited("bid_user", user.id) or rate_limited("bid_ip", client_ip())):
        raise RateLimited("too many bids; wait a moment and try again")


@event("bid", login="log in to do this", limits=_bid_limits)
def on_bid(user: PublicUser, data: dict[str, Any]) -> dict[str, Any]:
    command = bids.PlaceBid(
        auction_id=auction_id_of(data),
        bidder_id=user.id,
        amount=data.get("amount"),
        max_amount=data.get("max_amount"),
        soft_close_seconds=current_app.config["SOFT_CLOSE_SECONDS"],
    )
    # Decided with the other bids that queue meanwhile (the bid queue create_app gives `bids.place`, bid_queue.py).
    return perform(bids.place, command).as_ack()


@event("finish_auction", login="log in to do this")
def on_finish_auction(user: PublicUser, data: dict[str, Any]) -> dict[str, Any]:
    command = closing.FinishAuction(auction_id_of(data), user.id, current_app.config["PLATFORM_FEE_BPS"])
    return perform(closing.finish, command).as_ack()


def _set_watching(user: PublicUser, data: dict[str, Any], watching: bool) -> dict[str, Any]:
    auction_id = auction_id_of(data)
    now_watching = perform(watching_.set_watching, user.id, auction_id, watching)
    (watched().add if now_watching else watched().discard)(auction_id)
    return {"ok": True, "auction_id": auction_id, "watching": now_watching}


@event("watch", login="log in to do this")
def on_watch(user: PublicUser, data: dict[str, Any]) -> dict[str, Any]:
    return _set_watching(user, data, True)


@event("unwatch", login="log in to do this")
def on_unwatch(user: PublicUser, data: dict[str, Any]) -> dict[str, Any]:
    return _set_watching(user, data, False)
