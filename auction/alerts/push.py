"""Web Push: subscriptions (the browser's Push API endpoint and keys) and sending one encrypted message
to one of them with VAPID (pywebpush signs and encrypts, aes128gcm)."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any

import requests
from py_vapid import Vapid
from pywebpush import WebPushException, webpush
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from .. import clock
from ..errors import Invalid
from ..models import PushSubscription
from .deliveries import Subscription

log = logging.getLogger(__name__)
# A push service keeps an undelivered message this long for a browser that is offline.
TTL_SECONDS = 12 * 3600


def _hash(endpoint: str) -> str:
    return hashlib.sha256(endpoint.encode()).hexdigest()


def subscribe(session: Session, user_id: int, endpoint: str, p256dh: str, auth: str) -> int:
    """Store (or move to this user) the browser's subscription; returns its id."""
    if not endpoint.startswith(("https://", "http://")) or len(endpoint) > 2000:
        raise Invalid("the push endpoint must be an http(s) URL")
    if not p256dh or not auth or len(p256dh) > 200 or len(auth) > 64:
        raise Invalid("the push subscription's keys are missing")
    key = _hash(endpoint)
    row = session.scalar(select(PushSubscription).where(PushSubscription.endpoint_hash == key))
    if row is None:
        row = PushSubscription(endpoint_hash=key, endpoint=endpoint, created_at=clock.now())
        session.add(row)
    row.user_id, row.p256dh, row.auth = user_id, p256dh, auth
    session.flush()
    return row.id


def unsubscribe(session: Session, user_id: int, endpoint: str) -> bool:
    result = session.execute(
        delete(PushSubscription).where(
            PushSubscription.endpoint_hash == _hash(endpoint), PushSubscription.user_id == user_id
        )
    )
    return bool(result.rowcount)


def count(session: Session, user_id: int) -> int:
    return len(list(session.scalars(select(PushSubscription.id).where(PushSubscription.user_id == user_id))))


@dataclass(frozen=True)
class Pusher:
    """Sends with the site's VAPID key; `subject` is the contact the push service may write to."""

    vapid: Vapid
    subject: str
    timeout: float = 10.0

    def send(self, subscription: Subscription, payload: dict[str, Any]) -> tuple[str, str | None]:
        """("sent" | "gone" | "failed", why). Gone: the push service answered 404/410, the browser
        dropped the subscription."""
        try:
            webpush(
                subscription.info(),
                data=json.dumps(payload, ensure_ascii=False),
                vapid_private_key=self.vapid,
                vapid_claims={"sub": self.subject},  # a fresh dict: webpush writes aud and exp into it
                timeout=self.timeout,
                ttl=TTL_SECONDS,
            )
        except WebPushException as exc:
            status = exc.response.status_code if exc.response is not None else None
            if status in (404, 410):
                return "gone", f"push service answered {status}"
            return "failed", f"push service answered {status}" if status else type(exc).__name__
        except requests.RequestException as exc:
            return "failed", type(exc).__name__
        return "sent", None
