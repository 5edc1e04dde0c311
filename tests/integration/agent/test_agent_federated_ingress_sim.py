"""The agent's federated-ingress duties against a simulated cluster over real HTTPS: the global
address in member Ingresses' status (which the simulator's ingress controller leaves to kfed) and
the ready endpoints of Services. The hub's end of the Sync stream is an in-memory stand-in: what
is tested here is the agent and the member cluster."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time

import pytest

from kfed_agent import syncer
from kfed_agent.kube import RealKubeApi
from kfed_agent.link import Endpoint
from kfed_agent.metrics import AgentMetrics
from kfed_agent.syncer import Session, SyncSettings
from kfed_core import rpc
from kfed_core.conventions import GLOBAL_ADDRESS_ANNOTATION, READY_ENDPOINTS_STATUS
from kfed_core.sync.hub_side import APPLIED, Batch, DesiredEntry
from kfed_local.sim.cluster import SimOptions
from kfed_local.sim.config import ClusterSpec, NodeCapacity
from kfed_local.sim.fleet import SimFleet

FAST = SimOptions(eviction_timeout=1.0, bookmark_interval=0.5, history=200)
INGRESSES = "networking.k8s.io/v1"
_NONCES = itertools.count(1)


class FakeHub:
    """The hub's end of one Sync stream, in memory (as in test_agent_member_status.py)."""

    def __init__(self):
        self.endpoint = Endpoint(address="fake-hub", ca_pem=b"", cert_pem=b"", key_pem=b"")
        self.inbox = asyncio.Queue()
        self.results = asyncio.Queue()
        self.status = {}

    async def send(self, message):
        body = message.WhichOneof("body")
        if body == "result":
            self.results.put_nowait(message.result)
        elif body == "status":
            for item in message.status.objects:
                self.status[item.key] = json.loads(item.status) if item.status else None

    async def receive(self):
        return await self.inbox.get()

    async def close(self):
        return None

    async def apply(self, *manifests, version="v1"):
        entries = tuple(
            DesiredEntry(key=key_of(m), version=version, manifest=json.dumps(m).encode())
            for m in manifests
        )
        batch = Batch(nonce=f"n{next(_NONCES)}", upserts=entries, removals=())
        self.inbox.put_nowait(rpc.batch_message(batch))
        result = await asyncio.wait_for(self.results.get(), 10)
        return [r.outcome for r in rpc.results_of(result)]


def key_of(manifest):
    group = manifest["apiVersion"].rpartition("/")[0] or "core"
    meta = manifest["metadata"]
    return f"{group}/{manifest['kind']}/{meta['namespace']}/{meta['name']}"


@pytest.fixture
async def fleet():
    spec = ClusterSpec(
        name="east",
        region="us-east1",
        zones=("us-east1-b",),
        nodes=1,
        pod_start_delay=0.05,
        capacity=NodeCapacity(cpu="4", memory="8Gi", pods=20),
    )
    async with SimFleet([spec], options=FAST) as running:
        yield running


@pytest.fixture
async def kube(fleet, tmp_path):
    path = str(fleet.write_kubeconfig(tmp_path / "kubeconfig"))
    api = await asyncio.to_thread(RealKubeApi.from_kubeconfig, path, "east")
    yield api
    await api.close()


@pytest.fixture
async def hub(kube, monkeypatch):
    fake = FakeHub()

    async def open_link(endpoint):
        return fake

    monkeypatch.setattr(syncer, "open_link", open_link)
    agent = Session(
        kube=kube,
        endpoint=fake.endpoint,
        metrics=AgentMetrics.create(),
        settings=SyncSettings(health_interval=0.1, status_interval=0.02),
        agent_version="test",
        on_welcome=lambda: None,
    )
    fake.inbox.put_nowait(
        rpc.HubMessage(welcome=rpc.Welcome(cluster="east", heartbeat_interval_ms=60_000))
    )
    task = asyncio.create_task(agent.run())
    yield fake
    fake.inbox.put_nowait(None)
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, 10)


async def eventually(condition, *, within=10.0, what=""):
    deadline = time.monotonic() + within
    while True:
        value = await condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what} (last value {value!r})")
        await asyncio.sleep(0.05)


def ingress(name, address=None, port=80):
    meta = {"name": name, "namespace": "default"}
    if address is not None:
        meta["annotations"] = {GLOBAL_ADDRESS_ANNOTATION: address}
    backend = {"service": {"name": "front", "port": {"number": port}}}
    return {
        "apiVersion": INGRESSES,
        "kind": "Ingress",
        "metadata": meta,
        "spec": {"defaultBackend": backend},
    }


async def test_member_ingress_keeps_the_global_address_while_others_get_the_clusters(
    fleet, kube, hub
):
    cluster_ip = {"ingress": [{"ip": fleet.cluster("east").address}]}
    global_ip = {"ingress": [{"ip": "203.0.113.7"}]}

    async def load_balancer(name):
        live = await kube.get(INGRESSES, "Ingress", "default", name)
        return ((live or {}).get("status") or {}).get("loadBalancer")

    outcomes = await hub.apply(ingress("shop", "203.0.113.7"), ingress("plain"))
    assert outcomes == [APPLIED, APPLIED]
    await eventually(
        lambda: _equals(load_balancer("plain"), cluster_ip), what="the cluster's address"
    )
    await eventually(lambda: _equals(load_balancer("shop"), global_ip), what="the global address")

    # A new version of the annotated Ingress makes the simulator's controller look at it again;
    # then the unannotated one's status is cleared: the controller works its queue in order, so
    # once it has restored that one, it has also been past the annotated one.
    assert await hub.apply(ingress("shop", "203.0.113.7", port=8080), version="v2") == [APPLIED]
    plain = await kube.get(INGRESSES, "Ingress", "default", "plain")
    await kube.replace_status({**plain, "status": {}})
    await eventually(
        lambda: _equals(load_balancer("plain"), cluster_ip), what="the cluster's address again"
    )
    assert await load_balancer("shop") == global_ip
    shop = await kube.get(INGRESSES, "Ingress", "default", "shop")
    assert shop["spec"]["defaultBackend"]["service"]["port"]["number"] == 8080

    async def reported():
        return (hub.status.get("networking.k8s.io/Ingress/default/shop") or {}).get("loadBalancer")

    await eventually(lambda: _equals(reported(), global_ip), what="the global address at the hub")


async def test_service_ready_endpoints_follow_the_pods(kube, hub):
    labels = {"app": "front"}
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "front", "namespace": "default"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "web", "image": "nginx"}]},
            },
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "front", "namespace": "default"},
        "spec": {"selector": labels, "ports": [{"port": 80}]},
    }
    assert await hub.apply(deployment, service) == [APPLIED, APPLIED]

    async def ready():
        return (hub.status.get("core/Service/default/front") or {}).get(READY_ENDPOINTS_STATUS)

    await eventually(lambda: _is(ready(), 2), what="2 ready endpoints")
    deployment["spec"]["replicas"] = 3
    assert await hub.apply(deployment, version="v2") == [APPLIED]
    await eventually(lambda: _is(ready(), 3), what="3 ready endpoints after scaling up")


async def _equals(value, expected):
    return await value == expected


async def _is(value, expected):
    return await value == expected
