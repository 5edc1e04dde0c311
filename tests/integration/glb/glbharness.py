"""Harness for the local global load balancer's tests: simulated clusters serving real pages,
and small HTTP backends of our own for what the simulator's page cannot show (bodies, slowness).

The fixtures are imported by this folder's conftest.py."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import requests
from aiohttp import web

from kfed_core.providers import Backend
from kfed_local.glb import HealthSettings, LocalProvider, LocalSettings
from kfed_local.sim.cluster import SimCluster, SimOptions
from kfed_local.sim.config import ClusterSpec
from kfed_local.sim.threaded import FleetThread, wait_for

FAST = SimOptions(eviction_timeout=1.0, bookmark_interval=0.5, history=200)
PLACES = {
    "asia": ("asia-east1", "asia-east1-a"),
    "eu": ("europe-west1", "europe-west1-b"),
    "us": ("us-central1", "us-central1-b"),
}


@dataclass
class GlbSim:
    """Three simulated clusters, each serving a web Deployment through a LoadBalancer Service."""

    thread: FleetThread
    lb_addresses: dict[str, str]

    def cluster(self, name: str) -> SimCluster:
        assert self.thread.fleet is not None
        return self.thread.fleet.cluster(name)

    def backends(self, **changes: dict[str, Any]) -> list[Backend]:
        out = []
        for name, (region, zone) in PLACES.items():
            fields: dict[str, Any] = {"cluster": name, "region": region, "zone": zone}
            fields["address"] = self.lb_addresses[name]
            fields.update(changes.get(name, {}))
            out.append(Backend(**fields))
        return out

    async def fault(self, work: Callable[[SimCluster], Awaitable[None]], name: str) -> None:
        """Run a fault method of one cluster on the simulator's loop, off the test's loop."""
        cluster = self.cluster(name)
        await asyncio.to_thread(self.thread.call, lambda _fleet: work(cluster))


def _free_port(address: str) -> int:
    with socket.socket() as probe:
        probe.bind((address, 0))
        port: int = probe.getsockname()[1]
    return port


def _serve_web(cluster: SimCluster, folder: Path) -> str:
    """Create a 2-replica Deployment and a LoadBalancer Service; return the LB's host:port."""
    (folder / "ca.crt").write_bytes(cluster.ca.cert_pem)
    (folder / "tls.crt").write_bytes(cluster.admin.cert_pem)
    (folder / "tls.key").write_bytes(cluster.admin.key_pem)
    tls: dict[str, Any] = {
        "verify": str(folder / "ca.crt"),
        "cert": (str(folder / "tls.crt"), str(folder / "tls.key")),
        "timeout": 10,
    }
    port = _free_port(cluster.address)
    labels = {"app": "web"}
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.25"}]},
            },
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web"},
        "spec": {
            "type": "LoadBalancer",
            "selector": labels,
            "ports": [{"name": "http", "port": port, "targetPort": 80}],
        },
    }
    base = f"{cluster.url}"
    for path, body in (
        ("/apis/apps/v1/namespaces/default/deployments", deployment),
        ("/api/v1/namespaces/default/services", service),
    ):
        answer = requests.post(base + path, json=body, **tls)
        assert answer.status_code == 201, answer.text
    return f"{cluster.address}:{port}"


def page_served(address: str) -> bool:
    try:
        return "You are being served from" in requests.get(f"http://{address}/", timeout=2).text
    except requests.RequestException:
        return False


@pytest.fixture(scope="module")
def glb_sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GlbSim]:
    specs = [
        ClusterSpec(name=name, region=region, zones=(zone,), nodes=1, pod_start_delay=0.05)
        for name, (region, zone) in PLACES.items()
    ]
    with FleetThread(specs, options=FAST) as thread:
        assert thread.fleet is not None
        addresses = {
            name: _serve_web(thread.fleet.cluster(name), tmp_path_factory.mktemp(name))
            for name in PLACES
        }
        for name, address in addresses.items():
            wait_for(lambda a=address: page_served(a), timeout=15, what=f"{name} serves its page")
        yield GlbSim(thread=thread, lb_addresses=addresses)


@pytest.fixture
def healthy_fleet(glb_sim: GlbSim) -> Iterator[GlbSim]:
    """The shared fleet, with every fault lifted (and every page served again) afterwards."""
    yield glb_sim
    for name in PLACES:
        cluster = glb_sim.cluster(name)
        glb_sim.thread.call(lambda _f, c=cluster: c.set_unreachable(False))
        glb_sim.thread.call(lambda _f, c=cluster: c.set_down(False))
        for zone in cluster.spec.zones:
            glb_sim.thread.call(lambda _f, c=cluster, z=zone: c.set_zone_down(z, False))
    for name, address in glb_sim.lb_addresses.items():
        wait_for(lambda a=address: page_served(a), timeout=30, what=f"{name} serves again")


# Defaults except a slightly faster check cadence where a test is not about failover timing.
QUICK_HEALTH = HealthSettings(interval=0.25, timeout=0.25)


@pytest.fixture
async def provider() -> AsyncIterator[LocalProvider]:
    """A provider that trusts X-Client-Region (as the demo's and tests' settings allow)."""
    made = LocalProvider(LocalSettings(trust_client_region_header=True, health=QUICK_HEALTH))
    yield made
    await made.close()


@pytest.fixture
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        yield session


class TestBackend:
    """A small HTTP backend of our own: echoes requests, or holds them until released."""

    __test__ = False  # not a test class

    def __init__(self, name: str) -> None:
        self.name = name
        self.release = asyncio.Event()
        self.held = 0
        self.address = ""
        self._runner: web.ServerRunner | None = None

    async def _answer(self, request: web.BaseRequest) -> web.StreamResponse:
        if request.path == "/slow":
            self.held += 1
            await self.release.wait()
        if request.path == "/echo":
            response = web.StreamResponse(status=201, reason="Created")
            response.headers["X-Echo-Method"] = request.method
            response.headers["X-Echo-Target"] = request.rel_url.raw_path_qs
            for key in ("X-Forwarded-For", "X-Forwarded-Host", "Via", "Host", "X-Client-Region"):
                response.headers[f"X-Echo-{key}"] = request.headers.get(key, "-")
            response.headers.add("Set-Cookie", "a=1")
            response.headers.add("Set-Cookie", "b=2")
            await response.prepare(request)
            async for chunk in request.content.iter_chunked(65536):
                await response.write(chunk)
            await response.write_eof()
            return response
        return web.Response(text=f"served by {self.name}\n", headers={"X-Test-Backend": self.name})

    async def start(self) -> TestBackend:
        self._runner = web.ServerRunner(web.Server(self._answer), shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.address = f"127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        self.release.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


@pytest.fixture
async def test_backends() -> AsyncIterator[Callable[[str], Awaitable[TestBackend]]]:
    made: list[TestBackend] = []

    async def make(name: str) -> TestBackend:
        backend = await TestBackend(name).start()
        made.append(backend)
        return backend

    yield make
    for backend in made:
        await backend.stop()


async def eventually(
    check: Callable[[], Awaitable[Any]], *, within: float = 10.0, what: str = "condition"
) -> tuple[Any, float]:
    """Poll ``check`` until truthy; returns (its value, seconds taken). Fails after ``within``."""
    started = time.monotonic()
    last: Any = None
    while time.monotonic() - started < within:
        with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
            last = await check()
            if last:
                return last, time.monotonic() - started
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out after {within} s waiting for {what} (last: {last!r})")
