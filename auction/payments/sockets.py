"""Socket.IO `add_money`: start a top-up and answer with the checkout URL.

Client sends `add_money` with `{"amount": <centavos>}`; the ack is
`{"ok": true, "payment_id": n, "payment_url": "..."}` or an error ack
(`not_logged_in`, `rate_limited`, `invalid`, `payment_unavailable`, `unavailable`).
The balance changes later, when the payment's webhook arrives (`wallet` event).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app, request

from ..db import DatabaseUnavailable
from ..entrypoints.sockets.acks import error_ack
from ..entrypoints.sockets.connection import client_ip, rate_limited
from ..entrypoints.sockets.connection import verified_user as verified_socket_user
from ..errors import ServiceError
from ..extensions import get_db, socketio
from . import get_client, topups

log = logging.getLogger(__name__)


@socketio.on("add_money")
def on_add_money(data: Any = None) -> dict[str, Any]:
    user = verified_socket_user()
    if user is None:
        return error_ack("not_logged_in", "log in to add money")
    if rate_limited("topup_user", user.id) or rate_limited("topup_ip", client_ip()):
        return error_ack("rate_limited", "too many top-ups; wait a minute and try again")
    amount = data.get("amount") if isinstance(data, dict) else None
    command = topups.StartTopUp(user.id, amount, topups.TopUpLimits.from_config(current_app.config))
    try:
        topup = topups.create_topup(get_db(), get_client(), command)
    except ServiceError as exc:
        log.info("event=socket_refused name=add_money sid=%s code=%s", request.sid, exc.code)
        return error_ack(exc.code, exc.message, **{k: v for k, v in exc.details.items() if isinstance(v, int)})
    except DatabaseUnavailable:
        return error_ack("unavailable", "the service is briefly unavailable; please try again")
    return {"ok": True, "payment_id": topup.payment_id, "payment_url": topup.payment_url}
