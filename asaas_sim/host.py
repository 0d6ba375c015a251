"""What the simulator takes from the app it is mounted on.

The app's `Database` (`app.extensions["auction.db"]`: the simulator keeps its tables in the
same database), its Socket.IO server (`app.extensions["socketio"]`, to send webhooks from a
background task), and two answers only the site can give, passed to `asaas_sim.init_app`:
whether the current request comes from the merchant (the Asaas account holder, who may
refund, charge back and replay events), and what anyone else gets on a merchant page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app
from flask.typing import ResponseReturnValue

from auction.db import Database

from .models import create_tables


@dataclass
class Host:
    is_merchant: Callable[[], bool]
    # None for the merchant; else what to answer instead of a merchant page (e.g. the login page), or raises.
    refuse_non_merchant: Callable[[], ResponseReturnValue | None]
    tables_ready: bool = False


def host(app: Flask | None = None) -> Host:
    return (app or current_app).extensions["asaas_sim"]


def database(app: Flask | None = None) -> Database:
    return (app or current_app).extensions["auction.db"]


def socketio(app: Flask) -> Any:
    return app.extensions["socketio"]


def ensure_tables() -> None:
    """Before each simulator request: create its tables on first use (once per process)."""
    state = host()
    if not state.tables_ready:
        database().transaction(create_tables)
        state.tables_ready = True
