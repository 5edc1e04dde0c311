"""Harness: a federation on loopback for integration tests: simulated member clusters, a real
hub (gRPC with mutual TLS, HTTPS API, SQLite store) and real agents, all on the test's loop.

Clusters join the way an operator joins them: a token from the hub's API, then ``kfed join``'s
client code, then an agent started from the directory it wrote.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from kfed_agent.agent import Agent, AgentSettings
from kfed_agent.kube import RealKubeApi
from kfed_agent.syncer import SyncSettings
from kfed_demo.stage import join_with_token
from kfed_hub.client import HubApiError, HubClient
from kfed_hub.health import HealthPolicy
from kfed_hub.service import Hub, HubSettings
from kfed_hub.stream import StreamSettings
from kfed_local.sim.cluster import SimOptions
from kfed_local.sim.config import SEED_CLUSTERS, ClusterSpec, NodeCapacity
from kfed_local.sim.fleet import SimFleet

FAST_SIM = SimOptions(eviction_timeout=1.0, bookmark_interval=0.5, history=500)
# Fast, but with room for the test process's own pauses: every cluster, agent and the hub share
# one event loop, and late in a full run a garbage collection can stall it for most of a second.
# With three missed 0.2 s heartbeats (0.6 s) such a pause turned every cluster NotReady at once
# and drained its backends from the global load balancers mid-test; eight (1.6 s) and a 3 s
# lease leave room for it and still fail over within a few seconds.
FAST_HEALTH = HealthPolicy(heartbeat_interval=0.2, missed_heartbeats=8, offline_after=3.0)
FAST_AGENT = AgentSettings(
    backoff_base=0.05,
    backoff_max=0.5,
    lease_duration=3.0,
    lease_renew_period=0.3,
    lease_retry_period=0.1,
    sync=SyncSettings(health_interval=0.5, status_interval=0.05),
)
NAMES = ("east", "west", "north")


def seed_specs() -> list[ClusterSpec]:
    """The 2016 walk-through's nine clusters (one node each, fast pods)."""
    return [
        ClusterSpec(
            name=name,
            region=region,
            zones=(zone,),
            nodes=1,
            pod_start_delay=0.05,
            provider="gce",
            capacity=NodeCapacity(cpu="8", memory="16Gi", pods=60),
        )
        for name, region, zone in SEED_CLUSTERS
    ]


def specs(names: tuple[str, ...] = NAMES) -> list[ClusterSpec]:
    regions = {"east": "us-east1", "west": "us-west1", "north": "europe-north1"}
    return [
        ClusterSpec(
            name=name,
            region=regions.get(name, "us-central1"),
            zones=(f"{regions.get(name, 'us-central1')}-b",),
            nodes=1,
            pod_start_delay=0.05,
            capacity=NodeCapacity(cpu="4", memory="8Gi", pods=50),
        )
        for name in names
    ]


