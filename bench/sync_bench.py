"""Benchmark of the Sync stream: propagation to N clusters, hub memory per cluster, a raw gRPC
baseline, and the reconnect of an agent holding many unchanged objects.

    make bench-sync                              # (make bench runs it too) or, from the
    .venv/bin/python -m bench.sync_bench         # repository root (-m: it imports bench.*)
        [--clusters 100,1000] [--updates 20] [--objects 10000] [--quick] [--seed 1] [--json FILE]

What it measures, all in one run on this machine (figures and ratios; it asserts nothing):

* for each N: a hub (``kfed hub serve``, its own process) with N clusters joined through the API
  (token + CSR each), N lightweight agents (:mod:`bench.sync_agents`, real protocol over real
  mTLS, applying into memory) in a few processes; one ConfigMap is updated K times through the
  API, one update at a time, and each cluster's receipt of the batch carrying the new version is
  timed from just before the API write (p50/p99 over every cluster and update, and the time to
  the last cluster per update); the hub's ``kfed_hub_propagation_seconds`` histogram (write to
  applied result, measured inside the hub) is scraped before and after;
* hub memory (VmRSS) with the clusters joined but not connected, and with all N connected and
  idle: the difference per cluster;
* the baseline, same run, same client processes and certificates: a bare gRPC server
  (:mod:`bench.raw_fanout`) writes one message of the kfed batch's size to N streams;
* reconnect (:mod:`bench.sync_reconnect`): one agent holding ``--objects`` unchanged objects.

Times are wall-clock (``time.time()``, one machine) taken in the processes where things happen.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from bench.sync_agents import Credentials
from bench.sync_fleet import Arrivals, RawServer, WorkerGroup
from bench.sync_hub import Admin, HubProcess, configmap, histogram, join_clusters
from bench.sync_reconnect import MERGE_PATCH, run_reconnect
from bench.sync_report import jsonable, print_summary
from bench.sync_stats import Spread, bucket_delta, histogram_quantile, ratio

WATCH_NAME = "bench-propagation"
WATCH_KEY = f"core/ConfigMap/default/{WATCH_NAME}"
CONFIGMAPS = "/api/v1/namespaces/default/configmaps"
HISTOGRAM = "kfed_hub_propagation_seconds"
UPDATE_TIMEOUT = 120.0
IDLE_WINDOW = 5.0  # seconds over which idle CPU is measured
_T = TypeVar("_T")


def cluster_counts(text: str) -> list[int]:
    """``"100,1000"`` → ``[100, 1000]``; a clear error for anything but positive integers."""
    try:
        counts = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--clusters {text!r}: use numbers like 100,1000"
        ) from None
    if not counts or any(count < 1 for count in counts):
        raise argparse.ArgumentTypeError(f"--clusters {text!r}: every count must be 1 or more")
    return counts


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--clusters", type=cluster_counts, default=[100, 1000], metavar="N,N")
    parser.add_argument("--updates", type=int, default=20, help="updates per N (default 20)")
    parser.add_argument("--objects", type=int, default=10_000, help="reconnect test; 0 skips it")
    parser.add_argument("--quick", action="store_true", help="smoke run: 20 clusters, 5 updates")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures here")
    parser.add_argument("--agent-procs", type=int, default=2, help="agent processes (default 2)")
    parser.add_argument("--join-threads", type=int, default=8, help="joins at once (default 8)")
    parser.add_argument("--settle", type=float, default=3.0, help="idle seconds before measuring")
    parser.add_argument("--pause", type=float, default=0.2, help="seconds between updates")
    args = parser.parse_args(argv)
    if args.quick:
        args.clusters, args.updates, args.objects = [20], 5, min(args.objects, 1000)
    if args.updates < 1:
        parser.error("--updates must be 1 or more")
    return args


def hex_text(rng: random.Random, length: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(length))


def _summarise(starts: list[float], updates: list[Arrivals]) -> dict[str, Any]:
    received = [t - s for s, a in zip(starts, updates, strict=True) for t in a.received]
    answered = [t - s for s, a in zip(starts, updates, strict=True) for t in a.answered]
    last = [max(a.received) - s for s, a in zip(starts, updates, strict=True)]
    sizes = [size for a in updates for size in a.sizes]
    return {
        "receipt": Spread.of(received),
        "answered": Spread.of(answered),
        "time_to_last": Spread.of(last),
        "message_bytes": int(statistics.median(sizes)) if sizes else 0,
    }


class Run:
    """One N: a hub, its clusters and agents, then the baseline with the same clients."""

    def __init__(self, folder: Path, clusters: int, args: argparse.Namespace) -> None:
        self.folder, self.n, self.args = folder, clusters, args
        self.rng = random.Random(args.seed * 1_000_003 + clusters)
        self.writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="api-writer")
        # Other work on the machine skews every figure: the load says whether there was any.
        self.out: dict[str, Any] = {
            "clusters": clusters,
            "updates": args.updates,
            "load_average_at_start": os.getloadavg()[0],
        }
        self.creds: list[Credentials] = []  # joined in the kfed part, reused by the baseline

    async def call(self, fn: Callable[..., _T], *args: Any) -> _T:
        """Blocking API calls go through one thread, so they reuse one kept-alive connection."""
        return await asyncio.get_running_loop().run_in_executor(self.writer, fn, *args)

    async def go(self) -> dict[str, Any]:
        hub = await asyncio.to_thread(HubProcess.start, self.folder)
        admin = Admin(hub.config_path)
        try:
            await self._kfed(hub, admin)
            await self._baseline(hub)
        finally:
            self.writer.shutdown(wait=True)
            admin.close()
            await asyncio.to_thread(hub.stop)
        self.out["load_average_at_end"] = os.getloadavg()[0]
        kfed, raw = self.out["kfed"], self.out["raw"]
        self.out["ratios"] = {
            f"{figure}_{q}": ratio(getattr(kfed[figure], q), getattr(raw[figure], q))
            for figure in ("receipt", "time_to_last", "answered")
            for q in ("p50", "p99")
        }
        return self.out

    async def _idle_cpu(self, cpu: Callable[[], float]) -> float:
        """CPU share (1.0 = one core) a process uses over a few idle seconds."""
        used, wall = cpu(), time.monotonic()
        await asyncio.sleep(IDLE_WINDOW)
        return (cpu() - used) / (time.monotonic() - wall)

    async def _fan_out(
        self,
        group: WorkerGroup,
        trigger: Callable[[int], Awaitable[tuple[float, float]]],
        cpu: Callable[[], float],
        idle: float,
    ) -> dict[str, Any]:
        """Send updates 1..K one at a time (each once every cluster answered the last), and
        what they cost: latencies, and the server's CPU beyond its idle share, per update."""
        starts, triggers, updates = [], [], []
        used, wall = cpu(), time.monotonic()
        for seq in range(1, self.args.updates + 1):
            start, triggered = await trigger(seq)
            updates.append(await group.wait_update(seq, UPDATE_TIMEOUT))
            starts.append(start)
            triggers.append(triggered - start)
            await asyncio.sleep(self.args.pause)
        busy = cpu() - used - idle * (time.monotonic() - wall)
        return {
            **_summarise(starts, updates),
            "trigger": Spread.of(triggers),
            "server_cpu_ms_per_update": round(max(busy, 0.0) / self.args.updates * 1000, 2),
            "server_idle_cpu_percent": round(idle * 100, 1),
        }

    async def _kfed(self, hub: HubProcess, admin: Admin) -> None:
        n, args, out = self.n, self.args, self.out
        await asyncio.sleep(1.0)
        rss_start = hub.rss_kib()
        value = hex_text(self.rng, 200)
        await self.call(
            admin.request, "POST", CONFIGMAPS, configmap(WATCH_NAME, {"seq": "0", "value": value})
        )
        names = [f"bench-{i:04d}" for i in range(n)]
        self.creds, joins = await asyncio.to_thread(
            join_clusters, admin, names, threads=args.join_threads
        )
        out["join"] = {
            "threads": args.join_threads,
            "wall_s": round(joins.wall, 2),
            "per_second": round(n / joins.wall, 1),
            "token_request_s_sum": round(joins.token, 2),
            "key_and_csr_s_sum": round(joins.csr, 2),
            "join_request_s_sum": round(joins.join, 2),
        }
        await asyncio.sleep(1.0)
        rss_joined = hub.rss_kib()
        started = time.monotonic()
        group = await WorkerGroup.start(
            self.folder,
            mode="kfed",
            target=hub.sync_target,
            ca_pem=admin.config.ca_pem,
            clusters=self.creds,
            processes=args.agent_procs,
            watch_key=WATCH_KEY,
            seed=args.seed,
        )

        async def write(seq: int) -> tuple[float, float]:
            body = {"data": {"seq": str(seq), "value": hex_text(self.rng, 200)}}
            return await self.call(self._write, admin, body)

        try:
            connected = await group.wait_connected(600)
            all_open = time.monotonic() - started
            await group.wait_update(0, 600)
            opens = [t for event in connected for t in event["open_s"]]
            out["connect"] = {
                "all_welcomed_s": round(all_open, 2),
                "all_initially_synced_s": round(time.monotonic() - started, 2),
                "open_to_welcome": Spread.of(opens),
            }
            await asyncio.sleep(args.settle)
            idle = await self._idle_cpu(hub.cpu_seconds)
            rss_idle = hub.rss_kib()
            before = histogram(await self.call(admin.metrics_text), HISTOGRAM)
            out["kfed"] = await self._fan_out(group, write, hub.cpu_seconds, idle)
            await asyncio.sleep(1.0)
            after = histogram(await self.call(admin.metrics_text), HISTOGRAM)
            rss_after = hub.rss_kib()
            listed = await self.call(admin.request, "GET", "/apis/kfed.io/v1alpha1/clusters")
        finally:
            await group.stop()
        delta = bucket_delta(after.buckets, before.buckets)
        count = after.count - before.count
        out["kfed"]["hub_histogram"] = {
            "results": int(count),
            "p50_s": histogram_quantile(0.5, delta),
            "p99_s": histogram_quantile(0.99, delta),
            "mean_s": (after.sum - before.sum) / count if count else math.nan,
        }
        out["kfed"]["ready_clusters"] = sum(
            1 for c in listed["items"] if c.get("status", {}).get("phase") == "Ready"
        )
        out["kfed"]["problems"] = group.problems[:20]
        out["memory"] = {
            "hub_rss_mib_start": round(rss_start / 1024, 1),
            "hub_rss_mib_joined": round(rss_joined / 1024, 1),
            "hub_rss_mib_idle": round(rss_idle / 1024, 1),
            "hub_rss_mib_after_updates": round(rss_after / 1024, 1),
            "kib_per_idle_cluster": round((rss_idle - rss_joined) / n, 1),
            "kib_per_cluster_with_join": round((rss_idle - rss_start) / n, 1),
        }

    @staticmethod
    def _write(admin: Admin, body: dict[str, Any]) -> tuple[float, float]:
        start = time.time()
        admin.request("PATCH", f"{CONFIGMAPS}/{WATCH_NAME}", body, content_type=MERGE_PATCH)
        return start, time.time()

    async def _baseline(self, hub: HubProcess) -> None:
        n, args, out = self.n, self.args, self.out
        size = out["kfed"]["message_bytes"]
        tls_files = await asyncio.to_thread(hub.tls_files)
        raw = await RawServer.start(self.folder, tls_files, expect=n)
        group: WorkerGroup | None = None

        async def fire(seq: int) -> tuple[float, float]:
            start = time.time()
            raw.fire(seq, size)
            return start, time.time()

        try:
            await asyncio.sleep(0.5)
            rss_empty = raw.rss_kib()
            group = await WorkerGroup.start(
                self.folder,
                mode="raw",
                target=raw.target,
                ca_pem=tls_files["ca_pem"].encode(),
                clusters=self.creds,
                processes=args.agent_procs,
                seed=args.seed,
            )
            await group.wait_connected(600)
            await raw.wait_streams(60)
            await asyncio.sleep(args.settle)
            idle = await self._idle_cpu(raw.cpu_seconds)
            rss_streams = raw.rss_kib()
            out["raw"] = await self._fan_out(group, fire, raw.cpu_seconds, idle)
            out["raw"]["problems"] = group.problems[:20]
            out["memory"]["raw_rss_mib_empty"] = round(rss_empty / 1024, 1)
            out["memory"]["raw_rss_mib_streams"] = round(rss_streams / 1024, 1)
            out["memory"]["raw_kib_per_stream"] = round((rss_streams - rss_empty) / n, 1)
        finally:
            if group is not None:
                await group.stop()
            await raw.stop()


async def main(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "seed": args.seed,
        "agent_processes": args.agent_procs,
        "propagation": [],
    }
    with tempfile.TemporaryDirectory(prefix="kfed-sync-bench-") as tmp:
        for n in args.clusters:
            print(f"propagation to {n} clusters ({args.updates} updates)...", flush=True)
            results["propagation"].append(await Run(Path(tmp) / f"n{n}", n, args).go())
        if args.objects > 0:
            print(f"reconnect with {args.objects} unchanged objects...", flush=True)
            results["reconnect"] = await run_reconnect(
                Path(tmp) / "reconnect", objects=args.objects, seed=args.seed
            )
    return results


if __name__ == "__main__":
    arguments = parse_args()
    figures = asyncio.run(main(arguments))
    print_summary(figures)
    if arguments.json is not None:
        arguments.json.write_text(json.dumps(jsonable(figures), indent=2) + "\n")
        print(f"\nfigures written to {arguments.json}")
