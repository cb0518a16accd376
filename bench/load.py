"""The load generator: signed Slack interaction requests from its own process.

`python -m bench.load SPEC.json OUT.json` reads the target URL, the signing secret, the concurrency and
the request bodies, sends them from that many concurrent clients, and writes each request's HTTP status
and latency (a status of 0 is a failed connection, e.g. after the server was killed).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import sys
import time
from typing import Any

import aiohttp


def signed_headers(body: bytes, secret: str) -> dict[str, str]:
    stamp = str(int(time.time()))
    digest = hmac.new(secret.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}",
            "Content-Type": "application/x-www-form-urlencoded"}


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    bodies = [b.encode() for b in spec["bodies"]]
    results: list[tuple[int, float]] = [(0, 0.0)] * len(bodies)
    next_index = iter(range(len(bodies)))
    connector = aiohttp.TCPConnector(limit=spec["concurrency"])
    timeout = aiohttp.ClientTimeout(total=10)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        async def client() -> None:
            for i in next_index:
                started = time.perf_counter()
                try:
                    async with session.post(spec["url"], data=bodies[i],
                                            headers=signed_headers(bodies[i], spec["secret"])) as response:
                        await response.read()
                        status = response.status
                except (TimeoutError, aiohttp.ClientError):
                    status = 0
                results[i] = (status, time.perf_counter() - started)

        began = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(spec["concurrency"])))
        wall = time.perf_counter() - began
    return {"wall_s": wall, "results": results}


def main() -> None:
    spec = json.loads(open(sys.argv[1], encoding="utf-8").read())
    out = asyncio.run(run(spec))
    with open(sys.argv[2], "w", encoding="utf-8") as handle:
        json.dump(out, handle)


if __name__ == "__main__":
    main()
