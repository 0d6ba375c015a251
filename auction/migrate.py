"""Alembic, the one migration story: config, upgrade/downgrade/revision, offline SQL.

The models (auction.models) are the source of truth. Each schema change is an
Alembic revision in auction/migrations/versions/, numbered 0001, 0002, ...; for
admins who apply SQL by hand each revision is also rendered as MariaDB SQL into
sql/migrations/<rev>_<slug>.sql (see `render_migration_sql`).
"""

from __future__ import annotations

import io
import logging
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import Engine

from .config import PROJECT_ROOT

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQL_MIGRATIONS_DIR = PROJECT_ROOT / "sql" / "migrations"
# Offline SQL is rendered for this dialect; no server is contacted.
OFFLINE_URL = "mariadb+mariadbconnector://"
VERSION_TABLE = "alembic_version"
# One INFO line per Alembic plugin on every command is noise in the admin's terminal.
logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


class MigrationError(RuntimeError):
    """The database is in a state `upgrade` cannot safely handle; the message says what to do."""


def alembic_config(url: str, output: io.StringIO | None = None) -> Config:
    """An Alembic Config for `url`, built in code (there is no alembic.ini)."""
    cfg = Config(output_buffer=output, stdout=output or io.StringIO())
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    # Escape '%' so configparser keeps URL-encoded passwords intact.
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff:
        # New revisions come out lint-clean and formatted like the rest of the code.
        cfg.set_section_option("post_write_hooks", "hooks", "ruff_format, ruff_fix")
        for name, options in (("ruff_format", "format --quiet"), ("ruff_fix", "check --fix --quiet")):
            cfg.set_section_option("post_write_hooks", f"{name}.type", "exec")
            cfg.set_section_option("post_write_hooks", f"{name}.executable", ruff)
            cfg.set_section_option("post_write_hooks", f"{name}.options", f"{options} REVISION_SCRIPT_FILENAME")
    return cfg


def scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config(OFFLINE_URL))


def head() -> str:
    revision = scripts().get_current_head()
    if revision is None:
        raise MigrationError("there are no Alembic revisions in auction/migrations/versions")
    return revision


def revisions_in_order() -> list[Script]:
    """Every revision, oldest first."""
    return list(reversed(list(scripts().walk_revisions())))


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _check_versioned(url: str) -> None:
    """Refuse to upgrade a database that has tables but no Alembic version.

    Such a database was made by `create_all` outside Alembic; running the initial
    revision on it would fail half-way. `flask db stamp <rev>` records what it holds.
    """
    engine = create_engine(url)
    try:
        names = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    if names and VERSION_TABLE not in names:
        raise MigrationError(
            "this database has tables but no Alembic version table; if its schema matches the models run "
            "`flask --app auction db stamp head`, then `db upgrade`"
        )


def upgrade(url: str, revision: str = "head") -> None:
    _check_versioned(url)
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def stamp(url: str, revision: str = "head") -> None:
    command.stamp(alembic_config(url), revision)


def next_revision_id() -> str:
    numbers = [int(s.revision) for s in scripts().walk_revisions() if s.revision.isdigit()]
    return f"{max(numbers, default=0) + 1:04d}"


def new_revision(url: str, message: str, autogenerate: bool = True) -> Script:
    """Write the next numbered revision; with autogenerate, diff the models against `url`."""
    script = command.revision(
        alembic_config(url), message=message, autogenerate=autogenerate, rev_id=next_revision_id()
    )
    if not isinstance(script, Script):
        raise MigrationError("alembic did not write a revision")
    return script


@dataclass(frozen=True)
class RenderedMigration:
    revision: str
    path: Path
    sql: str


def _slug(script: Script) -> str:
    return Path(script.path).stem


def render_migration_sql(script: Script) -> str:
    """Alembic's offline upgrade SQL for MariaDB, from the previous revision to `script`."""
    output = io.StringIO()
    down = script.down_revision
    if isinstance(down, tuple):
        raise MigrationError(f"revision {script.revision} merges branches; render it by hand")
    span = f"{down}:{script.revision}" if down else script.revision
    command.upgrade(alembic_config(OFFLINE_URL, output), span, sql=True)
    header = (
        f"-- Migration {script.revision}: {script.doc}\n"
        f"-- Generated from auction/migrations/versions/{Path(script.path).name} by\n"
        "--   flask --app auction db migration-sql\n"
        "-- Apply in order to a MariaDB database at the previous revision:\n"
        f"--   mariadb -u USER -p DBNAME < sql/migrations/{_slug(script)}.sql\n\n"
    )
    body = "\n".join(line.rstrip() for line in output.getvalue().splitlines())
    return header + re.sub(r"\n{3,}", "\n\n", body).strip() + "\n"


def render_all_migration_sql(directory: Path = SQL_MIGRATIONS_DIR) -> list[RenderedMigration]:
    return [
        RenderedMigration(s.revision, directory / f"{_slug(s)}.sql", render_migration_sql(s))
        for s in revisions_in_order()
    ]
