"""One simulated member cluster: its PKI, store, API server, controllers, nodes and traffic.

Layer: composition root of one cluster (below the fleet). :class:`SimCluster` wires the pieces
together on the running event loop, bootstraps what a fresh cluster has (the four system
namespaces, its nodes, the ``kubernetes`` Service) and exposes the fault switches: stop or
restart the API server, make the cluster unreachable, take nodes, zones or the whole cluster down.

Each cluster has its own CA, serving certificate (for its own loopback address) and admin client
certificate; its key files live in a private temporary folder removed when it stops.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import logging
import shutil
import ssl
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from kfed_core import pki
from kfed_local.sim import objects
from kfed_local.sim.admission import Allocator
from kfed_local.sim.api import ClusterApi, RequestContext
from kfed_local.sim.auth import Authenticator
from kfed_local.sim.config import ClusterSpec
from kfed_local.sim.controllers.base import ControllerContext, ControllerRunner
from kfed_local.sim.controllers.crds import CrdController
from kfed_local.sim.controllers.deployments import DeploymentController
from kfed_local.sim.controllers.endpoints import EndpointsController
from kfed_local.sim.controllers.events import EventRecorder
from kfed_local.sim.controllers.gc import GarbageCollector
from kfed_local.sim.controllers.kubelet import Kubelet
from kfed_local.sim.controllers.namespaces import NamespaceController
from kfed_local.sim.controllers.replicasets import ReplicaSetController
from kfed_local.sim.controllers.scheduler import Scheduler
from kfed_local.sim.controllers.services import IngressController, ServiceController
from kfed_local.sim.discovery import KUBERNETES_VERSION
from kfed_local.sim.faults import FaultState
from kfed_local.sim.httpio import abort_connections
from kfed_local.sim.listeners import (
    HANDSHAKE_TIMEOUT,
    BlackHole,
    drain_connections,
    stop_accepting,
)
from kfed_local.sim.resources import ResourceRegistry
from kfed_local.sim.server import ApiServer, ServerSettings
from kfed_local.sim.store import ObjectStore
from kfed_local.sim.traffic import TrafficManager

log = logging.getLogger(__name__)

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
ADMIN_USER = "kfed-sim-admin"


@dataclass(frozen=True, slots=True, kw_only=True)
class SimOptions:
    """Behaviour shared by every cluster of a fleet."""

    eviction_timeout: float = 5.0
    """Seconds before pods on an unreachable node are evicted (real default: 300)."""
    bookmark_interval: float = 10.0
    """Seconds between watch BOOKMARK events."""
    history: int = 2000
    """Changes kept per resource for watches (older resourceVersions get 410 Gone)."""
    max_events: int = 1000
    """Events kept per cluster."""


class SimCluster:
    """A simulated Kubernetes cluster served on ``https://<address>:<port>``."""

    def __init__(
        self,
        spec: ClusterSpec,
        *,
        address: str,
        port: int = 0,
        index: int = 0,
        options: SimOptions | None = None,
    ) -> None:
        self.spec = spec
        self.address = address
        self.port = port
        self.index = index
        self.options = options or SimOptions()
        self.faults = FaultState()
        self._dir: Path | None = None
        self._runner: web.AppRunner | None = None
        self._listener: asyncio.Server | None = None
        self._black_hole: BlackHole | None = None
        self._controllers: ControllerRunner | None = None
        self.started = False

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Make the PKI, bootstrap the cluster, start controllers, traffic and the API server."""
        now = dt.datetime.now(dt.UTC)
        self._dir = Path(tempfile.mkdtemp(prefix=f"kfed-sim-{self.spec.name}-"))
        self.ca = pki.create_ca(f"kfed-sim-{self.spec.name}-ca", now=now)
        self.serving = pki.issue_key_pair(
            self.ca,
            pki.LeafSpec(
                common_name="kube-apiserver",
                dns_names=(
                    "kubernetes",
                    "kubernetes.default",
                    "kubernetes.default.svc",
                    "kubernetes.default.svc.cluster.local",
                    "localhost",
                ),
                ip_addresses=(self.address, "10.96.0.1"),
                server=True,
            ),
            now=now,
        )
        self.admin = pki.issue_key_pair(
            self.ca,
            pki.LeafSpec(
                common_name=ADMIN_USER,
                organizations=("system:masters",),
                client=True,
            ),
            now=now,
        )
        (self._dir / "server.crt").write_bytes(self.serving.cert_pem)
        key_path = self._dir / "server.key"
        key_path.touch(mode=0o600)
        key_path.write_bytes(self.serving.key_pem)

        self.store = ObjectStore(history=self.options.history)
        self.registry = ResourceRegistry()
        self.api = ClusterApi(
            self.store, self.registry, clock=lambda: dt.datetime.now(dt.UTC), allocator=Allocator()
        )
        self.auth = Authenticator()
        self.events = EventRecorder(self.api, limit=self.options.max_events)
        self.traffic = TrafficManager(
            cluster=self.spec.name, address=self.address, region=self.spec.region
        )
        self._bootstrap()
        context = ControllerContext(
            api=self.api,
            spec=self.spec,
            address=self.address,
            events=self.events,
            faults=self.faults,
            traffic=self.traffic,
            monotonic=time.monotonic,
            eviction_timeout=self.options.eviction_timeout,
            extra={"ca_pem": self.ca.cert_pem.decode()},
        )
        self._controllers = ControllerRunner(
            [
                CrdController(context),
                NamespaceController(context),
                GarbageCollector(context),
                ReplicaSetController(context),
                DeploymentController(context),
                Scheduler(context),
                Kubelet(context),
                EndpointsController(context),
                ServiceController(context),
                IngressController(context),
            ]
        )
        self._controllers.start(self.api)
        self.traffic.start()
        await self._start_api_server()
        self._write_kubernetes_endpoints()
        self.started = True

    async def stop(self) -> None:
        """Stop everything and remove the key folder. The cluster's state is gone."""
        self.started = False
        await self._stop_api_server()
        await self._close_black_hole()
        if self._controllers is not None:
            await self._controllers.stop()
        await self.traffic.stop()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)

    def _ssl_context(self) -> ssl.SSLContext:
        assert self._dir is not None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self._dir / "server.crt", self._dir / "server.key")
        context.load_verify_locations(cadata=self.ca.cert_pem.decode())
        context.verify_mode = ssl.CERT_OPTIONAL
        return context

    async def _start_api_server(self) -> None:
        server = ApiServer(
            self.api,
            self.auth,
            ServerSettings(
                cluster=self.spec.name,
                address=f"{self.address}:{self.port}",
                bookmark_interval=self.options.bookmark_interval,
            ),
        )
        self.api_server = server
        runner = web.AppRunner(server.app(), access_log=None, handle_signals=False)
        await runner.setup()
        assert runner.server is not None
        # Our own listener rather than aiohttp's TCPSite, for the TLS handshake timeout: a
        # connection still in its handshake is not aiohttp's yet, so only asyncio's timeout can
        # end it (see _stop_api_server).
        self._listener = await asyncio.get_running_loop().create_server(
            runner.server,
            self.address,
            self.port,
            ssl=self._ssl_context(),
            reuse_address=True,
            ssl_handshake_timeout=HANDSHAKE_TIMEOUT,
            ssl_shutdown_timeout=HANDSHAKE_TIMEOUT,
        )
        if self.port == 0:
            self.port = self._listener.sockets[0].getsockname()[1]
            server.settings = ServerSettings(
                cluster=self.spec.name,
                address=f"{self.address}:{self.port}",
                bookmark_interval=self.options.bookmark_interval,
            )
        self._runner = runner

    async def _stop_api_server(self) -> None:
        if self._runner is None:
            return
        runner, self._runner = self._runner, None
        listener, self._listener = self._listener, None
        handlers = runner.server
        if listener is not None:
            await stop_accepting(listener)  # no new connections, none lost on the way
        self.store.close_watchers()
        abort_connections(runner)
        await runner.cleanup()
        if listener is not None and handlers is not None:
            await drain_connections(listener, handlers, within=HANDSHAKE_TIMEOUT + 0.5)

    async def _close_black_hole(self) -> None:
        hole, self._black_hole = self._black_hole, None
        if hole is not None:
            await hole.close()

    # -- bootstrap -----------------------------------------------------------------------------

    def _bootstrap(self) -> None:
        ctx = RequestContext(field_manager="kube-apiserver", field_validation="Ignore")
        namespaces = self.registry.require("", "v1", "namespaces")
        nodes = self.registry.require("", "v1", "nodes")
        services = self.registry.require("", "v1", "services")
        endpoints = self.registry.require("", "v1", "endpoints")
        for name in SYSTEM_NAMESPACES:
            self.api.create(namespaces, "", {"metadata": {"name": name}}, ctx)
        kubelet = RequestContext(field_manager="kubelet", field_validation="Ignore")
        for i in range(self.spec.nodes):
            self.api.create(nodes, "", self._node(i), kubelet)
        self.api.create(
            services,
            "default",
            {
                "metadata": {
                    "name": "kubernetes",
                    "labels": {"component": "apiserver", "provider": "kubernetes"},
                },
                "spec": {
                    "type": "ClusterIP",
                    "clusterIP": "10.96.0.1",
                    "ports": [
                        {"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}
                    ],
                },
            },
            ctx,
        )
        self._kubernetes_endpoints = endpoints

    def _write_kubernetes_endpoints(self) -> None:
        ctx = RequestContext(field_manager="kube-apiserver", field_validation="Ignore")
        self.api.update(
            self._kubernetes_endpoints,
            "default",
            "kubernetes",
            {
                "metadata": {
                    "name": "kubernetes",
                    "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"},
                },
                "subsets": [
                    {
                        "addresses": [{"ip": self.address}],
                        "ports": [{"name": "https", "port": self.port, "protocol": "TCP"}],
                    }
                ],
            },
            ctx,
        )

    def node_name(self, index: int) -> str:
        """The name of node ``index`` (from 0)."""
        return f"{self.spec.name}-node-{index + 1}"

    def _node(self, index: int) -> dict[str, Any]:
        spec = self.spec
        zone = spec.zones[index % len(spec.zones)]
        name = self.node_name(index)
        now = objects.rfc3339(dt.datetime.now(dt.UTC))
        capacity = {
            "cpu": spec.capacity.cpu,
            "memory": spec.capacity.memory,
            "pods": str(spec.capacity.pods),
            "ephemeral-storage": "100Gi",
        }
        conditions = [
            {
                "type": kind,
                "status": "False",
                "reason": reason,
                "message": message,
                "lastHeartbeatTime": now,
                "lastTransitionTime": now,
            }
            for kind, reason, message in (
                (
                    "MemoryPressure",
                    "KubeletHasSufficientMemory",
                    "kubelet has sufficient memory available",
                ),
                ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
            )
        ]
        conditions.append(
            {
                "type": "Ready",
                "status": "True",
                "reason": "KubeletReady",
                "message": "kubelet is posting ready status",
                "lastHeartbeatTime": now,
                "lastTransitionTime": now,
            }
        )
        return {
            "metadata": {
                "name": name,
                "labels": {
                    "kubernetes.io/hostname": name,
                    "kubernetes.io/os": "linux",
                    "kubernetes.io/arch": "amd64",
                    "beta.kubernetes.io/os": "linux",
                    "beta.kubernetes.io/arch": "amd64",
                    "node.kubernetes.io/instance-type": "kfed-sim-standard",
                    "topology.kubernetes.io/region": spec.region,
                    "topology.kubernetes.io/zone": zone,
                    "failure-domain.beta.kubernetes.io/region": spec.region,
                    "failure-domain.beta.kubernetes.io/zone": zone,
                    "kfed.io/provider": spec.provider,
                    "kfed.io/cluster": spec.name,
                    **spec.labels,
                },
                "annotations": {"node.alpha.kubernetes.io/ttl": "0"},
            },
            "spec": {
                "providerID": f"kfed-sim://{spec.name}/{zone}/{name}",
                "podCIDR": f"10.244.{index + 1}.0/24",
                "podCIDRs": [f"10.244.{index + 1}.0/24"],
            },
            "status": {
                "capacity": capacity,
                "allocatable": dict(capacity),
                "conditions": conditions,
                "addresses": [
                    {"type": "InternalIP", "address": f"10.{128 + self.index % 64}.0.{index + 2}"},
                    {"type": "Hostname", "address": name},
                ],
                "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                "nodeInfo": {
                    "machineID": objects.new_uid().replace("-", ""),
                    "systemUUID": objects.new_uid(),
                    "bootID": objects.new_uid(),
                    "kernelVersion": "6.1.0-kfed-sim",
                    "osImage": "kfed simulated node (no containers run)",
                    "containerRuntimeVersion": "kfed-sim://1.0.0",
                    "kubeletVersion": KUBERNETES_VERSION,
                    "kubeProxyVersion": KUBERNETES_VERSION,
                    "operatingSystem": "linux",
                    "architecture": "amd64",
                },
            },
        }

    # -- what clients need ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        """``https://<address>:<port>``."""
        return f"https://{self.address}:{self.port}"

    def kubeconfig_entries(self) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        """This cluster's (cluster, user, context) kubeconfig entries, all named after it."""
        name = self.spec.name

        def b64(data: bytes) -> str:
            return base64.b64encode(data).decode()

        cluster = {
            "name": name,
            "cluster": {"server": self.url, "certificate-authority-data": b64(self.ca.cert_pem)},
        }
        user = {
            "name": name,
            "user": {
                "client-certificate-data": b64(self.admin.cert_pem),
                "client-key-data": b64(self.admin.key_pem),
            },
        }
        context = {"name": name, "context": {"cluster": name, "user": name, "namespace": "default"}}
        return cluster, user, context

    def node_names(self, zone: str | None = None) -> list[str]:
        """Names of the cluster's nodes (in one zone, if given)."""
        return [
            objects.name_of(e.obj)
            for e in self.store.items("/nodes")
            if zone is None or objects.labels_of(e.obj).get("topology.kubernetes.io/zone") == zone
        ]

    # -- faults --------------------------------------------------------------------------------

    async def _apply_network(self) -> None:
        mode = self.faults.api_mode
        if mode == "up":
            await self._close_black_hole()
            if self._runner is None:
                await self._start_api_server()
        else:
            await self._stop_api_server()
            if mode == "blackhole" and self._black_hole is None:
                self._black_hole = BlackHole()
                await self._black_hole.listen(self.address, self.port)
            elif mode == "refused":
                await self._close_black_hole()
        self.traffic.set_mode(self.faults.traffic_mode)

    def _nodes_changed(self) -> None:
        assert self._controllers is not None
        for controller in self._controllers.controllers:
            if isinstance(controller, Kubelet):
                for name in self.node_names():
                    controller.queue.add(("node", name))

    async def set_api_server_running(self, running: bool) -> None:
        """Stop (connections refused) or restart the API server; the cluster keeps its state."""
        self.faults.api_stopped = not running
        await self._apply_network()

    async def set_unreachable(self, unreachable: bool) -> None:
        """Partition the cluster: connections to its API and load balancers hang unanswered."""
        self.faults.unreachable = unreachable
        await self._apply_network()

    async def set_down(self, down: bool) -> None:
        """The whole cluster down: every node down, its API unreachable, no traffic served."""
        self.faults.cluster_down = down
        self._nodes_changed()
        await self._apply_network()

    async def set_nodes_down(self, names: list[str], down: bool) -> None:
        """Take nodes down (their pods turn NotReady, then get evicted) or bring them back."""
        unknown = sorted(set(names) - set(self.node_names()))
        if unknown:
            raise KeyError(f"cluster {self.spec.name} has no node(s) {', '.join(unknown)}")
        if down:
            self.faults.nodes_down.update(names)
        else:
            self.faults.nodes_down.difference_update(names)
        self._nodes_changed()

    async def set_zone_down(self, zone: str, down: bool) -> None:
        """Every node of one zone down or up."""
        await self.set_nodes_down(self.node_names(zone), down)

    async def __aenter__(self) -> SimCluster:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        with contextlib.suppress(Exception):
            await self.stop()
