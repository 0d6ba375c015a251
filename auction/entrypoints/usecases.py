"""The one way an adapter (a page, a form, a socket event, a job, a CLI command) runs a use case.

- `perform(use_case, *args)`: `use_case(uow, *args)` as one unit of work (`Database.run`, auction/db/runner.py):
  one transaction on the runtime's offload thread, retried on deadlock, its messages delivered after the commit.
  In a socket event that acts (`acks.event(..., login=...)`), the socket's login session is re-checked in the
  same transaction (a socket read its login once, at connect; a page re-reads it on every request). A use case
  that create_app gave a batcher (`bids.place`: the bid queue, entrypoints/sockets/bid_queue.py) is handed to it
  from a socket event instead: it waits for its batch's one transaction, which re-checks every bid's login.
- `read(query, *args)`: `query(session, *args)` in one transaction with no outbox (reads, and bookkeeping that
  sends no message); `consistent=True` reads every statement at the same moment (`Database.snapshot`).
- `database()`: for the few workflows that span several units of work around a call to Asaas (a top-up, a
  withdrawal, reconciliation): the area's function takes the Database and runs its own units of work.

Nothing else in auction/entrypoints touches the Database or the bid queue (tests/test_usecases.py checks).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from flask import current_app
from sqlalchemy.orm import Session

from ..db import Database
from ..extensions import get_db

T = TypeVar("T")
BATCHERS = "auction.batchers"  # app.extensions key: {use case: its batcher}, set by create_app


@dataclass(frozen=True)
class SocketLogin:
    """The login a socket event acts as: its session token, and the check its transaction runs first."""

    token: str | None
    check: Callable[[Session], None]


class Batcher(Protocol):
    def submit(self, command: Any, token: str | None) -> Any: ...


_acting: ContextVar[SocketLogin | None] = ContextVar("socket_login", default=None)


@contextmanager
def acting_as(login: SocketLogin) -> Iterator[None]:
    """While a socket event that acts runs (acks.event), its use cases re-check `login`."""
    reset = _acting.set(login)
    try:
        yield
    finally:
        _acting.reset(reset)


def perform(use_case: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run `use_case(uow, *args, **kwargs)` as one unit of work and return its result (see the module)."""
    login = _acting.get()
    if login is not None:
        batcher: Batcher | None = current_app.extensions[BATCHERS].get(use_case)
        if batcher is not None and len(args) == 1 and not kwargs:
            return batcher.submit(args[0], login.token)
        return get_db().run(use_case, *args, precondition=login.check, **kwargs)
    return get_db().run(use_case, *args, **kwargs)


def read(query: Callable[..., T], *args: Any, consistent: bool = False, **kwargs: Any) -> T:
    """Run `query(session, *args, **kwargs)` in one transaction, with no messages (see the module)."""
    if consistent:
        return get_db().snapshot(lambda session: query(session, *args, **kwargs))
    return get_db().transaction(query, *args, **kwargs)


def database() -> Database:
    """The app's Database, for a workflow of several units of work (see the module) or the database's own
    administration (CLI: its URL, its schema)."""
    return get_db()
