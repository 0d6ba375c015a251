"""What the auction rules refuse, each with the stable code clients see (docs/socket-protocol.md)."""

from __future__ import annotations

from ..errors import ServiceError
from .rules import TooLow

__all__ = ["AuctionNotOpen", "NotEnded", "NotRegistered", "OwnAuction", "TooLow"]


class AuctionNotOpen(ServiceError, code="auction_not_open", http_status=409):
    """The auction is scheduled, finished or cancelled (or its end has passed)."""


class OwnAuction(ServiceError, code="own_auction", http_status=403):
    """A seller bid on their own auction."""


class NotEnded(ServiceError, code="not_ended", http_status=409):
    """The seller asked to finish before the end time (only an admin may finish early)."""


class NotRegistered(ServiceError, code="not_registered", http_status=403):
    """A bid on a lot of a sale event whose current terms (edital) the bidder has not accepted: register on the
    event's page, again after the terms change."""
