"""A real hub drives a cloud provider plugin, found through its entry point, against the
provider's fake cloud: create, adopt after a hub restart (same address, no duplicates), and
delete leaving nothing behind."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kfed_core.keys import ResourceKey
from kfed_core.plugins import PluginHost
from kfed_gcp.fake import FakeGce, GceModel
from kfed_hub.ingress.fakes import FakeCloud, FakePlugin
from kfed_hub.ingress.settings import IngressSettings, PluginSettings, ProviderConfig
from kfed_hub.service import Hub, HubSettings

INGRESS = ResourceKey(group="networking.k8s.io", kind="Ingress", namespace="shop", name="web")
MANIFEST = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "Ingress",
    "metadata": {"name": "web", "namespace": "shop", "annotations": {}},
    "spec": {"defaultBackend": {"service": {"name": "web", "port": {"number": 80}}}},
}


async def _until(check: Callable[[], Any], what: str, within: float = 20.0) -> Any:
    deadline = time.monotonic() + within
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def _settings(tmp: Path, fake: FakeGce) -> HubSettings:
    options = {
        "project": fake.model.project,
        "endpoint": fake.url,
        "retry_base_delay": "0.001",
        "retry_max_delay": "0.005",
        "operation_poll_interval": "0.001",
    }
    return HubSettings(
        data_dir=tmp / "hub",
        api_address="127.0.0.1:0",
        sync_address="127.0.0.1:0",
        plugins=PluginSettings(),  # kfed's own plugins, through their entry points
        ingress=IngressSettings(
            default_provider="gcp",
            providers={"gcp": ProviderConfig(name="gcp", plugin="gcp", options=options)},
            retry_initial=0.05,
            retry_max=0.5,
        ),
    )


async def test_a_hub_converges_adopts_and_deletes_a_gcp_load_balancer(tmp_path: Path) -> None:
    async with FakeGce(GceModel(project="kfed-test")) as fake:
        hub = await Hub.start(_settings(tmp_path, fake))
        try:
            assert hub.plugin_host is not None
            assert {"local", "gcp", "aws", "openstack"} <= set(hub.plugin_host.providers())
            assert hub.plugin_host.errors == ()
            assert hub.store is not None and hub.ingress is not None
            await hub.store.create_object(INGRESS, MANIFEST)
            ingress = hub.ingress
            state = await _until(
                lambda: (s := ingress.load_balancer(INGRESS)) and s.address and s,
                "a global address",
            )
            assert state.provider == "gcp" and state.name == "kfed-shop-web"
            made = sorted(fake.resource_ids())
            assert made, "the hub made nothing in the fake"
        finally:
            await hub.stop()
        assert sorted(fake.resource_ids()) == made  # stopping the hub deletes nothing

        hub = await Hub.start(_settings(tmp_path, fake))  # a restarted hub adopts
        try:
            assert hub.store is not None and hub.ingress is not None
            ingress = hub.ingress
            again = await _until(
                lambda: (s := ingress.load_balancer(INGRESS)) and s.address and s,
                "the address after a restart",
            )
            assert again.address == state.address
            assert sorted(fake.resource_ids()) == made
            await hub.store.delete_object(INGRESS)
            await _until(lambda: not fake.resource_ids(), "every resource deleted")
        finally:
            await hub.stop()


async def test_a_failing_cloud_degrades_only_its_ingress(tmp_path: Path) -> None:
    """GCE refuses (403, an operator must act) then throttles: the GCP Ingress says why and is
    retried until it converges, while an Ingress on another provider is served all along."""
    async with FakeGce(GceModel(project="kfed-test")) as fake:
        cloud = FakeCloud()
        host = PluginHost(allow=["gcp"])  # the real gcp plugin, through its entry point
        host.register(FakePlugin(cloud, name="other"), name="other-plugin")
        fake.fail(403, count=1, reason="forbidden")
        fake.fail(429, count=3)
        hub = await Hub.start(_settings(tmp_path, fake), plugin_host=host)
        try:
            assert hub.store is not None and hub.ingress is not None
            ingress = hub.ingress
            other = ResourceKey(
                group="networking.k8s.io", kind="Ingress", namespace="shop", name="other"
            )
            annotated = {
                **MANIFEST,
                "metadata": {
                    "name": "other",
                    "namespace": "shop",
                    "annotations": {"kfed.io/ingress-provider": "other"},
                },
            }
            await hub.store.create_object(INGRESS, MANIFEST)
            await hub.store.create_object(other, annotated)
            failed = await _until(
                lambda: (
                    (s := ingress.load_balancer(INGRESS)) and s.reason == "ProviderFailed" and s
                ),
                "the GCP Ingress degraded",
            )
            assert "403" in failed.message or "forbidden" in failed.message.lower(), failed
            served = await _until(
                lambda: (s := ingress.load_balancer(other)) and s.address and s,
                "the other provider's Ingress served",
            )
            assert served.address == cloud.addresses["kfed-shop-other"]
            state = await _until(
                lambda: (s := ingress.load_balancer(INGRESS)) and s.address and s,
                "the GCP Ingress converged after the faults",
            )
            assert state.reason in ("Ready", "NotReady")  # no backends: converged, not serving
            events = await hub.store.list_events()
            assert any(e.reason == "ProviderFailed" for e in events)
        finally:
            await hub.stop()
