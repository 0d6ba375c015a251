"""Service-level exceptions. Adapters map each to an HTTP status or a socket error code."""

from __future__ import annotations


class ServiceError(Exception):
    """A rule said no. `code` is the stable machine-readable name clients see."""

    code = "invalid"
    # The HTTP status the one web error handler answers with (auction/entrypoints/web/errors.py).
    http_status = 400

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class Invalid(ServiceError):
    code = "invalid"


class NotFound(ServiceError):
    code = "not_found"
    http_status = 404


class Forbidden(ServiceError):
    code = "forbidden"
    http_status = 403


class RateLimited(ServiceError):
    code = "rate_limited"
    http_status = 429
