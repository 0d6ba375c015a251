"""Buying power (poder de compra) in a sale event: the rule, pure (no database, no clock).

A bidder registered with a deposit asked for a buying power: the most they may be committed to in that event.
What they are committed to is, per lot of the event, what they could have to pay for it with the buyer's
premium: on a lot they lead, their proxy maximum (what their wallet holds for it; others' bids can raise the
price up to it without asking them); on a lot they won, its hammer price. A bid that would leave them leading
with more than that is refused (`BuyingPowerExceeded`); a bid that leaves them not leading commits nothing.

The premium is counted per lot exactly as a hold and an order charge it (`money.with_premium`), so a bidder's
commitment in the event is what their wallet holds for the lots they lead plus the hammer prices and premiums of
the lots they won. `tests/test_buying_power.py` checks the rule and the fold with Hypothesis.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ..errors import ServiceError
from ..money import Cents, format_brl, with_premium

BPS = 10_000


class BuyingPowerExceeded(ServiceError, code="buying_power_exceeded", http_status=409):
    """A bid on a lot of a sale event would commit the bidder (their leading maxima and won lots, with the buyer's
    premium) beyond the buying power their deposit set; `details["committed"]` and `details["buying_power"]`."""


def committed(amounts: Iterable[Cents], premium_bps: int) -> Cents:
    """What these lots' amounts (leading maxima, hammer prices) commit the bidder to, premium included."""
    return sum(with_premium(amount, premium_bps) for amount in amounts)


def require_within(buying_power: Cents, amounts: Iterable[Cents], premium_bps: int) -> Cents:
    """Refuse when the lots' amounts with premium exceed the buying power; returns the total."""
    total = committed(amounts, premium_bps)
    if total > buying_power:
        raise BuyingPowerExceeded(
            f"this bid would commit you to {format_brl(total)} in this event, beyond your buying power of "
            f"{format_brl(buying_power)}",
            committed=total,
            buying_power=buying_power,
        )
    return total


def deposit_for(buying_power: Cents, deposit_bps: int | None, minimum: Cents | None) -> Cents:
    """The deposit (caução) a buying power asks: its share (rounded up to the cent), never below the minimum."""
    share = -(-buying_power * deposit_bps // BPS) if deposit_bps else 0
    return max(share, minimum or 0)


@dataclass
class Commitments:
    """The bidders' commitments in the events of a batch of bids, kept as the batch decides lot after lot.

    `power`: (event id, user id) -> buying power, for the bidders who have one; `premium_bps`: event id -> its
    premium; `lots`: event id -> lot (auction) id -> (its leader or winner, their maximum or its hammer price).
    """

    power: dict[tuple[int, int], Cents]
    premium_bps: dict[int, int]
    lots: dict[int, dict[int, tuple[int, Cents]]] = field(default_factory=dict)

    def check(self, event_id: int, lot_id: int, user_id: int, maximum: Cents) -> None:
        """Refuse a bid that would leave `user_id` leading lot `lot_id` with `maximum` beyond their buying power."""
        power = self.power.get((event_id, user_id))
        if power is None:
            return
        others = [
            amount for lot, (who, amount) in self.lots.get(event_id, {}).items() if who == user_id and lot != lot_id
        ]
        require_within(power, [*others, maximum], self.premium_bps.get(event_id, 0))

    def record(self, event_id: int, lot_id: int, leader_id: int | None, amount: Cents | None) -> None:
        """Lot `lot_id` is now led by `leader_id` up to `amount` (nobody: None)."""
        lots = self.lots.setdefault(event_id, {})
        if leader_id is None or amount is None:
            lots.pop(lot_id, None)
        else:
            lots[lot_id] = (leader_id, amount)

    def of(self, event_id: int, user_id: int) -> Cents:
        """What `user_id` is committed to in the event now."""
        amounts = [amount for who, amount in self.lots.get(event_id, {}).values() if who == user_id]
        return committed(amounts, self.premium_bps.get(event_id, 0))
