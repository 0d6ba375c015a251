"""Auction rules: creating auctions, bids with proxy maximums, soft close, reserve, finishing.

Every function here takes the caller's Session (one unit of work run by
`Database.run`) and never commits. Functions that change state also take an
`Outbox` and queue the socket messages the change causes; the adapter delivers
them after the commit.

Bids are decided under a row lock on the auction (SELECT ... FOR UPDATE, taken
before any wallet row, the lock order `auction.wallet` expects), so two bids on
one auction serialize and cannot both win. Finishing is decided the same way: the
locked row's status says whether this process is the one that finishes it.

Proxy bidding works as eBay's: each bidder may give a maximum; the leader is the
highest maximum (ties go to the earlier one), and the price is the second-highest
maximum plus one increment, capped at the leader's maximum. The leader's wallet
hold always equals their maximum, since that is what they may have to pay.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from . import clock, wallet
from .errors import Forbidden, Invalid, NotFound, ServiceError
from .models import Auction, Bid, Hold, User, Wallet, Watch
from .money import Cents, InvalidAmount, format_brl, require_cents
from .notifications import notify
from .outbox import Outbox

# (price below, increment): eBay-like bands in cents; the last band covers everything above.
INCREMENT_TABLE: list[tuple[Cents, Cents]] = [
    (1_00, 5),
    (5_00, 25),
    (25_00, 50),
    (100_00, 1_00),
    (250_00, 2_50),
    (500_00, 5_00),
    (1_000_00, 10_00),
    (2_500_00, 25_00),
    (5_000_00, 50_00),
]
TOP_INCREMENT: Cents = 100_00
LAST_BIDS = 10
TITLE_MAX = 120
DESCRIPTION_MAX = 5_000
MAX_DURATION = timedelta(days=30)
MIN_DURATION = timedelta(seconds=1)


class AuctionNotOpen(ServiceError):
    code = "auction_not_open"


class TooLow(ServiceError):
    code = "too_low"


class OwnAuction(ServiceError):
    code = "own_auction"


class NotEnded(ServiceError):
    code = "not_ended"


# -- increments and prices ---------------------------------------------------------


def band_increment(price: Cents) -> Cents:
    """The increment for a price from INCREMENT_TABLE."""
    for below, increment in INCREMENT_TABLE:
        if price < below:
            return increment
    return TOP_INCREMENT


def increment_for(auction: Auction, price: Cents) -> Cents:
    """The auction's fixed increment, or the price band's when it has none."""
    return auction.min_increment or band_increment(price)


def next_minimum(auction: Auction) -> Cents:
    """The lowest amount a new bidder may offer now."""
    if auction.leader_id is None or auction.current_price is None:
        return auction.starting_price
    return auction.current_price + increment_for(auction, auction.current_price)


def _with_reserve(auction: Auction, price: Cents, leader_max: Cents) -> Cents:
    """A maximum that reaches the reserve lifts the price to the reserve at once (as eBay does)."""
    reserve = auction.reserve_price
    if reserve is not None and price < reserve <= leader_max:
        return reserve
    return price


# -- creating, opening, cancelling ---------------------------------------------------


def _cents_field(name: str, value: object, *, allow_zero: bool = False) -> Cents:
    try:
        return require_cents(value, allow_zero=allow_zero)
    except InvalidAmount as exc:
        raise Invalid(f"{name}: {exc}", field=name) from exc


def create_auction(
    session: Session,
    seller_id: int,
    title: str,
    description: str,
    starting_price: Cents,
    min_increment: Cents | None,
    reserve_price: Cents | None,
    starts_at: datetime | None,
    ends_at: datetime,
) -> Auction:
    """Validate and store a new auction; `Invalid.details["field"]` names the offending form field.

    `starts_at` None (or not in the future) opens it at once; otherwise it stays
    `scheduled` until the scheduler opens it. `min_increment` None uses the
    price-band table.
    """
    title = (title or "").strip()
    description = (description or "").strip()
    if not 3 <= len(title) <= TITLE_MAX:
        raise Invalid(f"title: 3-{TITLE_MAX} characters", field="title")
    if len(description) > DESCRIPTION_MAX:
        raise Invalid(f"description: at most {DESCRIPTION_MAX} characters", field="description")
    starting_price = _cents_field("starting_price", starting_price)
    if min_increment is not None:
        min_increment = _cents_field("min_increment", min_increment)
    if reserve_price is not None:
        reserve_price = _cents_field("reserve_price", reserve_price)
        if reserve_price < starting_price:
            raise Invalid("reserve_price: must not be below the starting price", field="reserve_price")
    now = clock.now()
    for name, moment in (("starts_at", starts_at), ("ends_at", ends_at)):
        if moment is not None and (not isinstance(moment, datetime) or moment.tzinfo is None):
            raise Invalid(f"{name}: a timezone-aware date and time is required", field=name)
    start = starts_at if starts_at is not None and starts_at > now else now
    if ends_at - start < MIN_DURATION:
        raise Invalid("ends_at: must be after the start", field="ends_at")
    if ends_at - start > MAX_DURATION:
        raise Invalid(f"ends_at: an auction lasts at most {MAX_DURATION.days} days", field="ends_at")
    if session.get(User, seller_id) is None:
        raise NotFound("no such seller")
    auction = Auction(
        seller_id=seller_id,
        title=title,
        description=description,
        starting_price=starting_price,
        min_increment=min_increment,
        reserve_price=reserve_price,
        starts_at=start,
        ends_at=ends_at,
        status="open" if start <= now else "scheduled",
        bid_count=0,
        ending_soon_sent=False,
        created_at=now,
    )
    session.add(auction)
    session.flush()
    return auction


def _lock_auction(session: Session, auction_id: int) -> Auction:
    auction = session.scalars(
        select(Auction).where(Auction.id == auction_id).with_for_update().execution_options(populate_existing=True)
    ).first()
    if auction is None:
        raise NotFound("no such auction")
    return auction


def open_due_auctions(session: Session, outbox: Outbox) -> list[int]:
    """Open scheduled auctions whose start has come; each is opened by exactly one caller."""
    now = clock.now()
    due = session.scalars(
        select(Auction.id).where(Auction.status == "scheduled", Auction.starts_at <= now).limit(100)
    ).all()
    opened = []
    for auction_id in due:
        changed = session.execute(
            update(Auction).where(Auction.id == auction_id, Auction.status == "scheduled").values(status="open")
        ).rowcount
        if changed:
            opened.append(auction_id)
            outbox.to_auction(auction_id, "auction_opened", {"auction_id": auction_id, **_times(session, auction_id)})
    return opened


def _times(session: Session, auction_id: int) -> dict[str, Any]:
    ends_at = session.scalar(select(Auction.ends_at).where(Auction.id == auction_id))
    return {"ends_at": clock.isoformat(ends_at), "server_time": clock.isoformat(clock.now())}


def cancel_auction(session: Session, outbox: Outbox, auction_id: int, actor_id: int) -> Auction:
    """An admin cancels an auction that has no bids yet."""
    actor = session.get(User, actor_id)
    if actor is None or not actor.is_admin:
        raise Forbidden("only an admin may cancel an auction")
    auction = _lock_auction(session, auction_id)
    if auction.status not in {"scheduled", "open"}:
        raise AuctionNotOpen("the auction is already over")
    if auction.bid_count:
        raise Invalid("an auction with bids cannot be cancelled")
    auction.status = "cancelled"
    auction.finished_at = clock.now()
    outbox.to_auction(
        auction.id, "auction_cancelled", {"auction_id": auction.id, "server_time": clock.isoformat(clock.now())}
    )
    notify(
        session,
        outbox,
        auction.seller_id,
        "cancelled",
        f"Your auction “{auction.title}” was cancelled by an admin.",
        auction_id=auction.id,
    )
    return auction


# -- bidding ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BidOutcome:
    """What the bidder's ack says."""

    auction_id: int
    bid_id: int
    price: Cents
    leading: bool
    max_amount: Cents
    next_min: Cents
    bid_count: int
    ends_at: datetime
    extended: bool

    def as_ack(self) -> dict[str, Any]:
        return {
            "ok": True,
            "auction_id": self.auction_id,
            "bid_id": self.bid_id,
            "amount": self.price,
            "leading": self.leading,
            "max_amount": self.max_amount,
            "next_min": self.next_min,
            "bid_count": self.bid_count,
            "ends_at": clock.isoformat(self.ends_at),
            "extended": self.extended,
            "server_time": clock.isoformat(clock.now()),
        }


