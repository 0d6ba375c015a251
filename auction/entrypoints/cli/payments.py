"""`flask --app auction payments reconcile | reconcile-balance | replay EVENT_ID | send-test-webhook |
webhook setup|status|resume`."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import click
import requests
from flask import current_app
from flask.cli import AppGroup

from ...errors import NotFound, ServiceError
from ...extensions import get_asaas
from ...money import format_brl
from ...payments import deliveries, queries, webhook_setup
from ...payments.events import CreditPolicy
from ..jobs import run_balance_check, run_reconcile
from ..usecases import database, read

payments_cli = AppGroup("payments", help="Asaas payments: reconcile, replay deliveries, test the webhook.")
webhook_cli = AppGroup("webhook", help="Our webhook at Asaas: register it, check its queue, resume it.")
payments_cli.add_command(webhook_cli)
EXAMPLE = Path(__file__).resolve().parents[3] / "docs" / "asaas-examples" / "payment_received.json"


@payments_cli.command("reconcile")
def reconcile() -> None:
    """Fetch every non-final payment from Asaas and apply its state (for missed or paused webhooks)."""
    results = run_reconcile(current_app)
    for result in results:
        if result.corrected:
            click.echo(f"payment {result.payment_id}: {result.outcome}, wallet moved by {result.moved} cents")
    click.echo(f"checked {len(results)} payment(s)")


@payments_cli.command("reconcile-balance")
def reconcile_balance() -> None:
    """Compare the ledger with the Asaas balance and statement; list every difference (exit 1 if any)."""
    result = run_balance_check(current_app)
    click.echo(
        f"Asaas balance {format_brl(result.asaas_balance)}, ledger expects {format_brl(result.expected_balance)}; "
        f"{result.lines} statement line(s) checked"
    )
    for difference in result.differences:
        click.echo(f"  {difference.line()}")
    if not result.ok:
        raise SystemExit(1)


def stored_delivery(event_id: str) -> int:
    """The id of the stored delivery of the Asaas event `event_id` (a clear error when there is none)."""
    try:
        return read(queries.delivery_id_for_event, event_id)
    except NotFound as exc:
        raise click.ClickException(exc.message) from exc


@payments_cli.command("replay")
@click.argument("event_id")
def replay(event_id: str) -> None:
    """Re-process a stored delivery by its Asaas event id (idempotent)."""
    delivery_id = stored_delivery(event_id)
    policy = CreditPolicy.from_config(current_app.config)
    result = deliveries.reprocess_delivery(database(), delivery_id, policy=policy)
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


def webhook_url() -> str:
    return f"{current_app.config['PUBLIC_URL']}/payment/webhook"


def _show(status: webhook_setup.WebhookStatus) -> None:
    if not status.found:
        click.echo("no webhook for this site at Asaas: run `flask payments webhook setup`")
        return
    state = "interrupted (Asaas is keeping events for 14 days)" if status.interrupted else "running"
    click.echo(
        f"webhook {status.webhook_id}: {status.url}, {'enabled' if status.enabled else 'disabled'}, queue {state}, "
        f"{status.events} events, {status.send_type}"
    )


def _gateway(fn, *args, **kwargs) -> webhook_setup.WebhookStatus:  # type: ignore[no-untyped-def]
    try:
        return fn(get_asaas(), *args, **kwargs)
    except ServiceError as exc:
        raise click.ClickException(exc.message) from exc


@webhook_cli.command("setup")
def webhook_setup_command() -> None:
    """Register (or update) our webhook at Asaas: URL, authToken, the events we handle, send type."""
    config = current_app.config
    status = _gateway(
        webhook_setup.setup_webhook,
        url=webhook_url(),
        token=config["ASAAS_WEBHOOK_TOKEN"],
        email=config["ASAAS_WEBHOOK_EMAIL"],
    )
    _show(status)


@webhook_cli.command("status")
def webhook_status_command() -> None:
    """Whether Asaas's queue for our webhook is running, and how many of our deliveries failed."""
    status = _gateway(webhook_setup.webhook_status, webhook_url())
    _show(status)
    failed = read(queries.failed_delivery_count)
    click.echo(f"{failed} stored deliveries failed to process here")
    if status.found and not status.healthy:
        raise SystemExit(1)


@webhook_cli.command("resume")
def webhook_resume_command() -> None:
    """Re-enable an interrupted queue at Asaas."""
    _show(_gateway(webhook_setup.resume_webhook, webhook_url()))
