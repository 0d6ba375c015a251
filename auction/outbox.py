"""Messages to push over Socket.IO once a unit of work has committed.

Use cases run inside a transaction, possibly on a tpool OS thread, where emitting
is neither safe (green-thread objects) nor right (the transaction may still roll
back). So they append to the unit of work's Outbox, and `Database.run()` hands it
to `extensions.deliver()` once the transaction has committed. With SOCKETIO_MESSAGE_QUEUE set, `socketio.emit`
goes through Redis and reaches clients connected to any process.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


def user_room(user_id: int) -> str:
    return f"user:{user_id}"


def auction_room(auction_id: int) -> str:
    return f"auction:{auction_id}"


def event_room(event_id: int) -> str:
    """A sale event's one room: its catalogue page hears every lot's changes here (`lot`), not one room per lot."""
    return f"event:{event_id}"


@dataclass(frozen=True)
class Message:
    event: str
    payload: dict[str, Any]
    room: str


class Outbox(list[Message]):
    """Messages queued by units of work. `Database.run` rewinds it before retrying an attempt,
    so a rolled-back attempt's messages are never delivered."""

    def checkpoint(self) -> int:
        return len(self)

    def rewind(self, checkpoint: int) -> None:
        del self[checkpoint:]

    def to_user(self, user_id: int, event: str, payload: dict[str, Any]) -> None:
        self.append(Message(event, payload, user_room(user_id)))

    def to_auction(self, auction_id: int, event: str, payload: dict[str, Any]) -> None:
        self.append(Message(event, payload, auction_room(auction_id)))

    def to_event(self, event_id: int, event: str, payload: dict[str, Any]) -> None:
        self.append(Message(event, payload, event_room(event_id)))
