"""Helpers and fixtures for the payments tests: webhook bodies, known payments, the simulator in-process."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from requests.adapters import BaseAdapter

from asaas_sim import account as sim_account
from asaas_sim.models import create_tables
from auction import clock, wallet
from auction.db import Database
from auction.models import Payment
from auction.payments.client import AsaasClient

TOKEN = "test-webhook-token-0123456789abcdef"
SIM_URL = "http://sim.test/asaas-sim/v3"


class WSGIAdapter(BaseAdapter):
    """Lets `requests` talk to a Flask app in-process (the simulator without a server)."""

    def __init__(self, app: Any) -> None:
        super().__init__()
        self.app = app

    def send(self, request: requests.PreparedRequest, **_kwargs: Any) -> requests.Response:
        url = urlsplit(request.url)
        answer = self.app.test_client().open(
            url.path,
            method=request.method,
            query_string=url.query,
            headers=dict(request.headers),
            data=request.body,
        )
        response = requests.Response()
        response.status_code = answer.status_code
        response.headers.update(dict(answer.headers))
        response.raw = io.BytesIO(answer.get_data())
        response.url = request.url
        response.request = request
        return response

    def close(self) -> None:
        pass


def sim_client(app: Any) -> AsaasClient:
    session = requests.Session()
    session.mount("http://sim.test/", WSGIAdapter(app))
    return AsaasClient(base_url=SIM_URL, api_key="$aact_test", timeout=5, session=session, sleep=lambda _s: None)


def sim_deposit(app: Any, db: Database, reais: str) -> None:
    """Money into the simulated Asaas account (its transfers need a balance, as Asaas's do)."""
    db.transaction(create_tables)
    with app.app_context():
        db.transaction(sim_account.deposit, Decimal(reais))


def sim_settings(app: Any, db: Database, **changes: Any) -> None:
    """Flip the simulated account's switches (asaas_sim/account.py), as its transfers page does."""
    db.transaction(create_tables)
    with app.app_context():
        db.transaction(sim_account.save_settings, changes, sim_account.defaults())


def event_body(
    event: str,
    asaas_id: str,
    *,
    value: str = "100.00",
    status: str = "PENDING",
    refunds: list[dict[str, Any]] | None = None,
    event_id: str | None = None,
    **payment: Any,
) -> dict[str, Any]:
    return {
        "id": event_id or f"evt_{uuid.uuid4().hex}&1",
        "event": event,
        "dateCreated": "2026-11-25 10:15:03",
        "payment": {
            "object": "payment",
            "id": asaas_id,
            "customer": "cus_000000000001",
            "paymentLink": None,
            "value": float(value),
            "netValue": float(value),
            "billingType": "PIX",
            "status": status,
            "deleted": False,
            "refunds": refunds,
            "someNewField": {"ignored": True},
            **payment,
        },
    }


def post(client: Any, body: Any, token: str | None = TOKEN, **headers: str) -> Any:
    if token is not None:
        headers["asaas-access-token"] = token
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post("/payment/webhook", data=data, headers=headers, content_type="application/json")


def known_payment(db: Database, user_id: int | None, asaas_id: str, value: int = 10_000, **fields: Any) -> int:
    def create(session: Any) -> int:
        now = clock.now()
        row = Payment(
            user_id=user_id,
            asaas_payment_id=asaas_id,
            value=value,
            status="PENDING",
            matched=user_id is not None,
            created_at=now,
            updated_at=now,
            **fields,
        )
        session.add(row)
        session.flush()
        row.external_reference = f"topup-{row.id}"
        return row.id

    return db.transaction(create)


def available(db: Database, user_id: int) -> int:
    return db.transaction(wallet.balance, user_id).available


def payment_row(db: Database, payment_id: int) -> Payment:
    return db.transaction(lambda s: s.get(Payment, payment_id))


@pytest.fixture
def audited(db: Database) -> Iterator[Database]:
    """The database; after the test, the wallet audit must find nothing wrong."""
    yield db
    assert db.transaction(wallet.audit) == []


@pytest.fixture
def user(make_user: Callable[..., int]) -> int:
    return make_user("payer")
