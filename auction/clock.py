"""The one place the application asks for the time (tests can move it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

_offset = timedelta(0)


def now() -> datetime:
    """Current time, timezone-aware UTC."""
    return datetime.now(UTC) + _offset


def advance(delta: timedelta) -> None:
    """Move the application's clock forward (tests only)."""
    global _offset
    _offset += delta


def reset() -> None:
    global _offset
    _offset = timedelta(0)


def isoformat(moment: datetime | None) -> str | None:
    """ISO-8601 UTC with a Z, as every payload carries it."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def seconds_since(moment: datetime | None) -> float | None:
    """How long ago `moment` was, in seconds (None for None)."""
    return None if moment is None else (now() - moment).total_seconds()
