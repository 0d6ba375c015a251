"""Deciding a batch of bids on one auction at once, exactly as if they came one by one.

Group commit (`bids.place_batch`) decides every bid that queued while the previous
batch of its auction was being written, in ONE transaction: one row lock, one commit,
one fsync for all of them. This module is the pure part: it folds `rules.decide` over
the bids in arrival order, with each bidder's wallet simulated, so every bid is checked
against the money its bidder really has at that point (their own maximum, less what the
batch already holds of theirs, plus what it released), and returns what the database
has to end up with: the bid rows, each bidder's final hold on this auction (holds made
and released inside the batch are netted), who was outbid and must be told once.

The result equals deciding the bids one by one (`tests/test_bid_batches.py` checks it
with Hypothesis against the sequential fold and, on the database, against `bids.place`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from ..errors import ServiceError
from ..money import Cents
from . import rules


@dataclass(frozen=True, slots=True)
class Offer:
    """One bid of a batch, already validated: positive cents, `maximum >= amount`."""

    bidder_id: int
    amount: Cents
    maximum: Cents


@dataclass(frozen=True, slots=True)
class Accepted:
    """An accepted bid: its decision, the state right after it, and where its own row is in `BatchResult.rows`."""

    decision: rules.Decision
    row_index: int


@dataclass
class BatchResult:
    state: rules.AuctionState
    # Per offer, in order: Accepted, or the ServiceError that refused it (TooLow, InsufficientFunds, ...).
    outcomes: list[Accepted | ServiceError] = field(default_factory=list)
    rows: list[rules.RecordedBid] = field(default_factory=list)
    # Every user whose hold on this auction the batch touched -> that hold at the end.
    holds: dict[int, Cents] = field(default_factory=dict)
    # Each such user -> the row index whose bid keys their net movement (their own last bid that
    # held, or the bid that outbid them last).
    hold_keys: dict[int, int] = field(default_factory=dict)
    # Users who led at some point (before or inside the batch) and do not lead at its end.
    outbid: list[int] = field(default_factory=list)
    # Rows of a leader raising their own maximum: recorded, never shown to others.
    raise_rows: set[int] = field(default_factory=set)

    @property
    def accepted(self) -> int:
        return sum(isinstance(outcome, Accepted) for outcome in self.outcomes)


FundsCheck = Callable[[Cents, Cents], None]
# (bidder id, the maximum they would lead with) -> None, or the refusal (a sale event's buying power).
LeadCheck = Callable[[int, Cents], None]


def decide_batch(
    state: rules.AuctionState,
    offers: Sequence[Offer],
    available: Mapping[int, Cents],
    held: Mapping[int, Cents],
    check_funds: FundsCheck,
    check_lead: LeadCheck | None = None,
) -> BatchResult:
    """Decide `offers` in order on `state`.

    `available` is each bidder's available balance at the start (their wallet row is
    locked), `held` what each user holds on this auction now (the leader: their maximum).
    `check_funds(available, needed)` raises the wallet's refusal (InsufficientFunds,
    WalletInDebt) for a bid its bidder cannot pay. `check_lead(bidder, maximum)`, when given,
    is asked about every bid that would leave its bidder leading, and raises its refusal
    (BuyingPowerExceeded) for one that may not.
    """
    result = BatchResult(state=state)
    cash = dict(available)
    holding = dict(held)
    leaders_seen: list[int] = [state.leader_id] if state.leader_id is not None else []
    for offer in offers:
        try:
            decision = rules.decide(result.state, offer.bidder_id, offer.amount, offer.maximum)
            if check_lead is not None and decision.leading:
                check_lead(offer.bidder_id, decision.state.leader_max or 0)
            check_funds(cash.get(offer.bidder_id, 0), decision.funds_needed)
        except ServiceError as refusal:
            result.outcomes.append(refusal.with_traceback(None))  # a value now; see `bids.place_batch`
            continue
        first_row = len(result.rows)
        result.rows.extend(decision.bids)
        own_row = first_row + decision.own_index
        if decision.raised_own_max:
            result.raise_rows.add(own_row)
        result.outcomes.append(Accepted(decision, own_row))
        result.state = decision.state
        if decision.hold:
            cash[offer.bidder_id] = cash.get(offer.bidder_id, 0) - decision.hold
            holding[offer.bidder_id] = holding.get(offer.bidder_id, 0) + decision.hold
            result.holds[offer.bidder_id] = holding[offer.bidder_id]
            result.hold_keys[offer.bidder_id] = own_row
        if decision.released is not None:
            loser = decision.released
            cash[loser] = cash.get(loser, 0) + holding.get(loser, 0)
            holding[loser] = 0
            result.holds[loser] = 0
            result.hold_keys[loser] = own_row
        if result.state.leader_id is not None and result.state.leader_id not in leaders_seen:
            leaders_seen.append(result.state.leader_id)
    result.outbid = [user for user in leaders_seen if user != result.state.leader_id]
    return result


def max_reached(before: rules.AuctionState, after: rules.AuctionState) -> int | None:
    """The leader whose proxy maximum the batch's bids by others just reached (they still lead, at their
    maximum: the next bid outbids them), else None. A plain bid leads at its own amount, which is no news."""
    leader = after.leader_id
    if leader is None or leader != before.leader_id or after.leader_max is None:
        return None
    if after.current_price == after.leader_max and (before.current_price or 0) < after.leader_max:
        return leader
    return None
