"""Socket.IO adapter: connection auth, rooms, and the shared helpers for event handlers.

Handlers are thin: parse the payload, call one service through `Database.run`,
deliver the outbox, and return the ack. Errors are acks `{ok: false, error, message}`
with stable codes (see docs/socket-protocol.md), sent only to the caller.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from flask import current_app, request, session
from flask_socketio import join_room, leave_room

from . import accounts, bidding, watchers
from .accounts import PublicUser
from .db import DatabaseUnavailable
from .errors import ServiceError
from .extensions import get_db, socketio
from .outbox import Outbox, auction_room, deliver, user_room
from .web.auth import SESSION_KEY

log = logging.getLogger(__name__)

# sid -> the logged-in user of that socket (None for anonymous watchers).
_socket_users: dict[str, PublicUser | None] = {}
# sid -> the auction rooms it joined, to update their watcher counts when it leaves.
_socket_auctions: dict[str, set[int]] = {}


def socket_user() -> PublicUser | None:
    """The user this socket connected as (no database work; see `verified_socket_user`).

    Events that act go through `_logged_in_call`, which re-checks the login session
    inside the event's own transaction, so a logged-out socket cannot act.
    """
    return _socket_users.get(request.sid)


def _forget_user(user: PublicUser) -> None:
    _socket_users[request.sid] = None
    leave_room(user_room(user.id))
    log.info("event=socket_session_ended sid=%s user_id=%s", request.sid, user.id)


def verified_socket_user() -> PublicUser | None:
    """The socket's user, re-checked against its login session in a transaction of its own.

    For events whose work spans several transactions (add_money). Logging out (or an
    admin revoking the session) ends the user's open sockets: they go on as anonymous.
    """
    user = _socket_users.get(request.sid)
    if user is None:
        return None
    try:
        current = get_db().transaction(accounts.user_for_token, session.get(SESSION_KEY))
    except DatabaseUnavailable:
        return user  # the event's own unit of work answers `unavailable`
    if current is None or current.id != user.id:
        _forget_user(user)
        return None
    return current


class NotLoggedIn(ServiceError):
    code = "not_logged_in"


def _as_logged_in(session_: Any, token: str | None, user_id: int, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Run `fn` only while the socket's login session is still valid, in the same transaction."""
    current = accounts.user_for_token(session_, token)
    if current is None or current.id != user_id:
        raise NotLoggedIn("your session has ended; log in again")
    return fn(session_, *args, **kwargs)


def error_ack(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"ok": False, "error": code, "message": message, **extra}


def client_ip() -> str:
    return request.remote_addr or request.environ.get("REMOTE_ADDR") or "unknown"


def rate_limited(name: str, key: object) -> bool:
    return not current_app.extensions["auction.ratelimit"].hit(name, key)


def flooding() -> bool:
    """True when this connection or its address sends events faster than a person could."""
    return rate_limited("socket_event_sid", request.sid) or rate_limited("socket_event_ip", client_ip())


def flood_ack() -> dict[str, Any]:
    return error_ack("rate_limited", "too many requests; wait a moment and try again")


def service_call(event: str, fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, dict[str, Any] | None]:
    """Run a service unit of work; map its failures to an error ack (logged, never raised)."""
    try:
        return get_db().transaction(fn, *args, **kwargs), None
    except ServiceError as exc:
        log.info("event=socket_refused name=%s sid=%s code=%s", event, request.sid, exc.code)
        return None, error_ack(exc.code, exc.message, **exc.details)
    except DatabaseUnavailable:
        return None, error_ack("unavailable", "the service is briefly unavailable; please try again")
    except Exception:
        log.exception("event=socket_error name=%s sid=%s", event, request.sid)
        return None, error_ack("server_error", "something went wrong; please try again")


@socketio.on("connect")
def on_connect(auth: Any = None) -> bool:
    token = session.get(SESSION_KEY)
    user = None
    if token:
        try:
            user = get_db().transaction(accounts.user_for_token, token)
        except DatabaseUnavailable:
            user = None
    _socket_users[request.sid] = user
    if user is not None:
        join_room(user_room(user.id))
    log.debug("event=socket_connect sid=%s user_id=%s", request.sid, user.id if user else None)
    return True


@socketio.on("disconnect")
def on_disconnect(*_args: Any) -> None:
    _socket_users.pop(request.sid, None)
    for auction_id in _socket_auctions.pop(request.sid, set()):
        _leave(auction_id)


# -- auctions ----------------------------------------------------------------------------


# auction id -> when its room last heard the watcher count (time.monotonic()).
_announced_at: dict[int, float] = {}
_announce_pending: set[int] = set()


def _emit_watchers(auction_id: int) -> int:
    count = watchers.counter().count(auction_id)
    _announced_at[auction_id] = time.monotonic()
    socketio.emit("watchers", {"auction_id": auction_id, "count": count}, to=auction_room(auction_id))
    return count


def _announce_later(app: Any, auction_id: int, delay: float) -> None:
    socketio.sleep(delay)
    with app.app_context():
        _announce_pending.discard(auction_id)
        _emit_watchers(auction_id)


