"""The demo's stage: nine simulated clusters, a hub and an agent per cluster, on one event loop.

Layer: ``kfed_demo`` composition. Everything a user would run in separate terminals (``kfed sim
up --preset seed``, ``kfed hub serve``, ``kfed token create``, ``kfed join``, ``kfed agent run``)
runs here in one process, with the same code, so the walk-through starts in seconds; the
commands the walk-through prints are then run for real against it. Timings are the defaults
except where a demo must not wait (agents report every second instead of every five).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kfed_agent.agent import Agent, AgentSettings
from kfed_agent.join import join_cluster
from kfed_agent.kube import RealKubeApi
from kfed_agent.syncer import SyncSettings
from kfed_hub.client import HubClient
from kfed_hub.ingress.settings import IngressSettings, PluginSettings, ProviderConfig
from kfed_hub.service import Hub, HubSettings
from kfed_local.sim.cluster import SimOptions
from kfed_local.sim.config import preset
from kfed_local.sim.fleet import SimFleet

AGENT = AgentSettings(
    backoff_base=0.2,
    backoff_max=5.0,
    lease_duration=6.0,
    lease_renew_period=2.0,
    lease_retry_period=0.5,
    sync=SyncSettings(health_interval=1.0, status_interval=0.2),
)
SIM = SimOptions(eviction_timeout=5.0)


def free_address(candidates: range = range(201, 250)) -> str:
    """A loopback address (127.0.0.N) where the global load balancer can listen."""
    for n in candidates:
        address = f"127.0.0.{n}"
        with socket.socket() as probe:
            try:
                probe.bind((address, 0))
            except OSError:
                continue
        return address
    raise OSError("no free loopback address in 127.0.0.201-249 for the global load balancer")


def can_bind_port_80(address: str) -> bool:
    """Whether this process may listen on port 80 (the blog's Service port) at ``address``."""
    with socket.socket() as probe:
        try:
            probe.bind((address, 80))
        except PermissionError:
            return False
        except OSError:
            return True  # in use is a different problem, reported when the Service starts
    return True


Api = Callable[..., Awaitable[Any]]
"""``api(method, path, body)``: a request to the hub's API with the admin's credentials."""


async def join_with_token(
    api: Api, *, hub_url: str, name: str, kubeconfig: Path, out: Path
) -> None:
    """Join cluster ``name`` (a context of ``kubeconfig``) as an operator does: a single-use
    token from the hub's API, the CA hash it publishes, then ``kfed join``'s own code, which
    writes the agent's config to ``out``. Also used by the federation test harness."""
    issued = await api("POST", "/apis/kfed.io/v1alpha1/bootstraptokens", {"ttl": "1h"})
    info = await api("GET", "/kfed/v1/cluster-info")
    await asyncio.to_thread(
        join_cluster,
        name,
        hub=hub_url.removeprefix("https://"),
        token=issued["token"],
        ca_hash=info["caHash"],
        kubeconfig=str(kubeconfig),
        context=name,
        out=out,
    )


@dataclass
class Stage:
    """What the walk-through runs against; :meth:`start`, then :meth:`stop`."""

    workdir: Path
    glb_host: str = ""
    fleet: SimFleet | None = None
    hub: Hub | None = None
    client: HubClient | None = None
    kubeconfig: Path = field(init=False)
    cli_config: Path = field(init=False)
    agents: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    kubes: dict[str, RealKubeApi] = field(default_factory=dict)
    names: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.kubeconfig = self.workdir / "sim-kubeconfig.yaml"
        self.cli_config = self.workdir / "kfedconfig"

    @classmethod
    def in_temporary_dir(cls) -> Stage:
        return cls(workdir=Path(tempfile.mkdtemp(prefix="kfed-demo-")))

    def env(self) -> dict[str, str]:
        """The environment the printed commands run in (the CLI and kubectl find everything)."""
        return {
            **os.environ,
            "KFED_CONFIG": str(self.cli_config),
            "KUBECONFIG": str(self.kubeconfig),
        }

    async def start_clusters(self) -> list[str]:
        specs = preset("seed")
        self.names = [s.name for s in specs]
        self.fleet = fleet = SimFleet(specs, options=SIM, control=True)
        await fleet.start()
        await asyncio.to_thread(fleet.write_kubeconfig, self.kubeconfig)
        first = next(iter(fleet.clusters.values()))
        if not can_bind_port_80(first.address):
            raise PermissionError(
                "the blog's Service listens on port 80, which needs root here; run as root or "
                "lower net.ipv4.ip_unprivileged_port_start (sysctl) to 80"
            )
        return self.names

    async def start_hub(self) -> None:
        self.glb_host = free_address()
        local = ProviderConfig(
            name="local",
            plugin="local",
            options={
                "host": self.glb_host,
                # The demo plays clients in Asia and the US from this one machine, so it lets
                # them say where they are. Never in production: clients could lie.
                "trust_client_region_header": True,
                "health": {"interval": 0.5, "timeout": 0.5},
            },
        )
        settings = HubSettings(
            data_dir=self.workdir / "hub",
            api_address="127.0.0.1:0",
            sync_address="127.0.0.1:0",
            cli_config_paths=(self.cli_config,),
            plugins=PluginSettings(allow=("local",)),
            ingress=IngressSettings(default_provider="local", providers={"local": local}),
        )
        self.hub = await Hub.start(settings)
        self.client = await asyncio.to_thread(HubClient.from_config, str(self.cli_config))

    async def api(self, method: str, path: str, body: Any = None) -> Any:
        assert self.client is not None
        client = self.client
        return await asyncio.to_thread(client.request, method, path, body)  # thread-safe

    async def join(self, name: str) -> None:
        """What an operator does per cluster: a token, ``kfed join``, ``kfed agent run``."""
        assert self.hub is not None
        out = self.workdir / "agents" / name
        await join_with_token(
            self.api, hub_url=self.hub.api_url, name=name, kubeconfig=self.kubeconfig, out=out
        )
        kube = await asyncio.to_thread(RealKubeApi.from_kubeconfig, str(self.kubeconfig), name)
        self.kubes[name] = kube
        agent = Agent(config_dir=out, kube=kube, settings=AGENT)
        self.agents[name] = asyncio.create_task(agent.run(), name=f"agent {name}")

    async def stop(self, *, keep_files: bool = False) -> None:
        for task in self.agents.values():
            task.cancel()
        for task in self.agents.values():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for kube in self.kubes.values():
            await kube.close()
        if self.client is not None:
            self.client.close()
        if self.hub is not None:
            await self.hub.stop()
        if self.fleet is not None:
            await self.fleet.stop()
        if not keep_files:
            await asyncio.to_thread(shutil.rmtree, self.workdir, True)


def region_of(zone: str) -> str:
    """``asia-east1`` of ``asia-east1-b``."""
    return zone.rsplit("-", 1)[0]
