"""Our webhook at Asaas: registered (or updated) through the API, its queue's health read back, resumed.

`flask payments webhook setup|status|resume` and the admin payments page use these. Asaas pauses a
webhook's queue (`interrupted: true`) after 15 failed deliveries in a row and keeps the queued events for
14 days only, so the admin page shows it and offers to resume it (`"interrupted": false`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from .client import AsaasClient, AsaasError
from .errors import PaymentGatewayError
from .events import EVENTS

log = logging.getLogger(__name__)

WEBHOOK_NAME = "leilao"
# What we handle: every PAYMENT_* event; transfers are stored too (their processor is registered elsewhere).
TRANSFER_EVENTS = (
    "TRANSFER_CREATED",
    "TRANSFER_PENDING",
    "TRANSFER_IN_BANK_PROCESSING",
    "TRANSFER_BLOCKED",
    "TRANSFER_DONE",
    "TRANSFER_FAILED",
    "TRANSFER_CANCELLED",
)
HANDLED_EVENTS = (*EVENTS, *TRANSFER_EVENTS)


@dataclass(frozen=True)
class WebhookStatus:
    found: bool
    webhook_id: str | None = None
    url: str | None = None
    enabled: bool = False
    interrupted: bool = False
    send_type: str | None = None
    events: int = 0

    @property
    def healthy(self) -> bool:
        return self.found and self.enabled and not self.interrupted


def _ours(client: AsaasClient, url: str) -> dict[str, Any] | None:
    hooks = client.list_webhooks()
    return next((h for h in hooks if h.get("url") == url), None) or next(
        (h for h in hooks if h.get("name") == WEBHOOK_NAME), None
    )


def _status(hook: dict[str, Any] | None) -> WebhookStatus:
    if hook is None:
        return WebhookStatus(found=False)
    return WebhookStatus(
        found=True,
        webhook_id=str(hook.get("id")),
        url=hook.get("url"),
        enabled=bool(hook.get("enabled")),
        interrupted=bool(hook.get("interrupted")),
        send_type=hook.get("sendType"),
        events=len(hook.get("events") or []),
    )


def webhook_status(client: AsaasClient, url: str) -> WebhookStatus:
    try:
        return _status(_ours(client, url))
    except AsaasError as exc:
        raise PaymentGatewayError(f"could not read the webhook from Asaas: {exc}") from exc


def setup_webhook(client: AsaasClient, *, url: str, token: str, email: str | None) -> WebhookStatus:
    """Register our webhook at Asaas, or update it if one with our URL or name exists (idempotent)."""
    body: dict[str, Any] = {
        "name": WEBHOOK_NAME,
        "url": url,
        "authToken": token,
        "enabled": True,
        "interrupted": False,
        # Order is never relied on (payments/events.py merges facts), so one failing event need not block others.
        "sendType": "NON_SEQUENTIALLY",
        "events": list(HANDLED_EVENTS),
    }
    if email:
        body["email"] = email
    try:
        hook = _ours(client, url)
        saved = client.update_webhook(str(hook["id"]), body) if hook else client.create_webhook(body)
    except AsaasError as exc:
        raise PaymentGatewayError(f"could not set up the webhook at Asaas: {exc}") from exc
    log.info("event=webhook_setup url=%s created=%s", url, hook is None)
    return _status(saved)


def resume_webhook(client: AsaasClient, url: str) -> WebhookStatus:
    """Re-enable an interrupted queue: Asaas sends what it kept (up to 14 days of events)."""
    try:
        hook = _ours(client, url)
        if hook is None:
            return WebhookStatus(found=False)
        saved = client.update_webhook(str(hook["id"]), {"interrupted": False, "enabled": True})
    except AsaasError as exc:
        raise PaymentGatewayError(f"could not resume the webhook at Asaas: {exc}") from exc
    log.info("event=webhook_resumed url=%s", url)
    return _status(saved)
