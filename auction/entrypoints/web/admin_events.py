"""Admin pages of sale events: registrations (habilitações) waiting for approval."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from ...auctions import sale_events
from ...errors import ServiceError
from ..i18n import localize
from ..usecases import perform, read
from .auth import admin_required, signed_in_user

bp = Blueprint("admin_events", __name__, url_prefix="/admin")
log = logging.getLogger(__name__)


@bp.before_request
@admin_required
def _admins_only() -> None:
    """Admins only (403 for anyone else, login for anonymous)."""


@bp.get("/registrations")
def registrations() -> Any:
    rows = read(sale_events.pending_registrations)
    return render_template("admin/registrations.html", rows=rows)


@bp.post("/registrations/<int:registration_id>/<any(approve, reject):decision>")
def decide(registration_id: int, decision: str) -> Any:
    admin = signed_in_user()
    command = sale_events.DecideRegistration(registration_id, admin.id, approve=decision == "approve")
    try:
        perform(sale_events.decide_registration, command)
    except ServiceError as exc:
        flash(localize(exc.message), "error")
    else:
        log.info("event=event_registration_%sd registration_id=%s admin_id=%s", decision, registration_id, admin.id)
        if command.approve:
            flash(_("Registration #%(id)s approved.", id=registration_id), "success")
        else:
            flash(
                _("Registration #%(id)s rejected; its deposit is back in the bidder's wallet.", id=registration_id),
                "success",
            )
    return redirect(url_for("admin_events.registrations"), code=303)
