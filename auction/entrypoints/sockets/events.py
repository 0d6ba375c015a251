"""Socket.IO events of sale events: the catalogue page joins the event's one room (docs/socket-protocol.md).

One room per event, not one join per lot: a 500-lot catalogue costs one join, and every lot's change reaches
it as a short `lot` message (auctions/messages.py). Joining reads nothing: the page has the lots' state.
"""

from __future__ import annotations

from typing import Any

from flask_socketio import join_room, leave_room

from ...errors import Invalid
from ...outbox import event_room
from .acks import event


def event_id_of(data: dict[str, Any]) -> int:
    value = data.get("event_id")
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise Invalid("event_id must be a positive whole number")
    return value


@event("join_event")
def on_join_event(data: dict[str, Any]) -> dict[str, Any]:
    event_id = event_id_of(data)
    join_room(event_room(event_id))
    return {"ok": True, "event_id": event_id}


@event("leave_event")
def on_leave_event(data: dict[str, Any]) -> dict[str, Any]:
    event_id = event_id_of(data)
    leave_room(event_room(event_id))
    return {"ok": True, "event_id": event_id}
