"""The agent's session against a fake cluster (FakeKubeApi) and an in-memory hub end of the Sync
stream: the ready endpoints it reports for Services, and the global address it writes into member
Ingresses' status for the hub's federated ingress."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from kfed_agent import syncer
from kfed_agent.apply import prepare
from kfed_agent.fake_kube import FakeKubeApi
from kfed_agent.link import Endpoint
from kfed_agent.metrics import AgentMetrics
from kfed_agent.ports import KubeError
from kfed_agent.syncer import Session, SyncSettings
from kfed_core import rpc
from kfed_core.conventions import GLOBAL_ADDRESS_ANNOTATION, READY_ENDPOINTS_STATUS
from kfed_core.sync.hub_side import APPLIED, Batch, DesiredEntry, ResultItem

SERVICE = "core/Service/web/front"
INGRESS = "networking.k8s.io/Ingress/web/front"
SENTINEL = "networking.k8s.io/Ingress/web/sentinel"
_NONCES = itertools.count(1)


class FakeHub:
    """The hub's end of one Sync stream, in memory: what the agent sends is recorded, what the
    test queues is received (None ends the stream)."""

    def __init__(self) -> None:
        self.endpoint = Endpoint(address="fake-hub", ca_pem=b"", cert_pem=b"", key_pem=b"")
        self.inbox: asyncio.Queue[rpc.HubMessage | None] = asyncio.Queue()
        self.results: asyncio.Queue[rpc.BatchResult] = asyncio.Queue()
        self.status: dict[str, Any] = {}  # key -> the last status reported (None: empty)

    async def send(self, message: rpc.AgentMessage) -> None:
        body = message.WhichOneof("body")
        if body == "result":
            self.results.put_nowait(message.result)
        elif body == "status":
            for item in message.status.objects:
                self.status[item.key] = json.loads(item.status) if item.status else None

    async def receive(self) -> rpc.HubMessage | None:
        return await self.inbox.get()

    async def close(self) -> None:
        return None

    async def apply(self, *manifests: dict[str, Any], version: str = "v1") -> list[ResultItem]:
        """Send one batch of upserts and wait for its result."""
        entries = tuple(
            DesiredEntry(key=key_of(m), version=version, manifest=json.dumps(m).encode())
            for m in manifests
        )
        batch = Batch(nonce=f"n{next(_NONCES)}", upserts=entries, removals=())
        self.inbox.put_nowait(rpc.batch_message(batch))
        result = await asyncio.wait_for(self.results.get(), 5)
        assert result.nonce == batch.nonce
        return rpc.results_of(result)


def key_of(manifest: dict[str, Any]) -> str:
    group = str(manifest["apiVersion"]).rpartition("/")[0] or "core"
    meta = manifest["metadata"]
    return f"{group}/{manifest['kind']}/{meta['namespace']}/{meta['name']}"


@contextlib.asynccontextmanager
async def session(kube: FakeKubeApi, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeHub]:
    hub = FakeHub()

    async def open_link(endpoint: Endpoint) -> FakeHub:
        return hub

    monkeypatch.setattr(syncer, "open_link", open_link)
    agent = Session(
        kube=kube,
        endpoint=hub.endpoint,
        metrics=AgentMetrics.create(),
        settings=SyncSettings(health_interval=0.02, status_interval=0.005),
        agent_version="test",
        on_welcome=lambda: None,
    )
    welcome = rpc.Welcome(cluster="east", heartbeat_interval_ms=60_000)
    hub.inbox.put_nowait(rpc.HubMessage(welcome=welcome))
    task = asyncio.create_task(agent.run())
    try:
        yield hub
    finally:
        hub.inbox.put_nowait(None)
        await asyncio.wait_for(task, 5)


async def eventually(check: Callable[[], Any], *, within: float = 3.0, what: str = "") -> Any:
    deadline = time.monotonic() + within
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what} (last value {value!r})")
        await asyncio.sleep(0.01)


def service(selector: dict[str, str] | None) -> dict[str, Any]:
    spec: dict[str, Any] = {"ports": [{"port": 80}]}
    if selector is not None:
        spec["selector"] = selector
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "front", "namespace": "web"},
        "spec": spec,
    }


def pod(name: str, *, ready: bool, app: str = "front") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "web", "labels": {"app": app}},
        "spec": {"containers": [{"name": "web", "image": "nginx"}]},
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
        },
    }


def ingress(name: str = "front", address: str | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": "web"}
    if address is not None:
        meta["annotations"] = {GLOBAL_ADDRESS_ANNOTATION: address}
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": meta,
        "spec": {"defaultBackend": {"service": {"name": "front", "port": {"number": 80}}}},
    }


def load_balancer(kube: FakeKubeApi, name: str = "front") -> Any:
    for obj in kube.objects():
        if obj["kind"] == "Ingress" and obj["metadata"]["name"] == name:
            return (obj.get("status") or {}).get("loadBalancer")
    return None


def calls(kube: FakeKubeApi, verb: str, key: str) -> int:
    return sum(1 for c in kube.calls if c == (verb, key))


async def settled(kube: FakeKubeApi, hub: FakeHub, mark: str) -> None:
    """Wait until the agent's Ingress watch has handled every event so far: someone else writes
    a status on an unannotated sentinel Ingress, and its report reaches the hub only after the
    events queued before it."""
    sentinel = await kube.get("networking.k8s.io/v1", "Ingress", "web", "sentinel")
    assert sentinel is not None, "apply the sentinel Ingress first"
    wanted = {"ingress": [{"hostname": mark}]}
    await kube.replace_status({**sentinel, "status": {"loadBalancer": wanted}})
    await eventually(
        lambda: (hub.status.get(SENTINEL) or {}).get("loadBalancer") == wanted,
        what=f"the sentinel's status {mark} at the hub",
    )


# -- ready endpoints of Services ----------------------------------------------------------------


async def test_service_reports_its_ready_endpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    kube = FakeKubeApi(namespaces=("web",))
    for name, ready in (("a", True), ("b", True), ("c", False)):
        kube.put(pod(name, ready=ready))
    kube.put(pod("other", ready=True, app="back"))
    async with session(kube, monkeypatch) as hub:
        assert [r.outcome for r in await hub.apply(service({"app": "front"}))] == [APPLIED]
        await eventually(
            lambda: (hub.status.get(SERVICE) or {}).get(READY_ENDPOINTS_STATUS) == 2,
            what="2 ready endpoints reported",
        )


async def test_ready_endpoints_are_reported_again_as_pods_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kube = FakeKubeApi(namespaces=("web",))
    kube.put(pod("a", ready=False))
    async with session(kube, monkeypatch) as hub:
        await hub.apply(service({"app": "front"}))

        def reported() -> Any:
            return (hub.status.get(SERVICE) or {}).get(READY_ENDPOINTS_STATUS)

        await eventually(lambda: reported() == 0, what="0 ready endpoints")
        stored = await kube.get("v1", "Service", "web", "front")
        assert stored is not None
        kube.put(pod("a", ready=True))
        kube.put(pod("b", ready=True))
        await eventually(lambda: reported() == 2, what="2 ready endpoints once pods are ready")
        kube.put(pod("b", ready=False))
        await eventually(lambda: reported() == 1, what="1 ready endpoint once one is unready")
        again = await kube.get("v1", "Service", "web", "front")
        assert again == stored  # the Service itself never changed
        assert calls(kube, "apply", SERVICE) == 1


async def test_service_without_a_selector_reports_no_ready_endpoints(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kube = FakeKubeApi(namespaces=("web",))
    kube.put(pod("a", ready=True))
    selected = {**service({"app": "front"}), "metadata": {"name": "counted", "namespace": "web"}}
    async with session(kube, monkeypatch) as hub:
        await hub.apply(service(None), selected)
        # Both are counted on the same health tick: once one has its count, the other would too.
        await eventually(
            lambda: READY_ENDPOINTS_STATUS in (hub.status.get("core/Service/web/counted") or {}),
            what="the selecting Service's count",
        )
        assert SERVICE in hub.status
        assert READY_ENDPOINTS_STATUS not in (hub.status[SERVICE] or {})


# -- the global address in member Ingresses' status ---------------------------------------------


async def test_member_ingress_shows_the_global_ip_once_without_re_applying(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kube = FakeKubeApi(namespaces=("web",))
    global_ip = {"ingress": [{"ip": "203.0.113.7"}]}
    async with session(kube, monkeypatch) as hub:
        await hub.apply(ingress("sentinel"), ingress(address="203.0.113.7"))
        await eventually(lambda: load_balancer(kube) == global_ip, what="the global address")
        await eventually(
            lambda: (hub.status.get(INGRESS) or {}).get("loadBalancer") == global_ip,
            what="the global address reported to the hub",
        )
        await settled(kube, hub, "one")
        assert calls(kube, "replace_status", INGRESS) == 1  # no write loop
        assert calls(kube, "apply", INGRESS) == 1  # a status write is not drift
        assert calls(kube, "replace_status", SENTINEL) == 1  # settled()'s own: not kfed's


async def test_member_ingress_shows_a_host_name_as_hostname(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kube = FakeKubeApi(namespaces=("web",))
    async with session(kube, monkeypatch) as hub:
        await hub.apply(ingress(address="shop.example.com"))
        await eventually(
            lambda: load_balancer(kube) == {"ingress": [{"hostname": "shop.example.com"}]},
            what="the global host name",
        )


async def test_global_address_already_shown_is_not_written_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kube = FakeKubeApi(namespaces=("web",))
    # Left by an earlier session: applied and showing its global address already.
    existing = prepare(ingress(address="203.0.113.7"), key=INGRESS, version="v1")
    kube.put({**existing, "status": {"loadBalancer": {"ingress": [{"ip": "203.0.113.7"}]}}})
    kube.put(prepare(ingress("sentinel"), key=SENTINEL, version="v1"))
    async with session(kube, monkeypatch) as hub:
        await settled(kube, hub, "restart")
        assert calls(kube, "replace_status", INGRESS) == 0
        # A new version with the same address: applied, and its status still needs no write.
        changed = ingress(address="203.0.113.7")
        changed["spec"]["defaultBackend"]["service"]["port"]["number"] = 8080
        assert [r.outcome for r in await hub.apply(changed, version="v2")] == [APPLIED]
        await settled(kube, hub, "new version")
        assert calls(kube, "replace_status", INGRESS) == 0


async def test_someone_elses_address_is_replaced_by_the_global_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kube = FakeKubeApi(namespaces=("web",))
    global_ip = {"ingress": [{"ip": "203.0.113.7"}]}
    async with session(kube, monkeypatch) as hub:
        await hub.apply(ingress("sentinel"), ingress(address="203.0.113.7"))
        await eventually(lambda: load_balancer(kube) == global_ip, what="the global address")
        live = await kube.get("networking.k8s.io/v1", "Ingress", "web", "front")
        assert live is not None
        local = {"loadBalancer": {"ingress": [{"ip": "127.1.1.1"}]}}
        await kube.replace_status({**live, "status": local})
        await settled(kube, hub, "overwritten")
        assert load_balancer(kube) == global_ip


async def test_annotation_removed_leaves_the_status_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kube = FakeKubeApi(namespaces=("web",))
    global_ip = {"ingress": [{"ip": "203.0.113.7"}]}
    async with session(kube, monkeypatch) as hub:
        await hub.apply(ingress("sentinel"), ingress(address="203.0.113.7"))
        await eventually(lambda: load_balancer(kube) == global_ip, what="the global address")
        await hub.apply(ingress(), version="v2")
        live = await kube.get("networking.k8s.io/v1", "Ingress", "web", "front")
        assert live is not None
        assert GLOBAL_ADDRESS_ANNOTATION not in (live["metadata"].get("annotations") or {})
        await settled(kube, hub, "no annotation")
        assert load_balancer(kube) == global_ip  # kfed neither rewrites nor clears it
        assert calls(kube, "replace_status", INGRESS) == 1


async def test_a_conflicting_status_write_is_retried_from_a_fresh_read(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    kube = FakeKubeApi(namespaces=("web",))
    conflict = KubeError("the object has been modified", status=409, reason="Conflict")
    kube.fail_next("Ingress", "front", conflict, verb="replace_status")
    async with session(kube, monkeypatch) as hub:
        assert [r.outcome for r in await hub.apply(ingress(address="198.51.100.1"))] == [APPLIED]
        assert load_balancer(kube) == {"ingress": [{"ip": "198.51.100.1"}]}
        # The fake records only calls that got through: the second, after a fresh read.
        assert calls(kube, "replace_status", INGRESS) == 1
    assert "could not write the global address" not in caplog.text


async def test_a_failed_status_write_does_not_fail_the_apply(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    kube = FakeKubeApi(namespaces=("web",))
    broken = KubeError("etcd is sad", status=500, reason="InternalError")
    kube.fail_next("Ingress", "front", broken, verb="replace_status")
    async with session(kube, monkeypatch) as hub:
        assert [r.outcome for r in await hub.apply(ingress(address="198.51.100.1"))] == [APPLIED]
        assert "could not write the global address" in caplog.text
        # The watch sees the applied object and tries again.
        await eventually(
            lambda: load_balancer(kube) == {"ingress": [{"ip": "198.51.100.1"}]},
            what="the global address after a failed write",
        )


async def test_a_cancel_that_races_a_status_wake_still_stops_the_report_loop() -> None:
    """The session stops its report loop by cancelling it; a cancel landing while the loop is
    being woken must end it (3.11's ``wait_for`` swallowed it, and the agent's stop hung)."""
    for turns in range(4):
        hub = FakeHub()
        agent = Session(
            kube=FakeKubeApi(namespaces=("web",)),
            endpoint=hub.endpoint,
            metrics=AgentMetrics.create(),
            settings=SyncSettings(health_interval=3600, status_interval=0.005),
            agent_version="test",
            on_welcome=lambda: None,
        )
        agent.link = hub  # type: ignore[assignment]
        task = asyncio.create_task(agent._report_loop())
        await asyncio.sleep(0.01)  # waiting for a status change
        agent.status_ready.set()
        for _ in range(turns):
            await asyncio.sleep(0)
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=2)
        assert done, f"the report loop ignored a cancel {turns} turns after a wake"
        assert task.cancelled()
