"""README's "In short", docs/database.md and docs/deploy.md walked as an administrator runs them: their fenced
command blocks, extracted from the docs and run by bash in a terminal (password prompts answered with the
passwords the docs themselves set), against a scratch mariadbd (`skip-name-resolve`, binary logs on) and nginx.

What the walk changes in the text, and nothing else:
- the machine's paths (`/etc/leilao`, `/srv/leilao/app`, `/var/backups/leilao`, `/etc/nginx/sites-available`,
  `/tmp/leilao`) become folders of the test, and `/srv/leilao/app` is this checkout;
- `127.0.0.1:3306` (where the docs' MariaDB listens) becomes the scratch server's port; the `mariadb` clients find
  it through `~/.my.cnf`, as they would find Debian's server through /etc/mysql;
- the example dump name of the restore (`auction-20261201T0300Z.sql.gz`) becomes the dump the walk took, and the
  point-in-time example's values (binary log file and position, the logs' folder, the moment to stop at) become
  what that dump's comment says, the scratch server's datadir and a minute from now, as the page tells.
Commands that manage the machine (apt-get, adduser, git clone, systemctl, sudoedit, enabling the nginx site,
curl) are not run: `systemctl` is a stand-in that records what it was asked, `sudo` runs the command as this
(root) user, and `nginx -t` checks the rendered site inside a wrapper like Debian's nginx.conf. The settings an
administrator types with sudoedit are written into the copied files here (`edit`).
"""

from __future__ import annotations

import gzip
import os
import pty
import re
import select
import shutil
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from tests.conftest import IN_CI
from tests.support.faults import PrivateMariaDB
from tests.support.nginx import NGINX, nginx_available, render
from tests.support.server import ROOT, free_port

pytestmark = pytest.mark.skipif(
    not (shutil.which("mariadbd") and nginx_available()) and not IN_CI, reason="needs mariadbd and nginx"
)
ADMIN_PASSWORD = "the first admin's passphrase"
# The lines of the docs' blocks that manage the machine, not the site (see the module's docstring).
MACHINE = re.compile(
    r"^(sudo (apt-get|adduser|ln |rm -f /etc/nginx|chgrp|install -d -o leilao|cp deploy/systemd)|sudoedit|curl )"
)


def blocks(doc: str, heading: str, language: str = "sh") -> list[str]:
    """The fenced `language` blocks of the section under `heading` (up to the next heading of its level or above)."""
    text = (ROOT / doc).read_text()
    level = len(heading.split(" ", 1)[0])
    start = text.index(heading + "\n")
    following = re.search(rf"^#{{1,{level}}} ", text[start + len(heading) :], re.M)
    section = text[start : start + len(heading) + following.start()] if following else text[start:]
    return re.findall(rf"^```{language}\n(.*?)^```", section, re.M | re.S)


def logical_lines(block: str) -> list[str]:
    return [line for line in block.replace("\\\n", " ").splitlines() if line.strip()]


