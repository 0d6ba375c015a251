"""A stand-in for Asaas, for development without an Asaas account: not part of the product.

The auction site mounts it only when no ASAAS_API_KEY is set and never in production
(auction/__init__.py decides). It is a separate "site" under /asaas-sim that the payment
code reaches only over HTTP, exactly like Asaas:

- api.py: the same v3 API subset (customers, payments, payment links, refunds) at /asaas-sim/v3;
- views.py: an invoice page at each payment's `invoiceUrl` with pay / refuse / pay-by-card-then-
  charge-back buttons, a payment link page, and the merchant's refund / chargeback buttons and
  admin page, which replays any of the 29 events for a payment;
- transfers.py: transfers (`/asaas-sim/v3/transfers`), the validation calls to the site (every cash-out
  type), the balance and statement (`/finance/balance`, `/financialTransactions`), and the merchant's
  transfers page where a transfer is authorised, made done, failed or blocked and the account's switches set;
- account.py: the account's cash-out authorisation (critical authorisation by default), balance and statement;
- limits.py: per-endpoint `RateLimit-*` headers and 429s, the 12-hour quota, 50 concurrent GETs;
- sender.py: webhooks POSTed with the `asaas-access-token` header to the site's /payment/webhook,
  in Asaas's JSON shape with unique event ids, retried until the site answers 200;
- gateway.py / models.py: its state, in tables of its own (`asaas_sim_*`) in the app's database,
  so several server processes share it.

It imports only auction.db, auction.clock and auction.money; its settings (ASAAS_SIM_*, PUBLIC_URL,
ASAAS_WEBHOOK_TOKEN) are read by auction/config.py and reach it through app.config.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.typing import ResponseReturnValue

from . import limits, transfers
from .api import api
from .host import Host
from .views import bp


def init_app(
    app: Flask,
    *,
    is_merchant: Callable[[], bool],
    refuse_non_merchant: Callable[[], ResponseReturnValue | None],
) -> None:
    """Mount the simulator on `app` (after its Database and CSRF protection are set up).

    `is_merchant()` says whether the current request is the Asaas account holder's;
    `refuse_non_merchant()` is what anyone else gets on a merchant page (None lets the request through).

    The tables are created on the first simulator request, not here: create_app also runs for
    every `flask` command, and creating them before `flask db upgrade` on an empty database would
    make it refuse (tables but no Alembic version) or collide with revision 0001, which still
    creates the old `asaas_sim_*` tables before 0002 drops them.
    """
    app.extensions["asaas_sim"] = Host(is_merchant=is_merchant, refuse_non_merchant=refuse_non_merchant)
    app.register_blueprint(bp)
    app.register_blueprint(api)
    # Asaas's API is called by servers with a key, not by browser forms.
    app.extensions["csrf"].exempt(api)
    transfers.init_app(app)
    app.teardown_request(limits.teardown(app))
