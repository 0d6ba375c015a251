"""The admin SQL scripts, rendered from the models: sql/schema.sql and sql/demo_data.sql.

`flask --app auction db schema-sql` rewrites both files; run it (and
`db migration-sql`) after every model change. tests/test_schema.py fails when the
committed files differ from what this module renders now.

schema.sql is for a fresh install: `CREATE TABLE IF NOT EXISTS` for every table in
dependency order (InnoDB, utf8mb4), its indexes, and the Alembic version table
stamped at the head revision, so `flask db upgrade` later applies only newer
revisions. Running it twice does no harm.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import Column, Index, MetaData, PrimaryKeyConstraint, String, Table, literal
from sqlalchemy.dialects.mysql.mariadbconnector import MariaDBDialect_mariadbconnector
from sqlalchemy.schema import CreateIndex, CreateTable

from . import demo
from .config import PROJECT_ROOT
from .migrate import VERSION_TABLE, head
from .models import Base

SQL_DIR = PROJECT_ROOT / "sql"
SCHEMA_PATH = SQL_DIR / "schema.sql"
DEMO_PATH = SQL_DIR / "demo_data.sql"
DIALECT = MariaDBDialect_mariadbconnector()

# werkzeug's default scrypt cost (auction.accounts hashes with method="scrypt").
SCRYPT_N, SCRYPT_R, SCRYPT_P = 32768, 8, 1

# The same table Alembic creates for itself, so both install paths end up identical.
VERSION_TABLE_DDL = Table(
    VERSION_TABLE,
    MetaData(),
    Column("version_num", String(32), nullable=False),
    PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)

SCHEMA_HEADER = """\
-- The auction site's schema for MariaDB (InnoDB, utf8mb4), for a fresh install.
-- Generated from auction/models.py by `flask --app auction db schema-sql`; do not edit by hand.
--
-- Load it into an empty database (see docs/database.md):
--   mariadb -u root -p -e "CREATE DATABASE auction CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
--   mariadb -u root -p auction < sql/schema.sql
-- Running it again does no harm. It records the Alembic revision it equals ({revision}), so later
-- schema changes are applied with `flask --app auction db upgrade` or the files in sql/migrations/.
"""

DEMO_HEADER = """\
-- Demo users, wallets and auctions (the same set as `flask --app auction demo load`).
-- Generated from auction/demo.py by `flask --app auction db schema-sql`; do not edit by hand.
--
-- Load after sql/schema.sql:  mariadb -u root -p auction < sql/demo_data.sql
-- Users alice, bob, carol (seller) and admin (an admin), password for all: {password}
-- Wallet credits, written as ledger transactions (so `flask --app auction wallet audit` passes): {credit}.
-- Auctions end relative to the time of loading. Running it again adds nothing.
"""


def _statement(ddl: Any) -> str:
    lines = [line.rstrip() for line in str(ddl.compile(dialect=DIALECT)).strip().splitlines()]
    return "\n".join(lines) + ";"


def _sql_literal(value: Any) -> str:
    return str(literal(value).compile(dialect=DIALECT, compile_kwargs={"literal_binds": True}))


def render_schema_sql(metadata: MetaData = Base.metadata, revision: str | None = None) -> str:
    revision = revision or head()
    parts = [SCHEMA_HEADER.format(revision=revision) + "\nSET NAMES utf8mb4;"]
    for table in metadata.sorted_tables:
        parts.append(_statement(CreateTable(table, if_not_exists=True)))
        indexes: list[Index] = sorted(table.indexes, key=lambda index: index.name or "")
        parts.extend(_statement(CreateIndex(index, if_not_exists=True)) for index in indexes)
    parts.append(_statement(CreateTable(VERSION_TABLE_DDL, if_not_exists=True)))
    parts.append(
        f"INSERT INTO {VERSION_TABLE} (version_num) SELECT {_sql_literal(revision)} FROM DUAL\n"
        f"WHERE NOT EXISTS (SELECT 1 FROM {VERSION_TABLE});"
    )
    return "\n\n".join(parts) + "\n"


def demo_password_hash(username: str) -> str:
    """What werkzeug's generate_password_hash(method="scrypt") makes, with a fixed salt.

    A fixed salt keeps the rendered file stable; the password is public anyway.
    """
    salt = f"demo{username}salt"[:16]
    digest = hashlib.scrypt(
        demo.DEMO_PASSWORD.encode(), salt=salt.encode(), n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, maxmem=132 * 1024 * 1024
    )
    return f"scrypt:{SCRYPT_N}:{SCRYPT_R}:{SCRYPT_P}${salt}${digest.hex()}"


def _demo_user_sql(username: str, cpf: str, is_admin: bool) -> str:
    name = _sql_literal(username)
    return (
        # Demo addresses are confirmed (email_verified_at), as `demo load` makes them: the demo users can withdraw.
        "INSERT INTO users (username, email, password_hash, cpf_cnpj, is_admin, created_at, email_verified_at)\n"
        f"SELECT {name}, {_sql_literal(f'{username}@demo.example')}, {_sql_literal(demo_password_hash(username))},\n"
        f"       {_sql_literal(cpf)}, {int(is_admin)}, @now, @now FROM DUAL\n"
        f"WHERE NOT EXISTS (SELECT 1 FROM users WHERE username = {name});\n"
        "INSERT INTO wallets (user_id, kind, available, held, updated_at)\n"
        f"SELECT u.id, 'user', 0, 0, @now FROM users u WHERE u.username = {name}\n"
        "  AND NOT EXISTS (SELECT 1 FROM wallets w WHERE w.user_id = u.id);"
    )


def _demo_credit_sql(username: str, amount: int) -> str:
    """The ledger transaction wallet.credit writes: settlement -> the user's available."""
    name = _sql_literal(username)
    key = "CONCAT('demo-credit-', u.id)"
    return (
        "INSERT INTO ledger_transactions (idempotency_key, kind, reason, amount, wallet_id, created_debt, created_at)\n"
        f"SELECT {key}, 'credit', 'demo_credit', {amount}, w.id, 0, @now\n"
        f"FROM users u JOIN wallets w ON w.user_id = u.id WHERE u.username = {name}\n"
        f"  AND NOT EXISTS (SELECT 1 FROM ledger_transactions t WHERE t.idempotency_key = {key});\n"
        "INSERT INTO ledger_entries (transaction_id, wallet_id, bucket, amount)\n"
        f"SELECT t.id, s.id, 'available', -{amount}\n"
        "FROM users u JOIN ledger_transactions t ON t.idempotency_key = CONCAT('demo-credit-', u.id)\n"
        f"JOIN wallets s ON s.code = 'settlement' WHERE u.username = {name}\n"
        "  AND NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.transaction_id = t.id)\n"
        "UNION ALL\n"
        f"SELECT t.id, t.wallet_id, 'available', {amount}\n"
        "FROM users u JOIN ledger_transactions t ON t.idempotency_key = CONCAT('demo-credit-', u.id)\n"
        f"WHERE u.username = {name}\n"
        "  AND NOT EXISTS (SELECT 1 FROM ledger_entries e WHERE e.transaction_id = t.id);"
    )