def _amounts(amount: object, max_amount: object) -> tuple[Cents, Cents]:
    amount = _cents_field("amount", amount)
    if max_amount is None:
        return amount, amount
    max_amount = _cents_field("max_amount", max_amount)
    if max_amount < amount:
        raise Invalid("max_amount: must not be below amount", field="max_amount")
    return amount, max_amount


def _add_bid(
    session: Session,
    auction: Auction,
    bidder_id: int,
    amount: Cents,
    max_amount: Cents | None,
    *,
    is_proxy: bool,
    now: datetime,
) -> Bid:
    bid = Bid(
        auction_id=auction.id,
        bidder_id=bidder_id,
        amount=amount,
        max_amount=max_amount,
        is_proxy=is_proxy,
        created_at=now,
    )
    session.add(bid)
    session.flush()
    auction.bid_count += 1
    return bid


def _require_funds(session: Session, user_id: int, needed: Cents) -> None:
    """Refuse early what wallet.hold would refuse anyway (a losing bid holds nothing, yet needs the funds)."""
    wallet.check_funds(wallet.balance(session, user_id).available, needed)


def place_bid(
    session: Session,
    outbox: Outbox,
    *,
    auction_id: int,
    bidder_id: int,
    amount: object,
    max_amount: object = None,
    soft_close_seconds: int = 120,
) -> BidOutcome:
    """Place a bid (optionally with a proxy maximum) as one decision under the auction's row lock.

    Raises TooLow, AuctionNotOpen, OwnAuction, InsufficientFunds, Invalid or NotFound.
    """
    amount, maximum = _amounts(amount, max_amount)
    auction = _lock_auction(session, auction_id)
    now = clock.now()
    if auction.status != "open" or now >= auction.ends_at:
        raise AuctionNotOpen("this auction is not open for bids")
    if auction.seller_id == bidder_id:
        raise OwnAuction("you cannot bid on your own auction")
    minimum = next_minimum(auction)
    previous_leader = auction.leader_id
    bids_before = auction.bid_count

    if previous_leader == bidder_id:
        bid = _raise_own_maximum(session, auction, bidder_id, maximum, minimum, now)
    else:
        if amount < minimum:
            raise TooLow(f"the minimum bid is {format_brl(minimum)}", next_min=minimum)
        _require_funds(session, bidder_id, maximum)
        bid = _challenge(session, outbox, auction, bidder_id, amount, maximum, now)

    extended = _soft_close(auction, now, soft_close_seconds)
    leading = auction.leader_id == bidder_id
    _queue_new_bid(session, outbox, auction, extended, auction.bid_count - bids_before)
    outbox.wallet(session, bidder_id)
    return BidOutcome(
        auction_id=auction.id,
        bid_id=bid.id,
        price=auction.current_price or 0,
        leading=leading,
        max_amount=maximum,
        next_min=next_minimum(auction),
        bid_count=auction.bid_count,
        ends_at=auction.ends_at,
        extended=extended,
    )


