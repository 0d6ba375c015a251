"""SQL helpers the models and the use cases share: table options, constraint names, UTC datetimes, upserts
and row locks, the same on MariaDB and SQLite."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import DateTime, select
from sqlalchemy.dialects import mysql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

T = TypeVar("T")


# Every table, whichever metadata it belongs to: InnoDB, utf8mb4 on MariaDB.
MYSQL_OPTIONS = {
    f"{prefix}_{option}": value
    for prefix in ("mysql", "mariadb")
    for option, value in (("engine", "InnoDB"), ("charset", "utf8mb4"), ("collate", "utf8mb4_unicode_ci"))
}


def table_args(*items: Any) -> tuple[Any, ...]:
    return (*items, MYSQL_OPTIONS)


# Deterministic constraint names on every backend, so Alembic revisions can name what they alter.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in Python, naive UTC DATETIME(6) in the database."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name in {"mysql", "mariadb"}:
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | str | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use auction.clock.now()")
        naive = value.astimezone(UTC).replace(tzinfo=None)
        if dialect.name in {"mysql", "mariadb"}:
            # As text: the mariadb connector sends any statement with a datetime parameter as a server-side
            # prepared statement (prepare, execute and close: three round trips, about 0.3 ms of CPU), and
            # one with only text and numbers in one round trip. DATETIME(6) reads this form exactly.
            return naive.strftime("%Y-%m-%d %H:%M:%S.%f")
        return naive

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def upsert(dialect: str, table: Any, keys: Sequence[str], changes: Callable[[Any], dict[str, Any]]) -> Any:
    """INSERT into `table`, or where a row with the same unique `keys` exists apply `changes(new)` to it
    (`new`: the row the INSERT offered). SQLAlchemy's upsert constructs are the dialects' own: MariaDB's
    ON DUPLICATE KEY UPDATE, SQLite's ON CONFLICT ... DO UPDATE."""
    if dialect == "sqlite":
        statement = sqlite.insert(table)
        return statement.on_conflict_do_update(index_elements=list(keys), set_=changes(statement.excluded))
    statement = mysql.insert(table)
    return statement.on_duplicate_key_update(changes(statement.inserted))


def lock_row(session: Session, model: type[T], *criteria: Any) -> T | None:
    """The row of `model` matching `criteria`, locked FOR UPDATE and read afresh (not from the session's cache)."""
    statement = select(model).where(*criteria).with_for_update().execution_options(populate_existing=True)
    return session.scalars(statement).first()


def lock_existing(session: Session, model: type[T], *criteria: Any, missing: str) -> T:
    """`lock_row`, refusing with NotFound(`missing`) when there is no such row."""
    from ..errors import NotFound

    row = lock_row(session, model, *criteria)
    if row is None:
        raise NotFound(missing)
    return row
