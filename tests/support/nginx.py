"""nginx in front of test servers, with the site file of deploy/ rendered exactly as production renders it."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.faults import RedisServer, wait_for
from tests.support.server import ROOT, free_port

sys.path.insert(0, str(ROOT / "deploy"))
import render

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def nginx_available() -> bool:
    return os.path.exists(NGINX)


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 / localhost that the test's clients trust (and nobody else)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@dataclass
class Nginx:
    """nginx (its own prefix, pid file and logs under `folder`) in front of 127.0.0.1:`site_ports`."""

    folder: Path
    site_ports: list[int]
    https_port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    def start(self) -> Nginx:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.cert, key = self_signed_certificate(self.folder)
        site = render.render_nginx(
            render.settings(
                {
                    "LEILAO_SERVER_NAME": "localhost 127.0.0.1",
                    "LEILAO_TLS_CERTIFICATE": str(self.cert),
                    "LEILAO_TLS_CERTIFICATE_KEY": str(key),
                    "LEILAO_SITE_PORTS": ",".join(map(str, self.site_ports)),
                    "LEILAO_STATIC_ROOT": str(ROOT / "static"),
                    "LEILAO_HTTPS_PORT": f"127.0.0.1:{self.https_port}",
                    "LEILAO_HTTP_PORT": f"127.0.0.1:{self.http_port}",
                    "LEILAO_LISTEN_IPV6": "off",
                }
            )
        )
        (self.folder / "leilao.conf").write_text(site)
        # The wrapper Debian's /etc/nginx/nginx.conf would be; as root the workers stay root so they can
        # use the test's private folders.
        user = "user root;\n" if os.geteuid() == 0 else ""
        temp = "\n".join(
            f"    {name}_temp_path {self.folder / name};"
            for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        (self.folder / "nginx.conf").write_text(
            f"{user}daemon off;\nworker_processes 1;\npid {self.folder / 'nginx.pid'};\n"
            f"error_log {self.folder / 'error.log'} info;\nevents {{ worker_connections 1024; }}\n"
            f"http {{\n    include /etc/nginx/mime.types;\n    access_log {self.folder / 'access.log'};\n{temp}\n"
            f"    include {self.folder / 'leilao.conf'};\n}}\n"
        )
        self.process = subprocess.Popen(
            [
                NGINX,
                "-p",
                str(self.folder),
                "-c",
                str(self.folder / "nginx.conf"),
                "-e",
                str(self.folder / "error.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=open(self.folder / "stderr.log", "ab"),  # noqa: SIM115
        )
        wait_for(self._listening, timeout=15, what="nginx")
        return self

    def _listening(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"nginx exited: {self.log()}")
        import socket

        try:
            with socket.create_connection(("127.0.0.1", self.https_port), timeout=0.5):
                return True
        except OSError:
            return False

    def log(self) -> str:
        return "\n".join(
            (self.folder / name).read_text(errors="replace")
            for name in ("stderr.log", "error.log")
            if (self.folder / name).exists()
        )

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def topology(tmp_path, db_url, live_server_factory):
    """nginx on a free port in front of two site processes (the second without the scheduler) joined by a
    private Redis; yields (nginx, [server, server]). Their sockets' connects are logged (LOG_LEVEL=DEBUG)."""
    redis = RedisServer().start()
    https_port = free_port()
    env = {
        "PUBLIC_URL": f"https://127.0.0.1:{https_port}",
        "SOCKETIO_MESSAGE_QUEUE": redis.url,
        "SOCKETIO_CHANNEL": f"topology-{secrets.token_hex(4)}",
        "TRUSTED_PROXIES": "1",
        "LOG_LEVEL": "DEBUG",
        "WATCHERS_ANNOUNCE_INTERVAL": "0.2",
    }
    servers = [live_server_factory(db_url, **env), live_server_factory(db_url, **env, SCHEDULER_ENABLED="false")]
    nginx = Nginx(tmp_path / "nginx", [server.port for server in servers], https_port=https_port)
    try:
        nginx.start()
        yield nginx, servers
    finally:
        nginx.stop()
        redis.kill()
