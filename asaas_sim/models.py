"""The simulator's own tables: what the simulated Asaas account holds, and the webhooks it sends.

A metadata of its own, not the product's (`auction.models.Base`): sql/schema.sql, the Alembic
revisions and the schema tests describe only the product. The simulator creates these tables
itself, on first use (`asaas_sim.create_tables`). Their names start with `asaas_sim_`, which
migrations/env.py leaves out of Alembic's comparisons.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, MetaData, String, Text, text
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.schema import CreateIndex, CreateTable

from auction.db import NAMING_CONVENTION, UTCDateTime, table_args


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


class AsaasSimObject(Base):
    """The simulated account's customers, payments and links (its JSON body as Asaas shows it)."""

    __tablename__ = "asaas_sim_objects"
    __table_args__ = table_args(Index("ix_asaas_sim_objects_kind_ref", "kind", "external_reference"))

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # customer | payment | paymentLink
    kind: Mapped[str] = mapped_column(String(16))
    external_reference: Mapped[str | None] = mapped_column(String(100))
    cpf_cnpj: Mapped[str | None] = mapped_column(String(14), index=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class AsaasSimEvent(Base):
    """A webhook the simulator sends (and retries until the site answers 200)."""

    __tablename__ = "asaas_sim_events"
    __table_args__ = table_args()

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(100), unique=True)
    event: Mapped[str] = mapped_column(String(64))
    payment_id: Mapped[str] = mapped_column(String(64), index=True)
    body: Mapped[str] = mapped_column(Text)
    # pending | delivered | failed
    status: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    last_status: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]


def create_tables(session: Session) -> None:
    """Create the tables where they are missing.

    IF NOT EXISTS rather than a look first: two server processes on one database may both get here.
    """
    connection = session.connection()
    for table in Base.metadata.sorted_tables:
        connection.execute(CreateTable(table, if_not_exists=True))
        for index in sorted(table.indexes, key=lambda index: index.name or ""):
            connection.execute(CreateIndex(index, if_not_exists=True))
