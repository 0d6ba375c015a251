"""Sending the simulator's webhooks to the site, as Asaas does: POSTed, retried until answered 200.

Events are recorded (pending) by the change that causes them, in its transaction; `dispatch`
sends them after the commit. Like Asaas, 15 failed attempts in a row interrupt the queue: nothing
more is sent until the webhook is updated with `"interrupted": false` (`PUT /webhooks/{id}`), and
the events wait, pending. Once registered (`POST /webhooks`), the webhook's URL and authToken are
used. Settings: ASAAS_SIM_DELIVERY (`inline` through the Flask test client, for tests; else a
background task), ASAAS_SIM_WEBHOOK_URL, and ASAAS_SIM_CHAOS (`duplicate`: every event is sent
twice; `reorder`: each batch goes newest first) (auction/config.py).
"""

from __future__ import annotations

import logging

import requests
from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from auction import clock

from . import webhooks
from .host import database, socketio
from .models import AsaasSimEvent

log = logging.getLogger(__name__)
RETRY_DELAYS = (0.2, 0.5, 1, 2, 4, 8, 15, 30)


def _post(app: Flask, body: str, hook: dict) -> int:
    headers = {
        "asaas-access-token": hook.get("_authToken") or app.config["ASAAS_WEBHOOK_TOKEN"],
        "Content-Type": "application/json",
        "User-Agent": "Asaas-Simulator/1.0",
    }
    if app.config["ASAAS_SIM_DELIVERY"] == "inline":
        return app.test_client().post("/payment/webhook", data=body, headers=headers).status_code
    try:
        return requests.post(
            hook.get("url") or app.config["ASAAS_SIM_WEBHOOK_URL"],
            data=body.encode(),
            headers=headers,
            timeout=10,
            allow_redirects=False,
        ).status_code
    except requests.RequestException as exc:
        log.info("event=sim_webhook_unreachable error=%s", type(exc).__name__)
        return 0


def _attempt(session: Session, event_id: str) -> tuple[str, str] | None:
    row = session.scalars(select(AsaasSimEvent).where(AsaasSimEvent.event_id == event_id)).first()
    if row is None or row.status == "delivered":
        return None
    return row.event, row.body


def _outcome(session: Session, event_id: str, status: int, give_up: bool) -> None:
    row = session.scalars(select(AsaasSimEvent).where(AsaasSimEvent.event_id == event_id).with_for_update()).first()
    if row is None:
        return
    row.attempts += 1
    row.last_status = status
    if status == 200:
        row.status, row.delivered_at = "delivered", clock.now()
    elif give_up:
        row.status = "failed"


def _order(app: Flask, event_ids: list[str]) -> list[str]:
    chaos = app.config.get("ASAAS_SIM_CHAOS") or []
    ordered = list(reversed(event_ids)) if "reorder" in chaos else list(event_ids)
    return [e for e in ordered for _ in range(2)] if "duplicate" in chaos else ordered


def deliver_events(app: Flask, event_ids: list[str], delays: tuple[float, ...] = RETRY_DELAYS) -> None:
    """POST each event, retrying on anything but 200 (as Asaas does, on a shorter schedule); stop while the
    queue is interrupted."""
    with app.app_context():
        db = database(app)
        copies: set[str] = set()
        for event_id in _order(app, event_ids):
            hook = db.transaction(webhooks.webhook_state)
            if hook.get("interrupted") or hook.get("enabled") is False:
                log.info("event=sim_webhook_queue_interrupted event_id=%s", event_id)
                return
            pending = db.transaction(_attempt, event_id) if event_id not in copies else db.transaction(_body, event_id)
            copies.add(event_id)
            if pending is None:
                continue
            name, body = pending
            for attempt, delay in enumerate((0.0, *delays)):
                if delay:
                    socketio(app).sleep(delay)
                status = _post(app, body, hook)
                db.transaction(_outcome, event_id, status, attempt == len(delays))
                interrupted = db.transaction(webhooks.delivery_result, status == 200)
                log.info("event=sim_webhook_sent name=%s event_id=%s status=%s", name, event_id, status)
                if status == 200:
                    break
                if interrupted:
                    log.info("event=sim_webhook_queue_paused failures=%s", webhooks.PAUSE_AFTER_FAILURES)
                    return


def _body(session: Session, event_id: str) -> tuple[str, str] | None:
    """A duplicate copy is sent even though the first one was delivered (Asaas does redeliver)."""
    row = session.scalars(select(AsaasSimEvent).where(AsaasSimEvent.event_id == event_id)).first()
    return None if row is None else (row.event, row.body)


def dispatch(event_ids: list[str]) -> None:
    """Send after the commit: inline (tests with the Flask test client) or in a background green thread."""
    if not event_ids:
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config["ASAAS_SIM_DELIVERY"] == "inline":
        deliver_events(app, event_ids, delays=())
    else:
        socketio(app).start_background_task(deliver_events, app, event_ids)


def later(delay: float, fn, *args) -> None:  # type: ignore[no-untyped-def]
    """Run `fn(session, *args)` (a gateway change returning event ids) after `delay` seconds, then send its
    events: what Asaas does on its own later (a card's money released, a refund settled). Inline (tests):
    not at all; the test or the merchant's admin page triggers it."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config["ASAAS_SIM_DELIVERY"] == "inline":
        return

    def run() -> None:
        socketio(app).sleep(delay)
        with app.app_context():
            deliver_events(app, database(app).transaction(fn, *args))

    socketio(app).start_background_task(run)


def pending_event_ids(session: Session) -> list[str]:
    """Every event not delivered yet (the admin page's redeliver button)."""
    return list(
        session.scalars(
            select(AsaasSimEvent.event_id).where(AsaasSimEvent.status != "delivered").order_by(AsaasSimEvent.id)
        )
    )


def pending_for(session: Session, payment_id: str) -> list[str]:
    return list(
        session.scalars(
            select(AsaasSimEvent.event_id)
            .where(AsaasSimEvent.payment_id == payment_id, AsaasSimEvent.status == "pending")
            .order_by(AsaasSimEvent.id)
        )
    )
