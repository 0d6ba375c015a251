"""`flask --app auction payments reconcile | replay EVENT_ID | send-test-webhook`."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import click
import requests
from flask import current_app
from flask.cli import AppGroup

from ...errors import NotFound
from ...extensions import get_asaas, get_db
from ...payments import deliveries, queries
from ..jobs import run_reconcile

payments_cli = AppGroup("payments", help="Asaas payments: reconcile, replay deliveries, test the webhook.")
EXAMPLE = Path(__file__).resolve().parents[3] / "docs" / "asaas-examples" / "payment_received.json"


@payments_cli.command("reconcile")
def reconcile() -> None:
    """Fetch every non-final payment from Asaas and apply its state (for missed or paused webhooks)."""
    results = run_reconcile(current_app)
    for result in results:
        if result.corrected:
            click.echo(f"payment {result.payment_id}: {result.outcome}, wallet moved by {result.moved} cents")
    click.echo(f"checked {len(results)} payment(s)")


@payments_cli.command("replay")
@click.argument("event_id")
def replay(event_id: str) -> None:
    """Re-process a stored delivery by its Asaas event id (idempotent)."""
    db = get_db()
    try:
        delivery_id = db.transaction(queries.delivery_id_for_event, event_id)
    except NotFound as exc:
        raise click.ClickException(exc.message) from exc
    result = deliveries.reprocess_delivery(
        db, get_asaas(), delivery_id, credit_on=current_app.config["ASAAS_CREDIT_ON"]
    )
    click.echo(f"delivery {delivery_id}: {result.outcome}, wallet moved by {result.moved} cents")


@payments_cli.command("send-test-webhook")
@click.option("--url", default=None, help="Webhook URL (default: PUBLIC_URL/payment/webhook).")
@click.option("--event", "event_name", default="PAYMENT_RECEIVED", show_default=True)
@click.option("--payment-id", default=None, help="Asaas payment id to put in the body.")
def send_test_webhook(url: str | None, event_name: str, payment_id: str | None) -> None:
    """POST a signed example event to a running site and show its answer."""
    body = json.loads(EXAMPLE.read_text())
    body["id"] = f"evt_test_{uuid.uuid4().hex}"
    body["event"] = event_name
    if payment_id:
        body["payment"]["id"] = payment_id
    target = url or f"{current_app.config['PUBLIC_URL']}/payment/webhook"
    try:
        response = requests.post(
            target,
            json=body,
            headers={"asaas-access-token": current_app.config["ASAAS_WEBHOOK_TOKEN"]},
            timeout=10,
            allow_redirects=False,
        )
    except requests.RequestException as exc:
        raise click.ClickException(f"could not reach {target}: {type(exc).__name__}") from exc
    click.echo(f"{response.status_code} {response.text.strip()[:300]}")
    if response.status_code != 200:
        raise SystemExit(1)
