"""Admin commands: `flask --app auction db|user|wallet|demo ...`."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup

from . import accounts, wallet
from .db import DatabaseUnavailable
from .extensions import get_db
from .models import Base

db_cli = AppGroup("db", help="Create or migrate the database schema.")
user_cli = AppGroup("user", help="Manage users.")
wallet_cli = AppGroup("wallet", help="Wallet ledger tools.")
demo_cli = AppGroup("demo", help="Demo data for a first look.")


@db_cli.command("create")
def db_create() -> None:
    """Create every table from the models on the configured database."""
    db = get_db()
    try:
        db.check_connection()
    except DatabaseUnavailable as exc:
        raise click.ClickException(str(exc)) from exc
    Base.metadata.create_all(db.engine)
    click.echo(f"schema created on {db.dialect}")


@user_cli.command("create-admin")
@click.argument("username")
@click.option("--email", required=True)
@click.option("--cpf-cnpj", required=True)
@click.password_option()
def create_admin(username: str, email: str, cpf_cnpj: str, password: str) -> None:
    """Create an admin user (the password is asked for, never echoed)."""
    try:
        user_id = get_db().run(
            lambda s: (
                accounts.register(
                    s, username=username, email=email, password=password, cpf_cnpj=cpf_cnpj, is_admin=True
                ).id
            )
        )
    except accounts.RegistrationError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"admin {username} created (id {user_id})")


@wallet_cli.command("audit")
def wallet_audit() -> None:
    """Recompute every balance from the ledger; exit 1 on any mismatch."""
    problems = get_db().run(wallet.audit)
    for line in problems:
        click.echo(f"MISMATCH {line}")
    if problems:
        click.echo(f"{len(problems)} mismatch(es)")
        sys.exit(1)
    click.echo("ledger OK: every balance matches its entries and the ledger sums to zero")


@demo_cli.command("load")
def demo_load() -> None:
    """Load demo users and auctions (skipped if they already exist)."""
    from .demo import load_demo_data

    created = load_demo_data(get_db())
    click.echo("demo data loaded" if created else "demo data already present")


def init_app(app: Flask) -> None:
    for group in (db_cli, user_cli, wallet_cli, demo_cli):
        app.cli.add_command(group)
