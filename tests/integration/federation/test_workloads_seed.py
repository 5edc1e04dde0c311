"""The blog's walk-through on the nine simulated clusters: the Service everywhere with its nine
addresses, the ReplicaSet of 9 spread one per cluster, and the preferences example."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fedharness import Federation, eventually, federation_of, seed_specs

from kfed_local.sim.config import SEED_CLUSTERS

SEED = Path(__file__).resolve().parents[3] / "examples" / "federation-2016"
NINE = tuple(name for name, _, _ in SEED_CLUSTERS)


def seed(path: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((SEED / path).read_text())
    return loaded


@pytest.fixture
async def nine(tmp_path: Path) -> AsyncIterator[Federation]:
    async with federation_of(tmp_path, NINE, cluster_specs=seed_specs()) as fed:
        yield fed


async def test_the_blog_walk_through(nine: Federation) -> None:
    fed = nine
    await fed.api("POST", "/api/v1/namespaces/default/services", seed("services/nginx.yaml"))
    await fed.api(
        "POST", "/api/v1/namespaces/default/configmaps", seed("configmaps/zonefetch.yaml")
    )
    replica_set = seed("replicasets/nginx-rs.yaml")  # extensions/v1beta1, unchanged
    await fed.api("POST", "/apis/extensions/v1beta1/namespaces/default/replicasets", replica_set)

    async def one_each() -> bool:
        return all([await fed.member_replicas(c, "nginx") == 1 for c in NINE])

    await eventually(one_each, within=30, what="one nginx replica in each of nine clusters")
    member = await fed.member(NINE[0], "apps/v1", "ReplicaSet", "default", "nginx")
    assert member["spec"]["selector"] == {"matchLabels": {"app": "nginx"}}  # defaulted as v1beta1

    async def nine_ready() -> dict[str, Any] | None:
        obj = await fed.api("GET", "/apis/extensions/v1beta1/namespaces/default/replicasets/nginx")
        return obj if obj["status"].get("readyReplicas") == 9 else None

    obj = await eventually(nine_ready, within=30, what="9 ready replicas in the federated status")
    assert obj["status"]["replicas"] == 9
    per_cluster = {e["cluster"]: e for e in obj["status"]["clusters"]}
    assert sorted(per_cluster) == sorted(NINE)

    async def nine_addresses() -> list[Any] | None:
        svc = await fed.api("GET", "/api/v1/namespaces/default/services/nginx")
        ingress = (svc["status"].get("loadBalancer") or {}).get("ingress") or []
        return ingress if len(ingress) == 9 else None

    await eventually(nine_addresses, within=30, what="nine load balancer addresses")

    # The blog's for-loops over contexts, as kfed prints them.
    per_cluster_rs = await kfed(fed, "get", "rs", "nginx", "--clusters")
    for cluster in NINE:
        section = per_cluster_rs.split(cluster, 1)[1].splitlines()[1:3]
        assert section[0].split()[:4] == ["NAME", "DESIRED", "CURRENT", "READY"]
        assert section[1].split()[:4] == ["nginx", "1", "1", "1"], per_cluster_rs
    pods = await kfed(fed, "get", "pods", "--clusters")
    assert pods.count("nginx-") == 9 and pods.count("Running") == 9, pods
    described = await kfed(fed, "describe", "services", "nginx")
    assert described.count("LoadBalancer Ingress") >= 1 and all(c in described for c in NINE)


async def kfed(fed: Federation, *args: str) -> str:
    """Run the real ``kfed`` command against the federation's hub; its standard output."""
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "kfed"),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "KFED_CONFIG": str(fed.tmp / "kfedconfig")},
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return out.decode()


async def test_the_blog_preferences_example(nine: Federation) -> None:
    fed = nine
    replica_set = seed("replicasets/nginx-us-preferences.yaml")
    await fed.api("POST", "/apis/extensions/v1beta1/namespaces/default/replicasets", replica_set)
    wanted = dict.fromkeys(NINE, 0) | {"gce-us-central1-a": 3, "gce-us-central1-b": 3}

    async def spread() -> bool:
        return {c: await fed.member_replicas(c, "nginx-us") or 0 for c in NINE} == wanted

    await eventually(spread, within=30, what="3 replicas in each us-central1 cluster")
