"""What the auction rules refuse, each with the stable code clients see (docs/socket-protocol.md)."""

from __future__ import annotations

from ..errors import ServiceError
from .buying_power import BuyingPowerExceeded
from .rules import TooLow

__all__ = [
    "AuctionNotOpen",
    "BuyingPowerExceeded",
    "NoSecondChance",
    "NotEnded",
    "NotRegistered",
    "NotRelistable",
    "OfferClosed",
    "OwnAuction",
    "RegistrationPending",
    "RegistrationRejected",
    "TooLow",
]


class AuctionNotOpen(ServiceError, code="auction_not_open", http_status=409):
    """The auction is scheduled, finished or cancelled (or its end has passed)."""


class OwnAuction(ServiceError, code="own_auction", http_status=403):
    """A seller bid on their own auction."""


class NotEnded(ServiceError, code="not_ended", http_status=409):
    """The seller asked to finish before the end time (only an admin may finish early)."""


class NotRegistered(ServiceError, code="not_registered", http_status=403):
    """A bid on a lot of a sale event whose current terms (edital) the bidder has not accepted: register on the
    event's page, again after the terms change."""


class NotRelistable(ServiceError, code="not_relistable", http_status=409):
    """Only an unsold lot can be relisted, once: finished with no bid or below its reserve, with no sale by a
    second-chance offer and no offer open."""


class NoSecondChance(ServiceError, code="second_chance_unavailable", http_status=409):
    """A second-chance offer the seller may not make now: the lot is not unsold (sold, relisted, an offer open),
    or the bidder is not one of its underbidders, or was offered it before."""


class OfferClosed(ServiceError, code="offer_closed", http_status=409):
    """A second-chance offer answered already (accepted or declined) or past its 48 hours: nothing changed."""


class RegistrationPending(ServiceError, code="registration_pending", http_status=403):
    """A bid on a lot of a sale event that requires approval, by a bidder whose registration an admin has not
    approved yet."""


class RegistrationRejected(ServiceError, code="registration_rejected", http_status=403):
    """A bid on a lot of a sale event (or a new registration) by a bidder whose registration an admin rejected."""
