"""A fleet of simulated clusters: addresses, the kubeconfig, fleet-wide faults, the control API.

Layer: composition root of the simulator (used by ``kfed sim up``, tests and the demo). A
:class:`SimFleet` starts one :class:`~kfed_local.sim.cluster.SimCluster` per spec, each on its own
loopback address (``127.A.B.1``, ``127.A.B.2``, ...), writes one kubeconfig with a context per
cluster, and applies faults to a cluster, a zone or a region. With ``control=True`` it also
serves a small mTLS control API (:mod:`kfed_local.sim.control`) whose address and credentials
go into the kubeconfig as the ``kfed.io/sim`` extension, so that ``kfed sim fault --kubeconfig``
can reach a running ``kfed sim up``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import random
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from kfed_local.sim.cluster import SimCluster, SimOptions
from kfed_local.sim.config import ClusterSpec, check_specs
from kfed_local.sim.control import ControlServer
from kfed_local.sim.faults import FaultKind, FaultTarget, FleetError


def pick_address_block() -> str:
    """A random ``127.A.B.0`` block, away from ``127.0.0.x``, whose first address binds."""
    for _ in range(32):
        base = f"127.{random.randint(2, 250)}.{random.randint(0, 255)}.0"
        if _bindable(str(ipaddress.ip_address(base) + 1)):
            return base
    raise FleetError("cannot bind any address in 127.0.0.0/8; is the loopback interface up?")


def _bindable(address: str, port: int = 0) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((address, port))
        except OSError:
            return False
    return True


class SimFleet:
    """Several simulated clusters on one event loop."""

    def __init__(
        self,
        specs: Sequence[ClusterSpec],
        *,
        address_base: str | None = None,
        api_port: int | None = None,
        options: SimOptions | None = None,
        control: bool = False,
    ) -> None:
        check_specs(specs)
        if len(specs) > 250:
            raise FleetError("at most 250 clusters fit in one address block")
        self.specs = list(specs)
        self.address_base = address_base or pick_address_block()
        try:
            base = ipaddress.ip_address(self.address_base)
        except ValueError:
            raise FleetError(
                f"--address-base {self.address_base!r} is not an IPv4 address"
            ) from None
        if not base.is_loopback:
            raise FleetError(
                f"--address-base {self.address_base} is not a loopback address: simulated clusters "
                "only listen on 127.0.0.0/8"
            )
        # A chosen block gets the conventional port; a random block (tests) any free port.
        port = api_port if api_port is not None else (6443 if address_base else 0)
        self.options = options or SimOptions()
        self.clusters: dict[str, SimCluster] = {
            spec.name: SimCluster(
                spec, address=str(base + i + 1), port=port, index=i, options=self.options
            )
            for i, spec in enumerate(self.specs)
        }
        self.control_enabled = control
        self.control: Any = None

    def cluster(self, name: str) -> SimCluster:
        """The cluster named ``name`` (``KeyError`` listing the known names otherwise)."""
        try:
            return self.clusters[name]
        except KeyError:
            raise FleetError(
                f"no cluster named {name!r}; clusters: {', '.join(self.clusters)}"
            ) from None

    async def start(self) -> None:
        """Start every cluster (and the control API); stops what started if one fails."""
        started: list[SimCluster] = []
        try:
            for cluster in self.clusters.values():
                if cluster.port and not _bindable(cluster.address, cluster.port):
                    raise FleetError(
                        f"cannot listen on {cluster.address}:{cluster.port} for cluster "
                        f"{cluster.spec.name}: the address is in use; stop the other simulator "
                        "or choose another --address-base"
                    )
                await cluster.start()
                started.append(cluster)
            if self.control_enabled:
                control_address = str(ipaddress.ip_address(self.address_base) + 254)
                self.control = ControlServer(self, address=control_address)
                await self.control.start()
        except BaseException:
            for cluster in started:
                await cluster.stop()
            raise

    async def stop(self) -> None:
        """Stop the control API and every cluster."""
        if self.control is not None:
            await self.control.stop()
            self.control = None
        await asyncio.gather(*(c.stop() for c in self.clusters.values()), return_exceptions=True)

    async def __aenter__(self) -> SimFleet:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    # -- kubeconfig ----------------------------------------------------------------------------

    def kubeconfig(self) -> dict[str, Any]:
        """A kubeconfig with one context per cluster, named after it; the first is current."""
        clusters, users, contexts = [], [], []
        for cluster in self.clusters.values():
            entry_cluster, entry_user, entry_context = cluster.kubeconfig_entries()
            clusters.append(entry_cluster)
            users.append(entry_user)
            contexts.append(entry_context)
        config: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Config",
            "preferences": {},
            "clusters": clusters,
            "users": users,
            "contexts": contexts,
            "current-context": contexts[0]["name"] if contexts else "",
        }
        if self.control is not None:
            config["extensions"] = [{"name": "kfed.io/sim", "extension": self.control.extension()}]
        return config

    def write_kubeconfig(self, path: str | os.PathLike[str]) -> Path:
        """Write the kubeconfig (mode 0600: it holds private keys) and return its path."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.tmp")
        with os.fdopen(
            os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w"
        ) as out:
            yaml.safe_dump(self.kubeconfig(), out, sort_keys=False)
        temporary.replace(target)
        return target

    # -- faults --------------------------------------------------------------------------------

    def resolve(self, target: FaultTarget) -> list[tuple[SimCluster, list[str] | None]]:
        """The clusters a target covers, with the node names concerned (None: the whole cluster)."""
        if target.scope == "cluster":
            return [(self.cluster(target.name), None)]
        if target.scope == "region":
            found = [(c, None) for c in self.clusters.values() if c.spec.region == target.name]
            if not found:
                regions = sorted({c.spec.region for c in self.clusters.values()})
                raise FleetError(
                    f"no cluster in region {target.name!r}; regions: {', '.join(regions)}"
                )
            return list(found)
        if target.scope == "zone":
            zone_hits: list[tuple[SimCluster, list[str] | None]] = [
                (c, c.node_names(target.name))
                for c in self.clusters.values()
                if target.name in c.spec.zones
            ]
            if not zone_hits:
                zones = sorted({z for c in self.clusters.values() for z in c.spec.zones})
                raise FleetError(f"no cluster in zone {target.name!r}; zones: {', '.join(zones)}")
            return zone_hits
        for cluster in self.clusters.values():
            if target.name in cluster.node_names():
                return [(cluster, [target.name])]
        raise FleetError(f"no node named {target.name!r}")

    async def fault(self, target: FaultTarget, down: bool, kind: FaultKind = "down") -> list[str]:
        """Apply or lift a fault; returns the names of the clusters it touched.

        ``kind`` for clusters and regions: ``down`` (nodes down, API unreachable, no traffic),
        ``unreachable`` (network partition only) or ``api-server`` (API server stopped).
        Zones and nodes only go ``down``: their nodes fail, the API server stays up.
        """
        touched = []
        for cluster, nodes in self.resolve(target):
            if nodes is not None:
                if kind != "down":
                    raise FleetError("zones and nodes can only go down or up")
                await cluster.set_nodes_down(nodes, down)
            elif kind == "unreachable":
                await cluster.set_unreachable(down)
            elif kind == "api-server":
                await cluster.set_api_server_running(not down)
            else:
                await cluster.set_down(down)
            touched.append(cluster.spec.name)
        return touched

    def status(self) -> list[dict[str, Any]]:
        """Every cluster's address, place and fault state, as plain data."""
        return [
            {
                "name": c.spec.name,
                "region": c.spec.region,
                "zones": list(c.spec.zones),
                "server": c.url,
                "address": c.address,
                "faults": c.faults.summary(),
            }
            for c in self.clusters.values()
        ]
