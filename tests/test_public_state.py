"""One shape of an auction's public state (auctions/public.py) end to end: the page's initial state, the
`join_auction` answer, the read model and the room messages carry the same fields under the same names, and a
room message applied to the state before it gives the state after it. Keys come from the code, not a list here."""

from __future__ import annotations

import json
import re

import pytest

from auction.auctions import public, queries
from auction.entrypoints.sockets.auction_cache import VIEWER_FIELDS
from tests.support.auctions import new_auction
from tests.test_join_cache import connect, people  # noqa: F401 (fixtures)

pytestmark = pytest.mark.usefixtures("fast_passwords")
# Per-read fields: the moment of the answer and the watchers counted at the join.
MOMENT = {"server_time", "watchers"}


def _room(client, name):
    return [m["args"][0] for m in client.get_received() if m["name"] == name]


def _page_state(app, auction_id):
    html = app.test_client().get(f"/auctions/{auction_id}").get_data(as_text=True)
    found = re.search(r"<script type=\"application/json\" data-auction-state>(.*?)</script>", html, re.S)
    assert found, "the page carries no initial state"
    return json.loads(found.group(1))


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # the shape, not the database
def test_the_page_the_join_answer_the_read_model_and_the_room_share_one_shape(app, db, people, connect, make_user):  # noqa: F811
    make_user("admin", is_admin=True)
    auction_id = new_auction(db, people["seller"], reserve_price=1_500)
    watcher, ana, admin = connect(), connect("ana"), connect("admin")
    before = watcher.emit("join_auction", {"auction_id": auction_id}, callback=True)
    watcher.get_received()

    assert ana.emit("bid", {"auction_id": auction_id, "amount": 1_000, "max_amount": 1_600}, callback=True)["ok"]
    (new_bid,) = _room(watcher, "new_bid")
    joined = watcher.emit("join_auction", {"auction_id": auction_id}, callback=True)
    model = app.extensions["auction.cache"]._entries[auction_id]
    truth = db.transaction(queries.auction_state, auction_id)
    page = _page_state(app, auction_id)

    shape = set(truth) - set(VIEWER_FIELDS)
    assert set(joined) - {"ok"} == shape == set(model) == set(page)
    assert set(new_bid) - public.MESSAGE_ONLY <= shape
    for key in (set(new_bid) - public.MESSAGE_ONLY - MOMENT) - {"bids"}:
        assert new_bid[key] == joined[key] == page[key], key
    _applies(before, new_bid, joined)

    assert admin.emit("finish_auction", {"auction_id": auction_id}, callback=True)["ok"]
    (finished,) = _room(watcher, "auction_finished")
    after = db.transaction(queries.auction_state, auction_id)
    assert set(finished) - public.MESSAGE_ONLY <= shape
    _applies(joined, finished, after)
    assert set(_page_state(app, auction_id)) == shape


def _applies(before: dict, message: dict, after: dict) -> None:
    """What the read model and auction.js do with a room message: the state before, updated, is the state after."""
    state = {key: value for key, value in before.items() if key not in {"ok", *VIEWER_FIELDS}}
    public.apply(state, message, keep_bids=queries.LAST_BIDS)
    compared = set(state) - MOMENT
    assert {k: state[k] for k in compared} == {k: after[k] for k in compared}


def test_apply_ignores_fields_the_state_does_not_have_and_merges_bids_newest_first():
    state = {"current_price": 100, "bids": [{"bid_id": 2, "amount": 100}, {"bid_id": 1, "amount": 50}]}
    message = {"current_price": 300, "extended": True, "new_field": 1, "bids": [{"bid_id": 3}, {"bid_id": 4}]}
    public.apply(state, message, keep_bids=3)
    assert state == {"current_price": 300, "bids": [{"bid_id": 4}, {"bid_id": 3}, {"bid_id": 2, "amount": 100}]}
