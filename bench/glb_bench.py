"""Benchmark of the local provider's global load balancer: proxy overhead and failover time.

    .venv/bin/python bench/glb_bench.py [--seconds 5] [--concurrency 16] [--rounds 3]

Three processes, so that no two of them share an interpreter lock:

* backends (``--role backends``): three simulated clusters (asia-east1, europe-west1,
  us-central1), each serving a 2-replica Deployment through a LoadBalancer Service; it takes
  fault commands (``down asia``, ``up asia``, ``unreachable asia``, ``reachable asia``) on stdin;
* this process: a :class:`~kfed_local.glb.LocalProvider` (default settings, the header trusted)
  with one global address in front of the three clusters;
* load (``--role load``): aiohttp clients with keep-alive, ``--concurrency`` at a time.

Overhead: the same backend (asia's load balancer) requested directly and through the global
address with ``X-Client-Region: asia-east1``, one request at a time (latency) and with
concurrency (requests per second), in one run, as ratios. Failover: requests with the Asia
header fired every 10 ms while asia's cluster is taken down (connections refused) or partitioned
(accepted, never answered; only the health checks can tell), timed from the fault to the first
request served elsewhere, and to the last request that was not (sent to asia and lost, or hung):
from then on every request is served elsewhere. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import socket
import statistics
import subprocess
import sys
import time
from typing import Any

import aiohttp

from kfed_core.providers import Backend, GlobalLoadBalancer
from kfed_local.glb import LocalProvider, LocalSettings

PLACES = {
    "asia": ("asia-east1", "asia-east1-a"),
    "eu": ("europe-west1", "europe-west1-b"),
    "us": ("us-central1", "us-central1-b"),
}
ASIA = {"X-Client-Region": "asia-east1"}


# -- role: backends ----------------------------------------------------------------------------


async def serve_backends() -> None:
    from kfed_local.sim.api import RequestContext
    from kfed_local.sim.cluster import SimOptions
    from kfed_local.sim.config import ClusterSpec
    from kfed_local.sim.fleet import SimFleet

    specs = [
        ClusterSpec(name=n, region=r, zones=(z,), nodes=1, pod_start_delay=0.05)
        for n, (r, z) in PLACES.items()
    ]
    async with SimFleet(specs, options=SimOptions(eviction_timeout=1.0)) as fleet:
        addresses: dict[str, str] = {}
        for name, cluster in fleet.clusters.items():
            api, ctx = cluster.api, RequestContext(field_manager="bench")
            deployments = api.registry.get("apps", "v1", "deployments")
            services = api.registry.get("", "v1", "services")
            assert deployments is not None and services is not None
            with socket.socket() as probe:
                probe.bind((cluster.address, 0))
                port = probe.getsockname()[1]
            labels = {"app": "web"}
            container = {"name": "web", "image": "nginx"}
            pod = {"metadata": {"labels": labels}, "spec": {"containers": [container]}}
            deployment = {"replicas": 2, "selector": {"matchLabels": labels}, "template": pod}
            service = {"type": "LoadBalancer", "selector": labels, "ports": [{"port": port}]}
            web = {"metadata": {"name": "web"}}
            api.create(deployments, "default", {**web, "spec": deployment}, ctx)
            api.create(services, "default", {**web, "spec": service}, ctx)
            addresses[name] = f"{cluster.address}:{port}"
        async with aiohttp.ClientSession() as session:
            for address in addresses.values():
                for _ in range(600):  # 30 s at most
                    with contextlib.suppress(aiohttp.ClientError):
                        async with session.get(f"http://{address}/") as answer:
                            if answer.status == 200:
                                break
                    await asyncio.sleep(0.05)
        print(json.dumps(addresses), flush=True)
        actions = {"down": ("set_down", True), "up": ("set_down", False)}
        actions |= {
            "unreachable": ("set_unreachable", True),
            "reachable": ("set_unreachable", False),
        }
        while line := await asyncio.to_thread(sys.stdin.readline):
            verb, name = line.split()
            method, value = actions[verb]
            await getattr(fleet.cluster(name), method)(value)
            print("ok", flush=True)


# -- role: load --------------------------------------------------------------------------------


async def generate_load(spec: dict[str, Any]) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + float(spec["seconds"])
    connector = aiohttp.TCPConnector(limit=int(spec["concurrency"]))
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                async with session.get(spec["url"], headers=spec["headers"]) as answer:
                    await answer.read()
                    errors += answer.status != 200
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(int(spec["concurrency"]))))
        elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return {"rps": len(latencies) / elapsed, "p50": pct(0.5), "p99": pct(0.99), "errors": errors}


async def load(url: str, headers: dict[str, str], seconds: float, concurrency: int) -> Any:
    spec = {"url": url, "headers": headers, "seconds": seconds, "concurrency": concurrency}
    process = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--role", "load", json.dumps(spec), stdout=subprocess.PIPE
    )
    out, _ = await process.communicate()
    return json.loads(out)


# -- the run -----------------------------------------------------------------------------------


class Backends:
    """The backends process, with its fault commands."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    async def command(self, text: str) -> None:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(f"{text}\n".encode())
        await self.process.stdin.drain()
        assert (await self.process.stdout.readline()).strip() == b"ok"


