"""sql/demo_data.sql: loads twice on top of sql/schema.sql, matches `demo load`, audits clean, alice can log in."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from auction import clock, schema_sql, wallet
from auction.demo import DEMO_PASSWORD, load_demo_data
from auction.models import Auction, LedgerTransaction, User, Wallet
from tests.support.schema_compare import app_on, load_sql_file
from tests.test_accounts import csrf_token


def demo_facts(session: Session) -> dict:
    """What a person sees of the demo set, without ids and load times."""
    names = dict(session.execute(select(User.id, User.username)).all())
    auctions = session.scalars(select(Auction).order_by(Auction.title)).all()
    return {
        "users": sorted(session.execute(select(User.username, User.email, User.cpf_cnpj, User.is_admin)).all()),
        "wallets": sorted(
            (names.get(w.user_id, w.code), w.kind, w.available, w.held) for w in session.scalars(select(Wallet))
        ),
        "ledger": sorted(
            (names[w.user_id], t.kind, t.reason, t.amount, t.idempotency_key == f"demo-credit-{w.user_id}")
            for t, w in session.execute(select(LedgerTransaction, Wallet).join(Wallet))
        ),
        "auctions": [
            (a.title, a.description, a.starting_price, names[a.seller_id], a.status, a.ends_at - a.starts_at)
            for a in auctions
        ],
    }


def test_demo_sql_loads_twice_audits_clean_and_alice_logs_in(mariadb, tmp_path):
    url = mariadb.create_database("auction_demo")
    load_sql_file(url, schema_sql.SCHEMA_PATH)
    load_sql_file(url, schema_sql.DEMO_PATH)
    load_sql_file(url, schema_sql.DEMO_PATH)

    app = app_on(url, tmp_path)
    db = app.extensions["auction.db"]
    try:
        assert db.transaction(wallet.audit) == []
        facts = db.transaction(demo_facts)
        assert [u[0] for u in facts["users"]] == ["admin", "alice", "bob", "carol"]
        assert ("alice", "user", 50_000, 0) in facts["wallets"]
        assert ("settlement", "settlement", 0, 0) in facts["wallets"]  # derived: no cached balance
        assert db.transaction(wallet.derived_balance, wallet.SETTLEMENT) == -100_000
        open_until = db.transaction(lambda s: s.scalars(select(Auction.ends_at).where(Auction.status == "open")).all())
        assert len(open_until) == 4 and min(open_until) > clock.now() + timedelta(minutes=25)

        client = app.test_client()
        response = client.post(
            "/login",
            data={"username": "alice", "password": DEMO_PASSWORD, "csrf_token": csrf_token(client, "/login")},
        )
        assert response.status_code == 302
        home = client.get("/").get_data(as_text=True)
        assert "alice" in home and 'action="/logout"' in home
    finally:
        db.dispose()


def test_demo_sql_holds_the_same_data_as_demo_load(mariadb, tmp_path):
    from_sql = mariadb.create_database("auction_demo_sql")
    load_sql_file(from_sql, schema_sql.SCHEMA_PATH)
    load_sql_file(from_sql, schema_sql.DEMO_PATH)
    from_python = mariadb.create_database("auction_demo_py")
    load_sql_file(from_python, schema_sql.SCHEMA_PATH)

    facts = []
    for url in (from_sql, from_python):
        app = app_on(url, tmp_path)
        db = app.extensions["auction.db"]
        try:
            if url == from_python:
                assert load_demo_data(db)
            facts.append(db.transaction(demo_facts))
        finally:
            db.dispose()
    assert facts[0] == facts[1]
