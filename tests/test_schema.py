"""The schema's install paths agree: the models, sql/schema.sql, the Alembic migrations and their SQL files.

MariaDB tests load the scripts with the `mariadb` command-line client, exactly as an admin would.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from auction import create_app, migrate, schema_sql
from auction.models import Base
from tests.support.schema_compare import (
    VERSION_TABLE,
    app_on,
    diff_against_models,
    diff_snapshots,
    load_sql_file,
    reflect_snapshot,
)

SCHEMA_SQL = schema_sql.SCHEMA_PATH
REGENERATE = "run: flask --app auction db schema-sql"
NEEDS_MIGRATION = (
    "the models changed without a migration: add one with `flask --app auction db revision -m ...` "
    "(docs/database.md), then `db schema-sql` and `db migration-sql`"
)


def flask_db(url: str, tmp_path: Path, *args: str) -> str:
    app = app_on(url, tmp_path)
    try:
        result = app.test_cli_runner().invoke(args=["db", *args])
    finally:
        app.extensions["auction.db"].dispose()
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def revision_at(url: str) -> str | None:
    engine = create_engine(url)
    try:
        return migrate.current_revision(engine)
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def schema_sql_db(mariadb) -> str:
    """A fresh database with sql/schema.sql loaded twice (the second run must be harmless)."""
    url = mariadb.create_database("auction_schema")
    load_sql_file(url, SCHEMA_SQL)
    load_sql_file(url, SCHEMA_SQL)
    return url


# -- the committed files are what the generators render now -----------------------------------


def test_schema_and_demo_sql_files_are_regenerated_from_the_models():
    assert SCHEMA_SQL.read_text() == schema_sql.render_schema_sql(), REGENERATE
    assert schema_sql.DEMO_PATH.read_text() == schema_sql.render_demo_sql(), REGENERATE


def test_migration_sql_files_match_what_alembic_renders_now():
    rendered = migrate.render_all_migration_sql()
    assert rendered[0].revision == "0001"
    assert sorted(p.name for p in migrate.SQL_MIGRATIONS_DIR.glob("*.sql")) == sorted(r.path.name for r in rendered)
    for item in rendered:
        stale = f"{item.path.name} is stale; run: flask --app auction db migration-sql"
        assert item.path.read_text() == item.sql, stale


# -- MariaDB ------------------------------------------------------------------------------------


def test_schema_sql_loaded_twice_equals_the_models(schema_sql_db, tmp_path):
    assert diff_against_models(schema_sql_db, Base.metadata) == [], REGENERATE
    assert revision_at(schema_sql_db) == migrate.head()
    # Alembic's own autogenerate agrees: no model change is missing from the migrations.
    assert "no changes" in flask_db(schema_sql_db, tmp_path, "check")


def test_comparer_reports_changed_column_dropped_index_and_other_drift(mariadb):
    url = mariadb.create_database("auction_drift")
    load_sql_file(url, SCHEMA_SQL)
    assert diff_against_models(url, Base.metadata) == []
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        for statement in (
            "ALTER TABLE auctions MODIFY title VARCHAR(100) NULL DEFAULT 'untitled'",
            "ALTER TABLE wallets MODIFY available INT NOT NULL DEFAULT 1",
            "DROP INDEX ix_auctions_status_ends_at ON auctions",
            "ALTER TABLE users DROP INDEX uq_users_email",
            "ALTER TABLE watches DROP FOREIGN KEY fk_watches_user_id_users",
            "ALTER TABLE watches ADD CONSTRAINT fk_watches_user_id_users FOREIGN KEY (user_id) REFERENCES users (id)",
            "ALTER TABLE notifications ADD COLUMN extra INT NULL",
            "ALTER TABLE webhook_deliveries DEFAULT CHARACTER SET latin1",
        ):
            conn.exec_driver_sql(statement)
    engine.dispose()

    problems = "\n".join(diff_against_models(url, Base.metadata))
    for expected in (
        "auctions.title: type expected 'VARCHAR(120)', found 'VARCHAR(100)'",
        "auctions.title: nullable expected False, found True",
        "auctions.title: default expected None, found \"'untitled'\"",
        "wallets.available: type expected 'BIGINT', found 'INT'",
        "wallets.available: default expected '0', found '1'",
        "auctions: index ix_auctions_status_ends_at is missing",
        "users: index uq_users_email is missing",
        "watches: foreign key fk_watches_user_id_users differs",
        "notifications: unexpected column extra",
        "webhook_deliveries: table charset expected 'utf8mb4', found 'latin1'",
    ):
        assert expected in problems, f"{expected!r} not reported in:\n{problems}"


def test_upgrading_an_empty_database_through_every_migration_equals_schema_sql(mariadb, schema_sql_db, tmp_path):
    url = mariadb.create_database("auction_migrated")
    assert "upgraded to head" in flask_db(url, tmp_path, "upgrade")
    assert revision_at(url) == migrate.head()
    assert diff_snapshots(reflect_snapshot(schema_sql_db), reflect_snapshot(url)) == [], NEEDS_MIGRATION
    assert diff_against_models(url, Base.metadata) == [], NEEDS_MIGRATION

    flask_db(url, tmp_path, "downgrade", "base")
    assert set(reflect_snapshot(url)) == {VERSION_TABLE}
    flask_db(url, tmp_path, "upgrade")
    assert diff_against_models(url, Base.metadata) == []


def test_schema_sql_is_stamped_so_upgrade_has_nothing_to_do(schema_sql_db, tmp_path):
    before = reflect_snapshot(schema_sql_db)
    flask_db(schema_sql_db, tmp_path, "upgrade")
    assert diff_snapshots(before, reflect_snapshot(schema_sql_db)) == []


def test_migration_sql_files_applied_in_order_equal_schema_sql(mariadb, schema_sql_db):
    url = mariadb.create_database("auction_sqlmig")
    for item in migrate.render_all_migration_sql():
        load_sql_file(url, item.path)
    assert revision_at(url) == migrate.head()
    assert diff_snapshots(reflect_snapshot(schema_sql_db), reflect_snapshot(url)) == []


# -- SQLite ---------------------------------------------------------------------------------------


def sqlite_url(tmp_path: Path, name: str) -> str:
    return f"sqlite:///{tmp_path / name}"


def sqlite_columns(url: str) -> dict[str, set[str]]:
    engine = create_engine(url)
    try:
        inspector = inspect(engine)
        return {t: {c["name"] for c in inspector.get_columns(t)} for t in inspector.get_table_names()}
    finally:
        engine.dispose()


def model_columns() -> dict[str, set[str]]:
    return {t.name: {c.name for c in t.columns} for t in Base.metadata.sorted_tables}


def test_sqlite_upgrade_from_empty_creates_the_model_tables_and_downgrades(tmp_path):
    url = sqlite_url(tmp_path, "migrated.db")
    flask_db(url, tmp_path, "upgrade")
    assert revision_at(url) == migrate.head()
    assert sqlite_columns(url) == {**model_columns(), VERSION_TABLE: {"version_num"}}
    flask_db(url, tmp_path, "downgrade", "base")
    assert set(sqlite_columns(url)) == {VERSION_TABLE}


def test_sqlite_db_create_records_the_head_revision_so_upgrade_is_a_no_op(tmp_path):
    url = sqlite_url(tmp_path, "created.db")
    assert "schema created on sqlite" in flask_db(url, tmp_path, "create")
    assert revision_at(url) == migrate.head()
    flask_db(url, tmp_path, "upgrade")
    assert sqlite_columns(url) == {**model_columns(), VERSION_TABLE: {"version_num"}}
    assert flask_db(url, tmp_path, "current").strip().endswith(migrate.head())


def test_upgrade_refuses_a_database_with_tables_but_no_alembic_version(tmp_path):
    url = sqlite_url(tmp_path, "unversioned.db")
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    app = app_on(url, tmp_path)
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    app.extensions["auction.db"].dispose()
    assert result.exit_code == 1
    assert "no Alembic version table" in result.output and "db stamp head" in result.output


def test_sqlite_database_made_on_first_start_is_recorded_and_upgradable(tmp_path):
    url = sqlite_url(tmp_path, "first-start.db")
    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(tmp_path / "i"), "SCHEDULER_ENABLED": False})
    app.extensions["auction.db"].dispose()
    assert revision_at(url) == migrate.head()
    flask_db(url, tmp_path, "upgrade")
    assert "no changes" in flask_db(url, tmp_path, "check")


def test_revision_writes_no_empty_migration_when_the_models_have_not_changed(tmp_path):
    url = sqlite_url(tmp_path, "at-head.db")
    flask_db(url, tmp_path, "upgrade")
    before = set(migrate.MIGRATIONS_DIR.joinpath("versions").glob("*.py"))
    app = app_on(url, tmp_path)
    try:
        result = app.test_cli_runner().invoke(args=["db", "revision", "-m", "nothing changed"])
    finally:
        app.extensions["auction.db"].dispose()
        for written in set(migrate.MIGRATIONS_DIR.joinpath("versions").glob("*.py")) - before:
            written.unlink()
    assert result.exit_code == 1
    assert "no model changes found" in result.output


def test_upgrading_to_payment_movements_counts_each_payments_ledger_transactions(tmp_path):
    """0007 numbers each payment's next ledger key from the transactions it already made, as the count did."""
    url = sqlite_url(tmp_path, "movements.db")
    flask_db(url, tmp_path, "upgrade", "0006")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            now = "2026-12-01 12:00:00"
            for payment_id in (1, 2):
                conn.execute(
                    text(
                        "INSERT INTO payments (id, value, status, deleted, refunded, credited, matched, paid_stage,"
                        " chargeback_stage, removal_stage, cash_stage, refund_stage, refund_requested, frozen, checks,"
                        " created_at, updated_at) VALUES (:id, 100, 'RECEIVED', 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0,"
                        " :now, :now)"
                    ),
                    {"id": payment_id, "now": now},
                )
            for n, payment_id in enumerate((1, 1, 1, None), start=1):
                conn.execute(
                    text(
                        "INSERT INTO ledger_transactions (idempotency_key, kind, reason, amount, wallet_id, payment_id,"
                        " created_debt, created_at) VALUES (:key, 'credit', 'top_up', 100, 1, :payment, 0, :now)"
                    ),
                    {"key": f"k{n}", "payment": payment_id, "now": now},
                )
        flask_db(url, tmp_path, "upgrade")
        with engine.connect() as conn:
            movements = dict(conn.execute(text("SELECT id, movements FROM payments ORDER BY id")).all())
    finally:
        engine.dispose()
    assert movements == {1: 3, 2: 0}
