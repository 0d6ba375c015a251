"""Finishing auctions: by the seller after the end, by an admin at any time, by the scheduler when due.

Finishing is decided under the auction's row lock: the locked row's status says
whether this caller is the one that finishes it, so with several processes every
auction is finished, and its money settled, exactly once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .. import clock, wallet
from ..errors import Forbidden
from ..models import Auction, AuctionStatus, Hold, User, Wallet
from ..money import Cents, premium_of
from ..orders import service as order_service
from ..uow import UnitOfWork
from . import event_deposits, messages, sale_events
from .errors import AuctionNotOpen, NotEnded
from .locking import lock_auction, state_of


@dataclass(frozen=True)
class FinishAuction:
    auction_id: int
    actor_id: int
    fee_bps: int = 0


@dataclass(frozen=True)
class FinishOutcome:
    auction_id: int
    winner_id: int | None
    amount: Cents | None
    reserve_met: bool

    def as_ack(self) -> dict[str, Any]:
        return {
            "ok": True,
            "auction_id": self.auction_id,
            "winner_id": self.winner_id,
            "amount": self.amount,
            "reserve_met": self.reserve_met,
            "server_time": clock.isoformat(clock.now()),
        }


def finish(uow: UnitOfWork, cmd: FinishAuction) -> FinishOutcome:
    """The seller (after the end time) or an admin (at any time) finishes an open auction."""
    session = uow.session
    actor = session.get(User, cmd.actor_id)
    auction = lock_auction(session, cmd.auction_id)
    if actor is None or (actor.id != auction.seller_id and not actor.is_admin):
        raise Forbidden("only the seller or an admin may finish this auction")
    if auction.status != AuctionStatus.OPEN:
        raise AuctionNotOpen("this auction is not open")
    now = clock.now()
    if now < auction.ends_at:
        if not actor.is_admin:
            raise NotEnded("the auction has not reached its end time yet")
        auction.ends_at = now
    return _settle(uow, auction, cmd.fee_bps)


def finish_if_due(uow: UnitOfWork, auction_id: int, *, fee_bps: int = 0) -> FinishOutcome | None:
    """Finish the auction if it is open and past its end; None if someone else already did (or it is not due)."""
    auction = lock_auction(uow.session, auction_id)
    if auction.status != AuctionStatus.OPEN or clock.now() < auction.ends_at:
        return None
    return _settle(uow, auction, fee_bps)


def _settle(uow: UnitOfWork, auction: Auction, fee_bps: int) -> FinishOutcome:
    """The winner's hold into escrow with a new order; every other hold released (caller holds the row lock)."""
    session = uow.session
    if auction.event_id is not None:  # before any wallet: a registration locks the event, then the wallet
        event_deposits.lock_event(session, auction.event_id)
    reserve_met = state_of(auction).reserve_met
    winner_id = auction.leader_id if reserve_met else None
    price = auction.current_price if reserve_met else None
    touched: set[int] = set()
    if winner_id is not None and price is not None:
        # The winner's money (the hammer price and the event's buyer's premium on it) goes to escrow until the
        # goods arrive, and the order is opened (auction.orders).
        premium = premium_of(price, sale_events.premium_bps_of(session, auction))
        order_service.open_order(uow, auction, winner_id, price, premium=premium, fee_bps=fee_bps)
        touched.update({winner_id, auction.seller_id})
    for user_id in _holders(session, auction.id):
        wallet.release(session, user_id=user_id, auction_id=auction.id, key=f"auction:{auction.id}:release:{user_id}")
        touched.add(user_id)
    auction.status = AuctionStatus.FINISHED
    auction.finished_at = clock.now()
    auction.winner_id = winner_id
    auction.final_price = price
    auction.reserve_met = reserve_met
    auction.version += 1
    if auction.event_id is not None:  # the event's last lot: its deposits come back
        touched.update(event_deposits.release_if_over(session, auction.event_id))
    winner_name = session.scalar(select(User.username).where(User.id == winner_id)) if winner_id else None
    messages.finished(uow, auction, winner_name)
    for user_id in sorted(touched):
        wallet.send_balance(uow, user_id)
    return FinishOutcome(auction.id, winner_id, price, reserve_met)


def _holders(session: Session, auction_id: int) -> list[int]:
    return list(
        session.scalars(
            select(Wallet.user_id)
            .join(Hold, Hold.wallet_id == Wallet.id)
            .where(Hold.auction_id == auction_id, Hold.status == wallet.HoldStatus.OPEN, Hold.amount > 0)
        )
    )


def due_auction_ids(session: Session, limit: int = 100) -> list[int]:
    """Open auctions whose end time has passed (candidates for finish_if_due)."""
    return list(
        session.scalars(
            select(Auction.id)
            .where(Auction.status == AuctionStatus.OPEN, Auction.ends_at <= clock.now())
            .order_by(Auction.ends_at)
            .limit(limit)
        )
    )


def next_end(session: Session) -> datetime | None:
    """The earliest end still ahead among open auctions, or None: the scheduler sleeps until it. One read of the
    first entry of `ix_auctions_status_ends_at` past now, so an idle site pays one cheap query a round."""
    return session.scalar(
        select(Auction.ends_at)
        .where(Auction.status == AuctionStatus.OPEN, Auction.ends_at > clock.now())
        .order_by(Auction.ends_at)
        .limit(1)
    )


def ending_soon_stage(remaining: timedelta, thresholds: Sequence[int]) -> int:
    """How many of the notice `thresholds` (seconds before the end) an auction `remaining` from its end has
    passed: 0 before the largest, all of them inside the smallest."""
    return sum(1 for seconds in thresholds if remaining <= timedelta(seconds=seconds))


def send_ending_soon(uow: UnitOfWork, thresholds: Sequence[int]) -> list[int]:
    """Tell the watchers and bidders of each auction once per threshold it passes (1 h and 10 min before the end,
    say); an auction that passed several since the last round hears once. The stage moves by a conditional
    UPDATE, so it is once across processes."""
    session = uow.session
    now = clock.now()
    ordered = sorted(set(thresholds), reverse=True)
    if not ordered:
        return []
    due = session.execute(
        select(Auction.id, Auction.title, Auction.ends_at, Auction.ending_soon_stage)
        .where(
            Auction.status == AuctionStatus.OPEN,
            Auction.ending_soon_stage < len(ordered),
            Auction.ends_at <= now + timedelta(seconds=ordered[0]),
            Auction.ends_at > now,
        )
        .limit(100)
    ).all()
    sent = []
    for auction_id, title, ends_at, stage in due:
        reached = ending_soon_stage(ends_at - now, ordered)
        if reached <= stage:
            continue
        claimed = session.execute(
            update(Auction)
            .where(Auction.id == auction_id, Auction.ending_soon_stage == stage)
            .values(ending_soon_stage=reached)
        ).rowcount
        if claimed:
            sent.append(auction_id)
            messages.ending_soon(uow, auction_id, title or "", ends_at - now)
    return sent
