"""The user's Asaas customer: found or created once, even when two first top-ups race."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import clock
from ..db import Database
from ..errors import Invalid, NotFound
from ..models import User
from .client import AsaasClient, AsaasError
from .errors import PaymentGatewayError

log = logging.getLogger(__name__)

# How long one request may hold the right to create a user's Asaas customer.
CUSTOMER_CLAIM_TTL = timedelta(seconds=30)
CUSTOMER_WAIT_SECONDS = 15.0


@dataclass(frozen=True)
class CustomerClaim:
    customer_id: str | None  # already known: nothing to do
    claimed: bool  # this caller must create (or find) it
    name: str = ""
    email: str = ""
    cpf_cnpj: str | None = None


def _claim_customer(session: Session, user_id: int) -> CustomerClaim:
    # The user row lock makes "is anyone creating it?" and "I am" one decision.
    user = session.scalars(
        select(User).where(User.id == user_id).with_for_update().execution_options(populate_existing=True)
    ).first()
    if user is None:
        raise NotFound("no such user")
    if user.asaas_customer_id:
        return CustomerClaim(user.asaas_customer_id, False)
    now = clock.now()
    if user.asaas_customer_claimed_at is not None and now - user.asaas_customer_claimed_at < CUSTOMER_CLAIM_TTL:
        return CustomerClaim(None, False)
    if not user.cpf_cnpj:
        raise Invalid("add your CPF or CNPJ to your account before adding money")
    user.asaas_customer_claimed_at = now
    return CustomerClaim(None, True, user.username, user.email, user.cpf_cnpj)


def _store_customer(session: Session, user_id: int, customer_id: str | None) -> None:
    user = session.get(User, user_id, with_for_update=True)
    assert user is not None
    if customer_id and not user.asaas_customer_id:
        user.asaas_customer_id = customer_id
    user.asaas_customer_claimed_at = None


def _customer_in_use(session: Session, customer_id: str, user_id: int) -> bool:
    return session.scalar(select(User.id).where(User.asaas_customer_id == customer_id, User.id != user_id)) is not None


def ensure_customer(db: Database, client: AsaasClient, user_id: int) -> str:
    """The user's Asaas customer id, found (by user id as externalReference, or CPF/CNPJ) or created once.

    A claim on the user row (not a transaction held across HTTP) makes a second,
    concurrent first top-up wait for the first instead of creating a duplicate.
    """
    deadline = time.monotonic() + CUSTOMER_WAIT_SECONDS
    while True:
        claim = db.transaction(_claim_customer, user_id)
        if claim.customer_id:
            return claim.customer_id
        if claim.claimed:
            break
        if time.monotonic() > deadline:
            raise PaymentGatewayError("your payment account is still being set up; try again in a moment")
        time.sleep(0.1)
    customer_id = None
    try:
        reference = str(user_id)
        found = client.find_customers(external_reference=reference)
        if not found and claim.cpf_cnpj:
            found = [
                c
                for c in client.find_customers(cpf_cnpj=claim.cpf_cnpj)
                if not db.transaction(_customer_in_use, c["id"], user_id)
            ]
        if found:
            customer_id = found[0]["id"]
        else:
            created = client.create_customer(
                name=claim.name, cpf_cnpj=claim.cpf_cnpj or "", email=claim.email, external_reference=reference
            )
            customer_id = created["id"]
        log.info("event=asaas_customer user_id=%s customer=%s created=%s", user_id, customer_id, not found)
    except AsaasError as exc:
        raise PaymentGatewayError(f"could not set up your payment account: {exc}") from exc
    finally:
        db.transaction(_store_customer, user_id, customer_id)
    return customer_id
