"""The periodic reconciliation inside the server (every RECONCILE_INTERVAL seconds)."""

from __future__ import annotations

import logging

from flask import Flask

from ..entrypoints.jobs import periodic
from ..extensions import get_db
from . import get_client
from .levels import Applied
from .reconcile import reconcile

log = logging.getLogger(__name__)


def run_reconcile(app: Flask) -> list[Applied]:
    """One reconciliation round (each payment's socket updates go out as its unit of work commits)."""
    results = reconcile(get_db(), get_client(), credit_on=app.config["ASAAS_CREDIT_ON"])
    corrected = sum(1 for r in results if r.corrected)
    log.info("event=reconcile_round checked=%d corrected=%d", len(results), corrected)
    return results


@periodic("payments_reconcile", "RECONCILE_INTERVAL")
def reconcile_job(app: Flask) -> None:
    run_reconcile(app)