class Walk:
    """A scratch machine: the checkout at /srv/leilao/app, /etc/leilao, the scratch MariaDB, stand-ins."""

    def __init__(self, folder: Path, server: PrivateMariaDB) -> None:
        self.folder, self.server = folder, server
        self.app = folder / "srv-leilao-app"
        self.paths = {
            "/srv/leilao/app": str(self.app),
            "/etc/leilao": str(folder / "etc-leilao"),
            "/var/backups/leilao": str(folder / "backups"),
            "/etc/nginx/sites-available/leilao": str(folder / "nginx" / "leilao"),
            "/tmp/leilao": str(folder / "tmp-leilao"),
            "/var/lib/leilao": str(folder / "var-lib-leilao"),
            "127.0.0.1:3306": f"127.0.0.1:{server.port}",
        }
        self.app.mkdir()
        for entry in ROOT.iterdir():
            if entry.name not in {".venv", "instance", ".git"}:
                (self.app / entry.name).symlink_to(entry)
        (self.app / ".venv").symlink_to(sys.prefix)
        for name in ("etc-leilao", "backups", "nginx", "bin", "home", "var-lib-leilao"):
            (folder / name).mkdir()
        (folder / "home" / ".my.cnf").write_text(
            f"[client]\nport={server.port}\nsocket={server.folder / 'mariadbd.sock'}\n"
        )
        self._stand_ins()
        self.passwords: dict[str, str] = {}

    def _stand_ins(self) -> None:
        bin_ = self.folder / "bin"
        stand_ins = {
            "sudo": 'if [ "$1" = -u ]; then shift 2; fi\nexec "$@"\n',
            "systemctl": f'echo "$*" >> {self.folder / "systemctl.log"}\n',
            "nginx": (
                f'[ "$1" = -t ] || exit 1\nexec {NGINX} -t -p {self.folder / "nginx"} '
                f"-c {self.folder / 'nginx' / 'nginx.conf'} -e {self.folder / 'nginx' / 'error.log'}\n"
            ),
        }
        for name, body in stand_ins.items():
            (bin_ / name).write_text("#!/bin/sh\n" + body)
            (bin_ / name).chmod(0o755)
        (self.folder / "nginx" / "nginx.conf").write_text(
            f"pid {self.folder / 'nginx' / 'nginx.pid'};\nerror_log {self.folder / 'nginx' / 'error.log'};\n"
            f"events {{}}\nhttp {{ include /etc/nginx/mime.types; include {self.folder / 'nginx' / 'leilao'}; }}\n"
        )

    def learn_passwords(self, sql: str) -> None:
        """`-p` prompts are answered with the password the docs gave that user."""
        self.passwords.update(re.findall(r"CREATE USER '(\w+)'@'[^']+' IDENTIFIED BY '([^']+)'", sql))

    def text(self, command: str) -> str:
        for placeholder, value in self.paths.items():
            command = command.replace(placeholder, value)
        return command

    def edit(self, path: str, **values: str) -> None:
        """What the administrator types in with sudoedit (the machine's paths and ports already the walk's)."""
        file = Path(self.text(path))
        lines = [self.text(line) for line in file.read_text().splitlines() if line.split("=", 1)[0] not in values]
        file.write_text("\n".join([*lines, *(f"{k}={self.text(v)}" for k, v in values.items())]) + "\n")

    def run(self, block: str, *, stdin_file: str | None = None, env: dict[str, str] | None = None) -> str:
        """The block's lines, one bash script in a terminal, in the checkout; fails on the first failing line."""
        lines = [self.text(line) for line in logical_lines(block) if not MACHINE.match(line)]
        answers = []
        for line in lines:
            user = re.search(r"-u (\w+)\b.* -p\b", line)
            if user:
                answers.append(self.passwords[user.group(1)])
            if "create-admin" in line:
                answers += [ADMIN_PASSWORD, ADMIN_PASSWORD]
        script = "set -e\n" + "\n".join(lines) + "\n"
        if stdin_file is not None:
            script = f"set -e\n{lines[0]} < {stdin_file}\n"
        return self._terminal(script, answers, env or {})

    def _terminal(self, script: str, answers: list[str], env: dict[str, str]) -> str:
        environment = {
            "PATH": f"{self.folder / 'bin'}:{self.app / '.venv' / 'bin'}:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": str(self.folder / "home"),
            "LANG": "C.UTF-8",
            **env,
        }
        pid, terminal = pty.fork()
        if pid == 0:  # the child: bash in the checkout, the terminal its own
            os.chdir(self.app)
            os.execve("/bin/bash", ["bash", "-c", script], environment)
        output, deadline = b"", time.monotonic() + 60
        while time.monotonic() < deadline:
            ready, _, _ = select.select([terminal], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(terminal, 4096)
                except OSError:  # the terminal closed: bash is done
                    break
                if not chunk:
                    break
                output += chunk
                prompt = re.search(rb"(password|confirmation): *$", output.rsplit(b"\n", 1)[-1], re.I)
                if prompt and answers:
                    os.write(terminal, answers.pop(0).encode() + b"\n")
        _, status = os.waitpid(pid, 0)
        text = output.decode(errors="replace")
        assert os.waitstatus_to_exitcode(status) == 0, f"{script}\n---\n{text}"
        assert not answers, f"prompts not met: {len(answers)} answers left\n{text}"
        return text

    def sql(self, sql: str) -> str:
        """As the MariaDB root user, as database.md says: `sudo mariadb`."""
        path = self.folder / "block.sql"
        path.write_text(sql)
        return self.run("sudo mariadb", stdin_file=str(path))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    mariadbd = PrivateMariaDB(tmp_path_factory.mktemp("docs-mariadbd"), binlog=True).install().start()
    yield mariadbd
    mariadbd.kill()


@pytest.fixture
def walk(server, tmp_path):
    yield Walk(tmp_path, server)
    root = create_engine(server.url_for("mysql"), isolation_level="AUTOCOMMIT", pool_size=1)
    with root.connect() as conn:
        for statement in (
            "DROP DATABASE IF EXISTS auction",
            "DROP DATABASE IF EXISTS auction_restored",
            "DROP USER IF EXISTS 'auction'@'127.0.0.1', 'auction_admin'@'127.0.0.1', 'backup'@'localhost', "
            "'auction'@'localhost', 'auction_admin'@'localhost'",
        ):
            conn.exec_driver_sql(statement)
    root.dispose()


def test_database_md_install_upgrade_backup_and_restore_work_as_written(walk):
    (users,) = blocks("docs/database.md", "### 1. Create the database and its users", "sql")
    walk.learn_passwords(users)
    walk.sql(users)
    install = [
        *blocks("docs/database.md", "### 2. Load the schema (and, if you want, the demo data)"),
        *blocks("docs/database.md", "### 3. Point the site at it"),
        *blocks("docs/database.md", "### 4. Create the first admin and check the ledger"),
    ]
    assert "ledger OK" in walk.run("\n".join(install))
    # Upgrading: where the database is, then every newer revision (none: it was installed at the newest).
    upgrade = blocks("docs/database.md", "## Upgrading an existing database")[0]
    walk.run(upgrade)
    # Backups: the backup user, the nightly dump, then the restore beside the live database, audited.
    (backup_user,) = blocks("docs/database.md", "### 1. Turn the binary logs on (once)", "sql")
    walk.learn_passwords(backup_user)
    walk.sql(backup_user)
    walk.run(blocks("docs/database.md", "### 2. The nightly dump (under load, no downtime)")[0])
    (dump,) = Path(walk.paths["/var/backups/leilao"]).glob("auction-*.sql.gz")
    walk.paths["auction-20261201T0300Z.sql.gz"] = dump.name
    restored = walk.run(blocks("docs/database.md", "### 3. Restore into a new database and check it")[0])
    assert "ledger OK" in restored
    # Point in time: a change after the dump reaches the restored database through the binary logs.
    walk.sql("UPDATE auction.users SET email = 'root-after-dump@example.com' WHERE username = 'root';")
    file, position = re.search(
        r"MASTER_LOG_FILE='([^']+)', MASTER_LOG_POS=(\d+)", gzip.decompress(dump.read_bytes()).decode()
    ).groups()
    walk.paths.update(
        {
            " /var/lib/mysql/binlog.000043": "",  # the example's second file: the scratch server wrote one
            "/var/lib/mysql": str(walk.server.folder / "data"),
            "binlog.000042": file,
            "--start-position=1337": f"--start-position={position}",
            "2026-12-01 14:05:00": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(time.time() + 60)),
        }
    )
    rolled = walk.run(blocks("docs/database.md", "### 4. Point in time: roll forward with the binary logs")[0])
    assert "ledger OK" in rolled
    emails = walk.sql("SELECT email FROM auction_restored.users WHERE username = 'root';")
    assert "root-after-dump@example.com" in emails


