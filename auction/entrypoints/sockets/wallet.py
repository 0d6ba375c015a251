"""Socket.IO `add_money`: start a top-up and answer with the checkout URL (docs/socket-protocol.md).

Client sends `add_money` with `{"amount": <centavos>, "billing_type": "PIX" | "BOLETO" | "CREDIT_CARD"}`; the ack
is `{"ok": true, "payment_id": n, "payment_url": "...", "pay_url": "/wallet/payments/n"}` or an error ack
(`not_logged_in`, `rate_limited`, `invalid`, `payment_unavailable`, `unavailable`).
The balance changes later, when the payment's webhook arrives (`wallet` event).
"""

from __future__ import annotations

from typing import Any

from flask import current_app

from ...accounts import PublicUser
from ...errors import RateLimited
from ...extensions import get_asaas
from ...payments import topups
from ..usecases import database
from .acks import event
from .connection import NotLoggedIn, client_ip, rate_limited, verified_user


def _topup_limits(user: PublicUser | None) -> None:
    if user is not None and (rate_limited("topup_user", user.id) or rate_limited("topup_ip", client_ip())):
        raise RateLimited("too many top-ups; wait a minute and try again")


@event("add_money", login="log in to add money", limits=_topup_limits)
def on_add_money(_user: PublicUser, data: dict[str, Any]) -> dict[str, Any]:
    # A top-up spans several transactions and a call to Asaas, so the login is re-checked on its own first.
    user = verified_user()
    if user is None:
        raise NotLoggedIn("log in to add money")
    command = topups.StartTopUp(
        user.id,
        data.get("amount"),
        topups.TopUpLimits.from_config(current_app.config),
        billing_type=data.get("billing_type", "PIX"),
        return_url=f"{current_app.config['PUBLIC_URL']}/wallet/payments/{{id}}",
    )
    topup = topups.create_topup(database(), get_asaas(), command)
    return {
        "ok": True,
        "payment_id": topup.payment_id,
        "payment_url": topup.payment_url,
        "pay_url": f"/wallet/payments/{topup.payment_id}",
    }
