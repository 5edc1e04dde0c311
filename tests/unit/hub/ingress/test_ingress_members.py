"""Member Ingresses carry the global address (the reconciler's part) and the federated Ingress
shows it in its status with the GlobalLoadBalancer condition (the API's part)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping

from kfed_core.keys import ResourceKey
from kfed_hub.api.status import decorate
from kfed_hub.desired_index import DesiredIndex
from kfed_hub.ingress.state import IngressLoadBalancer
from kfed_hub.metrics import HubMetrics
from kfed_hub.planning.facts import ClusterFacts
from kfed_hub.reconcile import Reconciler
from kfed_hub.store.memory import MemoryStore

INGRESS = ResourceKey(group="networking.k8s.io", kind="Ingress", namespace="default", name="web")
MANIFEST = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "Ingress",
    "metadata": {"name": "web", "namespace": "default"},
    "spec": {"defaultBackend": {"service": {"name": "web", "port": {"number": 80}}}},
}


def _annotations(index: DesiredIndex, cluster: str) -> Mapping[str, str]:
    entry = index.view(cluster).get(str(INGRESS))
    assert entry is not None
    return dict(json.loads(entry.manifest)["metadata"].get("annotations") or {})


async def _until(check: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 5
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the reconciler did not plan the Ingress in 5 s")
        await asyncio.sleep(0.002)


async def test_member_ingresses_get_the_global_address_once_known() -> None:
    store = MemoryStore()
    index = DesiredIndex(metrics=HubMetrics.create())
    address: dict[ResourceKey, str] = {}
    reconciler = Reconciler(
        store=store,
        index=index,
        metrics=HubMetrics.create(),
        facts=lambda: [ClusterFacts(name="a"), ClusterFacts(name="b")],
        member_annotations=lambda key: (
            {"kfed.io/global-address": address[key]} if key in address else {}
        ),
    )
    store.add_listener(reconciler.on_change)
    task = asyncio.create_task(reconciler.run())
    try:
        await store.create_object(INGRESS, MANIFEST)
        await _until(lambda: index.view("b").get(str(INGRESS)) is not None)
        assert "kfed.io/global-address" not in _annotations(index, "a")
        address[INGRESS] = "198.51.100.7"
        reconciler.refresh(INGRESS)
        await _until(lambda: "kfed.io/global-address" in _annotations(index, "b"))
        for cluster in ("a", "b"):
            assert _annotations(index, cluster)["kfed.io/global-address"] == "198.51.100.7"
        stored = await store.get_object(INGRESS)
        assert stored is not None and "annotations" not in stored.manifest["metadata"]
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await store.close()


async def test_the_federated_ingress_status_shows_the_global_address_and_condition() -> None:
    store = MemoryStore()
    stored = await store.create_object(INGRESS, MANIFEST)
    lb = IngressLoadBalancer(
        provider="local",
        name="kfed-default-web",
        address="127.0.0.200",
        ready=True,
        reason="Ready",
        message="serving from 9 cluster(s)",
        backends=9,
        serving=9,
    )
    served = decorate(stored, [], ["a"], load_balancer=lb)
    assert served["status"]["loadBalancer"] == {"ingress": [{"ip": "127.0.0.200"}]}
    condition = [c for c in served["status"]["conditions"] if c["type"] == "GlobalLoadBalancer"]
    assert condition == [
        {
            "type": "GlobalLoadBalancer",
            "status": "True",
            "reason": "Ready",
            "message": "serving from 9 cluster(s)",
        }
    ]
    assert served["status"]["globalLoadBalancer"]["serving"] == 9
    named = IngressLoadBalancer(provider="aws", name="n", address="a1.awsglobalaccelerator.com")
    served = decorate(stored, [], ["a"], load_balancer=named)
    assert served["status"]["loadBalancer"] == {
        "ingress": [{"hostname": "a1.awsglobalaccelerator.com"}]
    }
    assert decorate(stored, [], ["a"])["status"]["loadBalancer"] == {}
    await store.close()