def _raise_own_maximum(
    session: Session, auction: Auction, bidder_id: int, maximum: Cents, minimum: Cents, now: datetime
) -> Bid:
    """The leader raises their maximum: hold only the difference; the price moves only for the reserve."""
    current_max = auction.leader_max or 0
    if maximum <= current_max or maximum < minimum:
        floor = max(current_max + 1, minimum)
        raise TooLow(f"you are already leading; a new maximum must be at least {format_brl(floor)}", next_min=floor)
    _require_funds(session, bidder_id, maximum - current_max)
    price = _with_reserve(auction, auction.current_price or auction.starting_price, maximum)
    bid = _add_bid(session, auction, bidder_id, price, maximum, is_proxy=False, now=now)
    wallet.hold(
        session,
        user_id=bidder_id,
        auction_id=auction.id,
        amount=maximum - current_max,
        key=f"bid:{bid.id}:hold",
        bid_id=bid.id,
    )
    auction.current_price = price
    auction.leader_max = maximum
    return bid


def _challenge(
    session: Session, outbox: Outbox, auction: Auction, bidder_id: int, amount: Cents, maximum: Cents, now: datetime
) -> Bid:
    """A bidder who is not leading bids; the higher maximum leads, ties to the earlier one."""
    previous = auction.leader_id
    previous_max = auction.leader_max or 0
    previous_price = auction.current_price or 0
    if previous is not None and maximum <= previous_max:
        # The leader's proxy answers at once: the challenger's maximum plus one increment, capped.
        bid = _add_bid(session, auction, bidder_id, amount, maximum, is_proxy=False, now=now)
        price = _with_reserve(auction, min(previous_max, maximum + increment_for(auction, maximum)), previous_max)
        _add_bid(session, auction, previous, price, None, is_proxy=True, now=now)
        auction.current_price = price
        return bid
    if previous is not None and previous_max > previous_price:
        # The outbid leader's proxy went all the way to their maximum before losing.
        _add_bid(session, auction, previous, previous_max, None, is_proxy=True, now=now)
    price = (
        amount if previous is None else max(amount, min(maximum, previous_max + increment_for(auction, previous_max)))
    )
    price = _with_reserve(auction, price, maximum)
    bid = _add_bid(session, auction, bidder_id, price, maximum, is_proxy=False, now=now)
    wallet.hold(
        session, user_id=bidder_id, auction_id=auction.id, amount=maximum, key=f"bid:{bid.id}:hold", bid_id=bid.id
    )
    auction.current_price = price
    auction.leader_id = bidder_id
    auction.leader_max = maximum
    if previous is not None:
        wallet.release(session, user_id=previous, auction_id=auction.id, key=f"bid:{bid.id}:release")
        outbox.to_user(
            previous, "outbid", {"auction_id": auction.id, "amount": price, "server_time": clock.isoformat(now)}
        )
        notify(
            session,
            outbox,
            previous,
            "outbid",
            f"You were outbid on “{auction.title}”: the price is now {format_brl(price)}.",
            auction_id=auction.id,
        )
        outbox.wallet(session, previous)
    return bid