async def measure_failover(
    provider: LocalProvider, backends: Backends, address: str, fault: str, lift: str
) -> tuple[float, float]:
    """Seconds from the fault to the first answer from elsewhere, and to the last request that
    did not get one (sent to the lost cluster, or never answered); after it, all are."""
    probes: list[tuple[float, list[str]]] = []  # (sent at, [backend] once answered)
    tasks: set[asyncio.Task[None]] = set()
    session = aiohttp.ClientSession(  # no pool limit: hung probes must not block new ones
        connector=aiohttp.TCPConnector(limit=0), timeout=aiohttp.ClientTimeout(total=60)
    )

    async def probe(outcome: list[str]) -> None:
        try:
            async with session.get(f"http://{address}/", headers=ASIA) as answer:
                await answer.read()
                outcome.append(answer.headers.get("X-Kfed-Backend", f"HTTP {answer.status}"))
        except (aiohttp.ClientError, TimeoutError):
            outcome.append("error")

    def fire() -> None:
        outcome: list[str] = []
        probes.append((time.monotonic(), outcome))
        task = asyncio.create_task(probe(outcome))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    def elsewhere(outcome: list[str]) -> bool:
        return bool(outcome) and outcome[0] not in ("asia", "error") and "HTTP" not in outcome[0]

    for _ in range(20):
        fire()
        await asyncio.sleep(0.01)
    start = time.monotonic()
    await backends.command(fault)
    while True:
        fire()
        await asyncio.sleep(0.01)
        after = [(t, o) for t, o in probes if t > start]
        recent = [o for t, o in after if t < time.monotonic() - 0.2][-50:]
        if len(recent) == 50 and all(elsewhere(o) for o in recent):
            break
        if time.monotonic() - start > 30:
            raise SystemExit("glb_bench: no failover within 30 s")
    first = min(t for t, o in after if elsewhere(o))  # sent at; answered within a few ms
    settled = max((t for t, o in after if not elsewhere(o)), default=start)
    await backends.command(lift)
    proxy = provider.proxy("bench")
    for _ in range(600):  # healthy, with no failure on record, before the next round
        if proxy.is_serving("asia") and proxy.checker.state("asia").failures == 0:
            break
        await asyncio.sleep(0.05)
    else:
        raise SystemExit("glb_bench: asia did not come back within 30 s")
    for task in list(tasks):
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await session.close()
    return first - start, settled - start


async def main(seconds: float, concurrency: int, rounds: int) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--role",
        "backends",
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert process.stdout is not None
    addresses: dict[str, str] = json.loads(await process.stdout.readline())
    backends = Backends(process)
    provider = LocalProvider(LocalSettings(trust_client_region_header=True))
    try:
        status = await provider.ensure(
            GlobalLoadBalancer(
                name="bench",
                ingress="default/web",
                backends=[
                    Backend(cluster=n, region=r, zone=z, address=addresses[n])
                    for n, (r, z) in PLACES.items()
                ],
            )
        )
        direct, proxied = f"http://{addresses['asia']}/", f"http://{status.address}/"
        print(f"proxy overhead ({seconds:g} s per case, load generator in another process):")
        print(f"  {'case':34} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
        for conc in sorted({1, concurrency}):
            base = await load(direct, {}, seconds, conc)
            cpu = time.process_time()  # this process runs the proxy (and idle health checks)
            via = await load(proxied, ASIA, seconds, conc)
            cpu_us = (time.process_time() - cpu) / (via["rps"] * seconds) * 1e6
            for label, r in ((f"direct, {conc} conn", base), (f"via global address, {conc}", via)):
                print(
                    f"  {label:34} {r['rps']:8.0f} {r['p50']:8.2f} {r['p99']:8.2f} {r['errors']:7d}"
                )
            print(
                f"  {'ratio (proxy / direct)':34} {via['rps'] / base['rps']:8.2f} "
                f"{via['p50'] / base['p50']:8.2f} {via['p99'] / base['p99']:8.2f}   "
                f"(+{(via['p50'] - base['p50']) * 1000:.0f} us at p50; proxy CPU "
                f"{cpu_us:.0f} us per request)"
            )
        print(f"\nfailover of the Asia client, {rounds} rounds each (default health settings):")
        for fault, lift, what in (
            ("down asia", "up asia", "cluster down (connections refused)"),
            ("unreachable asia", "reachable asia", "partition (accepted, never answered)"),
        ):
            results = [
                await measure_failover(provider, backends, status.address, fault, lift)
                for _ in range(rounds)
            ]
            first = [r[0] for r in results]
            settled = [r[1] for r in results]
            print(
                f"  {what:38} first request served elsewhere: median "
                f"{statistics.median(first):.2f} s (max {max(first):.2f}); every request "
                f"elsewhere after: median {statistics.median(settled):.2f} s "
                f"(max {max(settled):.2f})"
            )
    finally:
        await provider.close()
        assert process.stdin is not None
        process.stdin.close()
        await process.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--role", choices=["main", "backends", "load"], default="main")
    parser.add_argument("spec", nargs="?", default="{}")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.role == "backends":
        asyncio.run(serve_backends())
    elif args.role == "load":
        print(json.dumps(asyncio.run(generate_load(json.loads(args.spec)))))
    else:
        asyncio.run(main(args.seconds, args.concurrency, args.rounds))
