"""A member Ingress's global address is written into its status, and the agent stops fighting
a cluster's own ingress controller that keeps writing its address there."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from kfed_agent.addresses import MAX_WRITES, WINDOW, AddressWriter
from kfed_agent.fake_kube import FakeKubeApi

KEY = "networking.k8s.io/Ingress/default/web"


def _ingress() -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {
            "name": "web",
            "namespace": "default",
            "annotations": {"kfed.io/global-address": "203.0.113.7"},
        },
        "spec": {"defaultBackend": {"service": {"name": "web", "port": {"number": 80}}}},
    }


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _competitor_writes(kube: FakeKubeApi) -> dict[str, Any]:
    """The cluster's ingress controller puts its own address back."""
    live = await kube.get("networking.k8s.io/v1", "Ingress", "default", "web")
    assert live is not None
    mine = {"loadBalancer": {"ingress": [{"ip": "10.0.0.1"}]}}
    return await kube.replace_status({**live, "status": mine})


def _shown(live: dict[str, Any]) -> Any:
    return live.get("status", {}).get("loadBalancer")


async def test_the_address_is_written_once_and_not_again_when_shown() -> None:
    kube = FakeKubeApi(namespaces=("default",))
    live = kube.put(_ingress())
    writer = AddressWriter(kube, clock=Clock())
    shown = await writer.show(KEY, live)
    assert _shown(shown) == {"ingress": [{"ip": "203.0.113.7"}]}
    before = len(kube.calls)
    assert await writer.show(KEY, shown) == shown
    assert len(kube.calls) == before


async def test_a_status_fight_is_left_alone_until_the_window_passes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    kube = FakeKubeApi(namespaces=("default",))
    live = kube.put(_ingress())
    clock = Clock()
    writer = AddressWriter(kube, clock=clock)
    caplog.set_level(logging.WARNING, logger="kfed_agent.addresses")
    for _ in range(MAX_WRITES):
        assert _shown(await writer.show(KEY, live))["ingress"][0]["ip"] == "203.0.113.7"
        live = await _competitor_writes(kube)
    for _ in range(3):  # the fight: further events change nothing, and warn once
        assert _shown(await writer.show(KEY, live))["ingress"][0]["ip"] == "10.0.0.1"
    warnings = [r for r in caplog.records if "another writer keeps changing" in r.getMessage()]
    assert len(warnings) == 1 and KEY in warnings[0].getMessage()
    clock.now += WINDOW + 1
    assert _shown(await writer.show(KEY, live))["ingress"][0]["ip"] == "203.0.113.7"


async def test_forgetting_an_ingress_resets_its_budget() -> None:
    kube = FakeKubeApi(namespaces=("default",))
    live = kube.put(_ingress())
    writer = AddressWriter(kube, clock=Clock())
    for _ in range(MAX_WRITES):
        await writer.show(KEY, live)
        live = await _competitor_writes(kube)
    writer.forget(KEY)
    assert _shown(await writer.show(KEY, live))["ingress"][0]["ip"] == "203.0.113.7"
