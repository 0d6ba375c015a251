"""Admin commands: `flask --app auction db|user|wallet|demo ...`."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click
from flask.cli import AppGroup

from ... import accounts, wallet
from ...db import DatabaseUnavailable
from ..usecases import database, read

db_cli = AppGroup("db", help="Create or migrate the database schema.")
user_cli = AppGroup("user", help="Manage users.")
wallet_cli = AppGroup("wallet", help="Wallet ledger tools.")
demo_cli = AppGroup("demo", help="Demo data for a first look.")


@db_cli.command("create")
def db_create() -> None:
    """Create every table from the models on the configured database."""
    db = database()
    try:
        db.check_connection()
    except DatabaseUnavailable as exc:
        raise click.ClickException(str(exc)) from exc
    from ...migrate import create_schema

    create_schema(db.engine)
    click.echo(f"schema created on {db.dialect}")


def _database_url() -> str:
    return database().url.render_as_string(hide_password=False)


def _migrate(action: Callable[[], object], done: str) -> None:
    from alembic.util import CommandError
    from sqlalchemy.exc import DBAPIError

    from ...migrate import MigrationError

    try:
        database().check_connection()
        action()
    except (DatabaseUnavailable, MigrationError, CommandError) as exc:
        raise click.ClickException(str(exc)) from exc
    except DBAPIError as exc:  # e.g. the user lacks a privilege: say what the server said, not a traceback
        raise click.ClickException(str(exc.orig).splitlines()[0]) from exc
    click.echo(done)


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply the Alembic migrations up to REVISION (default: the newest)."""
    from ... import migrate

    _migrate(lambda: migrate.upgrade(_database_url(), revision), f"database upgraded to {revision}")


@db_cli.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Undo migrations down to REVISION (e.g. -1, or base for an empty database)."""
    from ... import migrate

    _migrate(lambda: migrate.downgrade(_database_url(), revision), f"database downgraded to {revision}")


@db_cli.command("stamp")
@click.argument("revision", default="head")
def db_stamp(revision: str) -> None:
    """Record REVISION as applied without running anything (for a schema made another way)."""
    from ... import migrate

    _migrate(lambda: migrate.stamp(_database_url(), revision), f"database stamped at {revision}")


@db_cli.command("current")
def db_current() -> None:
    """Show the Alembic revision the database is at."""
    from ... import migrate

    click.echo(migrate.current_revision(database().engine) or "none (not under Alembic)")


@db_cli.command("check")
def db_check() -> None:
    """Exit 1 if the models differ from the database at its revision (a migration is missing)."""
    from ... import migrate

    _migrate(lambda: migrate.check(_database_url()), "no changes: the models equal the newest migration")


@db_cli.command("revision")
@click.option("-m", "--message", required=True, help="What the change does (becomes the file name).")
@click.option("--autogenerate/--empty", default=True, help="Diff the models against the configured database.")
def db_revision(message: str, autogenerate: bool) -> None:
    """Write the next numbered migration; review it, then run `db upgrade` and `db migration-sql`."""
    from ... import migrate

    _migrate(lambda: click.echo(migrate.new_revision(_database_url(), message, autogenerate).path), "revision written")


def _write_or_check(rendered: dict[Path, str], check: bool) -> None:
    stale = [path for path, text in rendered.items() if not path.exists() or path.read_text() != text]
    if check:
        for path in stale:
            click.echo(f"out of date: {path}")
        if stale:
            sys.exit(1)
        click.echo("up to date")
        return
    for path, text in rendered.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        click.echo(f"wrote {path}")


@db_cli.command("schema-sql")
@click.option("--check", is_flag=True, help="Only report whether sql/schema.sql and sql/demo_data.sql are current.")
def db_schema_sql(check: bool) -> None:
    """Regenerate sql/schema.sql and sql/demo_data.sql from the models and auction/demo.py."""
    from ... import schema_sql

    rendered = {
        schema_sql.SCHEMA_PATH: schema_sql.render_schema_sql(),
        schema_sql.DEMO_PATH: schema_sql.render_demo_sql(),
    }
    _write_or_check(rendered, check)


@db_cli.command("migration-sql")
@click.option("--check", is_flag=True, help="Only report whether sql/migrations/*.sql are current.")
def db_migration_sql(check: bool) -> None:
    """Regenerate sql/migrations/<rev>_<slug>.sql (MariaDB SQL) from every Alembic revision."""
    from ... import migrate

    rendered = migrate.render_all_migration_sql()
    _write_or_check({item.path: item.sql for item in rendered}, check)
    if not check:
        keep = {item.path for item in rendered}
        for stale in migrate.SQL_MIGRATIONS_DIR.glob("*.sql"):
            if stale not in keep:
                stale.unlink()
                click.echo(f"removed {stale}")


@user_cli.command("create-admin")
@click.argument("username")
@click.option("--email", required=True)
@click.option("--cpf-cnpj", required=True)
@click.password_option()
def create_admin(username: str, email: str, cpf_cnpj: str, password: str) -> None:
    """Create an admin user (the password is asked for, never echoed)."""
    try:
        user_id = read(
            lambda s: (
                accounts.register(
                    s,
                    username=username,
                    email=email,
                    password=password,
                    cpf_cnpj=cpf_cnpj,
                    is_admin=True,
                    verified=True,  # the operator gives their own address
                ).id
            )
        )
    except accounts.RegistrationError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"admin {username} created (id {user_id})")


@wallet_cli.command("audit")
def wallet_audit() -> None:
    """Recompute every balance from the ledger; exit 1 on any mismatch."""
    problems = read(wallet.audit)
    for line in problems:
        click.echo(f"MISMATCH {line}")
    if problems:
        click.echo(f"{len(problems)} mismatch(es)")
        sys.exit(1)
    click.echo("ledger OK: every balance matches its entries and the ledger sums to zero")


@demo_cli.command("load")
def demo_load() -> None:
    """Load demo users and auctions (skipped if they already exist)."""
    from ...demo import load_demo_data

    created = load_demo_data(database())
    click.echo("demo data loaded" if created else "demo data already present")
