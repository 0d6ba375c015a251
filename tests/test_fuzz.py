"""Hypothesis fuzzing of everything a stranger can send: the Asaas webhook and every socket event.

Every generated input must get a clear answer (a 4xx, or an error ack with a code and a
message), never a 5xx, a crash or a hang; nothing is written and no money moves (the
wallet audit passes); every webhook delivery leaves a log line. Example counts are kept
small enough for the whole file to run in well under 40 s; docs/reliability.md lists them.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from auction import wallet
from auction.models import Base
from auction.payments.events import EVENTS
from tests.support.auctions import fund, new_auction
from tests.test_security import login

MARIADB = pytest.mark.parametrize("backend", ["mariadb"], indirect=True)
TOKEN = "test-webhook-token-0123456789abcdef"
WEBHOOK_EXAMPLES = 250
SOCKET_EXAMPLES = 60  # per event
FUZZ_SETTINGS = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


def fingerprint(db) -> tuple[int, ...]:
    """Row counts of every table plus the money in wallets: any write changes it."""
    tables = Base.metadata.sorted_tables

    def read(session) -> tuple[int, ...]:
        counts = [select(func.count()).select_from(t).scalar_subquery() for t in tables]
        row = session.execute(select(*counts)).one()
        return tuple(int(v) for v in row)

    return db.transaction(read)


def audit_clean(db) -> None:
    assert db.transaction(wallet.audit) == []


class Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def captured_log():
    handler = Captured()
    root = logging.getLogger()
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)


# -- values a confused or hostile client sends -------------------------------------------

huge_ints = st.integers(min_value=-(2**80), max_value=2**80)
numbers = st.one_of(
    huge_ints,
    st.sampled_from([0, -1, 1, 2**31, 2**63, -(2**63), 10**30]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
    st.sampled_from(["1e999999", "-0", "1_000", "0x10", " 5 ", "١٢٣", "NaN", "Infinity"]),
)
hostile_text = st.one_of(
    st.text(max_size=40),
    st.text(st.characters(categories=["Cc", "Cs", "So", "Zs", "Mn"]), max_size=20),
    st.text(min_size=60, max_size=400),
    st.sampled_from(["", " ", "' OR 1=1 --", "<script>alert(1)</script>", "\x00", "../../etc/passwd", "%s%n"]),
)
json_leaf = st.one_of(st.none(), st.booleans(), numbers, hostile_text)
json_values = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(hostile_text, inner, max_size=4),
    max_leaves=12,
)


def deeply_nested(depth: int) -> Any:
    value: Any = 1
    for n in range(depth):
        value = [value] if n % 2 else {"a": value}
    return value


nesting = st.integers(min_value=50, max_value=400).map(deeply_nested)


# -- the webhook ---------------------------------------------------------------------------

refunds = st.fixed_dictionaries({}, optional={"value": numbers, "status": hostile_text})
event_names = st.one_of(st.sampled_from(sorted(EVENTS)), hostile_text, json_values)
payment_objects = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(hostile_text, huge_ints, json_values),
        "value": st.one_of(numbers, json_values),
        "netValue": numbers,
        "status": st.one_of(st.sampled_from(["RECEIVED", "CONFIRMED", "REFUNDED", "PENDING"]), hostile_text),
        "deleted": json_leaf,
        "refunds": st.one_of(st.lists(refunds), json_values),
        "externalReference": st.one_of(hostile_text, huge_ints),
        "paymentLink": st.one_of(hostile_text, json_values),
        "customer": st.one_of(hostile_text, json_values),
        "nested": nesting,
    },
)
event_bodies = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(hostile_text, huge_ints, json_values),
        "event": event_names,
        "payment": st.one_of(payment_objects, json_values),
        "dateCreated": hostile_text,
        "extra": json_values,
    },
)


# Well-formed envelopes around fuzzed payments: these get past the shape check and are stored.
plausible_bodies = st.fixed_dictionaries(
    {
        "id": st.one_of(st.text(min_size=1, max_size=200), huge_ints),
        "event": st.sampled_from(sorted(EVENTS)),
        "payment": payment_objects.filter(lambda p: "id" in p),
    }
)


def _encode(body: Any) -> bytes:
    return json.dumps(body).encode()


raw_bodies = st.one_of(
    event_bodies.map(_encode),
    plausible_bodies.map(_encode),
    json_values.map(_encode),
    nesting.map(_encode),
    st.integers(min_value=100, max_value=200_000).map(lambda n: b"[" * n + b"]" * n),
    st.binary(max_size=300),
    st.tuples(event_bodies.map(_encode), st.binary(min_size=1, max_size=8)).map(
        lambda t: t[0][:-1] + b"\xff\xfe" + t[1]
    ),
    st.integers(min_value=1, max_value=4).map(
        lambda k: _encode({"event": "PAYMENT_RECEIVED", "pad": "x" * (k * 300_000)})
    ),
)
header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=80)
tokens = st.one_of(
    st.just(TOKEN), st.just(TOKEN), st.just(TOKEN), st.none(), header_text, st.just(TOKEN.upper()), st.just(TOKEN[:-1])
)


@MARIADB
@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")
def test_fuzzed_webhook_deliveries_get_a_4xx_or_are_stored_and_move_no_money(app, db, client, captured_log):
    """No payment is known here, so no delivery may move money, whatever it says."""

    @settings(FUZZ_SETTINGS, max_examples=WEBHOOK_EXAMPLES)
    @given(body=raw_bodies, token=tokens, content_type=st.sampled_from(["application/json", "text/plain", None]))
    def deliver(body: bytes, token: str | None, content_type: str | None) -> None:
        cases.append(body)
        headers = {"asaas-access-token": token} if token is not None else {}
        before = fingerprint(db)
        captured_log.lines.clear()
        response = client.post("/payment/webhook", data=body, headers=headers, content_type=content_type)
        assert response.status_code in {200, 400, 401, 413}, (response.status_code, body[:200])
        assert response.is_json and isinstance(response.get_json(), dict)
        assert any("event=webhook" in line for line in captured_log.lines), "delivery not logged"
        if response.status_code != 200:
            assert fingerprint(db) == before, "a refused delivery wrote something"
        else:
            assert token == TOKEN

    cases: list[bytes] = []
    deliver()
    assert len(cases) >= WEBHOOK_EXAMPLES  # the fuzzer really ran them all (docs/reliability.md counts them)
    assert (
        db.transaction(
            lambda s: s.scalar(select(func.count()).select_from(Base.metadata.tables["ledger_transactions"]))
        )
        == 0
    )
    audit_clean(db)
    assert TOKEN not in "\n".join(captured_log.lines)


def post_webhook(client, body: bytes):
    return client.post(
        "/payment/webhook", data=body, headers={"asaas-access-token": TOKEN}, content_type="application/json"
    )


@MARIADB
def test_oversized_webhook_is_refused_with_413_and_nothing_stored(app, db, client):
    before = fingerprint(db)
    too_big = _encode({"id": "evt_big", "event": "PAYMENT_RECEIVED", "payment": {"id": "pay_1"}, "pad": "x" * 300_000})
    assert len(too_big) > app.config["WEBHOOK_MAX_BYTES"]
    assert post_webhook(client, too_big).status_code == 413
    assert fingerprint(db) == before


@MARIADB
def test_oversized_webhook_is_logged(client, captured_log):
    response = post_webhook(client, _encode({"event": "PAYMENT_RECEIVED", "pad": "x" * 300_000}))
    assert response.status_code == 413
    assert any("event=webhook" in line for line in captured_log.lines)


@MARIADB
def test_webhook_body_nested_beyond_the_parser_limit_is_a_400(db, client):
    before = fingerprint(db)
    response = post_webhook(client, b"[" * 100_000 + b"]" * 100_000)
    assert response.status_code == 400
    assert fingerprint(db) == before


@MARIADB
@pytest.mark.parametrize("where", ["id", "event", "payment.id", "payment.customer"])
def test_webhook_strings_with_lone_surrogates_are_a_400(db, client, where):
    body = {"id": "evt_1", "event": "PAYMENT_CREATED", "payment": {"id": "pay_1", "customer": "cus_1", "value": 10}}
    bad = "x\ud800y"
    if where.startswith("payment."):
        body["payment"][where.split(".")[1]] = bad
    else:
        body[where] = bad
    before = fingerprint(db)
    response = post_webhook(client, _encode(body))
    assert response.status_code == 400
    assert fingerprint(db) == before


# -- socket events ---------------------------------------------------------------------------

auction_ids = st.one_of(huge_ints.filter(lambda n: n > 10_000 or n <= 0), json_values, hostile_text)
money_fields = st.one_of(numbers, json_values)


def socket_payloads(with_ids: st.SearchStrategy, someone_else: int) -> st.SearchStrategy:
    """Payloads, some naming another user (who has money): ids in payloads must be ignored."""
    shaped = st.fixed_dictionaries(
        {},
        optional={
            "auction_id": with_ids,
            "amount": money_fields,
            "max_amount": money_fields,
            "user_id": st.just(someone_else),
            "bidder_id": st.just(someone_else),
            "extra": json_values,
        },
    )
    surrogates = st.text(st.characters(categories=["Cs"]), min_size=1, max_size=4)
    return st.one_of(shaped, json_values, nesting, st.binary(max_size=64), surrogates)


@pytest.fixture
def fuzz_world(app, db, client, make_user, fast_passwords):
    """A seller with an open auction, and a logged-in bidder who has no money."""
    seller = make_user("vendedora")
    rich = make_user("rica")
    fund(db, rich, 100_000)
    make_user("fuzzer")
    auction_id = new_auction(db, seller)
    login(client, "fuzzer")
    from auction.extensions import socketio

    sock = socketio.test_client(app, flask_test_client=client)
    assert sock.is_connected()
    yield {"sock": sock, "auction_id": auction_id, "rich": rich}
    sock.disconnect()


def assert_clear_ack(ack: Any) -> None:
    """An ack says ok true or false; a refusal carries a stable code and a message."""
    assert isinstance(ack, dict) and isinstance(ack.get("ok"), bool), ack
    if not ack["ok"]:
        assert isinstance(ack.get("error"), str) and ack["error"], ack
        assert isinstance(ack.get("message"), str) and ack["message"], ack


def assert_error_ack(ack: Any) -> None:
    assert_clear_ack(ack)
    assert ack["ok"] is False, ack


NOTHING_WRITTEN_EVENTS = ["bid", "finish_auction", "watch", "add_money", "buy_now", "withdraw"]
CLEAR_ANSWER_EVENTS = ["join_auction", "leave_auction", "unwatch", "join_event", "leave_event"]


@pytest.mark.parametrize("backend", ["sqlite"])
def test_every_socket_event_is_fuzzed(app):
    # create_app wires the handlers (no registration by import), so the app is built first.
    from auction.extensions import socketio

    registered = {event for event, _handler, _namespace in socketio.handlers} - {"connect", "disconnect"}
    assert registered == set(NOTHING_WRITTEN_EVENTS + CLEAR_ANSWER_EVENTS)


@MARIADB
@pytest.mark.parametrize("event", NOTHING_WRITTEN_EVENTS)
def test_fuzzed_socket_events_get_error_acks_and_write_nothing(db, fuzz_world, event):
    sock, real_id = fuzz_world["sock"], fuzz_world["auction_id"]
    # The real auction is fair game where nothing can be written through it: the fuzzer has
    # no money to bid with (nor a Buy It Now price to buy at), is not the seller and cannot finish it early.
    ids = auction_ids | st.just(real_id) if event in {"bid", "finish_auction", "buy_now"} else auction_ids
    before = fingerprint(db)

    @settings(FUZZ_SETTINGS, max_examples=SOCKET_EXAMPLES)
    @given(payload=socket_payloads(ids, fuzz_world["rich"]))
    def send(payload: Any) -> None:
        cases.append(payload)
        if event == "add_money" and isinstance(payload, dict) and _valid_topup(payload.get("amount")):
            payload = {**payload, "amount": -1}
        assert_error_ack(sock.emit(event, payload, callback=True))

    cases: list[Any] = []
    send()
    assert len(cases) >= SOCKET_EXAMPLES
    assert sock.is_connected()
    after = fingerprint(db)
    if event == "withdraw":
        # Wrong passwords are guesses: the tenth locks the account and queues one notice to its owner (and
        # guesses while locked are not counted again). That notice is the only row a fuzzed withdrawal writes.
        mail = [t.name for t in Base.metadata.sorted_tables].index("mail_outbox")
        assert after[mail] - before[mail] <= 1
        after, before = after[:mail] + after[mail + 1 :], before[:mail] + before[mail + 1 :]
    assert after == before
    audit_clean(db)


def _valid_topup(amount: Any) -> bool:
    return isinstance(amount, int) and not isinstance(amount, bool) and 500 <= amount <= 1_000_000


@MARIADB
@pytest.mark.parametrize("event", CLEAR_ANSWER_EVENTS)
def test_fuzzed_join_leave_and_unwatch_answer_clearly_and_write_nothing(db, fuzz_world, event):
    sock = fuzz_world["sock"]
    before = fingerprint(db)

    @settings(FUZZ_SETTINGS, max_examples=SOCKET_EXAMPLES)
    @given(payload=socket_payloads(auction_ids, fuzz_world["rich"]))
    def send(payload: Any) -> None:
        cases.append(payload)
        # Leaving a room or unwatching what one does not watch is harmless and may say ok; joining needs a
        # real auction.
        (assert_error_ack if event == "join_auction" else assert_clear_ack)(sock.emit(event, payload, callback=True))

    cases: list[Any] = []
    send()
    assert len(cases) >= SOCKET_EXAMPLES
    real = {"event_id": 1} if event.endswith("_event") else {"auction_id": fuzz_world["auction_id"]}
    ack = sock.emit(event, real, callback=True)
    assert ack["ok"] is True
    assert fingerprint(db) == before
    audit_clean(db)
