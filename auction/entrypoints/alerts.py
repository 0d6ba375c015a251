"""Alerts away from the page: the jobs process's round that plans and sends them (e-mail and Web Push),
their words in the reader's language, and the signed one-click unsubscribe token.

The round (every ALERTS_INTERVAL seconds, where the scheduler runs): plan the pending notifications into
deliveries (auction.alerts.dispatch), read the due ones, send each outside any transaction, record the
outcomes (auction.alerts.deliveries). Nothing here runs on a bid's path: the bid's transaction only stored
its notifications.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Flask, current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from py_vapid import Vapid, b64urlencode

from .. import runtime
from ..alerts import catalogue, deliveries, dispatch
from ..alerts.catalogue import Channel
from ..alerts.deliveries import DueAlert, Outcome
from ..alerts.push import Pusher, PushRequest
from ..mail import queue_mail
from ..uow import UnitOfWork
from . import i18n
from .jobs import mail_transport, periodic, run_mail_round
from .usecases import perform, read

log = logging.getLogger(__name__)

# Per alert kind: the preferences page's label and the alert's title (the e-mail's subject, the push's title).
TEXTS: dict[str, tuple[Any, Any]] = {
    "outbid": (_l("Outbid on an auction"), _l("You were outbid")),
    "max_reached": (_l("Your maximum was reached"), _l("Your maximum bid was reached")),
    "ending_soon": (_l("Ending soon (auctions you bid on or watch)"), _l("An auction ends soon")),
    "won": (_l("You won"), _l("You won!")),
    "auction_ended": (_l("Your auction ended (sold or unsold)"), _l("Your auction ended")),
    "order": (
        _l("Order steps (address, shipping, receipt, disputes, release)"),
        _l("News about your order"),
    ),
    "second_chance": (_l("Second-chance offers (made to you, or answered)"), _l("A second chance")),
    "top_up": (_l("Top-up credited"), _l("Money added to your wallet")),
    "withdrawal": (_l("Withdrawal done or failed"), _l("News about your withdrawal")),
    "security": (_l("Security notices (always on)"), _l("Security notice")),
}
CHANNEL_LABELS = {Channel.EMAIL: _l("E-mail"), Channel.PUSH: _l("Push")}
_UNSUBSCRIBE_SALT = "alerts-unsubscribe"
_MAIL_PAUSED_UNTIL = "auction.alerts_mail_paused_until"


def label(kind_key: str) -> str:
    return str(TEXTS[kind_key][0])


# -- the one-click unsubscribe token ----------------------------------------------------------------
# Signed, not expiring: an unsubscribe link must work in a message read months later (RFC 8058). It names
# one user and one alert kind, so it can only turn that kind's e-mail off.


def _serializer(app: Flask | None = None) -> URLSafeSerializer:
    return URLSafeSerializer((app or current_app).config["SECRET_KEY"], salt=_UNSUBSCRIBE_SALT)


def unsubscribe_token(user_id: int, kind_key: str, app: Flask | None = None) -> str:
    return _serializer(app).dumps([user_id, kind_key])


def read_unsubscribe_token(token: str) -> tuple[int, str] | None:
    try:
        user_id, kind_key = _serializer().loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    if not isinstance(user_id, int) or kind_key not in catalogue.BY_KEY:
        return None
    return user_id, kind_key


# -- VAPID ------------------------------------------------------------------------------------------


def vapid(app: Flask | None = None) -> Vapid | None:
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    found = app.extensions.get("auction.vapid")
    if found is None and app.config.get("VAPID_PRIVATE_KEY"):
        found = app.extensions["auction.vapid"] = Vapid.from_pem(app.config["VAPID_PRIVATE_KEY"].encode())
    return found


def vapid_public_key() -> str | None:
    """The applicationServerKey a page subscribes with (base64url of the uncompressed P-256 point)."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    key = vapid()
    if key is None:
        return None
    return b64urlencode(key.public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint))