def _announce_watchers(auction_id: int) -> int:
    """Tell the room how many watch it (all processes when Redis joins them; see auction/watchers.py).

    At most once per WATCHERS_ANNOUNCE_INTERVAL per room: a change inside the interval is sent
    once at its end. One broadcast per join made 500 joins cost 130,555 messages (bench/).
    """
    interval = current_app.config["WATCHERS_ANNOUNCE_INTERVAL"]
    since = time.monotonic() - _announced_at.get(auction_id, float("-inf"))
    if interval <= 0 or since >= interval:
        return _emit_watchers(auction_id)
    if auction_id not in _announce_pending:
        _announce_pending.add(auction_id)
        socketio.start_background_task(_announce_later, current_app._get_current_object(), auction_id, interval - since)
    return watchers.counter().count(auction_id)


def _leave(auction_id: int) -> None:
    leave_room(auction_room(auction_id))
    watchers.counter().left(auction_id, request.sid)
    _announce_watchers(auction_id)


def _auction_id(data: Any) -> int | None:
    value = data.get("auction_id") if isinstance(data, dict) else None
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        return None
    return value


def _invalid_auction_id() -> dict[str, Any]:
    return error_ack("invalid", "auction_id must be a positive whole number")


def _logged_in_call(event: str, data: Any, fn: Any, **kwargs: Any) -> dict[str, Any]:
    """The common shape of a logged-in auction event: check, run `fn(session, outbox, ...)`, deliver, ack."""
    if event != "bid" and flooding():
        return flood_ack()
    user = socket_user()
    if user is None:
        return error_ack("not_logged_in", "log in to do this")
    auction_id = _auction_id(data)
    if auction_id is None:
        return _invalid_auction_id()
    outbox = Outbox()
    token = session.get(SESSION_KEY)
    outcome, error = service_call(event, _as_logged_in, token, user.id, fn, outbox, auction_id, user.id, **kwargs)
    if error is not None:
        if error["error"] == NotLoggedIn.code:
            _forget_user(user)
        return error
    deliver(outbox)
    return outcome.as_ack()


@socketio.on("join_auction")
def on_join_auction(data: Any = None) -> dict[str, Any]:
    if flooding():
        return flood_ack()
    auction_id = _auction_id(data)
    if auction_id is None:
        return _invalid_auction_id()
    user = socket_user()
    state, error = service_call("join_auction", bidding.auction_state, auction_id, viewer_id=user.id if user else None)
    if error is not None:
        return error
    join_room(auction_room(auction_id))
    _socket_auctions.setdefault(request.sid, set()).add(auction_id)
    watchers.counter().joined(auction_id, request.sid)
    state["watchers"] = _announce_watchers(auction_id)
    return {"ok": True, **state}


@socketio.on("leave_auction")
def on_leave_auction(data: Any = None) -> dict[str, Any]:
    if flooding():
        return flood_ack()
    auction_id = _auction_id(data)
    if auction_id is None:
        return _invalid_auction_id()
    _socket_auctions.get(request.sid, set()).discard(auction_id)
    _leave(auction_id)
    return {"ok": True, "auction_id": auction_id}


def _place_bid(session: Any, outbox: Outbox, auction_id: int, user_id: int, **kwargs: Any) -> bidding.BidOutcome:
    return bidding.place_bid(session, outbox, auction_id=auction_id, bidder_id=user_id, **kwargs)


@socketio.on("bid")
def on_bid(data: Any = None) -> dict[str, Any]:
    user = socket_user()
    if user is not None and (rate_limited("bid_user", user.id) or rate_limited("bid_ip", client_ip())):
        return error_ack("rate_limited", "too many bids; wait a moment and try again")
    payload = data if isinstance(data, dict) else {}
    return _logged_in_call(
        "bid",
        data,
        _place_bid,
        amount=payload.get("amount"),
        max_amount=payload.get("max_amount"),
        soft_close_seconds=current_app.config["SOFT_CLOSE_SECONDS"],
    )


def _finish(session: Any, outbox: Outbox, auction_id: int, user_id: int, fee_bps: int) -> bidding.FinishOutcome:
    return bidding.finish_auction(session, outbox, auction_id, actor_id=user_id, fee_bps=fee_bps)


@socketio.on("finish_auction")
def on_finish_auction(data: Any = None) -> dict[str, Any]:
    return _logged_in_call("finish_auction", data, _finish, fee_bps=current_app.config["PLATFORM_FEE_BPS"])


@dataclass(frozen=True)
class _Watching:
    auction_id: int
    watching: bool

    def as_ack(self) -> dict[str, Any]:
        return {"ok": True, "auction_id": self.auction_id, "watching": self.watching}


def _set_watch(session: Any, _outbox: Outbox, auction_id: int, user_id: int, watching: bool) -> _Watching:
    change = bidding.watch if watching else bidding.unwatch
    return _Watching(auction_id, change(session, user_id, auction_id))


@socketio.on("watch")
def on_watch(data: Any = None) -> dict[str, Any]:
    return _logged_in_call("watch", data, _set_watch, watching=True)


@socketio.on("unwatch")
def on_unwatch(data: Any = None) -> dict[str, Any]:
    return _logged_in_call("unwatch", data, _set_watch, watching=False)
