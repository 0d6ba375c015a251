"""Asaas's request limits, as its docs describe them (docs.asaas.com, "API limits"), on every /asaas-sim/v3 call.

- Per-endpoint limits: each answer carries `RateLimit-Limit` (requests per window for that endpoint),
  `RateLimit-Remaining` and `RateLimit-Reset` (seconds until the window resets); past the limit, 429.
- The account's quota: 25,000 requests per 12 hours whatever the endpoint, reported by no header; past it, 429.
- At most 50 GET requests at once; the 51st gets 429.

The numbers are the account settings (asaas_sim/account.py, adjustable on the simulator's transfers page).
Counted in this process's memory: the simulator is a development tool, one process is the usual case.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, g, request

from . import account
from .gateway import SimError
from .host import database

QUOTA_WINDOW = 12 * 3600.0


@dataclass
class Counters:
    lock: threading.Lock = field(default_factory=threading.Lock)
    endpoints: dict[str, tuple[float, int]] = field(default_factory=dict)  # endpoint -> (window start, used)
    quota: tuple[float, int] = (0.0, 0)
    gets_in_flight: int = 0


def counters(app: Flask) -> Counters:
    return app.extensions.setdefault("asaas_sim.limits", Counters())


def _endpoint() -> str:
    """Asaas limits per endpoint: the method and the route, ids left out (GET /payments/{id})."""
    rule = request.url_rule.rule if request.url_rule else request.path
    return f"{request.method} {rule}"


def before(app: Flask) -> None:
    limits = database().transaction(account.settings, account.defaults(app.config))
    state, now, name = counters(app), time.monotonic(), _endpoint()
    with state.lock:
        start, used = state.quota
        if now - start >= QUOTA_WINDOW:
            start, used = now, 0
        started, count = state.endpoints.get(name, (now, 0))
        if now - started >= limits["rateWindow"]:
            started, count = now, 0
        limit = limits["rateLimit"]
        g.asaas_sim_rate = (limit, max(0, limit - count - 1), started + limits["rateWindow"] - now)
        if used >= limits["quota"]:
            raise SimError(429, "rate_limit_exceeded", "Cota de requisições de 12 horas excedida.")
        if count >= limits["rateLimit"]:
            raise SimError(429, "rate_limit_exceeded", f"Limite de requisições de {name} excedido.")
        if request.method == "GET" and state.gets_in_flight >= limits["concurrentGets"]:
            raise SimError(429, "rate_limit_exceeded", "Limite de requisições GET simultâneas excedido.")
        state.quota = (start, used + 1)
        state.endpoints[name] = (started, count + 1)
        if request.method == "GET":
            state.gets_in_flight += 1
            g.asaas_sim_get = True


def after(response: Response) -> Response:
    if rate := g.pop("asaas_sim_rate", None):
        limit, remaining, reset = rate
        response.headers["RateLimit-Limit"] = str(limit)
        response.headers["RateLimit-Remaining"] = str(remaining if response.status_code != 429 else 0)
        response.headers["RateLimit-Reset"] = str(max(1, round(reset)))
    return response


def teardown(app: Flask) -> Any:
    def done(_exc: BaseException | None) -> None:
        if g.pop("asaas_sim_get", False):
            state = counters(app)
            with state.lock:
                state.gets_in_flight -= 1

    return done
