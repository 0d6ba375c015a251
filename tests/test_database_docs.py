"""docs/database.md's install procedure works as written: least-privilege users, scripts, the site on top."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from auction import schema_sql, wallet
from auction.config import PROJECT_ROOT
from auction.demo import DEMO_PASSWORD
from tests.support.schema_compare import app_on, load_sql_file
from tests.test_accounts import csrf_token

DOC = PROJECT_ROOT / "docs" / "database.md"


def docs_setup_sql(database: str, suffix: str) -> list[str]:
    """The first SQL block of the doc, renamed to a throw-away database and users reachable over TCP."""
    block = re.search(r"```sql\n(.*?)```", DOC.read_text(), re.S)
    assert block, "docs/database.md has no ```sql block"
    sql = re.sub(r"^\s*--.*$", "", block.group(1), flags=re.M)
    sql = sql.replace("DATABASE auction ", f"DATABASE {database} ").replace("ON auction.*", f"ON {database}.*")
    sql = sql.replace("'auction'@", f"'auction_{suffix}'@").replace("'auction_admin'@", f"'auction_admin_{suffix}'@")
    sql = sql.replace("@'localhost'", "@'127.0.0.1'")
    return [statement.strip() for statement in sql.split(";") if statement.strip()]


def user_url(base: str, user: str, password: str, database: str) -> str:
    return make_url(base).set(username=user, password=password, database=database).render_as_string(hide_password=False)


@pytest.fixture
def docs_install(mariadb):
    suffix = uuid.uuid4().hex[:8]
    database = f"auction_docs_{suffix}"
    statements = docs_setup_sql(database, suffix)
    with mariadb.admin.connect() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)
    mariadb.created.append(database)
    base = mariadb.base_url.render_as_string(hide_password=False)
    yield {
        "site": user_url(base, f"auction_{suffix}", "a-long-random-password", database),
        "admin": user_url(base, f"auction_admin_{suffix}", "another-long-random-password", database),
    }
    with mariadb.admin.connect() as conn:
        for user in (f"auction_{suffix}", f"auction_admin_{suffix}"):
            conn.exec_driver_sql(f"DROP USER IF EXISTS '{user}'@'127.0.0.1'")


def test_docs_procedure_installs_with_least_privileges_and_the_site_runs(docs_install, tmp_path):
    load_sql_file(docs_install["admin"], schema_sql.SCHEMA_PATH)
    load_sql_file(docs_install["admin"], schema_sql.DEMO_PATH)

    site_engine = create_engine(docs_install["site"])
    with pytest.raises(DBAPIError, match="denied"), site_engine.connect() as conn:
        conn.exec_driver_sql("CREATE TABLE sneaky (id INT)")
    site_engine.dispose()

    app = app_on(docs_install["site"], tmp_path)
    db = app.extensions["auction.db"]
    try:
        assert db.transaction(wallet.audit) == []
        client = app.test_client()
        response = client.post(
            "/login", data={"username": "bob", "password": DEMO_PASSWORD, "csrf_token": csrf_token(client, "/login")}
        )
        assert response.status_code == 302
        home = client.get("/").get_data(as_text=True)
        assert "bob" in home and 'action="/logout"' in home

        # The site's user cannot change the schema: one clear line, no traceback, nothing dropped.
        result = app.test_cli_runner().invoke(args=["db", "downgrade", "base"])
        assert result.exit_code == 1 and "denied" in result.output and "Traceback" not in result.output
        assert db.transaction(wallet.audit) == []
    finally:
        db.dispose()
