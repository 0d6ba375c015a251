"""A seller lists an auction; the scheduler opens it on time; an admin may cancel it before any bid."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select, update

from .. import clock, wallet
from ..brazil import UFS
from ..errors import Forbidden, Invalid, NotFound
from ..models import Auction, AuctionStatus, User
from ..money import Cents, InvalidAmount, require_cents
from ..notifications import notify
from ..uow import UnitOfWork
from . import event_deposits, messages
from .errors import AuctionNotOpen
from .locking import AuctionRow, lock_auction

# Limits shared by the sell form (entrypoints/web/forms.py) and this service.
TITLE_MIN = 3
TITLE_MAX = 120
DESCRIPTION_MAX = 5_000
MAX_DURATION = timedelta(days=30)
MIN_DURATION = timedelta(seconds=1)
CITY_MAX = 80


class Condition(StrEnum):
    """The item's condition, as Brazilian marketplaces name it (novo, seminovo, usado ...)."""

    NEW = "new"
    LIKE_NEW = "like_new"
    USED = "used"
    REFURBISHED = "refurbished"
    FOR_PARTS = "for_parts"


class Delivery(StrEnum):
    SHIP = "ship"  # the seller sends it, for `shipping_cost` (0: free shipping)
    PICKUP = "pickup"  # the buyer collects it in the item's city ("retirada")


@dataclass(frozen=True)
class ItemFacts:
    """What buyers check before bidding: condition, how it reaches them and from where."""

    condition: str
    delivery: str
    city: str
    uf: str
    shipping_cost: Cents | None = None  # required to ship, absent for pickup


def checked_facts(facts: ItemFacts) -> ItemFacts:
    """The facts cleaned, or Invalid naming the field (sell form names: condition, delivery, shipping_cost ...)."""
    if facts.condition not in set(Condition):
        raise Invalid("condition: choose the item's condition", field="condition")
    if facts.delivery not in set(Delivery):
        raise Invalid("delivery: choose shipping or pickup", field="delivery")
    cost = None
    if facts.delivery == Delivery.SHIP:
        if facts.shipping_cost is None:
            raise Invalid("shipping_cost: give the shipping cost (0 for free shipping)", field="shipping_cost")
        cost = cents_field("shipping_cost", facts.shipping_cost, allow_zero=True)
    city = " ".join((facts.city or "").split())
    if not 2 <= len(city) <= CITY_MAX:
        raise Invalid(f"city: 2-{CITY_MAX} characters", field="city")
    uf = (facts.uf or "").strip().upper()
    if uf not in UFS:
        raise Invalid("uf: the state must be a Brazilian UF (SP, RJ, MG ...)", field="uf")
    return ItemFacts(facts.condition, facts.delivery, city, uf, cost)


@dataclass(frozen=True)
class NewAuction:
    """What a seller asks for. `starts_at` None (or not in the future) opens it at once;
    `min_increment` None uses the price-band table of `rules`."""

    seller_id: int
    title: str
    description: str
    starting_price: Cents
    ends_at: datetime
    facts: ItemFacts
    min_increment: Cents | None = None
    reserve_price: Cents | None = None
    starts_at: datetime | None = None
    buy_now_price: Cents | None = None


def cents_field(name: str, value: object, *, allow_zero: bool = False) -> Cents:
    try:
        return require_cents(value, allow_zero=allow_zero)
    except InvalidAmount as exc:
        raise Invalid(f"{name}: {exc}", field=name) from exc


