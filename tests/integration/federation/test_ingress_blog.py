"""The blog's federated Ingress on the nine simulated clusters, through the hub, its agents and
the local provider: one global address on the federated Ingress and on all nine member Ingresses;
an Asia client and a US client get pages from asia-east1 and us-central1; Asia goes down and the
Asia client is served from the next closest region; Asia comes back and so does the client; a
cluster without ready endpoints (no capacity) is drained and its clients spill over."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from fedharness import Federation, eventually, federation_of, seed_specs

from kfed_hub.ingress.settings import IngressSettings, PluginSettings, ProviderConfig
from kfed_local.glb.provider import LocalProvider
from kfed_local.glb.proxy import GlobalProxy
from kfed_local.sim.config import SEED_CLUSTERS
from kfed_local.sim.faults import FaultTarget

SEED = Path(__file__).resolve().parents[3] / "examples" / "federation-2016"
NINE = tuple(name for name, _, _ in SEED_CLUSTERS)
ASIA = {"X-Client-Region": "asia-east1"}
US = {"X-Client-Region": "us-east1"}
LOCAL = ProviderConfig(
    name="local",
    plugin="local",
    options={
        "host": "127.0.0.201",
        "trust_client_region_header": True,  # tests and demos only: clients could lie
        "health": {"interval": 0.25, "timeout": 0.25, "healthy_threshold": 1},
    },
)
INGRESS = IngressSettings(
    default_provider="local", providers={"local": LOCAL}, retry_initial=0.1, retry_max=1.0
)
INGRESS_PATH = "/apis/extensions/v1beta1/namespaces/default/ingresses"


def seed(path: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((SEED / path).read_text())
    return loaded


@pytest.fixture
async def nine(tmp_path: Path) -> AsyncIterator[Federation]:
    async with federation_of(
        tmp_path,
        NINE,
        cluster_specs=seed_specs(),
        ingress=INGRESS,
        plugins=PluginSettings(allow=("local",)),
    ) as fed:
        yield fed


async def served_from(client: aiohttp.ClientSession, address: str, headers: dict[str, str]) -> str:
    """The zone the page names, or ``HTTP <code>``."""
    try:
        async with client.get(f"http://{address}/", headers=headers) as answer:
            text = await answer.text()
    except aiohttp.ClientError as exc:
        return f"error {exc}"
    if answer.status != 200:
        return f"HTTP {answer.status}"
    zone = answer.headers["X-Kfed-Zone"]
    assert f"You are being served from {zone}" in text
    return zone


def local_proxy(fed: Federation) -> GlobalProxy:
    """The blog Ingress's load balancer, inside the hub's local provider."""
    assert fed.hub.ingress is not None
    provider = fed.hub.ingress.pool.started()["local"]
    assert isinstance(provider, LocalProvider)
    return provider.proxy("kfed-default-nginx")


def routing(fed: Federation, headers: dict[str, str]) -> str:
    """What the local load balancer decides for this client right now, and what it knows of
    each backend: the explanation a failed routing assertion prints."""
    proxy = local_proxy(fed)
    decision = proxy.decide(peer="127.0.0.1", region_header=headers.get("X-Client-Region"))
    lines = [f"decision: {decision.reason}: {decision.detail} -> {list(decision.order)}"]
    for load in proxy.loads():
        backend = proxy.backend(load.cluster)
        check = proxy.checker.state(load.cluster)
        lines.append(
            f"  {load.cluster}: region={load.region or '?'} hub-healthy={backend.healthy} "
            f"checks={check.healthy} ({check.last_error or 'ok'}) weight={load.weight} "
            f"in-flight={load.in_flight}/{load.limit}"
        )
    return "\n".join(lines)


async def assert_served(
    fed: Federation,
    client: aiohttp.ClientSession,
    address: str,
    headers: dict[str, str],
    region: str,
) -> str:
    """The client is served from ``region``; else fail with the load balancer's reasoning and
    what each cluster runs."""
    zone = await served_from(client, address, headers)
    if not zone.startswith(f"{region}-"):
        explanation = routing(fed, headers)
        members = []
        for cluster in NINE:
            rs = await fed.member(cluster, "apps/v1", "ReplicaSet", "default", "nginx")
            status = (rs or {}).get("status") or {}
            spec = (rs or {}).get("spec") or {}
            endpoints = await fed.member(cluster, "v1", "Endpoints", "default", "nginx")
            ready = [
                a.get("ip")
                for subset in (endpoints or {}).get("subsets") or ()
                for a in subset.get("addresses") or ()
            ]
            sim = fed.fleet.cluster(cluster)
            members.append(
                f"  {cluster}: ReplicaSet replicas={spec.get('replicas')} "
                f"ready={status.get('readyReplicas', 0)} endpoints={ready} "
                f"listening={sim.traffic.listening()} mode={sim.faults.traffic_mode}"
            )
        statuses = await fed.cluster_statuses()
        raise AssertionError(
            f"served from {zone}, not {region}\n{explanation}\nmembers:\n"
            + "\n".join(members)
            + f"\nclusters: {statuses}"
        )
    return zone


async def test_the_blog_federated_ingress(nine: Federation) -> None:
    fed = nine
    await fed.api("POST", "/api/v1/namespaces/default/services", seed("services/nginx.yaml"))
    await fed.api(
        "POST", "/api/v1/namespaces/default/configmaps", seed("configmaps/zonefetch.yaml")
    )
    await fed.api(
        "POST",
        "/apis/extensions/v1beta1/namespaces/default/replicasets",
        seed("replicasets/nginx-rs.yaml"),
    )
    await fed.api("POST", INGRESS_PATH, seed("ingress/ingress.yaml"))

    async def serving_everywhere() -> dict[str, Any] | None:
        obj = await fed.api("GET", f"{INGRESS_PATH}/nginx")
        summary = obj["status"].get("globalLoadBalancer") or {}
        return obj if summary.get("serving") == 9 else None

    obj = await eventually(serving_everywhere, within=60, what="nine clusters serving")
    item = obj["status"]["loadBalancer"]["ingress"][0]
    assert item["ip"] == "127.0.0.201"
    address = f"{item['ip']}:{item['ports'][0]['port']}"
    condition = next(c for c in obj["status"]["conditions"] if c["type"] == "GlobalLoadBalancer")
    assert condition["status"] == "True", condition

    async def members_show_it() -> bool:
        for cluster in NINE:
            member = await fed.member(
                cluster, "networking.k8s.io/v1", "Ingress", "default", "nginx"
            )
            shown = ((member or {}).get("status") or {}).get("loadBalancer") or {}
            if shown != {"ingress": [item]}:
                return False
        return True

    await eventually(members_show_it, within=30, what="the global address on all nine members")

    # The hub counts a cluster as serving once its pods are ready; the load balancer's own checks
    # pass a moment later (the cluster's listener opens, the next check runs).
    async def checks_pass_everywhere() -> bool:
        proxy = local_proxy(fed)
        return all(proxy.is_serving(cluster) for cluster in NINE)

    await eventually(checks_pass_everywhere, within=30, what="the load balancer's checks passing")

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as client:
        await assert_served(fed, client, address, ASIA, "asia-east1")
        await assert_served(fed, client, address, US, "us-central1")

        # Asia's three clusters go down: its client goes to the next closest region.
        await fed.fleet.fault(FaultTarget(scope="region", name="asia-east1"), True)
        lost = time.monotonic()

        async def elsewhere() -> str | None:
            zone = await served_from(client, address, ASIA)
            return zone if zone.startswith("europe-west1-") else None

        zone = await eventually(elsewhere, within=15, what="the Asia client served from Europe")
        print(
            f"\nAsia down: the Asia client was served from {zone} after "
            f"{time.monotonic() - lost:.2f} s"
        )
        await assert_served(fed, client, address, US, "us-central1")

        # Asia comes back: so does its client.
        await fed.fleet.fault(FaultTarget(scope="region", name="asia-east1"), False)

        async def home() -> str | None:
            zone = await served_from(client, address, ASIA)
            return zone if zone.startswith("asia-east1-") else None

        await eventually(home, within=60, what="the Asia client served from Asia again")

        # A cluster whose pods are gone (its zone's nodes are down: no ready endpoint, no room)
        # is drained; the US client spills over to the other us-central1 clusters.
        us_zone = await served_from(client, address, US)
        full = next(name for name, _, z in SEED_CLUSTERS if z == us_zone)
        await fed.fleet.fault(FaultTarget(scope="zone", name=us_zone), True)

        async def spilled() -> str | None:
            zone = await served_from(client, address, US)
            return zone if zone.startswith("us-central1-") and zone != us_zone else None

        await eventually(spilled, within=30, what=f"the US client served around {full}")
