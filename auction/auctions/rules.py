"""The proxy-bid decision as a pure function over small immutable values.

Proxy bidding works as eBay's: each bidder may give a maximum; the leader is the
highest maximum (ties go to the earlier one), and the price is the second-highest
maximum plus one increment, capped at the leader's maximum. The leader's wallet
hold always equals their maximum, since that is what they may have to pay, plus the
buyer's premium on it for a lot of a sale event that charges one (`AuctionState.hold_for`).

`decide` takes the auction's state and one already-validated bid and returns the
state after it, together with everything the database side has to do: the bid rows
to insert (in order), what to hold on the bidder and whose hold to release. It reads
no clock and touches no database, so the rules are tested by folding thousands of
random bid sequences in about a second, and a batch of bids on one auction can be
decided one after another on the returned state before anything is written.
The caller owns the transaction: it validates the raw input, locks the row, checks
that the auction is open and not the bidder's own, calls `decide`, checks the funds
the decision says are needed, and writes the rows.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from ..errors import ServiceError
from ..money import Cents, format_brl, with_premium

# (price below, increment): eBay-like bands in cents; the last band covers everything above.
INCREMENT_TABLE: tuple[tuple[Cents, Cents], ...] = (
    (1_00, 5),
    (5_00, 25),
    (25_00, 50),
    (100_00, 1_00),
    (250_00, 2_50),
    (500_00, 5_00),
    (1_000_00, 10_00),
    (2_500_00, 25_00),
    (5_000_00, 50_00),
)
TOP_INCREMENT: Cents = 100_00


class TooLow(ServiceError, code="too_low", http_status=409):
    """The bid is below what the auction accepts now; `details["next_min"]` is the least that would pass."""


def band_increment(price: Cents) -> Cents:
    """The increment for a price from INCREMENT_TABLE."""
    for below, increment in INCREMENT_TABLE:
        if price < below:
            return increment
    return TOP_INCREMENT


@dataclass(frozen=True, slots=True)
class AuctionState:
    """The part of an auction row the bid decision reads and changes.

    The optional fields mirror the nullable columns of `Auction`, so the adapter
    copies them across as they are: no leader means `current_price` and
    `leader_max` are None too.
    """

    starting_price: Cents
    min_increment: Cents | None  # None: the price-band table
    reserve_price: Cents | None
    current_price: Cents | None = None
    leader_id: int | None = None
    leader_max: Cents | None = None
    premium_bps: int = 0  # a sale event's buyer's premium: a hold covers the maximum plus its premium

    def hold_for(self, maximum: Cents) -> Cents:
        """What a bidder whose maximum is `maximum` must have held: all they may have to pay if it wins."""
        return with_premium(maximum, self.premium_bps)

    @property
    def leader_hold(self) -> Cents:
        """What the leader holds on the auction now (0 without a leader)."""
        return self.hold_for(self.leader_max or 0) if self.leader_id is not None else 0

    def increment_at(self, price: Cents) -> Cents:
        """The auction's fixed increment, or the price band's when it has none."""
        return self.min_increment or band_increment(price)

    @property
    def next_minimum(self) -> Cents:
        """The lowest amount a bidder who is not leading may offer now."""
        if self.leader_id is None or self.current_price is None:
            return self.starting_price
        return self.current_price + self.increment_at(self.current_price)

    @property
    def reserve_met(self) -> bool:
        """Whether finishing now would sell: someone leads at a price that reaches the reserve."""
        if self.leader_id is None:
            return False
        return self.reserve_price is None or (self.current_price or 0) >= self.reserve_price


@dataclass(frozen=True, slots=True)
class RecordedBid:
    """A bid row to insert. Automatic answers of a proxy maximum are `is_proxy` rows without a `max_amount`."""

    bidder_id: int
    amount: Cents
    max_amount: Cents | None
    is_proxy: bool


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of one bid: the new state and the writes that make it so.

    `bids` are in insertion order, which watchers see as the bid history, so it is
    part of the outcome. `own_index` points at the bidder's own row: its id is the
    ack's `bid_id` and keys the wallet hold and release. `funds_needed` is what the
    bidder's available balance must cover even when `hold` is 0: a challenge that
    the leader's proxy beats at once holds nothing, yet it had to be payable.
    `released` is the previous leader, who was outbid: their whole hold is released
    and they are told.
    """

    state: AuctionState
    bids: tuple[RecordedBid, ...]
    own_index: int
    funds_needed: Cents
    hold: Cents
    released: int | None
    raised_own_max: bool

    @property
    def own_bid(self) -> RecordedBid:
        return self.bids[self.own_index]

    @property
    def leading(self) -> bool:
        return self.state.leader_id == self.own_bid.bidder_id