def _soft_close(auction: Auction, now: datetime, soft_close_seconds: int) -> bool:
    window = timedelta(seconds=soft_close_seconds)
    if soft_close_seconds > 0 and auction.ends_at - now < window:
        auction.ends_at = now + window
        return True
    return False


def public_bid(bid: Bid, username: str | None) -> dict[str, Any]:
    """A bid as every watcher may see it."""
    return {
        "bid_id": bid.id,
        "bidder": username,
        "amount": bid.amount,
        "is_proxy": bid.is_proxy,
        "created_at": clock.isoformat(bid.created_at),
    }


def _queue_new_bid(session: Session, outbox: Outbox, auction: Auction, extended: bool, new_bids: int) -> None:
    leader = session.get(User, auction.leader_id) if auction.leader_id else None
    # The bids this decision added (the bidder's, and an automatic one for a proxy maximum), oldest first.
    added = session.execute(
        select(Bid, User.username)
        .join(User, User.id == Bid.bidder_id)
        .where(Bid.auction_id == auction.id)
        .order_by(Bid.id.desc())
        .limit(new_bids)
    ).all()
    outbox.to_auction(
        auction.id,
        "new_bid",
        {
            "auction_id": auction.id,
            "amount": auction.current_price,
            "leader": leader.username if leader else None,
            "bid_count": auction.bid_count,
            "next_min": next_minimum(auction),
            "ends_at": clock.isoformat(auction.ends_at),
            "extended": extended,
            "reserve_met": _reserve_met(auction),
            "bids": [public_bid(bid, username) for bid, username in reversed(added)],
            "server_time": clock.isoformat(clock.now()),
        },
    )