# -- the round ---------------------------------------------------------------------------------------

# Whether a user's socket is in an auction's room right now (sockets/presence.py binds it in create_app).
WatchingLive = Callable[[int, int], bool]


def _never_watching(user_id: int, auction_id: int) -> bool:
    return False


def run_alerts(app: Flask, watching_live: WatchingLive | None = None) -> int:
    """One round; returns how many deliveries it settled (sent, skipped or failed).

    A round with nothing to do reads one row (`deliveries.work`). The CPU of the messages (their words,
    the push encryption) runs through the runtime's offload, off the hub that serves the bids where the
    round shares a process with them (`./dev serve`); only the pushes' writes (green I/O) stay on it."""
    notes, due_now = read(deliveries.work)
    if not (notes or due_now):
        return 0
    pusher = _pusher(app)
    if notes:
        window = timedelta(seconds=app.config["ALERT_OUTBID_WINDOW"])
        perform(dispatch.dispatch, dispatch.DispatchAlerts(window=window, push=pusher is not None))
    due = read(deliveries.due)
    if not due:
        return 0
    watching = watching_live or app.extensions.get("auction.watching_live") or _never_watching
    skipped = {alert.id: outcome for alert in due if (outcome := _skip(alert, watching)) is not None}
    to_send = [alert for alert in due if alert.id not in skipped]
    prepared = runtime.current().offload(_prepare_all, app, to_send, pusher) if to_send else []
    outcomes = list(skipped.values()) + [_post(item, pusher) for item in prepared]
    perform(deliveries.record, outcomes, app.config["ALERT_MAX_ATTEMPTS"])
    if any(outcome.mail is not None for outcome in outcomes):
        _send_mail_now(app)
    return len(outcomes)


def _send_mail_now(app: Flask) -> None:
    """The e-mails a round queued go at its end, not up to MAIL_SEND_INTERVAL (5 s) later: an outbid alert is
    only worth its speed. The outbox's claim lets the mail job's own round run beside this one. After a failed
    try the mail job alone retries for MAIL_RETRY_SECONDS, so a silent mail server (a timeout per try) does not
    hold every alerts round, and the pushes behind it, that long."""
    paused_until = app.extensions.get(_MAIL_PAUSED_UNTIL, 0.0)
    if mail_transport(app.config) is None or time.monotonic() < paused_until:
        return
    outcome = run_mail_round(app)
    if outcome.failed or outcome.dead:
        app.extensions[_MAIL_PAUSED_UNTIL] = time.monotonic() + app.config["MAIL_RETRY_SECONDS"]


@periodic("alerts", "ALERTS_INTERVAL")
def alerts_job(app: Flask) -> None:
    run_alerts(app)


def _pusher(app: Flask) -> Pusher | None:
    """The app's one Pusher (it keeps the signed VAPID headers and the push services' connections)."""
    found = app.extensions.get("auction.pusher")
    if found is None and (key := vapid(app)) is not None:
        found = app.extensions["auction.pusher"] = Pusher(key, app.config["VAPID_SUBJECT"])
    return found


def _skip(alert: DueAlert, watching: WatchingLive) -> Outcome | None:
    """Why the alert is not sent after all, decided before any of its words are written."""
    if alert.stale:
        return Outcome(alert.id, dispatch.SKIPPED, alert.stale)
    if alert.auction_id is not None and not alert.while_watching and watching(alert.user_id, alert.auction_id):
        return Outcome(alert.id, dispatch.SKIPPED, "watching_live")
    if catalogue.alert_kind(alert.kind) is None:
        return Outcome(alert.id, dispatch.SKIPPED, "not_an_alert")
    return None


@dataclass(frozen=True)
class _Pushes:
    """A push alert, encrypted for each of its user's subscriptions, waiting to be written."""

    alert: DueAlert
    requests: tuple[PushRequest, ...]