def decide(state: AuctionState, bidder_id: int, amount: Cents, maximum: Cents) -> Decision:
    """Decide one bid of `amount` with proxy `maximum` (>= amount; equal to it for a plain bid).

    The input is already validated positive cents. Raises TooLow with the message
    and `next_min` the bidder sees.
    """
    if state.leader_id == bidder_id:
        return _raise_own_maximum(state, bidder_id, maximum)
    minimum = state.next_minimum
    if amount < minimum:
        raise TooLow(f"the minimum bid is {format_brl(minimum)}", next_min=minimum)
    if state.leader_id is not None and maximum <= (state.leader_max or 0):
        return _answered_by_proxy(state, state.leader_id, bidder_id, amount, maximum)
    return _take_lead(state, bidder_id, amount, maximum)


def _with_reserve(state: AuctionState, price: Cents, leader_max: Cents) -> Cents:
    """A maximum that reaches the reserve lifts the price to the reserve at once (as eBay does)."""
    reserve = state.reserve_price
    if reserve is not None and price < reserve <= leader_max:
        return reserve
    return price


def _raise_own_maximum(state: AuctionState, bidder_id: int, maximum: Cents) -> Decision:
    """The leader raises their maximum: hold only the difference; the price moves only for the reserve.

    The leader's `amount` plays no part: they cannot bid the price up against
    themselves. The new maximum must beat both their old one and the next minimum,
    so a raise is never smaller than what a challenger would have to offer.
    """
    current_max = state.leader_max or 0
    minimum = state.next_minimum
    if maximum <= current_max or maximum < minimum:
        floor = max(current_max + 1, minimum)
        raise TooLow(f"you are already leading; a new maximum must be at least {format_brl(floor)}", next_min=floor)
    price = _with_reserve(state, state.current_price or state.starting_price, maximum)
    difference = state.hold_for(maximum) - state.hold_for(current_max)
    return Decision(
        state=replace(state, current_price=price, leader_max=maximum),
        bids=(RecordedBid(bidder_id, price, maximum, is_proxy=False),),
        own_index=0,
        funds_needed=difference,
        hold=difference,
        released=None,
        raised_own_max=True,
    )


def _answered_by_proxy(state: AuctionState, leader_id: int, bidder_id: int, amount: Cents, maximum: Cents) -> Decision:
    """The leader's proxy answers at once: the challenger's maximum plus one increment, capped.

    The challenger's row keeps the amount they offered, and the leader's automatic
    answer follows it, so the history reads in the order the bids happened.
    """
    leader_max = state.leader_max or 0
    price = _with_reserve(state, min(leader_max, maximum + state.increment_at(maximum)), leader_max)
    return Decision(
        state=replace(state, current_price=price),
        bids=(
            RecordedBid(bidder_id, amount, maximum, is_proxy=False),
            RecordedBid(leader_id, price, None, is_proxy=True),
        ),
        own_index=0,
        funds_needed=state.hold_for(maximum),
        hold=0,
        released=None,
        raised_own_max=False,
    )


def _take_lead(state: AuctionState, bidder_id: int, amount: Cents, maximum: Cents) -> Decision:
    """A higher maximum (or the first bid) leads: one increment over the old maximum, never below its own amount."""
    previous = state.leader_id
    previous_max = state.leader_max or 0
    answers: tuple[RecordedBid, ...] = ()
    if previous is None:
        price = amount
    else:
        if previous_max > (state.current_price or 0):
            # The outbid leader's proxy went all the way to their maximum before losing.
            answers = (RecordedBid(previous, previous_max, None, is_proxy=True),)
        price = max(amount, min(maximum, previous_max + state.increment_at(previous_max)))
    price = _with_reserve(state, price, maximum)
    return Decision(
        state=replace(state, current_price=price, leader_id=bidder_id, leader_max=maximum),
        bids=(*answers, RecordedBid(bidder_id, price, maximum, is_proxy=False)),
        own_index=len(answers),
        funds_needed=state.hold_for(maximum),
        hold=state.hold_for(maximum),
        released=previous,
        raised_own_max=False,
    )


def extended_end(ends_at: datetime, now: datetime, soft_close_seconds: int) -> datetime | None:
    """Soft close: a bid in the last `soft_close_seconds` moves the end to now + that window; None if it does not.

    Sniping at the last second then gains nothing, since everyone gets the window
    again to answer. 0 (or less) turns soft close off.
    """
    window = timedelta(seconds=soft_close_seconds)
    if soft_close_seconds > 0 and ends_at - now < window:
        return now + window
    return None
