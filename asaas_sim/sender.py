"""Sending the simulator's webhooks to the site, as Asaas does: POSTed in order, retried until answered 200.

Events are recorded (pending) by the change that causes them, in its transaction; `dispatch`
sends them after the commit. Settings: ASAAS_SIM_DELIVERY (`inline` through the Flask test
client, for tests; else a background task) and ASAAS_SIM_WEBHOOK_URL (auction/config.py).
"""

from __future__ import annotations

import logging

import requests
from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from auction import clock

from .host import database, socketio
from .models import AsaasSimEvent

log = logging.getLogger(__name__)
RETRY_DELAYS = (0.2, 0.5, 1, 2, 4, 8, 15, 30)


def _post(app: Flask, body: str) -> int:
    headers = {
        "asaas-access-token": app.config["ASAAS_WEBHOOK_TOKEN"],
        "Content-Type": "application/json",
        "User-Agent": "Asaas-Simulator/1.0",
    }
    if app.config["ASAAS_SIM_DELIVERY"] == "inline":
        return app.test_client().post("/payment/webhook", data=body, headers=headers).status_code
    try:
        return requests.post(
            app.config["ASAAS_SIM_WEBHOOK_URL"], data=body.encode(), headers=headers, timeout=10, allow_redirects=False
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


def deliver_events(app: Flask, event_ids: list[str], delays: tuple[float, ...] = RETRY_DELAYS) -> None:
    """POST each event in order, retrying on anything but 200 (as Asaas does, on a shorter schedule)."""
    with app.app_context():
        db = database(app)
        for event_id in event_ids:
            pending = db.transaction(_attempt, event_id)
            if pending is None:
                continue
            name, body = pending
            for attempt, delay in enumerate((0.0, *delays)):
                if delay:
                    socketio(app).sleep(delay)
                status = _post(app, body)
                db.transaction(_outcome, event_id, status, attempt == len(delays))
                log.info("event=sim_webhook_sent name=%s event_id=%s status=%s", name, event_id, status)
                if status == 200:
                    break


def dispatch(event_ids: list[str]) -> None:
    """Send after the commit: inline (tests with the Flask test client) or in a background green thread."""
    if not event_ids:
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if app.config["ASAAS_SIM_DELIVERY"] == "inline":
        deliver_events(app, event_ids, delays=())
    else:
        socketio(app).start_background_task(deliver_events, app, event_ids)


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
