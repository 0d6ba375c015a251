"""Asaas payments: wallet top-ups, payment links, the webhook, reconciliation and the built-in simulator.

`init_app(app)` registers the webhook and simulator blueprints, the `add_money`
socket handler, the `flask payments ...` commands and the periodic reconciliation.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app

from .client import AsaasClient, client_from_config

log = logging.getLogger(__name__)


def get_client() -> AsaasClient:
    """The Asaas client of the current app (the simulator's URL when no API key is set)."""
    return current_app.extensions["auction.asaas"]


def init_app(app: Flask) -> None:
    from . import cli, jobs, simulator, sockets, webhook  # noqa: F401 - sockets and jobs register on import

    app.extensions["auction.asaas"] = client_from_config(app.config)
    app.register_blueprint(webhook.bp)
    # The simulator lets anyone "pay", so it exists only as the development default: never next to a
    # real Asaas key, and never in production (where a missing key leaves top-ups failing, loudly).
    if app.config["ASAAS_SIMULATOR"] and not app.config["PRODUCTION"]:
        simulator.init_app(app)
    elif app.config["ASAAS_SIMULATOR"]:
        log.error("event=payments_disabled reason=no_ASAAS_API_KEY_in_production")
    app.cli.add_command(cli.payments_cli)
