"""Failover benchmark: from the silent loss of a member cluster to the new replicas being
requested in the others, with the hub's default health timings.

Run: ``python -m bench.failover_bench [--clusters 3] [--replicas 6] [--rounds 3]``.
Prints figures; asserts nothing. The hub (``kfed hub serve``) and one agent per cluster
(``kfed-agent``) run as real processes beside simulated clusters in this process. A cluster is
"lost" by freezing its agent with SIGSTOP: its TCP connection stays open, so the hub notices only
when heartbeats stop (NotReady after 3 missed 2-second heartbeats), as after a network partition.
Time is measured until every other cluster's ReplicaSet asks for the new, larger count.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from kubernetes import client, config

from kfed_hub.client import HubClient
from kfed_local.sim.cluster import SimOptions
from kfed_local.sim.config import ClusterSpec, NodeCapacity
from kfed_local.sim.threaded import FleetThread

BIN = Path(sys.executable).parent


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(check: Any, within: float, what: str) -> Any:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.02)
    raise SystemExit(f"failover_bench: timed out waiting for {what}")


def _replica_set(replicas: int) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx"}]},
            },
        },
    }


def run(clusters: int, replicas: int, rounds: int) -> dict[str, Any]:
    names = [f"c{n}" for n in range(clusters)]
    specs = [
        ClusterSpec(
            name=n,
            region="us-central1",
            zones=("us-central1-a",),
            nodes=1,
            pod_start_delay=0.05,
            capacity=NodeCapacity(cpu="8", memory="16Gi", pods=60),
        )
        for n in names
    ]
    results: list[dict[str, float]] = []
    with (
        tempfile.TemporaryDirectory() as tmp_text,
        FleetThread(specs, options=SimOptions(bookmark_interval=0.5)) as fleet,
    ):
        tmp = Path(tmp_text)
        env = {**os.environ, "KFED_CONFIG": str(tmp / "kfedconfig")}
        api_port, sync_port = _free_port(), _free_port()
        hub_log = (tmp / "hub.log").open("wb")
        hub = subprocess.Popen(
            [
                str(BIN / "kfed"),
                "hub",
                "serve",
                "--data-dir",
                str(tmp / "hub"),
                "--api-addr",
                f"127.0.0.1:{api_port}",
                "--sync-addr",
                f"127.0.0.1:{sync_port}",
            ],
            stdout=hub_log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        agents: dict[str, subprocess.Popen[bytes]] = {}
        readers = {
            n: client.AppsV1Api(
                config.new_client_from_config(  # type: ignore[no-untyped-call]
                    str(fleet.kubeconfig_path), context=n
                )
            )
            for n in names
        }
        try:
            _wait(lambda: (tmp / "kfedconfig").exists(), 30, "the hub")
            hub_client = HubClient.from_config(str(tmp / "kfedconfig"))
            for name in names:
                issued = hub_client.request(
                    "POST", "/apis/kfed.io/v1alpha1/bootstraptokens", {"ttl": "10m"}
                )
                line = issued["joinCommand"].split()[2:]
                replace = {
                    "<NAME>": name,
                    "<KUBECONFIG>": str(fleet.kubeconfig_path),
                    "<DIR>": str(tmp / name),
                }
                subprocess.run(
                    [
                        str(BIN / "kfed"),
                        "join",
                        name,
                        *[replace.get(w, w) for w in line[1:]],
                        "--context",
                        name,
                    ],
                    check=True,
                    capture_output=True,
                    env=env,
                )
                agents[name] = subprocess.Popen(
                    [str(BIN / "kfed-agent"), "--config", str(tmp / name)],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    env=env,
                )

            def phases() -> dict[str, str]:
                listed = hub_client.request("GET", "/apis/kfed.io/v1alpha1/clusters")
                return {c["metadata"]["name"]: c["status"]["phase"] for c in listed["items"]}

            _wait(
                lambda: all(p == "Ready" for p in phases().values()) and len(phases()) == clusters,
                60,
                "every cluster Ready",
            )
            hub_client.request(
                "POST", "/apis/apps/v1/namespaces/default/replicasets", _replica_set(replicas)
            )

            def counts() -> dict[str, int]:
                found: dict[str, int] = {}
                for name, apps in readers.items():
                    try:
                        replica_set = apps.read_namespaced_replica_set("web", "default")
                        found[name] = int(replica_set.spec.replicas or 0)
                    except client.ApiException:
                        found[name] = -1
                return found

            def not_ready(victim: str) -> bool:
                return phases()[victim] != "Ready"

            def moved(others: list[str]) -> bool:
                return sum(counts()[n] for n in others) >= replicas

            for round_ in range(rounds):
                victim = names[round_ % clusters]
                before = _wait(
                    lambda: (c := counts()) and sum(c.values()) == replicas and c,
                    60,
                    "the even spread",
                )
                lost = time.monotonic()
                agents[victim].send_signal(signal.SIGSTOP)
                _wait(lambda: not_ready(victim), 60, "NotReady")  # noqa: B023 - called at once
                detected = time.monotonic()
                others = [n for n in names if n != victim]
                _wait(lambda: moved(others), 60, "new replicas")  # noqa: B023 - called at once
                requested = time.monotonic()
                results.append(
                    {
                        "detect_s": detected - lost,
                        "failover_s": requested - lost,
                        "plan_and_apply_s": requested - detected,
                    }
                )
                print(
                    f"round {round_ + 1}: lost {victim} (had {before[victim]}); NotReady after "
                    f"{detected - lost:.2f}s; new replicas requested after "
                    f"{requested - lost:.2f}s",
                    flush=True,
                )
                agents[victim].send_signal(signal.SIGCONT)
                _wait(lambda: not not_ready(victim), 60, "the cluster back")  # noqa: B023 - called at once
            hub_client.close()
        finally:
            for process in [*agents.values(), hub]:
                process.send_signal(signal.SIGCONT)
                process.terminate()
            for process in [*agents.values(), hub]:
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            hub_log.close()
            for reader in readers.values():
                reader.api_client.close()
    summary = {
        key: {
            "median": statistics.median(r[key] for r in results),
            "max": max(r[key] for r in results),
        }
        for key in ("detect_s", "failover_s", "plan_and_apply_s")
    }
    return {"clusters": clusters, "replicas": replicas, "rounds": results, "summary": summary}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=3)
    parser.add_argument("--replicas", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    figures = run(args.clusters, args.replicas, args.rounds)
    s = figures["summary"]
    print(
        f"\nfailover with default health timings (heartbeat 2 s, NotReady after 3 missed), "
        f"{args.clusters} clusters, {args.replicas} replicas, {args.rounds} rounds:"
    )
    print(
        f"  loss -> NotReady:               median {s['detect_s']['median']:.2f} s, "
        f"max {s['detect_s']['max']:.2f} s"
    )
    print(
        f"  NotReady -> replicas requested: median {s['plan_and_apply_s']['median']:.2f} s, "
        f"max {s['plan_and_apply_s']['max']:.2f} s"
    )
    print(
        f"  loss -> replicas requested:     median {s['failover_s']['median']:.2f} s, "
        f"max {s['failover_s']['max']:.2f} s   (goal <= 10 s)"
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
