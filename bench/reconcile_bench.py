"""The reconciler's full re-plan: every workload through the whole object plan (translation,
placement, scheduling, overrides) and into every cluster's desired index, as after a cluster
turns NotReady. Part of ``make bench-planning``; prints figures, asserts nothing.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import Any

from kfed_core.keys import ResourceKey
from kfed_hub.desired_index import DesiredIndex
from kfed_hub.metrics import HubMetrics
from kfed_hub.planning.facts import ClusterFacts
from kfed_hub.reconcile import Reconciler
from kfed_hub.store.memory import MemoryStore


def _workload(index: int) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": f"w{index}", "namespace": "default"},
        "spec": {
            "replicas": 50 + index % 200,
            "selector": {"matchLabels": {"app": f"w{index}"}},
            "template": {
                "metadata": {"labels": {"app": f"w{index}"}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            },
        },
    }


async def _measure(workloads: int, clusters: int) -> tuple[float, float]:
    store = MemoryStore()
    for index in range(workloads):
        manifest = _workload(index)
        await store.create_object(ResourceKey.of(manifest), manifest)
    facts = [
        ClusterFacts(name=f"c{n:04d}", labels={"region": f"r{n % 7}"}) for n in range(clusters)
    ]
    current = list(facts)
    reconciler = Reconciler(
        store=store,
        index=DesiredIndex(metrics=HubMetrics.create()),
        metrics=HubMetrics.create(),
        facts=lambda: current,
    )
    start = time.perf_counter()
    await reconciler.load()  # the first full plan
    first = time.perf_counter() - start
    current[0] = dataclasses.replace(facts[0], ready=False)  # a cluster is lost: re-plan all
    start = time.perf_counter()
    await reconciler._plan_all()
    failover = time.perf_counter() - start
    return first, failover


def report(workloads: int, clusters: int) -> None:
    """Print the figures of one size."""
    first, failover = asyncio.run(_measure(workloads, clusters))
    print(
        f"Reconciler: {workloads:,} workloads x {clusters} clusters (every object, every cluster)"
    )
    print(f"  first plan  {first:6.2f} s  {first / workloads * 1e3:.3f} ms per workload")
    print(
        f"  re-plan after a cluster is lost  {failover:6.2f} s  "
        f"{failover / workloads * 1e3:.3f} ms per workload"
    )
