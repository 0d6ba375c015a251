"""Admin commands: `flask --app auction db|user|wallet|demo|payments|orders|payouts ...` (README lists them)."""

from __future__ import annotations

from flask import Flask

from .orders_payouts import orders_cli, payouts_cli
from .payments import payments_cli
from .site import db_cli, demo_cli, user_cli, wallet_cli


def init_app(app: Flask) -> None:
    for group in (db_cli, user_cli, wallet_cli, demo_cli, payments_cli, orders_cli, payouts_cli):
        app.cli.add_command(group)