def _reserve_met(auction: Auction) -> bool:
    if auction.leader_id is None:
        return False
    return auction.reserve_price is None or (auction.current_price or 0) >= auction.reserve_price


# -- finishing ---------------------------------------------------------------------------


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


def finish_auction(
    session: Session, outbox: Outbox, auction_id: int, *, actor_id: int, fee_bps: int = 0
) -> FinishOutcome:
    """The seller (after the end time) or an admin (at any time) finishes an open auction."""
    actor = session.get(User, actor_id)
    auction = _lock_auction(session, auction_id)
    if actor is None or (actor.id != auction.seller_id and not actor.is_admin):
        raise Forbidden("only the seller or an admin may finish this auction")
    if auction.status != "open":
        raise AuctionNotOpen("this auction is not open")
    now = clock.now()
    if now < auction.ends_at:
        if not actor.is_admin:
            raise NotEnded("the auction has not reached its end time yet")
        auction.ends_at = now
    return _settle(session, outbox, auction, fee_bps)


def finish_if_due(session: Session, outbox: Outbox, auction_id: int, *, fee_bps: int = 0) -> FinishOutcome | None:
    """Finish the auction if it is open and past its end; None if someone else already did (or it is not due)."""
    auction = _lock_auction(session, auction_id)
    if auction.status != "open" or clock.now() < auction.ends_at:
        return None
    return _settle(session, outbox, auction, fee_bps)


def _settle(session: Session, outbox: Outbox, auction: Auction, fee_bps: int) -> FinishOutcome:
    """Capture the winner's hold for the seller and release every other hold (caller holds the row lock)."""
    now = clock.now()
    reserve_met = _reserve_met(auction)
    winner_id = auction.leader_id if reserve_met else None
    price = auction.current_price if reserve_met else None
    touched: set[int] = set()
    if winner_id is not None and price is not None:
        wallet.capture(
            session,
            user_id=winner_id,
            auction_id=auction.id,
            seller_id=auction.seller_id,
            amount=price,
            key=f"auction:{auction.id}:capture",
            fee_bps=fee_bps,
        )
        touched.update({winner_id, auction.seller_id})
    holders = (
        session.execute(
            select(Wallet.user_id)
            .join(Hold, Hold.wallet_id == Wallet.id)
            .where(Hold.auction_id == auction.id, Hold.status == "open", Hold.amount > 0)
        )
        .scalars()
        .all()
    )
    for user_id in holders:
        wallet.release(session, user_id=user_id, auction_id=auction.id, key=f"auction:{auction.id}:release:{user_id}")
        touched.add(user_id)
    auction.status = "finished"
    auction.finished_at = now
    auction.winner_id = winner_id
    auction.final_price = price
    auction.reserve_met = reserve_met
    _queue_finish_messages(session, outbox, auction)
    for user_id in sorted(touched):
        outbox.wallet(session, user_id)
    return FinishOutcome(auction.id, winner_id, price, reserve_met)


def _queue_finish_messages(session: Session, outbox: Outbox, auction: Auction) -> None:
    winner = session.get(User, auction.winner_id) if auction.winner_id else None
    now_text = clock.isoformat(clock.now())
    outbox.to_auction(
        auction.id,
        "auction_finished",
        {
            "auction_id": auction.id,
            "winner": winner.username if winner else None,
            "amount": auction.final_price,
            "reserve_met": bool(auction.reserve_met),
            "server_time": now_text,
        },
    )
    title, price = auction.title, auction.final_price or 0
    if winner is not None:
        outbox.to_user(
            winner.id, "win", {"auction_id": auction.id, "amount": auction.final_price, "server_time": now_text}
        )
        notify(
            session,
            outbox,
            winner.id,
            "win",
            f"You won “{title}” for {format_brl(price)}.",
            auction_id=auction.id,
        )
        seller_text = f"“{title}” sold to {winner.username} for {format_brl(price)}."
    elif auction.leader_id is not None:
        seller_text = f"“{title}” ended without a sale: the reserve price was not met."
    else:
        seller_text = f"“{title}” ended without bids."
    notify(session, outbox, auction.seller_id, "sale" if winner else "no_sale", seller_text, auction_id=auction.id)
    result = (
        f"“{title}” was won by {winner.username} for {format_brl(price)}."
        if winner
        else f"“{title}” ended without a sale."
    )
    skip = {auction.seller_id, auction.winner_id}
    for user_id in watcher_ids(session, auction.id):
        if user_id not in skip:
            notify(session, outbox, user_id, "auction_result", result, auction_id=auction.id)


