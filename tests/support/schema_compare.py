"""Compare MariaDB schemas: a reflected database against the models, or two databases.

Both sides become a `Snapshot` (plain, normalised data), so a difference reads as one
line per table, column, index, unique constraint or foreign key. Reflection reads
information_schema directly, so nothing SQLAlchemy guesses stands between the server
and the comparison.

Normalisation (what MariaDB reports differently for the same thing):
- BOOL/BOOLEAN is TINYINT(1); INTEGER is INT; integer display widths (INT(11), BIGINT(20)) are dropped;
- defaults: `false`/`true` are 0/1, a nullable column's `DEFAULT NULL` is no default;
- ON DELETE/UPDATE `NO ACTION` is InnoDB's `RESTRICT`;
- the index InnoDB adds by itself for a foreign key (named after the constraint) is not an index of the model.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, Table, UniqueConstraint, create_engine, text
from sqlalchemy.dialects.mysql.mariadbconnector import MariaDBDialect_mariadbconnector
from sqlalchemy.engine import Connection, make_url

DIALECT = MariaDBDialect_mariadbconnector()
VERSION_TABLE = "alembic_version"
CHAR_TYPES = ("CHAR", "VARCHAR", "TINYTEXT", "TEXT", "MEDIUMTEXT", "LONGTEXT", "ENUM", "SET")
INT_WIDTH = re.compile(r"^(SMALLINT|MEDIUMINT|INT|BIGINT|TINYINT)\(\d+\)")


@dataclass(frozen=True)
class ColumnShape:
    type: str
    nullable: bool
    default: str | None
    autoincrement: bool
    collation: str | None


@dataclass(frozen=True)
class ForeignKeyShape:
    columns: tuple[str, ...]
    referred_table: str
    referred_columns: tuple[str, ...]
    ondelete: str
    onupdate: str


@dataclass
class TableShape:
    columns: dict[str, ColumnShape] = field(default_factory=dict)
    primary_key: tuple[str, ...] = ()
    # name -> (columns, unique); unique constraints are unique indexes on MariaDB.
    indexes: dict[str, tuple[tuple[str, ...], bool]] = field(default_factory=dict)
    foreign_keys: dict[str, ForeignKeyShape] = field(default_factory=dict)
    engine: str | None = None
    collation: str | None = None

    @property
    def charset(self) -> str | None:
        return self.collation.split("_", 1)[0] if self.collation else None


Snapshot = dict[str, TableShape]


# -- normalisation ---------------------------------------------------------------


def normalize_type(raw: str) -> str:
    value = re.sub(r"\s+(CHARACTER SET|COLLATE)\s+\S+", "", raw.strip().upper())
    if value in {"BOOL", "BOOLEAN", "TINYINT(1)"}:
        return "TINYINT(1)"
    if value.startswith("INTEGER"):
        value = "INT" + value[len("INTEGER") :]
    return INT_WIDTH.sub(r"\1", value)


def normalize_default(raw: str | None) -> str | None:
    if raw is None:
        return None
    value = raw.strip()
    while value.startswith("(") and value.endswith(")"):
        value = value[1:-1].strip()
    lowered = value.lower()
    if lowered == "null":
        return None
    if lowered in {"false", "true"}:
        return "0" if lowered == "false" else "1"
    if lowered in {"current_timestamp", "current_timestamp()", "now()"}:
        return "CURRENT_TIMESTAMP"
    return value


def normalize_rule(rule: str | None) -> str:
    value = (rule or "RESTRICT").upper()
    return "RESTRICT" if value == "NO ACTION" else value


def _is_char(type_: str) -> bool:
    return type_.split("(", 1)[0] in CHAR_TYPES


# -- the models' side ----------------------------------------------------------------


def _option(table: Table, name: str) -> str | None:
    value = table.kwargs.get(f"mariadb_{name}") or table.kwargs.get(f"mysql_{name}")
    return str(value) if value is not None else None


def _model_default(column: Any) -> str | None:
    if column.server_default is None:
        return None
    return normalize_default(DIALECT.ddl_compiler(DIALECT, None).get_column_default_string(column))


def _model_table(table: Table) -> TableShape:
    collation = _option(table, "collate")
    shape = TableShape(engine=_option(table, "engine"), collation=collation)
    for column in table.columns:
        type_ = normalize_type(column.type.compile(dialect=DIALECT))
        own_collation = getattr(column.type, "collation", None)
        shape.columns[column.name] = ColumnShape(
            type=type_,
            nullable=bool(column.nullable),
            default=_model_default(column),
            autoincrement=table.autoincrement_column is column,
            collation=(own_collation or collation) if _is_char(type_) else None,
        )
    shape.primary_key = tuple(c.name for c in table.primary_key.columns)
    for index in table.indexes:
        shape.indexes[str(index.name)] = (tuple(c.name for c in index.columns), bool(index.unique))
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint):
            shape.indexes[str(constraint.name)] = (tuple(c.name for c in constraint.columns), True)
    for fk in table.foreign_key_constraints:
        shape.foreign_keys[str(fk.name)] = ForeignKeyShape(
            columns=tuple(fk.column_keys),
            referred_table=fk.referred_table.name,
            referred_columns=tuple(element.column.name for element in fk.elements),
            ondelete=normalize_rule(fk.ondelete),
            onupdate=normalize_rule(fk.onupdate),
        )
    return shape


def model_snapshot(metadata: MetaData) -> Snapshot:
    return {table.name: _model_table(table) for table in metadata.sorted_tables}


# -- the database's side -------------------------------------------------------------


def _rows(conn: Connection, sql: str) -> list[Any]:
    return list(conn.execute(text(sql), {"db": conn.engine.url.database}))


def _reflect_tables(conn: Connection, snapshot: Snapshot) -> None:
    for name, engine, collation in _rows(
        conn,
        "SELECT TABLE_NAME, ENGINE, TABLE_COLLATION FROM information_schema.TABLES "
        "WHERE TABLE_SCHEMA = :db AND TABLE_TYPE = 'BASE TABLE'",
    ):
        snapshot[name] = TableShape(engine=engine, collation=collation)


def _reflect_columns(conn: Connection, snapshot: Snapshot) -> None:
    for table, name, type_, nullable, default, extra, collation in _rows(
        conn,
        "SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA, COLLATION_NAME "
        "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = :db ORDER BY TABLE_NAME, ORDINAL_POSITION",
    ):
        if table not in snapshot:
            continue
        snapshot[table].columns[name] = ColumnShape(
            type=normalize_type(type_),
            nullable=nullable == "YES",
            default=normalize_default(default),
            autoincrement="auto_increment" in (extra or "").lower(),
            collation=collation,
        )


def _reflect_indexes(conn: Connection, snapshot: Snapshot) -> None:
    found: dict[tuple[str, str], tuple[list[str], bool]] = {}
    for table, index, column, non_unique in _rows(
        conn,
        "SELECT TABLE_NAME, INDEX_NAME, COLUMN_NAME, NON_UNIQUE FROM information_schema.STATISTICS "
        "WHERE TABLE_SCHEMA = :db ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX",
    ):
        found.setdefault((table, index), ([], not int(non_unique)))[0].append(column)
    for (table, index), (columns, unique) in found.items():
        if table not in snapshot:
            continue
        if index == "PRIMARY":
            snapshot[table].primary_key = tuple(columns)
        else:
            snapshot[table].indexes[index] = (tuple(columns), unique)


def _reflect_foreign_keys(conn: Connection, snapshot: Snapshot) -> None:
    rules = {
        (table, name): (ref_table, delete, update)
        for table, name, ref_table, delete, update in _rows(
            conn,
            "SELECT TABLE_NAME, CONSTRAINT_NAME, REFERENCED_TABLE_NAME, DELETE_RULE, UPDATE_RULE "
            "FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = :db",
        )
    }
    columns: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for table, name, column, ref_column in _rows(
        conn,
        "SELECT TABLE_NAME, CONSTRAINT_NAME, COLUMN_NAME, REFERENCED_COLUMN_NAME "
        "FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = :db AND REFERENCED_TABLE_NAME IS NOT NULL "
        "ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION",
    ):
        columns.setdefault((table, name), []).append((column, ref_column))
    for (table, name), (ref_table, delete, update) in rules.items():
        pairs = columns.get((table, name), [])
        fk = ForeignKeyShape(
            columns=tuple(c for c, _ in pairs),
            referred_table=ref_table,
            referred_columns=tuple(r for _, r in pairs),
            ondelete=normalize_rule(delete),
            onupdate=normalize_rule(update),
        )
        shape = snapshot[table]
        shape.foreign_keys[name] = fk
        # InnoDB's own index for a foreign key that no declared index covers.
        if shape.indexes.get(name) == (fk.columns, False):
            del shape.indexes[name]


def reflect_snapshot(url: str, exclude: tuple[str, ...] = ()) -> Snapshot:
    engine = create_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            snapshot: Snapshot = {}
            _reflect_tables(conn, snapshot)
            for name in exclude:
                snapshot.pop(name, None)
            _reflect_columns(conn, snapshot)
            _reflect_indexes(conn, snapshot)
            _reflect_foreign_keys(conn, snapshot)
            return snapshot
    finally:
        engine.dispose()


# -- the comparison ------------------------------------------------------------------


def _diff_named(where: str, what: str, expected: dict, actual: dict) -> list[str]:
    problems = [f"{where}: {what} {name} is missing" for name in sorted(set(expected) - set(actual))]
    problems += [f"{where}: unexpected {what} {name}" for name in sorted(set(actual) - set(expected))]
    for name in sorted(set(expected) & set(actual)):
        if expected[name] != actual[name]:
            problems.append(f"{where}: {what} {name} differs: expected {expected[name]}, found {actual[name]}")
    return problems


def _diff_columns(where: str, expected: dict[str, ColumnShape], actual: dict[str, ColumnShape]) -> list[str]:
    problems = _diff_named(where, "column", {k: None for k in expected}, {k: None for k in actual})
    for name in sorted(set(expected) & set(actual)):
        want, got = expected[name], actual[name]
        for attribute in ("type", "nullable", "default", "autoincrement", "collation"):
            if getattr(want, attribute) != getattr(got, attribute):
                problems.append(
                    f"{where}.{name}: {attribute} expected {getattr(want, attribute)!r}, "
                    f"found {getattr(got, attribute)!r}"
                )
    return problems


def diff_snapshots(expected: Snapshot, actual: Snapshot) -> list[str]:
    """One line per difference; empty when the schemas are the same."""
    problems = _diff_named("schema", "table", {k: None for k in expected}, {k: None for k in actual})
    for table in sorted(set(expected) & set(actual)):
        want, got = expected[table], actual[table]
        problems += _diff_columns(table, want.columns, got.columns)
        if want.primary_key != got.primary_key:
            problems.append(f"{table}: primary key expected {want.primary_key}, found {got.primary_key}")
        problems += _diff_named(table, "index", want.indexes, got.indexes)
        problems += _diff_named(table, "foreign key", want.foreign_keys, got.foreign_keys)
        for attribute in ("engine", "charset", "collation"):
            wanted, found = getattr(want, attribute), getattr(got, attribute)
            if wanted != found:
                problems.append(f"{table}: table {attribute} expected {wanted!r}, found {found!r}")
    return problems


def diff_against_models(url: str, metadata: MetaData) -> list[str]:
    return diff_snapshots(model_snapshot(metadata), reflect_snapshot(url, exclude=(VERSION_TABLE,)))


def app_on(url: str, tmp_path: Path) -> Any:
    """The app on an existing database, as an admin runs it after loading the scripts (no auto-created schema)."""
    from auction import create_app

    return create_app(
        {
            "DATABASE_URL": url,
            "INSTANCE_PATH": str(tmp_path / "instance"),
            "SECRET_KEY": "test-secret-key",
            "TESTING": True,
            "RATE_LIMITS_ENABLED": False,
            "SCHEDULER_ENABLED": False,
            "AUTO_CREATE_SCHEMA": False,
        }
    )


# -- loading SQL files the way an admin does ------------------------------------------------


def load_sql_file(url: str, path: Path) -> None:
    """Feed `path` to the `mariadb` command-line client, as in docs/database.md."""
    if shutil.which("mariadb") is None:
        message = "the `mariadb` command-line client is not installed (Debian: apt-get install mariadb-client)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    parsed = make_url(url)
    args = ["mariadb", "-u", parsed.username or "root", "-h", parsed.host or "127.0.0.1"]
    args += ["-P", str(parsed.port or 3306)]
    if parsed.password:
        args.append(f"-p{parsed.password}")
    args.append(str(parsed.database))
    with path.open("rb") as handle:
        result = subprocess.run(args, stdin=handle, capture_output=True, timeout=60, check=False)
    if result.returncode != 0:
        raise AssertionError(f"mariadb < {path.name} failed: {result.stderr.decode(errors='replace')}")
