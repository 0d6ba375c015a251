"""Asaas payments: wallet top-ups, payment links, the webhook and reconciliation.

`init_app(app)` registers the webhook blueprint, the `add_money` socket handler, the
`flask payments ...` commands and the periodic reconciliation. Without an ASAAS_API_KEY the
client talks to the development simulator (asaas_sim/, mounted by create_app).
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
    from . import cli, jobs, sockets, webhook  # noqa: F401 - sockets and jobs register on import

    app.extensions["auction.asaas"] = client_from_config(app.config)
    app.register_blueprint(webhook.bp)
    if app.config["PRODUCTION"] and not app.config["ASAAS_API_KEY"]:
        log.error("event=payments_disabled reason=no_ASAAS_API_KEY_in_production")
    app.cli.add_command(cli.payments_cli)