def create(uow: UnitOfWork, cmd: NewAuction) -> Auction:
    """Validate and store a new auction; `Invalid.details["field"]` names the offending form field."""
    title = (cmd.title or "").strip()
    description = (cmd.description or "").strip()
    if not TITLE_MIN <= len(title) <= TITLE_MAX:
        raise Invalid(f"title: {TITLE_MIN}-{TITLE_MAX} characters", field="title")
    if len(description) > DESCRIPTION_MAX:
        raise Invalid(f"description: at most {DESCRIPTION_MAX} characters", field="description")
    starting_price = cents_field("starting_price", cmd.starting_price)
    min_increment = None if cmd.min_increment is None else cents_field("min_increment", cmd.min_increment)
    reserve_price = None
    if cmd.reserve_price is not None:
        reserve_price = cents_field("reserve_price", cmd.reserve_price)
        if reserve_price < starting_price:
            raise Invalid("reserve_price: must not be below the starting price", field="reserve_price")
    buy_now_price = None
    if cmd.buy_now_price is not None:
        buy_now_price = cents_field("buy_now_price", cmd.buy_now_price)
        if buy_now_price < max(starting_price, reserve_price or 0):
            raise Invalid(
                "buy_now_price: must not be below the starting price or the reserve price", field="buy_now_price"
            )
    now = clock.now()
    for name, moment in (("starts_at", cmd.starts_at), ("ends_at", cmd.ends_at)):
        if moment is not None and (not isinstance(moment, datetime) or moment.tzinfo is None):
            raise Invalid(f"{name}: a timezone-aware date and time is required", field=name)
    start = cmd.starts_at if cmd.starts_at is not None and cmd.starts_at > now else now
    if cmd.ends_at - start < MIN_DURATION:
        raise Invalid("ends_at: must be after the start", field="ends_at")
    if cmd.ends_at - start > MAX_DURATION:
        raise Invalid(f"ends_at: an auction lasts at most {MAX_DURATION.days} days", field="ends_at")
    facts = checked_facts(cmd.facts)
    session = uow.session
    if session.get(User, cmd.seller_id) is None:
        raise NotFound("no such seller")
    auction = Auction(
        seller_id=cmd.seller_id,
        title=title,
        description=description,
        starting_price=starting_price,
        min_increment=min_increment,
        reserve_price=reserve_price,
        buy_now_price=buy_now_price,
        item_condition=facts.condition,
        delivery=facts.delivery,
        shipping_cost=facts.shipping_cost,
        city=facts.city,
        uf=facts.uf,
        starts_at=start,
        ends_at=cmd.ends_at,
        status=AuctionStatus.OPEN if start <= now else AuctionStatus.SCHEDULED,
        bid_count=0,
        ending_soon_stage=0,
        created_at=now,
    )
    session.add(auction)
    session.flush()
    return auction


def open_due(uow: UnitOfWork) -> list[int]:
    """Open scheduled auctions whose start has come; each is opened by exactly one caller."""
    session = uow.session
    due = session.scalars(
        select(Auction.id).where(Auction.status == AuctionStatus.SCHEDULED, Auction.starts_at <= clock.now()).limit(100)
    ).all()
    opened = []
    for auction_id in due:
        changed = session.execute(
            update(Auction)
            .where(Auction.id == auction_id, Auction.status == AuctionStatus.SCHEDULED)
            .values(status=AuctionStatus.OPEN, version=Auction.version + 1)
        ).rowcount
        if changed:
            opened.append(auction_id)
            row = session.execute(select(*_AUCTIONS.columns).where(_AUCTIONS.c.id == auction_id)).one()
            messages.opened(uow.outbox, AuctionRow(**row._mapping))  # a lot's event room hears it too
    return opened


def cancel(uow: UnitOfWork, auction_id: int, actor_id: int) -> Auction:
    """An admin cancels an auction that has no bids yet."""
    session = uow.session
    actor = session.get(User, actor_id)
    if actor is None or not actor.is_admin:
        raise Forbidden("only an admin may cancel an auction")
    auction = lock_auction(session, auction_id)
    if auction.status not in {AuctionStatus.SCHEDULED, AuctionStatus.OPEN}:
        raise AuctionNotOpen("the auction is already over")
    if auction.bid_count:
        raise Invalid("an auction with bids cannot be cancelled")
    if auction.event_id is not None:
        event_deposits.lock_event(session, auction.event_id)
    auction.status = AuctionStatus.CANCELLED
    auction.finished_at = clock.now()
    auction.version += 1
    if auction.event_id is not None:  # it was the event's last lot: its deposits come back
        for user_id in event_deposits.release_if_over(session, auction.event_id):
            wallet.send_balance(uow, user_id)
    messages.cancelled(uow.outbox, auction)
    notify(
        uow,
        auction.seller_id,
        "cancelled",
        f"Your auction “{auction.title}” was cancelled by an admin.",
        auction_id=auction.id,
    )
    return auction


_AUCTIONS = Auction.__table__
