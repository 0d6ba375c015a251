"""The hot-auction and fan-out scenarios on each runtime run.py serves with (eventlet, gevent, threading),
one after the other in one run, printed side by side (docs/performance.md, The three runtimes).

    python -m bench.runtimes                                       # the scenarios' defaults, 10 s each
    python -m bench.runtimes --duration 3 --bidders 5 --watchers 20 --fanout-rate 5   # a smoke run
    python -m bench.runtimes --runtimes eventlet gevent            # a subset

Each scenario's own table is printed as it ends (and kept in bench/results/), then one table per scenario
with a column per runtime. Run it on a quiet machine: the other runtimes' numbers are only comparable
when nothing else shares the cores.
"""

from __future__ import annotations

import argparse
from typing import Any

from bench import fanout, hot_auction
from bench.common import RUNTIMES

# Rows that describe the run rather than measure it (they differ by runtime by construction).
_SKIP = {"scenario", "configuration", "when (UTC)"}


def rows_of(table: str) -> dict[str, str]:
    """A scenario's markdown table (`| metric | value |`) as a dict."""
    found = {}
    for line in table.splitlines()[2:]:
        cells = [cell.strip() for cell in line.strip().strip("|").split("|", 1)]
        if len(cells) == 2:
            found[cells[0]] = cells[1]
    return found


def side_by_side(title: str, by_runtime: dict[str, dict[str, str]]) -> str:
    runtimes = list(by_runtime)
    metrics: list[str] = []
    for rows in by_runtime.values():
        metrics += [metric for metric in rows if metric not in metrics and metric not in _SKIP]
    lines = [f"### {title}", "", "| metric | " + " | ".join(runtimes) + " |", "| --- |" + " --- |" * len(runtimes)]
    lines += [f"| {m} | " + " | ".join(by_runtime[r].get(m, "") for r in runtimes) + " |" for m in metrics]
    return "\n".join(lines)


def scenario_args(module: Any, runtime: str, argv: list[str]) -> Any:
    return module.parser().parse_args(["--server", runtime, *argv])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runtimes", nargs="+", choices=RUNTIMES, default=list(RUNTIMES))
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of load per scenario and runtime")
    parser.add_argument("--bidders", type=int, help="hot auction: bidders (its default: 200)")
    parser.add_argument("--hot-rate", type=float, default=0, help="hot auction: open-loop bids/s (0: closed loop)")
    parser.add_argument("--watchers", type=int, help="fan-out: watchers (its default: 2,000)")
    parser.add_argument("--fanout-rate", type=float, help="fan-out: bids/s (its default: 50)")
    args = parser.parse_args(argv)

    common = ["--duration", str(args.duration)]
    hot = [*common, "--rate", str(args.hot_rate)] + (["--bidders", str(args.bidders)] if args.bidders else [])
    fan = [*common]
    fan += ["--watchers", str(args.watchers)] if args.watchers else []
    fan += ["--rate", str(args.fanout_rate)] if args.fanout_rate else []
    tables = []
    for title, module, extra in (("hot auction", hot_auction, hot), ("fan-out", fanout, fan)):
        by_runtime = {runtime: rows_of(module.run(scenario_args(module, runtime, extra))) for runtime in args.runtimes}
        tables.append(side_by_side(title, by_runtime))
    print("\n\n" + "\n\n".join(tables), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
