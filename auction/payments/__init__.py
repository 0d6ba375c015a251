"""Asaas payments: wallet top-ups, payment links, the webhook, reconciliation and the built-in simulator.

`init_app(app)` registers the webhook and simulator blueprints, the `add_money`
socket handler, the `flask payments ...` commands and the periodic reconciliation.
"""

from __future__ import annotations

from flask import Flask, current_app

from .client import AsaasClient, client_from_config


def get_client() -> AsaasClient:
    """The Asaas client of the current app (the simulator's URL when no API key is set)."""
    return current_app.extensions["auction.asaas"]


def init_app(app: Flask) -> None:
    from . import cli, jobs, simulator, sockets, webhook  # noqa: F401 - sockets and jobs register on import

    app.extensions["auction.asaas"] = client_from_config(app.config)
    app.register_blueprint(webhook.bp)
    simulator.init_app(app)
    app.cli.add_command(cli.payments_cli)
