"""Alert preferences (the account's alerts section), Web Push subscriptions, the one-click unsubscribe
link of every alert e-mail (RFC 8058), the service worker, and the admins' view of dead deliveries."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...alerts import preferences, push
from ...alerts.catalogue import BY_KEY, KINDS, Channel
from ...config import PROJECT_ROOT
from ...errors import Invalid
from ...extensions import csrf
from ...models import AlertDelivery
from .. import alerts, i18n
from ..usecases import read
from .auth import admin_required, login_required, signed_in_user

bp = Blueprint("alerts_pages", __name__)
log = logging.getLogger(__name__)
SERVICE_WORKER = PROJECT_ROOT / "static" / "js" / "sw.js"


@bp.get("/account/alerts")
@login_required
def preferences_page() -> Any:
    user = signed_in_user()
    prefs, devices = read(lambda s: (preferences.of(s, user.id), push.count(s, user.id)))
    return render_template(
        "alerts/preferences.html",
        grid=prefs.grid(),
        while_watching=prefs.while_watching,
        devices=devices,
        channels=list(Channel),
        channel_labels=alerts.CHANNEL_LABELS,
        label=alerts.label,
        vapid_key=alerts.vapid_public_key(),
    )


@bp.post("/account/alerts")
@login_required
def save_preferences() -> Any:
    user = signed_in_user()
    choices = {
        (kind.key, channel.value): request.form.get(f"{kind.key}:{channel.value}") == "on"
        for kind in KINDS
        if not kind.always_on
        for channel in Channel
    }
    read(
        preferences.save,
        user.id,
        choices,
        locale=i18n.language(),
        while_watching=request.form.get("while_watching") == "on",
    )
    flash(_("Your alert preferences are saved."), "success")
    return redirect(url_for("alerts_pages.preferences_page"))


@bp.post("/account/alerts/push")
@login_required
def subscribe_push() -> Any:
    """The page's script sends the browser's PushSubscription (JSON) after the user turned push on."""
    user = signed_in_user()
    body = request.get_json(silent=True) or {}
    keys = body.get("keys") if isinstance(body.get("keys"), dict) else {}
    try:
        sub_id = read(
            _subscribe,
            user.id,
            str(body.get("endpoint") or ""),
            str(keys.get("p256dh") or ""),
            str(keys.get("auth") or ""),
        )
    except Invalid as exc:
        return jsonify(ok=False, error="invalid", message=i18n.localize(str(exc))), 400
    log.info("event=push_subscribed user_id=%s subscription_id=%s", user.id, sub_id)
    return jsonify(ok=True, id=sub_id), 201


def _subscribe(session: Session, user_id: int, endpoint: str, p256dh: str, auth: str) -> int:
    sub_id = push.subscribe(session, user_id, endpoint, p256dh, auth)
    preferences.remember_locale(session, user_id, i18n.language())
    return sub_id


@bp.post("/account/alerts/push/remove")
@login_required
def unsubscribe_push() -> Any:
    user = signed_in_user()
    body = request.get_json(silent=True) or {}
    removed = read(push.unsubscribe, user.id, str(body.get("endpoint") or ""))
    return jsonify(ok=True, removed=removed)


@bp.get("/sw.js")
def service_worker() -> Any:
    """Served from the root so its scope is the whole site (a worker controls only pages under its path)."""
    response = send_file(SERVICE_WORKER, mimetype="text/javascript", max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/alerts/unsubscribe/<token>")
def unsubscribe_page(token: str) -> Any:
    """A link opened in a browser asks before changing anything (link scanners open every link)."""
    found = alerts.read_unsubscribe_token(token)
    if found is None:
        return _bad_token()
    return render_template("alerts/unsubscribe.html", token=token, kind_label=alerts.label(found[1]), done=False)


@bp.post("/alerts/unsubscribe/<token>")
@csrf.exempt  # RFC 8058: the mail client POSTs `List-Unsubscribe=One-Click` with no cookie and no form token
def unsubscribe(token: str) -> Any:
    found = alerts.read_unsubscribe_token(token)
    if found is None:
        return _bad_token()
    user_id, kind_key = found
    if BY_KEY[kind_key].always_on:
        return render_template("alerts/unsubscribe.html", kind_label=alerts.label(kind_key), always_on=True), 409
    read(preferences.save, user_id, {(kind_key, Channel.EMAIL.value): False})
    log.info("event=alert_unsubscribed user_id=%s kind=%s channel=email", user_id, kind_key)
    if request.form.get("List-Unsubscribe") == "One-Click":
        return _("You will no longer receive these e-mails."), 200, {"Content-Type": "text/plain; charset=utf-8"}
    return render_template("alerts/unsubscribe.html", kind_label=alerts.label(kind_key), done=True)


def _bad_token() -> Any:
    message = _("This unsubscribe link is not valid. Change your alerts on your account's alerts page.")
    return render_template("error.html", title=_("Link not valid"), message=message, status=400), 400


@bp.get("/admin/alerts")
@admin_required
def admin_alerts() -> Any:
    """Counts per status and channel, and the deliveries that gave up (dead), newest first."""

    def counts_and_dead(session: Session) -> tuple[list[Any], list[AlertDelivery]]:
        counts = session.execute(
            select(AlertDelivery.status, AlertDelivery.channel, func.count())
            .group_by(AlertDelivery.status, AlertDelivery.channel)
            .order_by(AlertDelivery.status, AlertDelivery.channel)
        ).all()
        dead = session.scalars(
            select(AlertDelivery).where(AlertDelivery.status == "dead").order_by(AlertDelivery.id.desc()).limit(200)
        ).all()
        return list(counts), list(dead)

    counts, dead = read(counts_and_dead)
    return render_template(
        "admin/alerts.html", counts=counts, dead=dead, max_attempts=current_app.config["ALERT_MAX_ATTEMPTS"]
    )
