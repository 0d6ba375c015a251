"""The register page's promise kept: other people see pseudonyms, never names, on an auction's page and in
its room; only the two parties of a sale (to each other) and admins see real names."""

from __future__ import annotations

from datetime import timedelta

import pytest

from auction import clock
from auction.auctions import closing, privacy, watching
from auction.outbox import Outbox, user_room
from tests.support.auctions import fund, new_auction, place
from tests.support.pages import as_user

pytestmark = [pytest.mark.usefixtures("fast_passwords"), pytest.mark.parametrize("backend", ["sqlite"], indirect=True)]
NAMES = {"seller": "solvendora", "buyer": "anacompradora", "loser": "biaterceira", "admin": "rootadmin"}


@pytest.fixture
def sale(app, db, make_user):
    ids = {role: make_user(name, is_admin=role == "admin") for role, name in NAMES.items()}
    for role in ("buyer", "loser"):
        fund(db, ids[role], 50_000)
    auction_id = new_auction(db, ids["seller"], seconds=60, starting_price=10_000, title="Rolleiflex")
    db.run(watching.set_watching, ids["loser"], auction_id, True)
    place(db, auction_id, ids["loser"], 10_000)
    place(db, auction_id, ids["buyer"], 12_000)
    clock.advance(timedelta(seconds=61))
    outbox = Outbox()
    db.run(closing.finish_if_due, auction_id, fee_bps=500, outbox=outbox)
    return ids | {"auction": auction_id, "outbox": outbox}


def page_as(app, db, user_id: int | None, path: str) -> str:
    response = as_user(app, db, user_id).get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def names_on(page: str) -> set[str]:
    return {role for role, name in NAMES.items() if name in page}


def test_a_finished_auction_names_nobody_to_the_public_or_a_third_bidder(app, db, sale):
    path = f"/auctions/{sale['auction']}"
    winner = privacy.pseudonym(sale["auction"], sale["buyer"])
    seller = privacy.seller_alias(sale["seller"])
    public = page_as(app, db, None, path)
    assert names_on(public) == set()
    assert f"Won by {winner} for R$\u00a0120,00" in public and f"Sold by {seller}" in public
    third = page_as(app, db, sale["loser"], path)
    assert names_on(third) == {"loser"}  # their own name, in the header only
    assert f"Won by {winner}" in third
    assert names_on(page_as(app, db, None, "/?status=finished")) == set()


def test_the_parties_know_each_other_and_admins_know_everyone(app, db, sale):
    path = f"/auctions/{sale['auction']}"
    buyer = page_as(app, db, sale["buyer"], path)
    assert names_on(buyer) == {"buyer", "seller"} and "You won this auction for R$\u00a0120,00" in buyer
    seller = page_as(app, db, sale["seller"], path)
    assert names_on(seller) == {"seller", "buyer"}  # never the losing bidder's name
    assert names_on(page_as(app, db, sale["admin"], path)) == set(NAMES)


def test_the_room_and_the_watchers_hear_the_winner_by_pseudonym(db, sale):
    winner = privacy.pseudonym(sale["auction"], sale["buyer"])
    finished = [m for m in sale["outbox"] if m.event == "auction_finished"]
    assert [m.payload["winner"] for m in finished] == [winner]
    to_others = [repr(m.payload) for m in sale["outbox"] if m.room != user_room(sale["seller"])]
    assert any(f"was won by {winner}" in text for text in to_others)  # the watching loser's notification
    assert [name for name in NAMES.values() if any(name in text for text in to_others)] == []
