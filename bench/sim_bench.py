"""Benchmark of the simulated clusters: memory per cluster and requests per second.

    make bench                      # or: .venv/bin/python bench/sim_bench.py [--seconds 5]

What it measures, all in one run on this machine:

* memory: the process's resident set size before and after starting the seed's nine clusters
  (per cluster = difference / 9), and again after loading every cluster with 50 ConfigMaps and a
  3-replica Deployment;
* throughput of one cluster's API server for get, list (50 objects) and server-side apply (each
  request changes the object, so every one is a real write), driven over HTTPS with keep-alive by
  a load generator in a separate process (bench/loadgen.py);
* a baseline in the same run: the same aiohttp HTTPS stack answering a fixed JSON document of
  the size of a ConfigMap, so the ratio shows what kfed's API logic costs on top of HTTP + TLS.

It prints figures and ratios; it asserts nothing (timings vary by machine).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import ssl
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from aiohttp import web

from kfed_core import pki
from kfed_local.sim.api import RequestContext
from kfed_local.sim.config import preset
from kfed_local.sim.fleet import SimFleet

HERE = Path(__file__).resolve().parent


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def load(spec: dict[str, Any]) -> dict[str, Any]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(HERE / "loadgen.py"),
        json.dumps(spec),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"load generator failed: {err.decode()}")
    result: dict[str, Any] = json.loads(out)
    return result


async def baseline_server(folder: Path, document: bytes) -> tuple[web.AppRunner, str, Path]:
    now = dt.datetime.now(dt.UTC)
    ca = pki.create_ca("bench-ca", now=now)
    leaf = pki.issue_key_pair(
        ca, pki.LeafSpec(common_name="bench", ip_addresses=("127.0.0.1",), server=True), now=now
    )
    (folder / "b.crt").write_bytes(leaf.cert_pem)
    (folder / "b.key").write_bytes(leaf.key_pem)
    (folder / "b-ca.crt").write_bytes(ca.cert_pem)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(folder / "b.crt", folder / "b.key")

    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=document, content_type="application/json")

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"https://127.0.0.1:{port}", folder / "b-ca.crt"


def populate(fleet: SimFleet) -> None:
    for cluster in fleet.clusters.values():
        api = cluster.api
        ctx = RequestContext(field_manager="bench")
        namespaces = api.registry.get("", "v1", "namespaces")
        configmaps = api.registry.get("", "v1", "configmaps")
        deployments = api.registry.get("apps", "v1", "deployments")
        assert namespaces and configmaps and deployments
        api.create(namespaces, "", {"metadata": {"name": "bench"}}, ctx)
        for i in range(50):
            api.create(
                configmaps,
                "bench",
                {
                    "metadata": {"name": f"cm-{i}", "labels": {"i": str(i)}},
                    "data": {"key": "x" * 200},
                },
                ctx,
            )
        api.create(
            deployments,
            "bench",
            {
                "metadata": {"name": "web"},
                "spec": {
                    "replicas": 3,
                    "selector": {"matchLabels": {"app": "web"}},
                    "template": {
                        "metadata": {"labels": {"app": "web"}},
                        "spec": {"containers": [{"name": "web", "image": "nginx"}]},
                    },
                },
            },
            ctx,
        )


async def main(seconds: float, concurrency: int) -> None:
    before = rss_mib()
    fleet = SimFleet(preset("seed"))
    await fleet.start()
    started = rss_mib()
    populate(fleet)
    await asyncio.sleep(3)  # let controllers create and start the pods
    loaded = rss_mib()
    count = len(fleet.clusters)
    print(
        f"memory: {before:.1f} MiB before, {started:.1f} MiB with {count} clusters "
        f"({(started - before) / count:.1f} MiB per empty cluster), {loaded:.1f} MiB loaded "
        f"({(loaded - before) / count:.1f} MiB per cluster with 50 ConfigMaps + 3 pods)"
    )

    cluster = next(iter(fleet.clusters.values()))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "ca.crt").write_bytes(cluster.ca.cert_pem)
        (folder / "tls.crt").write_bytes(cluster.admin.cert_pem)
        (folder / "tls.key").write_bytes(cluster.admin.key_pem)
        creds = {
            "ca": str(folder / "ca.crt"),
            "cert": str(folder / "tls.crt"),
            "key": str(folder / "tls.key"),
            "seconds": seconds,
            "concurrency": concurrency,
        }
        one = cluster.store.get("/configmaps", "bench", "cm-1")
        assert one is not None
        runner, base_url, base_ca = await baseline_server(folder, one.raw())
        base = f"{cluster.url}/api/v1/namespaces/bench/configmaps"
        apply_body = json.dumps(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "applied"},
                "data": {"n": "{n}"},
            }
        )
        cases: list[tuple[str, dict[str, Any]]] = [
            (
                "baseline: aiohttp HTTPS, fixed JSON",
                {"url": base_url + "/x", "method": "GET", "ca": str(base_ca), "cert": None},
            ),
            ("get configmap", {"url": f"{base}/cm-1", "method": "GET", **creds}),
            ("list 50 configmaps", {"url": base, "method": "GET", **creds}),
            (
                "server-side apply (a write each)",
                {
                    "url": f"{base}/applied?fieldManager=bench",
                    "method": "PATCH",
                    "body": apply_body,
                    "vary": True,
                    "content_type": "application/apply-patch+yaml",
                    **creds,
                },
            ),
        ]
        results: dict[str, dict[str, Any]] = {}
        for name, spec in cases:
            results[name] = await load({"seconds": seconds, "concurrency": concurrency, **spec})
        await runner.cleanup()
    baseline = results[cases[0][0]]["rps"]
    print(
        f"\nthroughput of one simulated cluster ({concurrency} connections, {seconds:g} s each, "
        "load generator in another process):"
    )
    print(f"  {'case':38} {'req/s':>8} {'vs base':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for name, result in results.items():
        print(
            f"  {name:38} {result['rps']:8.0f} {result['rps'] / baseline:8.2f} "
            f"{result['p50_ms']:8.2f} {result['p99_ms']:8.2f} {result['errors']:7d}"
        )
    await fleet.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    asyncio.run(main(args.seconds, args.concurrency))