def _demo_auction_sql(auction: tuple[str, str, int, int], facts: tuple[Any, ...]) -> str:
    title, description, price, minutes = auction
    quoted = _sql_literal(title)
    values = ", ".join("NULL" if value is None else _sql_literal(value) for value in facts)
    return (
        "INSERT INTO auctions (seller_id, title, description, starting_price, item_condition, delivery,\n"
        "                      shipping_cost, city, uf, starts_at, ends_at, status, created_at)\n"
        f"SELECT u.id, {quoted}, {_sql_literal(description)}, {price}, {values},\n"
        f"       @now, @now + INTERVAL {minutes} MINUTE, 'open', @now\n"
        "FROM users u WHERE u.username = 'carol'\n"
        f"  AND NOT EXISTS (SELECT 1 FROM auctions a WHERE a.seller_id = u.id AND a.title = {quoted});"
    )


def render_demo_sql() -> str:
    users = [name for name, *_ in demo.DEMO_USERS]
    credited = [(name, credit) for name, _cpf, _admin, credit in demo.DEMO_USERS if credit]
    credit_text = ", ".join(f"{name} R$ {credit / 100:.2f}" for name, credit in credited) or "none"
    parts = [
        DEMO_HEADER.format(password=demo.DEMO_PASSWORD, credit=credit_text)
        + "\nSET NAMES utf8mb4;\nSTART TRANSACTION;\n-- Times are naive UTC, like everything the app stores.\n"
        "SET @now = UTC_TIMESTAMP(6);",
        "-- The platform's settlement account: money in from payments is taken from it.\n"
        "INSERT INTO wallets (kind, code, available, held, updated_at)\n"
        "SELECT 'settlement', 'settlement', 0, 0, @now FROM DUAL\n"
        "WHERE NOT EXISTS (SELECT 1 FROM wallets WHERE code = 'settlement');",
    ]
    parts.extend(_demo_user_sql(name, cpf, is_admin) for name, cpf, is_admin, _credit in demo.DEMO_USERS)
    parts.extend(_demo_credit_sql(name, credit) for name, credit in credited)
    in_list = ", ".join(_sql_literal(name) for name in users)
    parts.append(
        "-- The users' cached balances are what their ledger entries sum to (what the wallet audit checks);\n"
        "-- the settlement account keeps no cached balance (its entries are its balance).\n"
        "UPDATE wallets w SET\n"
        "  available = (SELECT COALESCE(SUM(e.amount), 0) FROM ledger_entries e\n"
        "               WHERE e.wallet_id = w.id AND e.bucket = 'available'),\n"
        "  updated_at = @now\n"
        f"WHERE w.user_id IN (SELECT id FROM users WHERE username IN ({in_list}));"
    )
    parts.extend(map(_demo_auction_sql, demo.DEMO_AUCTIONS, demo.DEMO_FACTS))
    parts.append("COMMIT;")
    return "\n\n".join(parts) + "\n"
