"""Which error codes each Socket.IO event can answer, and the table of docs/socket-protocol.md built from it.

The codes themselves are the `ServiceError` subclasses (`code=`, `http_status=` and a docstring in each
class statement), found by walking `ServiceError.__subclasses__()` once the app's modules are imported,
plus the two codes `acks.ack_for` makes for failures that are not a rule saying no. `EVENT_ERRORS` says
which of them each event may answer; `tests/test_error_codes.py` drives every event through many payloads
and states and fails when a handler answers a code that is not declared here for it, and checks that the
table in the docs is `markdown_table()`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...accounts import StepUpFailed, WithdrawalWaits
from ...auctions.buy_now import BuyNowUnavailable
from ...auctions.errors import (
    AuctionNotOpen,
    BuyingPowerExceeded,
    NotEnded,
    NotRegistered,
    OwnAuction,
    RegistrationPending,
    RegistrationRejected,
)
from ...auctions.rules import TooLow
from ...errors import Forbidden, Invalid, NotFound, RateLimited, ServiceError
from ...payments.errors import PaymentGatewayError
from ...payouts.pix import KeyOwnerMismatch, KeyTypeNotAllowed
from ...payouts.withdrawals import WithdrawalLimit, WithdrawalState
from ...wallet.ledger import InsufficientFunds, WalletInDebt
from .connection import NotLoggedIn


@dataclass(frozen=True)
class AdapterCode:
    """A code `acks.ack_for` answers for something that is not a ServiceError."""

    code: str
    http_status: int
    meaning: str


UNAVAILABLE = AdapterCode("unavailable", 503, "The database is briefly unreachable (or too slow); retry.")
SERVER_ERROR = AdapterCode("server_error", 500, "An unexpected failure (logged on the server); retry.")
ADAPTER_CODES = (UNAVAILABLE, SERVER_ERROR)

# Every event: the per-connection flood check (or the event's own limits) and the two adapter codes.
_ALWAYS: tuple[type[ServiceError] | AdapterCode, ...] = (RateLimited, UNAVAILABLE, SERVER_ERROR)
_ACTING = (NotLoggedIn, Invalid, *_ALWAYS)

EVENT_ERRORS: dict[str, tuple[type[ServiceError] | AdapterCode, ...]] = {
    "join_auction": (Invalid, NotFound, *_ALWAYS),
    "leave_auction": (Invalid, *_ALWAYS),
    "join_event": (Invalid, *_ALWAYS),
    "leave_event": (Invalid, *_ALWAYS),
    "bid": (
        *_ACTING,
        NotFound,
        AuctionNotOpen,
        OwnAuction,
        NotRegistered,
        RegistrationPending,
        RegistrationRejected,
        BuyingPowerExceeded,
        TooLow,
        InsufficientFunds,
        WalletInDebt,
    ),
    "finish_auction": (*_ACTING, NotFound, Forbidden, NotEnded, AuctionNotOpen),
    "watch": (*_ACTING, NotFound),
    "unwatch": _ACTING,
    "add_money": (*_ACTING, PaymentGatewayError),
    "buy_now": (*_ACTING, NotFound, AuctionNotOpen, OwnAuction, BuyNowUnavailable, InsufficientFunds, WalletInDebt),
    "withdraw": (
        *_ACTING,
        WithdrawalWaits,
        StepUpFailed,
        KeyOwnerMismatch,
        KeyTypeNotAllowed,
        WithdrawalLimit,
        WithdrawalState,
        InsufficientFunds,
        WalletInDebt,
    ),
}


def service_errors() -> list[type[ServiceError]]:
    """Every ServiceError subclass that declares its own code, in the order of their codes."""
    found: dict[str, type[ServiceError]] = {}
    pending = list(ServiceError.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if "code" in cls.__dict__:
            found.setdefault(cls.code, cls)
    return [found[code] for code in sorted(found)]


def code_of(entry: type[ServiceError] | AdapterCode) -> str:
    return entry.code


def events_answering(code: str) -> list[str]:
    return [name for name, entries in EVENT_ERRORS.items() if code in {code_of(entry) for entry in entries}]


def _meaning(cls: type[ServiceError]) -> str:
    return " ".join((cls.__doc__ or "").split())


def markdown_table() -> str:
    """The error-code table of docs/socket-protocol.md (a test checks the two agree)."""
    rows = [(cls.code, cls.http_status, _meaning(cls)) for cls in service_errors()]
    rows += [(adapter.code, adapter.http_status, adapter.meaning) for adapter in ADAPTER_CODES]
    lines = ["| code | HTTP | answered by | meaning |", "|---|---|---|---|"]
    for code, status, meaning in rows:
        events = ", ".join(f"`{name}`" for name in events_answering(code)) or "(pages only)"
        lines.append(f"| `{code}` | {status} | {events} | {meaning} |")
    return "\n".join(lines)
