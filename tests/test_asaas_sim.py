"""The Asaas simulator stays outside the product: its own tables, mounted only as the development default."""

from __future__ import annotations

import pyotp
import pytest
from sqlalchemy import create_engine, inspect

from asaas_sim.gateway import ASAAS_EVENTS
from asaas_sim.models import Base as SimulatorBase
from auction import accounts, create_app, schema_sql
from auction.migrate import SIMULATOR_TABLE_PREFIX
from auction.models import Base
from auction.payments.events import RULES
from tests.support.schema_compare import app_on, diff_snapshots, model_snapshot, reflect_snapshot
from tests.test_schema import flask_db, sqlite_url

SIMULATOR_TABLES = {"asaas_sim_objects", "asaas_sim_events"}
PASSWORD = "correct horse battery"
SECRETS = {"SECRET_KEY": "k" * 40, "ASAAS_WEBHOOK_TOKEN": "t" * 32}


def table_names(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_the_product_schema_has_no_simulator_table():
    assert set(SimulatorBase.metadata.tables) == SIMULATOR_TABLES
    assert not SIMULATOR_TABLES & set(Base.metadata.tables)
    assert "asaas_sim" not in schema_sql.SCHEMA_PATH.read_text()
    assert all(name.startswith(SIMULATOR_TABLE_PREFIX) for name in SimulatorBase.metadata.tables)


def test_the_simulator_can_send_every_event_the_product_handles():
    assert tuple(rule.event for rule in RULES) == ASAAS_EVENTS


@pytest.mark.parametrize(
    "settings, mounted",
    [({}, True), ({"ASAAS_API_KEY": "$aact_real_0000"}, False), ({"AUCTION_ENV": "production"}, False)],
    ids=["no key", "real key", "production"],
)
def test_the_simulator_is_mounted_only_as_the_development_default(tmp_path, settings, mounted):
    app = create_app(
        {"DATABASE_URL": sqlite_url(tmp_path, "a.db"), "INSTANCE_PATH": str(tmp_path), **SECRETS, **settings}
    )
    try:
        rules = {rule.rule for rule in app.url_map.iter_rules()}
        assert ("/asaas-sim/i/<payment_id>" in rules) is mounted
        assert ("/asaas-sim/v3/payments" in rules) is mounted
        assert any(rule.startswith("/asaas-sim") for rule in rules) is mounted
        assert ("asaas_sim" in app.blueprints) is mounted
        assert app.config["ASAAS_SIMULATOR"] is mounted
        assert "/payment/webhook" in rules
    finally:
        app.extensions["auction.db"].dispose()


def test_in_production_without_a_key_the_simulator_is_absent_and_the_admin_dashboard_still_renders(tmp_path):
    url = sqlite_url(tmp_path, "prod.db")
    app = create_app(
        {
            "DATABASE_URL": url,
            "INSTANCE_PATH": str(tmp_path),
            "AUCTION_ENV": "production",
            "SESSION_COOKIE_SECURE": False,
            "RATE_LIMITS_ENABLED": False,
            "SCHEDULER_ENABLED": False,
            "WTF_CSRF_ENABLED": False,
            **SECRETS,
        }
    )
    try:
        client = app.test_client()
        assert client.get("/asaas-sim/i/pay_1").status_code == 404
        assert client.get("/asaas-sim/admin").status_code == 404
        assert client.get("/asaas-sim/v3/payments/pay_1", headers={"access_token": "k"}).status_code == 404
        assert not SIMULATOR_TABLES & table_names(url)

        db = app.extensions["auction.db"]
        db.transaction(
            lambda s: accounts.register(
                s, username="root", email="r@example.com", password=PASSWORD, cpf_cnpj="52998224725", is_admin=True
            )
        )
        assert client.post("/login", data={"username": "root", "password": PASSWORD}).status_code == 302
        # In production an admin turns on two-factor login before any admin page (CSRF is off here).
        secret = client.get("/account/2fa").get_data(as_text=True).split("data-totp-secret>", 1)[1].split("<", 1)[0]
        client.post("/account/2fa", data={"code": pyotp.TOTP(secret).now()})
        dashboard = client.get("/admin/")
        assert dashboard.status_code == 200 and b"simulator" not in dashboard.data
    finally:
        app.extensions["auction.db"].dispose()


def test_the_simulator_creates_its_tables_on_first_use_and_alembic_ignores_them(tmp_path):
    url = sqlite_url(tmp_path, "dev.db")
    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(tmp_path), "SCHEDULER_ENABLED": False, **SECRETS})
    try:
        assert not SIMULATOR_TABLES & table_names(url)  # `flask db ...` commands build the app too
        answer = app.test_client().get("/asaas-sim/v3/payments/pay_nope", headers={"access_token": "k"})
        assert answer.status_code == 404 and answer.get_json()["errors"][0]["code"] == "not_found"
        assert table_names(url) >= SIMULATOR_TABLES
    finally:
        app.extensions["auction.db"].dispose()
    assert "no changes" in flask_db(url, tmp_path, "check")


def test_migration_0002_drops_the_simulator_tables_where_they_exist(tmp_path):
    url = sqlite_url(tmp_path, "old.db")
    flask_db(url, tmp_path, "upgrade", "0001")
    assert table_names(url) >= SIMULATOR_TABLES
    flask_db(url, tmp_path, "upgrade", "0002")
    assert not SIMULATOR_TABLES & table_names(url)
    flask_db(url, tmp_path, "downgrade", "0001")
    assert table_names(url) >= SIMULATOR_TABLES

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE asaas_sim_objects")
    engine.dispose()
    flask_db(url, tmp_path, "upgrade", "0002")
    assert not SIMULATOR_TABLES & table_names(url)


def simulator_part(url: str) -> dict:
    return {name: shape for name, shape in reflect_snapshot(url).items() if name in SIMULATOR_TABLES}


def test_on_mariadb_the_simulator_makes_the_tables_revision_0001_made(mariadb, tmp_path):
    old = mariadb.create_database("auction_sim_old")
    flask_db(old, tmp_path, "upgrade", "0001")
    new = mariadb.create_database("auction_sim_new")
    flask_db(new, tmp_path, "upgrade")
    assert not SIMULATOR_TABLES & table_names(new)
    app = app_on(new, tmp_path)
    try:
        answer = app.test_client().get("/asaas-sim/v3/customers", headers={"access_token": "k"})
        assert answer.status_code == 200 and answer.get_json()["totalCount"] == 0
    finally:
        app.extensions["auction.db"].dispose()
    assert diff_snapshots(model_snapshot(SimulatorBase.metadata), simulator_part(new)) == []
    # A development database made before keeps working with the simulator until `db upgrade` drops them.
    assert diff_snapshots(simulator_part(old), simulator_part(new)) == []
    assert "no changes" in flask_db(new, tmp_path, "check")
