"""Webhook load generator (aiohttp): posts every body in the spec with C concurrent senders, as fast as the
endpoint answers, then the same bodies again. Driven by bench.webhooks through READY / GO / LOADED / RESULT."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from typing import Any

import aiohttp

from bench.loadgen import bucket_ms


async def send_all(http: aiohttp.ClientSession, spec: dict[str, Any], bodies: list[str]) -> dict[str, Any]:
    hist: Counter[int] = Counter()
    outcomes: Counter[str] = Counter()
    queue = list(reversed(bodies))
    headers = {"asaas-access-token": spec["token"], "Content-Type": "application/json"}

    urls = spec["urls"]

    async def worker(index: int) -> None:
        url = urls[index % len(urls)]  # senders split evenly over the server processes
        while queue:
            body = queue.pop()
            started = time.perf_counter()
            async with http.post(url, data=body, headers=headers) as response:
                answer = await response.json(content_type=None)
            hist[bucket_ms(time.perf_counter() - started)] += 1
            outcomes[f"{response.status} {answer.get('outcome', answer.get('error', '?'))}"] += 1

    started = time.monotonic()
    await asyncio.gather(*(worker(i) for i in range(int(spec["concurrency"]))))
    return {"seconds": time.monotonic() - started, "hist": dict(hist), "outcomes": dict(outcomes)}


async def main(spec: dict[str, Any]) -> dict[str, Any]:
    bodies = [json.dumps(b) for b in spec["bodies"]]
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        print("READY", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        first = await send_all(http, spec, bodies)
        again = await send_all(http, spec, bodies)
        print("LOADED", flush=True)
    return {"first": first, "again": again}


if __name__ == "__main__":
    with open(sys.argv[1]) as fh:
        loaded = json.load(fh)
    print("RESULT " + json.dumps(asyncio.run(main(loaded))), flush=True)
