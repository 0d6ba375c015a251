"""Render the deployment files from deploy.env (docs/deploy.md): the nginx site and the systemd environment.

    python deploy/render.py nginx  [--env /etc/leilao/deploy.env] > /etc/nginx/sites-available/leilao
    python deploy/render.py ports  [--env ...]     # the site processes' ports, one per line (for systemctl)

The settings (deploy.env, `NAME=value` lines, or the environment):

| setting | default | meaning |
| --- | --- | --- |
| `LEILAO_SERVER_NAME` | (required) | the site's host name, e.g. `leilao.example` |
| `LEILAO_TLS_CERTIFICATE` | `/etc/letsencrypt/live/$LEILAO_SERVER_NAME/fullchain.pem` | certificate chain (PEM) |
| `LEILAO_TLS_CERTIFICATE_KEY` | `/etc/letsencrypt/live/$LEILAO_SERVER_NAME/privkey.pem` | its private key (PEM) |
| `LEILAO_SITE_PORTS` | `5001,5002` | ports of the site processes (`leilao-site@PORT`), all on 127.0.0.1 |
| `LEILAO_STATIC_ROOT` | `/srv/leilao/app/static` | the checkout's `static/` folder, served by nginx |
| `LEILAO_HTTPS_PORT` | `443` | where nginx listens for TLS: a port, or `ADDRESS:PORT` for one address only |
| `LEILAO_HTTP_PORT` | `80` | where nginx redirects plain HTTP to HTTPS (the redirect keeps a port other than 443) |
| `LEILAO_LISTEN_IPV6` | `on` | a bare port is also listened on for IPv6 (`[::]:PORT`); `off`: IPv4 only (no IPv6) |
| `LEILAO_SOCKETS_PER_ADDRESS` | `200` | requests opening a Socket.IO session at once per client address (nginx) |
| `LEILAO_HANDSHAKES_PER_SECOND` | `20` | new Socket.IO sessions per second per client address (burst as many) |

A port setting may carry an address (`127.0.0.1:8443`, `[2001:db8::1]:443`): nginx then listens on that address
only, whatever `LEILAO_LISTEN_IPV6` says.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from pathlib import Path

HERE = Path(__file__).resolve().parent


def read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip().strip('"').strip("'")
    return values


def settings(env: Mapping[str, str]) -> dict[str, str]:
    name = env.get("LEILAO_SERVER_NAME", "").strip()
    if not name:
        raise SystemExit("LEILAO_SERVER_NAME is required (the site's host name)")
    ports = [p.strip() for p in env.get("LEILAO_SITE_PORTS", "5001,5002").split(",") if p.strip()]
    if not ports or not all(p.isdigit() for p in ports):
        raise SystemExit("LEILAO_SITE_PORTS must be a comma-separated list of ports")
    https = env.get("LEILAO_HTTPS_PORT") or "443"
    ipv6 = (env.get("LEILAO_LISTEN_IPV6") or "on").lower() not in {"off", "false", "0", "no"}
    return {
        "SERVER_NAME": name,
        "TLS_CERTIFICATE": env.get("LEILAO_TLS_CERTIFICATE") or f"/etc/letsencrypt/live/{name}/fullchain.pem",
        "TLS_CERTIFICATE_KEY": env.get("LEILAO_TLS_CERTIFICATE_KEY") or f"/etc/letsencrypt/live/{name}/privkey.pem",
        "STATIC_ROOT": (env.get("LEILAO_STATIC_ROOT") or "/srv/leilao/app/static").rstrip("/"),
        "HTTPS_LISTEN": listen_directives(https, "ssl http2", ipv6),
        "HTTP_LISTEN": listen_directives(env.get("LEILAO_HTTP_PORT") or "80", "", ipv6),
        "HTTPS_REDIRECT_PORT": "" if port_of(https) == "443" else f":{port_of(https)}",
        "UPSTREAM_SERVERS": "\n".join(f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;" for port in ports),
        "PORTS": "\n".join(ports),
        "SOCKETS_PER_ADDRESS": env.get("LEILAO_SOCKETS_PER_ADDRESS") or "200",
        "HANDSHAKES_PER_SECOND": env.get("LEILAO_HANDSHAKES_PER_SECOND") or "20",
    }


def port_of(setting: str) -> str:
    """The port of a port setting (`8443`, `127.0.0.1:8443`, `[::1]:8443`)."""
    port = setting.rpartition(":")[2]
    if not port.isdigit():
        raise SystemExit(f"not a port or ADDRESS:PORT: {setting!r}")
    return port


def listen_directives(setting: str, options: str, ipv6: bool) -> str:
    """nginx `listen` lines: an address given is the only one; a bare port is every IPv4 (and IPv6) address."""
    port_of(setting)
    suffix = f" {options};" if options else ";"
    addresses = [setting] if ":" in setting or not ipv6 else [setting, f"[::]:{setting}"]
    return "\n".join(f"    listen {address}{suffix}" for address in addresses)


def render_nginx(values: Mapping[str, str]) -> str:
    text = (HERE / "nginx" / "leilao.conf.in").read_text()
    for key, value in values.items():
        text = text.replace(f"@{key}@", value)
    if "@" in "".join(line for line in text.splitlines() if not line.lstrip().startswith("#")):
        raise SystemExit("an @PLACEHOLDER@ was left unrendered")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["nginx", "ports"])
    parser.add_argument("--env", type=Path, default=Path("/etc/leilao/deploy.env"))
    args = parser.parse_args(argv)
    try:
        from_file = read_env_file(args.env) if args.env.exists() else {}
    except OSError as exc:  # deploy.env is root's and group leilao's: said plainly, never an empty port list
        raise SystemExit(f"cannot read {args.env}: {exc.strerror} (run it with sudo)") from exc
    env = {**from_file, **os.environ}
    values = settings(env)
    sys.stdout.write(render_nginx(values) if args.what == "nginx" else values["PORTS"] + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
