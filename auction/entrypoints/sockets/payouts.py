"""Socket.IO `withdraw`: a withdrawal to a PIX key from the wallet page (docs/socket-protocol.md).

Client sends `withdraw` with `{"amount": <centavos>, "pix_key": "...", "pix_key_type": "CPF|CNPJ|EMAIL|PHONE|EVP",
"password": "..."}` (the password again, or the authenticator's code when two-factor login is on);
the ack is `{"ok": true, "withdrawal_id": n, "status": "..."}` or an error ack. Its status then changes live
through `withdrawal` events, and the balance through `wallet`.
"""

from __future__ import annotations

from typing import Any

from flask import current_app

from ... import accounts
from ...accounts import PublicUser
from ...errors import RateLimited
from ...extensions import get_asaas
from ...payouts import withdrawals
from ..usecases import database
from .acks import event
from .connection import NotLoggedIn, client_ip, rate_limited, verified_user


def _withdraw_limits(user: PublicUser | None) -> None:
    if user is not None and (rate_limited("withdraw_user", user.id) or rate_limited("withdraw_ip", client_ip())):
        raise RateLimited("too many withdrawals; wait a minute and try again")


@event("withdraw", login="log in to withdraw", limits=_withdraw_limits)
def on_withdraw(_user: PublicUser, data: dict[str, Any]) -> dict[str, Any]:
    # It spans several transactions and a call to Asaas, so the login is re-checked on its own first.
    user = verified_user()
    if user is None:
        raise NotLoggedIn("log in to withdraw")
    accounts.authorize_withdrawal(
        database(), user.id, str(data.get("password") or ""), current_app.config["WITHDRAWAL_COOLDOWN_HOURS"]
    )
    limits = withdrawals.WithdrawalLimits.from_config(current_app.config)
    command = withdrawals.RequestWithdrawal(
        user.id, data.get("amount"), data.get("pix_key"), data.get("pix_key_type"), limits
    )
    withdrawal_id, status = withdrawals.withdraw(database(), get_asaas(), command)
    return {"ok": True, "withdrawal_id": withdrawal_id, "status": status}
