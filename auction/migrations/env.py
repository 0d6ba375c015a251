"""Alembic environment: the models' metadata, the URL from the app config.

Run through `flask --app auction db upgrade|downgrade|revision|stamp`, which build
the Alembic config in code (auction.migrate.alembic_config) with DATABASE_URL.
"""

from __future__ import annotations

from typing import Any

from alembic import context
from alembic.operations import ops
from sqlalchemy import create_engine, pool

from auction.db import UTCDateTime
from auction.models import Base

config = context.config
target_metadata = Base.metadata


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Render app types as plain SQLAlchemy types, so revisions never import app code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        autogen_context.imports.add("from sqlalchemy.dialects import mysql")
        return 'sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")'
    return False


def skip_index_drops_of_dropped_tables(_context: Any, _revision: Any, directives: list[Any]) -> None:
    """Dropping a table drops its indexes; dropping them first fails on MariaDB when a foreign key needs one."""
    for downgrade in directives[0].downgrade_ops_list:
        dropped = {op.table_name for op in downgrade.ops if isinstance(op, ops.DropTableOp)}
        downgrade.ops = [
            op
            for op in downgrade.ops
            if not (
                isinstance(op, ops.ModifyTableOps)
                and op.table_name in dropped
                and all(isinstance(inner, ops.DropIndexOp) for inner in op.ops)
            )
        ]


COMMON: dict[str, Any] = {
    "process_revision_directives": skip_index_drops_of_dropped_tables,
    "target_metadata": target_metadata,
    "render_item": render_item,
    "compare_type": True,
    "compare_server_default": True,
    # SQLite cannot ALTER most things; batch mode rebuilds the table there.
    "render_as_batch": True,
}


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        **COMMON,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        context.configure(connection=connectable, **COMMON)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            context.configure(connection=connection, **COMMON)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
