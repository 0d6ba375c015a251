"""Helpers shared by the bidding, handler and live tests: auctions, money, holds."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from auction import clock, wallet
from auction.auctions import bids, listing
from auction.db import Database
from auction.models import Auction, Hold, Wallet
from auction.outbox import Outbox


@pytest.fixture(autouse=True)
def fast_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    """A cheap hash keeps user creation fast (scrypt takes 0.1-0.2 s a user here, and the suite makes thousands).

    Every test gets it; the tests about passwords themselves (tests/test_accounts.py) override it with the real
    hash, so scrypt and its checks stay proven. A login as nobody is checked against a dummy hash as costly as a
    real one (so both take the same time): here that one is cheap too."""
    monkeypatch.setattr(
        "auction.accounts.service.hash_password",
        lambda password: generate_password_hash(password, method="pbkdf2:sha256:1"),
    )
    monkeypatch.setattr("auction.accounts.service._DUMMY_HASH", CHEAP_DUMMY_HASH)


CHEAP_DUMMY_HASH = generate_password_hash("not-a-real-password", method="pbkdf2:sha256:1")


# What the sell form requires of every listing (auctions/listing.py), for tests about something else.
FACTS = listing.ItemFacts(condition="used", delivery="ship", shipping_cost=2_500, city="Recife", uf="PE")


def fund(db: Database, user_id: int, amount: int) -> None:
    """Give a user money the way a confirmed payment would (a ledger credit)."""
    db.transaction(lambda s: wallet.credit(s, user_id=user_id, amount=amount, key=f"test-credit-{user_id}-{amount}"))


def new_auction(db: Database, seller_id: int, *, seconds: float = 3600, starts_in: float = 0, **fields: Any) -> int:
    """An auction through the service (open now unless `starts_in` > 0); returns its id."""
    now = clock.now()
    values: dict[str, Any] = {
        "title": "Vintage camera",
        "description": "Works well.",
        "starting_price": 1_000,
        "min_increment": None,
        "reserve_price": None,
        "facts": FACTS,
    } | fields
    starts_at = now + timedelta(seconds=starts_in) if starts_in else None
    ends_at = now + timedelta(seconds=starts_in + seconds)
    command = listing.NewAuction(seller_id=seller_id, starts_at=starts_at, ends_at=ends_at, **values)
    return db.run(lambda uow: listing.create(uow, command).id)


def place(db: Database, auction_id: int, bidder_id: int, amount: Any, max_amount: Any = None, **kw: Any):
    """Place a bid through the service (no soft close unless asked); returns (outcome, outbox)."""
    kw.setdefault("soft_close_seconds", 0)
    outbox = Outbox()
    outcome = db.run(bids.place, bids.PlaceBid(auction_id, bidder_id, amount, max_amount, **kw), outbox=outbox)
    return outcome, outbox


def held(db: Database, user_id: int, auction_id: int) -> int:
    return db.transaction(lambda s: wallet.held_for(s, user_id=user_id, auction_id=auction_id))


def balance(db: Database, user_id: int) -> wallet.Balance:
    return db.transaction(wallet.balance, user_id)


def load_auction(db: Database, auction_id: int) -> Auction:
    return db.transaction(lambda s: s.get(Auction, auction_id))


def open_holds(db: Database, auction_id: int) -> dict[int, int]:
    """user id -> amount of every open hold on the auction."""
    rows = db.transaction(
        lambda s: s.execute(
            select(Wallet.user_id, Hold.amount)
            .join(Hold, Hold.wallet_id == Wallet.id)
            .where(Hold.auction_id == auction_id, Hold.status == "open", Hold.amount > 0)
        ).all()
    )
    return dict(rows)


def audit(db: Database) -> list[str]:
    return db.transaction(wallet.audit)
