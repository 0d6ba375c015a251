"""Demo users and auctions so a newcomer sees a working site at once.

Demo accounts (password for all: `demo-password`): alice, bob, carol (seller) and
admin (an admin). Their wallets are topped up through the ledger like a payment.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import accounts, clock, wallet
from .db import Database
from .models import Auction, User

DEMO_PASSWORD = "demo-password"
DEMO_USERS = [
    ("alice", "52998224725", False, 50_000),
    ("bob", "11144477735", False, 50_000),
    ("carol", "39053344705", False, 0),
    ("admin", "15350946056", True, 0),
]
DEMO_AUCTIONS = [
    ("Vintage film camera", "A 1970s 35 mm rangefinder, working shutter, light wear.", 5_000, 30),
    ("Mechanical keyboard", "Tenkeyless, brown switches, barely used.", 12_000, 90),
    ("Road bicycle", "Aluminium frame, 54 cm, new tyres.", 60_000, 24 * 60),
    ("First-edition novel", "Signed by the author; small tear on the jacket.", 20_000, 3 * 24 * 60),
]
# Each demo auction's facts, in the same order: condition, delivery, shipping cost, city, UF.
DEMO_FACTS = [
    ("used", "ship", 2_500, "São Paulo", "SP"),
    ("like_new", "ship", 0, "Belo Horizonte", "MG"),
    ("used", "pickup", None, "Curitiba", "PR"),
    ("used", "ship", 1_800, "Recife", "PE"),
]


def _load(session: Session) -> bool:
    if session.scalar(select(User.id).where(User.username == "alice")) is not None:
        return False
    ids = {}
    for username, cpf, is_admin, credit in DEMO_USERS:
        user = accounts.register(
            session,
            username=username,
            email=f"{username}@demo.example",
            password=DEMO_PASSWORD,
            cpf_cnpj=cpf,
            is_admin=is_admin,
            verified=True,  # demo users can withdraw without a confirmation e-mail
        )
        ids[username] = user.id
        if credit:
            wallet.credit(session, user_id=user.id, amount=credit, key=f"demo-credit-{user.id}", reason="demo_credit")
    now = clock.now()
    for (title, description, price, minutes), facts in zip(DEMO_AUCTIONS, DEMO_FACTS, strict=True):
        condition, delivery, shipping_cost, city, uf = facts
        session.add(
            Auction(
                seller_id=ids["carol"],
                title=title,
                description=description,
                starting_price=price,
                item_condition=condition,
                delivery=delivery,
                shipping_cost=shipping_cost,
                city=city,
                uf=uf,
                starts_at=now,
                ends_at=now + timedelta(minutes=minutes),
                status="open",
                created_at=now,
            )
        )
    return True


def load_demo_data(db: Database) -> bool:
    """Load the demo set unless it is there already; True when it was loaded."""
    return db.transaction(_load)
