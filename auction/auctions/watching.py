"""Who follows an auction (ending-soon and result notifications, the watchlist)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from .. import clock
from ..errors import NotFound
from ..models import Auction, Watch
from ..uow import UnitOfWork


def watch(uow: UnitOfWork, user_id: int, auction_id: int) -> bool:
    """Persist that the user watches the auction; watching twice is watching."""
    session = uow.session
    if session.get(Auction, auction_id) is None:
        raise NotFound("no such auction")
    if not is_watching(session, user_id, auction_id):
        session.add(Watch(user_id=user_id, auction_id=auction_id, created_at=clock.now()))
        session.flush()
    return True


def unwatch(uow: UnitOfWork, user_id: int, auction_id: int) -> bool:
    uow.session.execute(delete(Watch).where(Watch.user_id == user_id, Watch.auction_id == auction_id))
    return False


def set_watching(uow: UnitOfWork, user_id: int, auction_id: int, watching: bool) -> bool:
    return (watch if watching else unwatch)(uow, user_id, auction_id)


def watcher_ids(session: Session, auction_id: int) -> list[int]:
    return list(session.scalars(select(Watch.user_id).where(Watch.auction_id == auction_id).order_by(Watch.user_id)))


def is_watching(session: Session, user_id: int, auction_id: int) -> bool:
    return session.scalar(select(Watch.id).where(Watch.user_id == user_id, Watch.auction_id == auction_id)) is not None


def watched_ids(session: Session, user_id: int) -> list[int]:
    return list(session.scalars(select(Watch.auction_id).where(Watch.user_id == user_id)))