def _prepare_all(app: Flask, alerts: list[DueAlert], pusher: Pusher | None) -> list[Outcome | _Pushes]:
    """The words of each alert and, for a push, its encryption: the round's CPU (an offloaded thread)."""
    with app.app_context():
        return [_prepare(app, alert, pusher) for alert in alerts]


def _prepare(app: Flask, alert: DueAlert, pusher: Pusher | None) -> Outcome | _Pushes:
    kind = catalogue.alert_kind(alert.kind)
    assert kind is not None  # _skip let only alert kinds through
    title, body = render(alert.locale, kind.key, alert.message)
    if alert.channel != Channel.PUSH:
        return _email(app, alert, kind.key, title, body)
    if pusher is None:
        return Outcome(alert.id, dispatch.SKIPPED, "push_not_configured")
    if not alert.subscriptions:
        return Outcome(alert.id, dispatch.SKIPPED, "no_subscription")
    payload = {"title": title, "body": body, "url": absolute(app, alert.path), "tag": _tag(alert)}
    return _Pushes(alert, tuple(pusher.prepare(sub, payload) for sub in alert.subscriptions))


def render(locale: str, kind_key: str, message: str) -> tuple[str, str]:
    """The alert's title and text in the reader's language."""
    with force_locale(locale):
        return str(TEXTS[kind_key][1]), i18n.localize(message)


def absolute(app: Flask, path: str) -> str:
    return f"{app.config['PUBLIC_URL']}{path}"


def _tag(alert: DueAlert) -> str:
    """A device shows one notification per tag: a newer outbid on the same auction replaces the older."""
    return f"{alert.kind}:{alert.auction_id}" if alert.auction_id is not None else f"{alert.kind}:{alert.id}"


def _post(item: Outcome | _Pushes, pusher: Pusher | None) -> Outcome:
    """Write a prepared push to its push services (an e-mail alert is already its outcome)."""
    if isinstance(item, Outcome):
        return item
    assert pusher is not None
    alert = item.alert
    results = [(request.subscription_id, *pusher.post(request)) for request in item.requests]
    gone = tuple(sub_id for sub_id, result, _why in results if result == "gone")
    failed = [why for _sub_id, result, why in results if result == "failed"]
    if any(result == "sent" for _sub_id, result, _why in results):
        return Outcome(alert.id, dispatch.SENT, "; ".join(w for w in failed if w) or None, gone=gone)
    if failed:
        return Outcome(alert.id, "failed", "; ".join(w for w in failed if w), gone=gone)
    return Outcome(alert.id, dispatch.SKIPPED, "subscriptions_gone", gone=gone)


def _email(app: Flask, alert: DueAlert, kind_key: str, title: str, body: str) -> Outcome:
    if not alert.email:
        return Outcome(alert.id, dispatch.SKIPPED, "email_not_verified")
    unsubscribe = f"/alerts/unsubscribe/{unsubscribe_token(alert.user_id, kind_key, app)}"
    context = {
        "title": title,
        "body": body,
        "link": alert.path,
        "preferences": "/account/alerts",
        "unsubscribe": unsubscribe,
        "kind_label": _kind_label(alert.locale, kind_key),
    }
    # RFC 8058: a mail client's one-click unsubscribe POSTs `List-Unsubscribe=One-Click` to this address.
    headers = {
        "List-Unsubscribe": f"<{absolute(app, unsubscribe)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }

    def queue(uow: UnitOfWork) -> None:
        queue_mail(
            uow,
            to=alert.email,
            template="alert",
            locale=alert.locale,
            context=context,
            user_id=alert.user_id,
            headers=headers,
        )

    return Outcome(alert.id, dispatch.SENT, mail=queue)


def _kind_label(locale: str, kind_key: str) -> str:
    with force_locale(locale):
        return label(kind_key)


def bind(app: Flask, watching_live: WatchingLive) -> None:
    """create_app's wiring: how the round asks whether a user watches an auction live."""
    app.extensions["auction.watching_live"] = watching_live