async def eventually(
    check: Callable[[], Awaitable[Any]], *, within: float = 15.0, what: str = "condition"
) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` after ``within`` s."""
    deadline = time.monotonic() + within
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out after {within}s waiting for {what} (last: {last!r})")


@dataclass
class Federation:
    """Handles to everything a test may poke."""

    tmp: Path
    fleet: SimFleet
    kubeconfig: Path
    hub: Hub
    hub_settings: HubSettings
    client: HubClient
    agents: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    agent_objects: dict[str, Agent] = field(default_factory=dict)
    kubes: dict[str, RealKubeApi] = field(default_factory=dict)

    async def api(self, method: str, path: str, body: Any = None) -> Any:
        content_type = "application/merge-patch+json" if method == "PATCH" else "application/json"
        return await asyncio.to_thread(
            lambda: self.client.request(method, path, body, content_type=content_type)
        )

    async def join(self, name: str) -> Path:
        out = self.tmp / f"agent-{name}"
        await join_with_token(
            self.api, hub_url=self.hub.api_url, name=name, kubeconfig=self.kubeconfig, out=out
        )
        return out

    async def start_agent(self, name: str, *, identity: str | None = None) -> Agent:
        kube = self.kubes.get(name)
        if kube is None:
            kube = await asyncio.to_thread(RealKubeApi.from_kubeconfig, str(self.kubeconfig), name)
            self.kubes[name] = kube
        agent = Agent(
            config_dir=self.tmp / f"agent-{name}", kube=kube, settings=FAST_AGENT, identity=identity
        )
        task_name = f"{name}/{identity or 'agent'}"
        self.agents[task_name] = asyncio.create_task(agent.run(), name=task_name)
        self.agent_objects[task_name] = agent
        return agent

    async def stop_agent(self, name: str, *, identity: str | None = None) -> None:
        task = self.agents.pop(f"{name}/{identity or 'agent'}")
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task

    async def member(self, cluster: str, api_version: str, kind: str, ns: str, name: str) -> Any:
        return await self.kubes[cluster].get(api_version, kind, ns, name)

    async def put_configmap(self, name: str, data: dict[str, str], ns: str = "default") -> Any:
        """Create the federated ConfigMap, or replace its data."""
        path = f"/api/v1/namespaces/{ns}/configmaps"
        try:
            current = await self.api("GET", f"{path}/{name}")
        except HubApiError as exc:
            if exc.status != 404:
                raise
            body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}
            return await self.api("POST", path, {**body, "data": data})
        current["data"] = data
        return await self.api("PUT", f"{path}/{name}", current)

    async def everywhere(
        self,
        kind: str,
        ns: str,
        name: str,
        check: Callable[[Any], bool] = lambda obj: obj is not None,
        *,
        api_version: str = "v1",
        clusters: tuple[str, ...] = NAMES,
    ) -> bool:
        """Whether ``check`` holds for the object (None when absent) in every cluster."""
        for cluster in clusters:
            if not check(await self.member(cluster, api_version, kind, ns, name)):
                return False
        return True

    async def member_replicas(self, cluster: str, name: str, ns: str = "default") -> int | None:
        """spec.replicas of the apps/v1 ReplicaSet ``name`` in ``cluster`` (None if absent)."""
        obj = await self.member(cluster, "apps/v1", "ReplicaSet", ns, name)
        return None if obj is None else int(obj["spec"].get("replicas", 1))

    async def cluster_statuses(self) -> dict[str, str]:
        listed = await self.api("GET", "/apis/kfed.io/v1alpha1/clusters")
        return {c["metadata"]["name"]: c["status"]["phase"] for c in listed["items"]}

    async def all_ready(self, names: tuple[str, ...] = NAMES) -> bool:
        statuses = await self.cluster_statuses()
        return all(statuses.get(n) == "Ready" for n in names)


async def start_hub(tmp: Path, **overrides: Any) -> tuple[Hub, HubSettings]:
    settings = HubSettings(
        data_dir=tmp / "hub",
        api_address="127.0.0.1:0",
        sync_address="127.0.0.1:0",
        cli_config_paths=(tmp / "kfedconfig",),
        health=FAST_HEALTH,
        stream=overrides.pop("stream", StreamSettings()),
        **overrides,
    )
    return await Hub.start(settings), settings


@pytest.fixture
async def federation(tmp_path: Path) -> AsyncIterator[Federation]:
    """Three simulated clusters joined through tokens, with running agents, all Ready."""
    async with federation_of(tmp_path, NAMES) as fed:
        yield fed


@contextlib.asynccontextmanager
async def federation_of(
    tmp_path: Path,
    names: tuple[str, ...],
    *,
    cluster_specs: list[ClusterSpec] | None = None,
    **hub: Any,
) -> AsyncIterator[Federation]:
    fleet = SimFleet(cluster_specs or specs(names), options=FAST_SIM)
    await fleet.start()
    hub_obj: Hub | None = None
    fed: Federation | None = None
    try:
        kubeconfig = fleet.write_kubeconfig(tmp_path / "members.kubeconfig")
        hub_obj, settings = await start_hub(tmp_path, **hub)
        client = await asyncio.to_thread(HubClient.from_config, str(tmp_path / "kfedconfig"))
        fed = Federation(tmp_path, fleet, kubeconfig, hub_obj, settings, client)
        for name in names:
            await fed.join(name)
            await fed.start_agent(name)
        await eventually(lambda: fed.all_ready(names), what="every cluster Ready")
        yield fed
    finally:
        if fed is not None:
            for key in list(fed.agents):
                task = fed.agents.pop(key)
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            for kube in fed.kubes.values():
                await kube.close()
        if fed is not None:
            fed.client.close()
        if hub_obj is not None:
            await _bounded(hub_obj.stop(), "stopping the hub")
        await _bounded(fleet.stop(), "stopping the simulated clusters")
        await _report_leftover_tasks()


async def _bounded(step: Awaitable[None], what: str, within: float = 60.0) -> None:
    """A teardown step that cannot hang the run silently: it fails naming the step."""
    try:
        await asyncio.wait_for(step, within)
    except TimeoutError:
        raise AssertionError(f"fedharness teardown: {what} took over {within:g} s") from None


async def _report_leftover_tasks(within: float = 5.0) -> None:
    """Cancel tasks the federation left behind and name those that do not end: pytest-asyncio
    waits for them when it closes the loop, so a stuck one would hang the run with no clue."""
    current = asyncio.current_task()
    leftovers = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
    for task in leftovers:
        task.cancel()
    if not leftovers:
        return
    _, stuck = await asyncio.wait(leftovers, timeout=within)
    for task in stuck:
        print(f"\nfedharness: task {task.get_name()} did not end after cancel:", flush=True)
        task.print_stack()


_ = dt  # datetime is used by tests importing from here
