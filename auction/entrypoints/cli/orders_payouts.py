"""`flask --app auction orders release-due` and `flask --app auction payouts reconcile | replay EVENT_ID`."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from ...extensions import get_asaas
from ...payouts import deliveries
from ...payouts import reconcile as transfer_reconcile
from ..jobs import run_order_release
from ..usecases import database, perform
from .payments import stored_delivery

orders_cli = AppGroup("orders", help="Orders: release the escrow of shipped orders whose release time passed.")
payouts_cli = AppGroup("payouts", help="Withdrawals: send unsent ones and read transfers not final from Asaas.")


@orders_cli.command("release-due")
def release_due() -> None:
    """Release to their sellers the shipped orders nobody confirmed or disputed in ORDER_RELEASE_DAYS."""
    click.echo(f"released {run_order_release(current_app)} order(s)")


@payouts_cli.command("reconcile")
@click.option("--older-than", default=30, show_default=True, help="only withdrawals untouched for this many seconds")
def reconcile(older_than: int) -> None:
    """Look up at Asaas every withdrawal not final (never re-sending one blindly) and apply its transfer's status."""
    changed = transfer_reconcile.reconcile(database(), get_asaas(), older_than_seconds=older_than)
    click.echo(f"{changed} withdrawal(s) changed")


@payouts_cli.command("replay")
@click.argument("event_id")
def replay(event_id: str) -> None:
    """Re-process a stored TRANSFER_* delivery by its Asaas event id (idempotent: the level decides)."""
    delivery_id = stored_delivery(event_id)
    click.echo(f"delivery {delivery_id}: {perform(deliveries.process, delivery_id, True)}")
