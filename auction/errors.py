"""Service-level exceptions. Adapters map each to an HTTP status or a socket error code in one place each.

Each subclass names its stable `code` (what clients see; docs/socket-protocol.md lists them) and the
`http_status` a page answers with, in the class statement itself:
`class TooLow(ServiceError, code="too_low", http_status=409)`, with a docstring saying when it happens.
"""

from __future__ import annotations


class ServiceError(Exception):
    """A rule said no. `code` is the stable machine-readable name clients see."""

    code = "invalid"
    # The HTTP status the one web error handler answers with (auction/entrypoints/web/errors.py).
    http_status = 400

    def __init_subclass__(cls, *, code: str | None = None, http_status: int | None = None, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if code is not None:
            cls.code = code
        if http_status is not None:
            cls.http_status = http_status

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class Invalid(ServiceError, code="invalid", http_status=400):
    """The request itself is wrong: a missing or malformed field (`details["field"]` names it)."""


class NotFound(ServiceError, code="not_found", http_status=404):
    """No such auction, payment or delivery."""


class Forbidden(ServiceError, code="forbidden", http_status=403):
    """Someone who may not do this tried (not the seller, not an admin)."""


class RateLimited(ServiceError, code="rate_limited", http_status=429):
    """Too many requests from this user, connection or address; wait a moment."""
