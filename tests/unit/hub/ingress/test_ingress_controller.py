"""The federated Ingress controller over the in-memory provider: convergence, backends from
clusters' reports, addresses to members, retries, isolation of failures, deletion, sweeping."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry

from kfed_core.keys import ResourceKey
from kfed_core.plugins import PluginHost
from kfed_core.providers import Backend, LoadBalancerStatus
from kfed_hub.api.fakes import FakePlacements
from kfed_hub.ingress.controller import IngressController
from kfed_hub.ingress.fakes import FakeCloud, FakePlugin
from kfed_hub.ingress.providers import ProviderPool
from kfed_hub.ingress.settings import IngressSettings, ProviderConfig
from kfed_hub.ingress.state import IngressMetrics
from kfed_hub.planning.facts import ClusterFacts
from kfed_hub.ports import ObjectPlacement
from kfed_hub.store.memory import MemoryStore

INGRESS = ResourceKey(group="networking.k8s.io", kind="Ingress", namespace="default", name="nginx")
SERVICE = ResourceKey(group="core", kind="Service", namespace="default", name="nginx")
FAST = IngressSettings(
    default_provider="fake",
    retry_initial=0.01,
    retry_max=0.05,
    resync_interval=3600,
    sweep_interval=3600,
    call_timeout=5,
)


def ingress(
    name: str = "nginx",
    *,
    annotations: dict[str, str] | None = None,
    service: str = "nginx",
    port: Any = 80,
) -> dict[str, Any]:
    return {
        "apiVersion": "extensions/v1beta1",
        "kind": "Ingress",
        "metadata": {"name": name, "namespace": "default", "annotations": annotations or {}},
        "spec": {"backend": {"serviceName": service, "servicePort": port}},
    }


def service(name: str = "nginx") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"type": "LoadBalancer", "ports": [{"name": "http", "port": 80}]},
    }


def lb_status(ip: str, endpoints: int | None = 2) -> dict[str, Any]:
    status: dict[str, Any] = {"loadBalancer": {"ingress": [{"ip": ip}]}}
    if endpoints is not None:
        status["kfedReadyEndpoints"] = endpoints
    return status


@dataclass
class Rig:
    """A running controller and what it talks to."""

    store: MemoryStore
    cloud: FakeCloud
    plugin: FakePlugin
    host: PluginHost
    controller: IngressController
    placements: FakePlacements
    clusters: dict[str, ClusterFacts]
    events: list[dict[str, Any]] = field(default_factory=list)
    refreshed: list[ResourceKey] = field(default_factory=list)
    notified: list[tuple[str, Any]] = field(default_factory=list)

    def place(self, key: ResourceKey, clusters: Iterable[str]) -> None:
        self.placements.placed[key] = ObjectPlacement(clusters=tuple(clusters))

    def set_ready(self, cluster: str, ready: bool) -> None:
        facts = self.clusters[cluster]
        self.clusters[cluster] = ClusterFacts(name=facts.name, labels=facts.labels, ready=ready)
        self.controller.on_cluster_change(cluster)

    def reasons(self) -> list[str]:
        return [str(e["reason"]) for e in self.events]


async def eventually(check: Callable[[], bool], what: str, within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.005)


@asynccontextmanager
async def rig(
    settings: IngressSettings = FAST, providers: dict[str, ProviderConfig] | None = None
) -> AsyncIterator[Rig]:
    store = MemoryStore()
    cloud = FakeCloud()
    plugin = FakePlugin(cloud)
    host = PluginHost(allow=[], entry_points=lambda group: [])
    host.register(plugin, name="fake-plugin")
    if providers:
        settings = dataclasses.replace(settings, providers=providers)
    placements = FakePlacements()
    clusters = {
        "us": ClusterFacts(name="us", labels={"region": "us-central1", "zone": "us-central1-b"}),
        "asia": ClusterFacts(name="asia", labels={"region": "asia-east1", "zone": "asia-east1-a"}),
    }
    the_rig: Rig
    controller = IngressController(
        store=store,
        placements=placements,
        facts=lambda: list(clusters.values()),
        pool=ProviderPool(host, settings, None),
        settings=settings,
        metrics=IngressMetrics.create(CollectorRegistry()),
        record=lambda **event: the_rig.events.append(event),
        refresh_member=lambda key: the_rig.refreshed.append(key),
    )
    the_rig = Rig(store, cloud, plugin, host, controller, placements, clusters)
    original = host.notify_ingress_changed

    def notify(ingress: str, status: Any) -> Any:
        the_rig.notified.append((ingress, status))
        return original(ingress, status)

    host.notify_ingress_changed = notify  # type: ignore[method-assign]
    store.add_listener(controller.on_change)
    await controller.load()
    task = asyncio.create_task(controller.run())
    try:
        yield the_rig
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await controller.close()
        await store.close()


def _backends(r: Rig, name: str = "kfed-default-nginx") -> dict[str, Backend]:
    lb = r.cloud.balancers.get(name)
    return {b.cluster: b for b in lb.backends} if lb is not None else {}


async def _serving_nginx(r: Rig) -> None:
    await r.store.create_object(SERVICE, service())
    await r.store.create_object(INGRESS, ingress())
    r.place(INGRESS, ["us", "asia"])
    r.controller.on_observed("us", SERVICE, lb_status("127.0.0.11", endpoints=3))
    r.controller.on_observed("asia", SERVICE, lb_status("127.0.0.12", endpoints=2))
    await eventually(lambda: _ready(r, INGRESS), "the load balancer to serve")


def _ready(r: Rig, key: ResourceKey) -> bool:
    state = r.controller.load_balancer(key)
    return state is not None and state.ready


def _reason(r: Rig, key: ResourceKey) -> str:
    state = r.controller.load_balancer(key)
    return state.reason if state is not None else ""


async def test_converges_one_global_load_balancer_with_a_backend_per_reporting_cluster() -> None:
    async with rig() as r:
        await r.store.create_object(SERVICE, service())
        await r.store.create_object(INGRESS, ingress())
        r.place(INGRESS, ["us", "asia"])
        r.controller.on_observed("us", SERVICE, lb_status("127.0.0.11", endpoints=3))
        r.controller.on_observed("asia", SERVICE, lb_status("127.0.0.12", endpoints=0))
        await eventually(lambda: len(_backends(r)) == 2, "both clusters as backends")
        by_cluster = _backends(r)
        assert by_cluster["us"].address == "127.0.0.11:80"
        assert (by_cluster["us"].weight, by_cluster["us"].healthy) == (3, True)
        assert by_cluster["us"].region == "us-central1"
        assert by_cluster["us"].zone == "us-central1-b"
        assert (by_cluster["asia"].weight, by_cluster["asia"].healthy) == (0, False)
        await eventually(lambda: _ready(r, INGRESS), "Ready")
        state = r.controller.load_balancer(INGRESS)
        assert state is not None and state.reason == "Ready"
        assert (state.backends, state.serving) == (2, 1)
        assert state.address == r.cloud.addresses["kfed-default-nginx"]
        assert r.controller.member_annotations(INGRESS) == {"kfed.io/global-address": state.address}
        assert INGRESS in r.refreshed
        assert "GlobalAddressAssigned" in r.reasons() and "LoadBalancerReady" in r.reasons()
        assert r.notified[-1][0] == str(INGRESS) and r.notified[-1][1].ready


async def test_a_cluster_that_is_not_ready_is_drained_and_comes_back() -> None:
    async with rig() as r:
        await _serving_nginx(r)
        r.set_ready("asia", False)
        await eventually(lambda: not _backends(r)["asia"].healthy, "asia drained")
        assert _backends(r)["us"].healthy
        r.set_ready("asia", True)
        await eventually(lambda: _backends(r)["asia"].healthy, "asia back")


async def test_no_ready_endpoints_anywhere_is_not_ready_with_the_reason() -> None:
    async with rig() as r:
        await _serving_nginx(r)
        r.controller.on_observed("us", SERVICE, lb_status("127.0.0.11", endpoints=0))
        r.controller.on_observed("asia", SERVICE, lb_status("127.0.0.12", endpoints=0))
        await eventually(lambda: _reason(r, INGRESS) == "NotReady", "NotReady")
        state = r.controller.load_balancer(INGRESS)
        assert state is not None and "no cluster has a healthy backend" in state.message
        assert "LoadBalancerNotReady" in r.reasons()


async def test_unchanged_desired_state_is_not_sent_again() -> None:
    async with rig() as r:
        await _serving_nginx(r)
        ensures = r.cloud.calls.count(("ensure", "kfed-default-nginx"))
        r.controller.on_observed("us", SERVICE, lb_status("127.0.0.11", endpoints=3))  # same
        r.controller.mark_all()
        await asyncio.sleep(0.05)
        assert r.cloud.calls.count(("ensure", "kfed-default-nginx")) == ensures


async def test_throttling_is_retried_with_backoff_and_reported_meanwhile() -> None:
    async with rig() as r:
        r.cloud.fail_next(3)
        await _serving_nginx(r)
        assert r.cloud.calls.count(("ensure", "kfed-default-nginx")) >= 4
        assert r.reasons().count("ProviderFailed") >= 1  # once per distinct message
        state = r.controller.load_balancer(INGRESS)
        assert state is not None and state.reason == "Ready" and "attempt" not in state.message


async def test_a_failing_provider_degrades_only_its_ingresses() -> None:
    broken = {"broken": ProviderConfig(name="broken", plugin="fake", options={"broken": "yes"})}
    async with rig(providers=broken) as r:
        other = ResourceKey(
            group="networking.k8s.io", kind="Ingress", namespace="default", name="other"
        )
        lost = ResourceKey(
            group="networking.k8s.io", kind="Ingress", namespace="default", name="lost"
        )
        await r.store.create_object(
            other, ingress("other", annotations={"kfed.io/ingress-provider": "broken"})
        )
        await r.store.create_object(
            lost, ingress("lost", annotations={"kfed.io/ingress-provider": "nowhere"})
        )
        await _serving_nginx(r)
        await eventually(lambda: _reason(r, other) == "ProviderFailed", "other degraded")
        await eventually(lambda: _reason(r, lost) == "ProviderNotFound", "lost degraded")
        state = r.controller.load_balancer(lost)
        assert state is not None and "'nowhere'" in state.message and "fake" in state.message
        broken_state = r.controller.load_balancer(other)
        assert broken_state is not None and "broken=yes" in broken_state.message
        assert _ready(r, INGRESS)


async def test_a_provider_that_raises_a_bug_is_contained_and_retried() -> None:
    async with rig() as r:
        r.cloud.failures.append(RuntimeError("provider bug"))
        await _serving_nginx(r)
        assert "ProviderFailed" in r.reasons()


async def test_a_slow_provider_does_not_hold_up_another_providers_ingresses() -> None:
    async with rig() as r:
        slow_cloud = FakeCloud(gate=asyncio.Event())
        r.host.register(FakePlugin(slow_cloud, name="slow"), name="slow-plugin")
        slow = ResourceKey(
            group="networking.k8s.io", kind="Ingress", namespace="default", name="slow"
        )
        await r.store.create_object(
            slow, ingress("slow", annotations={"kfed.io/ingress-provider": "slow"})
        )
        await eventually(lambda: bool(slow_cloud.calls), "the slow call to start")
        await _serving_nginx(r)
        assert r.controller.load_balancer(slow) is None
        assert slow_cloud.gate is not None
        slow_cloud.gate.set()
        await eventually(lambda: r.controller.load_balancer(slow) is not None, "slow done")


async def test_an_ingress_without_a_backend_service_is_invalid_with_where() -> None:
    async with rig() as r:
        bad = ingress()
        bad["spec"] = {"rules": [{"host": "x.example"}]}
        await r.store.create_object(INGRESS, bad)
        await eventually(lambda: _reason(r, INGRESS) == "InvalidSpec", "InvalidSpec")
        state = r.controller.load_balancer(INGRESS)
        assert state is not None and "defaultBackend" in state.message
        assert r.cloud.calls == []


async def test_deleting_the_ingress_deletes_its_load_balancer_and_says_so() -> None:
    async with rig() as r:
        await _serving_nginx(r)
        r.cloud.fail_next(1)  # the first delete is throttled: retried
        await r.store.delete_object(INGRESS)
        await eventually(lambda: "kfed-default-nginx" not in r.cloud.balancers, "deleted")
        await eventually(lambda: "LoadBalancerDeleted" in r.reasons(), "the event")
        assert r.controller.load_balancer(INGRESS) is None
        assert r.notified[-1] == (str(INGRESS), LoadBalancerStatus())


async def test_changing_provider_moves_the_load_balancer() -> None:
    async with rig() as r:
        other_cloud = FakeCloud()
        r.host.register(FakePlugin(other_cloud, name="other"), name="other-plugin")
        await _serving_nginx(r)
        moved = ingress(annotations={"kfed.io/ingress-provider": "other"})
        stored = await r.store.get_object(INGRESS)
        assert stored is not None
        await r.store.update_object(INGRESS, moved)
        await eventually(lambda: "kfed-default-nginx" in other_cloud.balancers, "moved")
        await eventually(lambda: "kfed-default-nginx" not in r.cloud.balancers, "old gone")


async def test_the_sweep_deletes_owned_load_balancers_no_ingress_wants() -> None:
    fast_sweep = dataclasses.replace(FAST, sweep_interval=0.05)
    async with rig(fast_sweep) as r:
        await _serving_nginx(r)
        r.cloud.balancers["kfed-default-stale"] = r.cloud.balancers["kfed-default-nginx"]
        await eventually(lambda: "kfed-default-stale" not in r.cloud.balancers, "swept")
        assert "kfed-default-nginx" in r.cloud.balancers
        assert "OrphanLoadBalancerDeleted" in r.reasons()


async def test_resync_ensures_again_to_repair_drift() -> None:
    resync = dataclasses.replace(FAST, resync_interval=0.05)
    async with rig(resync) as r:
        await _serving_nginx(r)
        del r.cloud.balancers["kfed-default-nginx"]  # someone deleted it in the console
        await eventually(lambda: "kfed-default-nginx" in r.cloud.balancers, "re-created")


async def test_a_restarted_controller_adopts_the_same_address() -> None:
    async with rig() as r:
        await _serving_nginx(r)
        address = r.cloud.addresses["kfed-default-nginx"]
        cloud, store = r.cloud, r.store
        ensures = len(cloud.balancers)
    async with rig() as again:
        again.cloud.balancers.update(cloud.balancers)
        again.cloud.addresses.update(cloud.addresses)
        await _serving_nginx(again)
        state = again.controller.load_balancer(INGRESS)
        assert state is not None and state.address == address
        assert len(again.cloud.balancers) == ensures
        del store


async def test_a_cancel_that_races_a_wake_still_stops_the_loop() -> None:
    """The hub stops its controller by cancelling ``run``. A cancel landing while the loop is
    being woken must still end it (3.11's ``wait_for`` swallowed such a cancel, and the hub's
    stop then waited for ever). Every interleaving of a few loop turns is tried."""
    for turns in range(6):
        async with rig() as r:
            task = asyncio.create_task(r.controller.run())  # a second run() the test controls
            await asyncio.sleep(0.01)  # both are now waiting for a wake
            r.controller._wake.set()
            for _ in range(turns):
                await asyncio.sleep(0)
            task.cancel()
            done, _ = await asyncio.wait({task}, timeout=2)
            assert done, f"run() ignored a cancel that came {turns} loop turns after a wake"
            assert task.cancelled()
