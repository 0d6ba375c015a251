"""Web Push: subscriptions (the browser's Push API endpoint and keys) and sending one encrypted message
to one of them with VAPID (pywebpush encrypts, aes128gcm; py_vapid signs)."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from py_vapid import Vapid
from pywebpush import WebPusher
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from .. import clock
from ..errors import Invalid
from ..models import PushSubscription
from .deliveries import Subscription

log = logging.getLogger(__name__)
# A push service keeps an undelivered message this long for a browser that is offline.
TTL_SECONDS = 12 * 3600
CONTENT_ENCODING = "aes128gcm"  # RFC 8291
# A VAPID JWT is valid this long (push services refuse more than 24 h) and signed again this long before it ends.
VAPID_VALIDITY = 12 * 3600
VAPID_REFRESH = 3600


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
class PushRequest:
    """One push, encrypted and signed, ready to POST (`Pusher.prepare` makes it; `Pusher.post` sends it)."""

    subscription_id: int
    endpoint: str
    body: bytes
    headers: dict[str, str]


@dataclass
class Pusher:
    """Sends with the site's VAPID key; `subject` is the contact the push service may write to.

    The CPU of a push is in `prepare` (the payload's aes128gcm encryption, to this subscription's keys); `post`
    only writes it, over one kept-alive connection per push service. The VAPID header (an ES256-signed JWT
    naming the push service's origin) is signed once per origin and reused until VAPID_REFRESH before it
    expires, as RFC 8292 allows, instead of once per message."""

    vapid: Vapid
    subject: str
    timeout: float = 10.0
    # origin -> (the JWT's exp, the signed headers)
    _signed: dict[str, tuple[int, dict[str, str]]] = field(default_factory=dict, repr=False)
    _sessions: dict[str, requests.Session] = field(default_factory=dict, repr=False)

    def prepare(self, subscription: Subscription, payload: dict[str, Any]) -> PushRequest:
        data = json.dumps(payload, ensure_ascii=False).encode()
        body = WebPusher(subscription.info()).encode(data, CONTENT_ENCODING)["body"]
        headers = {
            "Content-Encoding": CONTENT_ENCODING,
            "TTL": str(TTL_SECONDS),
            **self.vapid_headers(_origin(subscription.endpoint)),
        }
        return PushRequest(subscription.id, subscription.endpoint, body, headers)

    def vapid_headers(self, origin: str) -> dict[str, str]:
        """The Authorization header for `origin`, signed again only when the cached one is about to expire."""
        now = int(time.time())  # the push service checks exp against the real time, not clock.now()
        found = self._signed.get(origin)
        if found is None or found[0] - now < VAPID_REFRESH:
            exp = now + VAPID_VALIDITY
            found = self._signed[origin] = (exp, self.vapid.sign({"sub": self.subject, "aud": origin, "exp": exp}))
        return found[1]

    def post(self, request: PushRequest) -> tuple[str, str | None]:
        """("sent" | "gone" | "failed", why). Gone: the push service answered 404/410, the browser
        dropped the subscription."""
        origin = _origin(request.endpoint)
        session = self._sessions.get(origin)
        if session is None:
            session = self._sessions[origin] = _session(origin)
        try:
            response = session.post(request.endpoint, data=request.body, headers=request.headers, timeout=self.timeout)
        except requests.RequestException as exc:
            # A connection that failed is not kept: the next push opens a new one.
            session.close()
            self._sessions.pop(origin, None)
            return "failed", type(exc).__name__
        if response.status_code in (404, 410):
            return "gone", f"push service answered {response.status_code}"
        if response.status_code > 202:
            return "failed", f"push service answered {response.status_code}"
        return "sent", None

    def send(self, subscription: Subscription, payload: dict[str, Any]) -> tuple[str, str | None]:
        return self.post(self.prepare(subscription, payload))


def _session(origin: str) -> requests.Session:
    """A kept-alive session to one push service. The proxy settings of the environment are read once here:
    requests reads them again on every request otherwise, which was the largest CPU cost of a push."""
    session = requests.Session()
    session.trust_env = False
    session.proxies = requests.utils.get_environ_proxies(origin)
    return session


def _origin(endpoint: str) -> str:
    url = urlsplit(endpoint)
    return f"{url.scheme}://{url.netloc}"
