"""Asaas transfer events and statuses as one level, as payments/events.py does for charges. Pure.

Asaas says the TRANSFER_* events "do not represent a mandatory sequence", so an event is read
as "transfer X is now in status S", and S gives the level the payout hold should be at:
HELD (still on its way), DONE (the money left: capture the hold) or RETURNED (failed or
cancelled: give it back). A final level never moves back to HELD, so duplicates and any order
of one transfer's events converge. Two different final levels for one transfer cannot happen
at Asaas; if they are ever heard, the first applied stands and the admins are alerted.
"""

from __future__ import annotations

from enum import IntEnum

TRANSFER_EVENTS: dict[str, str] = {
    "TRANSFER_CREATED": "PENDING",
    "TRANSFER_PENDING": "PENDING",
    "TRANSFER_IN_BANK_PROCESSING": "BANK_PROCESSING",
    "TRANSFER_BLOCKED": "BLOCKED",
    "TRANSFER_DONE": "DONE",
    "TRANSFER_FAILED": "FAILED",
    "TRANSFER_CANCELLED": "CANCELLED",
}


class Level(IntEnum):
    HELD = 0
    DONE = 1
    RETURNED = 2


LEVEL_OF_STATUS = {"DONE": Level.DONE, "FAILED": Level.RETURNED, "CANCELLED": Level.RETURNED}


def status_of(event: str, transfer: dict[str, object]) -> str:
    """The status an event says the transfer is in: the event's own meaning first, then the payload's."""
    if event in TRANSFER_EVENTS and event != "TRANSFER_CREATED":
        return TRANSFER_EVENTS[event]
    status = transfer.get("status")
    return str(status).upper() if isinstance(status, str) and status else "PENDING"


def level_of(status: str) -> Level:
    return LEVEL_OF_STATUS.get(status, Level.HELD)


def is_final(status: str | None) -> bool:
    return status is not None and level_of(status) != Level.HELD


def merge(current: Level, heard: Level) -> tuple[Level, bool]:
    """(the level to be at, whether `heard` conflicts with a different final level already reached)."""
    if current == Level.HELD:
        return heard, False
    return current, heard not in (Level.HELD, current)
