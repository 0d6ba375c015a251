"""The `buy_now` socket event (docs/socket-protocol.md): buy the item at once at its Buy It Now price."""

from __future__ import annotations

from typing import Any

from flask import current_app

from ...accounts import PublicUser
from ...auctions import buy_now
from ..usecases import perform
from .acks import event
from .auctions import _bid_limits, auction_id_of


@event("buy_now", login="log in to do this", limits=_bid_limits)
def on_buy_now(user: PublicUser, data: dict[str, Any]) -> dict[str, Any]:
    command = buy_now.BuyNow(auction_id_of(data), user.id, current_app.config["PLATFORM_FEE_BPS"])
    return {**perform(buy_now.buy, command).as_ack(), "bought": True}
