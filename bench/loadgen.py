"""Load generator for the simulator benchmark: runs in its own process, prints one JSON line.

    python bench/loadgen.py SPEC_JSON

SPEC: {"url", "method", "body" (optional, str), "content_type", "ca", "cert", "key",
       "seconds", "concurrency", "vary" (optional: "{n}" in the body is replaced by a counter)}
Reports requests completed, errors, elapsed seconds and latency percentiles. Measures; asserts
nothing.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import sys
import time
from typing import Any

import aiohttp


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    context = ssl.create_default_context(cafile=spec["ca"])
    if spec.get("cert"):
        context.load_cert_chain(spec["cert"], spec["key"])
    counter = 0
    done = 0
    errors = 0
    latencies: list[float] = []
    deadline = time.perf_counter() + float(spec["seconds"])
    headers = {
        "Content-Type": spec.get("content_type", "application/json"),
        "Accept": "application/json",
    }
    connector = aiohttp.TCPConnector(ssl=context, limit=int(spec["concurrency"]))

    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal counter, done, errors
            while time.perf_counter() < deadline:
                counter += 1
                body = spec.get("body")
                if body is not None and spec.get("vary"):
                    body = body.replace("{n}", str(counter))
                started = time.perf_counter()
                async with session.request(
                    spec["method"], spec["url"], data=body, headers=headers
                ) as response:
                    await response.read()
                    if response.status >= 400:
                        errors += 1
                latencies.append(time.perf_counter() - started)
                done += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(int(spec["concurrency"]))))
        elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float:
        return (
            latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else 0.0
        )

    return {
        "requests": done,
        "errors": errors,
        "seconds": elapsed,
        "rps": done / elapsed if elapsed else 0.0,
        "p50_ms": pct(0.5),
        "p99_ms": pct(0.99),
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(run(json.loads(sys.argv[1])))))
