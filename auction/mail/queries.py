"""What admins and the development inbox read from the outbox."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from .. import clock
from ..models import OutgoingMail

STATUSES = ("queued", "failed", "sent", "dead")


def counts(session: Session) -> dict[str, int]:
    """Messages per status (every status present, zero when none)."""
    found = dict(session.execute(select(OutgoingMail.status, func.count()).group_by(OutgoingMail.status)).all())
    return {status: int(found.get(status, 0)) for status in STATUSES}


def waiting(session: Session) -> tuple[int, float | None]:
    """Messages not sent yet (queued, or failed and to be tried again) and the seconds the oldest has waited."""
    count, oldest = session.execute(
        select(func.count(), func.min(OutgoingMail.created_at)).where(OutgoingMail.status.in_(("queued", "failed")))
    ).one()
    return int(count), clock.seconds_since(oldest)


def latest(session: Session, *, statuses: tuple[str, ...] = STATUSES, limit: int = 100) -> list[OutgoingMail]:
    return list(
        session.scalars(
            select(OutgoingMail).where(OutgoingMail.status.in_(statuses)).order_by(OutgoingMail.id.desc()).limit(limit)
        )
    )


def one(session: Session, mail_id: int) -> OutgoingMail | None:
    return session.get(OutgoingMail, mail_id)


def send_again(session: Session, mail_id: int) -> bool:
    """An admin's retry of a dead message: queued again with a fresh count (the same Message-ID)."""
    result = session.execute(
        update(OutgoingMail)
        .where(OutgoingMail.id == mail_id, OutgoingMail.status == "dead")
        .values(status="queued", attempts=0, next_attempt_at=clock.now())
    )
    return bool(result.rowcount)