def due_auction_ids(session: Session, limit: int = 100) -> list[int]:
    """Open auctions whose end time has passed (candidates for finish_if_due)."""
    return list(
        session.scalars(
            select(Auction.id)
            .where(Auction.status == "open", Auction.ends_at <= clock.now())
            .order_by(Auction.ends_at)
            .limit(limit)
        )
    )


def send_ending_soon(session: Session, outbox: Outbox, within_seconds: int) -> list[int]:
    """Tell watchers once that an auction ends within `within_seconds`; the flag makes it once across processes."""
    now = clock.now()
    due = session.scalars(
        select(Auction.id)
        .where(
            Auction.status == "open",
            Auction.ending_soon_sent.is_(False),
            Auction.ends_at <= now + timedelta(seconds=within_seconds),
            Auction.ends_at > now,
        )
        .limit(100)
    ).all()
    sent = []
    for auction_id in due:
        claimed = session.execute(
            update(Auction)
            .where(Auction.id == auction_id, Auction.ending_soon_sent.is_(False))
            .values(ending_soon_sent=True)
        ).rowcount
        if not claimed:
            continue
        sent.append(auction_id)
        title = session.scalar(select(Auction.title).where(Auction.id == auction_id))
        for user_id in watcher_ids(session, auction_id):
            notify(session, outbox, user_id, "ending_soon", f"“{title}” ends soon.", auction_id=auction_id)
    return sent


# -- watching -----------------------------------------------------------------------------


def watch(session: Session, user_id: int, auction_id: int) -> bool:
    """Persist that the user watches the auction (ending-soon and result notifications)."""
    if session.get(Auction, auction_id) is None:
        raise NotFound("no such auction")
    exists = session.scalar(select(Watch.id).where(Watch.user_id == user_id, Watch.auction_id == auction_id))
    if exists is None:
        session.add(Watch(user_id=user_id, auction_id=auction_id, created_at=clock.now()))
        session.flush()
    return True


def unwatch(session: Session, user_id: int, auction_id: int) -> bool:
    session.query(Watch).filter(Watch.user_id == user_id, Watch.auction_id == auction_id).delete()
    return False


def watcher_ids(session: Session, auction_id: int) -> list[int]:
    return list(session.scalars(select(Watch.user_id).where(Watch.auction_id == auction_id).order_by(Watch.user_id)))


def is_watching(session: Session, user_id: int, auction_id: int) -> bool:
    return session.scalar(select(Watch.id).where(Watch.user_id == user_id, Watch.auction_id == auction_id)) is not None


# -- reads for pages and the join ack -------------------------------------------------------


