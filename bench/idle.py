"""Scenario 4, idle connections: how many websocket connections one server process holds, and its memory
per connection (server RSS after connecting minus RSS before, divided by the connections).

    python -m bench.idle                            # 10,000 anonymous connections over 4 client processes, held 30 s
    python -m bench.idle --connections 2000 --duration 10
    python -m bench.idle --join                     # each connection also joins an auction room (a watcher)
"""

from __future__ import annotations

from typing import Any

from bench.common import (
    Monitor,
    base_parser,
    describe,
    env_options,
    raise_fd_limit,
    report,
    resource_rows,
    run_loadgens,
    split,
    stack,
)


def run(args: Any) -> str:
    limit = raise_fd_limit()
    env = env_options(args.env)
    with stack(args.server, bidders=0, auctions=1, servers_count=1, **env) as st:
        auction = st.seed.auction_ids[0]
        monitor = Monitor(st.pids)
        try:
            before = monitor.rss("server0")
            specs = []
            for share in split(args.connections, args.procs):
                spec: dict[str, Any] = {"urls": st.urls, "mode": "idle", "duration": args.duration, "drain": 0}
                # One try, 15 s: a server at its connection limit stops accepting; count it, don't wait.
                spec.update(connect_concurrency=200, connect_attempts=1, connect_timeout=15)
                if args.join:
                    spec["watchers"] = [[auction, share]]
                else:
                    spec["idle"] = share
                specs.append(spec)
            after: dict[str, int] = {}
            result = run_loadgens(specs, monitor, on_start=lambda: after.setdefault("rss", monitor.rss("server0")))
        finally:
            monitor.close()
        connected = result["connected"]
        grown = after["rss"] - before
        rows = {
            "connections asked / held / failed": f"{args.connections} / {connected} / {result['connect_failures']}",
            "time to connect (slowest client process)": f"{result['connect_seconds']:.1f}s",
            "dropped while held": result["lost_connections"],
            "server RSS before / with connections": f"{before / 2**20:.0f} MB / {after['rss'] / 2**20:.0f} MB",
            "memory per connection": f"{grown / max(connected, 1) / 1024:.1f} KB",
            "open-files limit (hard)": limit,
            **resource_rows(monitor),
        }
        config = describe(args, connections=args.connections, join=args.join, client_procs=args.procs)
        return report("idle connections", config, rows)


def parser() -> Any:
    p = base_parser(__doc__, procs=4, duration=30.0)
    p.add_argument("--connections", type=int, default=10_000)
    p.add_argument("--join", action="store_true", help="each connection joins the auction room")
    return p


if __name__ == "__main__":
    run(parser().parse_args())
