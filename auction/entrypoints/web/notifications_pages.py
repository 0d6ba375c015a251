"""The notifications page: the user's own notifications, newest first; mark read."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for

from ... import notifications
from ..usecases import read
from .auth import login_required, signed_in_user

bp = Blueprint("notifications_pages", __name__)


@bp.get("/notifications")
@login_required
def notifications_list() -> Any:
    user = signed_in_user()
    rows = read(notifications.list_for, user.id)
    return render_template("notifications.html", rows=rows)


@bp.post("/notifications/read")
@login_required
def mark_read() -> Any:
    """Mark one (`id`) or all of the user's notifications read; someone else's ids change nothing."""
    user = signed_in_user()
    raw = request.form.get("id")
    ids = [int(raw)] if raw and raw.isdigit() else None
    read(notifications.mark_read, user.id, ids)
    return redirect(url_for("notifications_pages.notifications_list"))