def auction_state(
    session: Session,
    auction_id: int,
    *,
    viewer_id: int | None = None,
    watchers: int | None = None,
    last_bids: int = LAST_BIDS,
) -> dict[str, Any]:
    """The full public state of an auction: the `join_auction` ack, also usable by pages.

    `viewer_id` adds what only that user may see (their own maximum if leading, watching flag).
    """
    auction = session.get(Auction, auction_id)
    if auction is None:
        raise NotFound("no such auction")
    names = dict(
        session.execute(
            select(User.id, User.username).where(
                User.id.in_({auction.seller_id, auction.leader_id, auction.winner_id} - {None})
            )
        ).all()
    )
    bids = session.execute(
        select(Bid, User.username)
        .join(User, User.id == Bid.bidder_id)
        .where(Bid.auction_id == auction_id)
        .order_by(Bid.id.desc())
        .limit(last_bids)
    ).all()
    state: dict[str, Any] = {
        "auction_id": auction.id,
        "title": auction.title,
        "description": auction.description,
        "seller": names.get(auction.seller_id),
        "status": auction.status,
        "starting_price": auction.starting_price,
        "current_price": auction.current_price,
        "leader": names.get(auction.leader_id) if auction.leader_id else None,
        "bid_count": auction.bid_count,
        "next_min": next_minimum(auction),
        "increment": increment_for(auction, auction.current_price or auction.starting_price),
        "has_reserve": auction.reserve_price is not None,
        "reserve_met": auction.reserve_met if auction.status == "finished" else _reserve_met(auction),
        "starts_at": clock.isoformat(auction.starts_at),
        "ends_at": clock.isoformat(auction.ends_at),
        "winner": names.get(auction.winner_id) if auction.winner_id else None,
        "final_price": auction.final_price,
        "bids": [public_bid(bid, username) for bid, username in bids],
        "watchers": watchers,
        "server_time": clock.isoformat(clock.now()),
    }
    if viewer_id is not None:
        state["you_lead"] = auction.leader_id == viewer_id
        state["your_max"] = auction.leader_max if auction.leader_id == viewer_id else None
        state["watching"] = is_watching(session, viewer_id, auction_id)
        state["is_seller"] = auction.seller_id == viewer_id
    return state


def list_auctions(
    session: Session,
    *,
    status: str | None = "open",
    search: str | None = None,
    ending_soon_seconds: int = 600,
    limit: int = 50,
) -> list[Auction]:
    """Auctions for listing pages.

    status: "open", "scheduled", "finished", "cancelled", "ending_soon" (open and ending within
    `ending_soon_seconds`) or None (all). `search` matches the title (case-insensitive substring).
    Open ones come soonest-ending first; finished ones most recent first.
    """
    query = select(Auction)
    now = clock.now()
    if status == "ending_soon":
        query = query.where(
            Auction.status == "open",
            Auction.ends_at > now,
            Auction.ends_at <= now + timedelta(seconds=ending_soon_seconds),
        )
    elif status is not None:
        if status not in {"open", "scheduled", "finished", "cancelled"}:
            raise Invalid("status: unknown filter", field="status")
        query = query.where(Auction.status == status)
    if search:
        pattern = "%" + search.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(func.lower(Auction.title).like(pattern, escape="\\"))
    if status in {"finished", "cancelled"}:
        query = query.order_by(Auction.finished_at.desc(), Auction.id.desc())
    else:
        query = query.order_by(Auction.ends_at, Auction.id)
    return list(session.scalars(query.limit(limit)))


def my_bids(session: Session, user_id: int, limit: int = 100) -> list[dict[str, Any]]:
    """Auctions the user bid on, with their standing: leading, outbid, won or lost.

    Each item: auction (the Auction), state, your_highest (their highest bid amount), your_max.
    """
    rows = session.execute(
        select(Auction, func.max(Bid.amount), func.max(Bid.max_amount))
        .join(Bid, Bid.auction_id == Auction.id)
        .where(Bid.bidder_id == user_id)
        .group_by(Auction.id)
        .order_by(Auction.ends_at.desc())
        .limit(limit)
    ).all()
    items = []
    for auction, highest, top_max in rows:
        if auction.status == "finished":
            state = "won" if auction.winner_id == user_id else "lost"
        elif auction.status == "cancelled":
            state = "cancelled"
        else:
            state = "leading" if auction.leader_id == user_id else "outbid"
        items.append({"auction": auction, "state": state, "your_highest": highest, "your_max": top_max})
    return items


def my_auctions(session: Session, user_id: int, limit: int = 100) -> list[dict[str, Any]]:
    """The user's own auctions with their state: scheduled, selling, sold, unsold or cancelled."""
    auctions = session.scalars(
        select(Auction).where(Auction.seller_id == user_id).order_by(Auction.created_at.desc()).limit(limit)
    ).all()
    items = []
    for auction in auctions:
        if auction.status == "finished":
            state = "sold" if auction.winner_id else "unsold"
        elif auction.status == "open":
            state = "selling"
        else:
            state = auction.status
        items.append({"auction": auction, "state": state})
    return items