def test_readme_in_short_then_deploy_md_settings_certificate_nginx_schema_and_processes_work_as_written(walk):
    (in_short,) = blocks("README.md", "## Production database (MariaDB)")
    walk.learn_passwords(in_short)
    assert re.search(r"admin root created \(id \d+\)", walk.run(in_short))
    walk.run(blocks("docs/deploy.md", "## 3. Settings")[0])
    # What the administrator types in with sudoedit (the Asaas key as Asaas writes it: it starts with `$`).
    walk.edit("/etc/leilao/leilao.env", SECRET_KEY="s" * 48, ASAAS_API_KEY="$aact_prod_000scratch")
    https, http = free_port(), free_port()
    certificate = blocks("docs/deploy.md", "## 4. TLS certificate and the nginx site")
    walk.run(certificate[0])
    walk.edit(
        "/etc/leilao/deploy.env",
        LEILAO_SERVER_NAME="leilao.test",
        LEILAO_TLS_CERTIFICATE="/etc/leilao/tls/cert.pem",
        LEILAO_TLS_CERTIFICATE_KEY="/etc/leilao/tls/key.pem",
        LEILAO_STATIC_ROOT="/srv/leilao/app/static",
        LEILAO_HTTPS_PORT=f"127.0.0.1:{https}",
        LEILAO_HTTP_PORT=str(http),
    )
    # render.py reads /etc/leilao/deploy.env by default: the scratch one is handed over by its environment.
    deploy_env = render.read_env_file(Path(walk.text("/etc/leilao/deploy.env")))
    walk.run(certificate[1], env=deploy_env)
    assert (
        f"return 301 https://$host:{https}$request_uri;"
        in Path(walk.text("/etc/nginx/sites-available/leilao")).read_text()
    )
    processes = blocks("docs/deploy.md", "## 5. The processes")[0]
    walk.run(processes, env=deploy_env)
    assert (
        "enable --now leilao-site@5001\nenable --now leilao-site@5002\n" in (walk.folder / "systemctl.log").read_text()
    )
