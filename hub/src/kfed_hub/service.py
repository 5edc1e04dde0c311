"""The hub service: the composition root that wires store, PKI, registry, desired index, the Sync
stream server and the HTTPS API, and runs them on one event loop.

Layer: ``kfed_hub`` composition (top). Nothing below imports it.

Data directory (0700), made on first start:
``hub.db`` (SQLite store), ``secret-keys.json`` (AES-GCM keys for Secret data at rest),
``ca.crt``/``ca.key``, the serving and admin certificates, and ``admin.kfedconfig`` (the CLI's
config, also written to ``~/.kfed/config`` or ``$KFED_CONFIG``).

Both listeners are bound before anything is built that advertises them, so ``--api-addr
127.0.0.1:0`` works and the printed join command carries the real ports.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import socket
import ssl
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from grpc import aio
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from kfed_core import rpc, tls
from kfed_core.keys import ResourceKey
from kfed_core.plugins import PluginHost
from kfed_hub import __version__
from kfed_hub.api.app import build_api_app
from kfed_hub.bootstrap import HubBootstrap
from kfed_hub.cliconfig import save_config
from kfed_hub.desired_index import DesiredIndex
from kfed_hub.events import EventRecorder
from kfed_hub.health import HealthPolicy
from kfed_hub.ingress.controller import IngressController
from kfed_hub.ingress.providers import ProviderMetricsCollector, ProviderPool
from kfed_hub.ingress.settings import IngressSettings, PluginSettings
from kfed_hub.ingress.state import IngressMetrics
from kfed_hub.metrics import HubMetrics
from kfed_hub.pki import HubPki
from kfed_hub.ports import Bootstrap, ClusterInfo, IssuedToken, JoinGrant
from kfed_hub.reconcile import Reconciler
from kfed_hub.registry import ClusterRegistry
from kfed_hub.states import StateSink
from kfed_hub.store.protocol import ObjectChange, Store
from kfed_hub.store.sealing import SecretSealer
from kfed_hub.store.sqlite import SqliteStore
from kfed_hub.stream import StreamSettings
from kfed_hub.sync_service import SyncService

log = logging.getLogger(__name__)

GRPC_STOP_TIMEOUT = 10.0
"""Seconds :meth:`Hub.stop` waits for the gRPC server (its grace period is 1 s)."""


def split_address(address: str) -> tuple[str, int]:
    """``host:port`` (IPv6 hosts in brackets) as a pair; a clear ValueError otherwise."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        raise ValueError(f"address {address!r} is not host:port")
    return host.strip("[]") or "0.0.0.0", int(port)


@dataclass(frozen=True, slots=True, kw_only=True)
class HubSettings:
    """Where the hub keeps its data and listens, and its timings."""

    data_dir: Path
    api_address: str = "127.0.0.1:7443"
    sync_address: str = "127.0.0.1:7444"
    advertise_host: str = ""
    """Host name or address agents and the CLI use to reach the hub (default: the bind host,
    or this machine's name when binding every interface)."""
    cli_config_paths: tuple[Path, ...] = ()
    health: HealthPolicy = HealthPolicy()
    stream: StreamSettings = StreamSettings()
    max_body_bytes: int = 3 * 1024 * 1024
    extra_hosts: tuple[str, ...] = field(default=())
    """More names for the serving certificate."""
    plugins: PluginSettings = PluginSettings()
    ingress: IngressSettings = IngressSettings()


class _NotifyingBootstrap:
    """Bootstrap that tells the registry about a newly joined cluster."""

    def __init__(self, inner: HubBootstrap, registry: ClusterRegistry) -> None:
        self._inner = inner
        self._registry = registry

    def cluster_info(self) -> ClusterInfo:
        return self._inner.cluster_info()

    async def create_token(self, *, ttl: dt.timedelta, description: str = "") -> IssuedToken:
        return await self._inner.create_token(ttl=ttl, description=description)

    async def join(self, *, name: str, token: str, csr_pem: bytes) -> JoinGrant:
        grant = await self._inner.join(name=name, token=token, csr_pem=csr_pem)
        await self._registry.refresh(name)
        self._registry.evaluate(name)
        return grant


class Hub:
    """A running hub. ``await Hub.start(settings)``, then :meth:`wait` or :meth:`stop`."""

    def __init__(self, settings: HubSettings, plugin_host: PluginHost | None = None) -> None:
        self.settings = settings
        self.plugin_host = plugin_host
        self.ingress: IngressController | None = None
        self.metrics = HubMetrics.create()
        self.store: Store | None = None
        self.pki: HubPki | None = None
        self.registry: ClusterRegistry | None = None
        self.index: DesiredIndex | None = None
        self.reconciler: Reconciler | None = None
        self.api_url = ""
        self.sync_target = ""
        self._grpc: aio.Server | None = None
        self._runner: web.AppRunner | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._stopped = asyncio.Event()
        self._grace: asyncio.TimerHandle | None = None

    @classmethod
    async def start(cls, settings: HubSettings, *, plugin_host: PluginHost | None = None) -> Hub:
        """Start a hub. ``plugin_host``: plugins to use instead of loading the allowed
        ``kfed.plugins`` entry points (tests register in-memory providers this way)."""
        hub = cls(settings, plugin_host)
        try:
            await hub._start()
        except BaseException:
            await hub.stop()
            raise
        return hub

    def _advertised(self, bind_host: str) -> str:
        if self.settings.advertise_host:
            return self.settings.advertise_host
        if bind_host in ("0.0.0.0", "::", ""):
            return socket.gethostname()
        return bind_host

    async def _start(self) -> None:
        settings = self.settings
        data = settings.data_dir
        await asyncio.to_thread(data.mkdir, mode=0o700, parents=True, exist_ok=True)
        api_host, api_port = split_address(settings.api_address)
        sync_host, sync_port = split_address(settings.sync_address)
        advertise = self._advertised(api_host)
        hosts: Sequence[str] = sorted({advertise, api_host, sync_host, *settings.extra_hosts})
        self.pki = pki = await asyncio.to_thread(
            HubPki.load_or_create,
            data,
            hosts=[h for h in hosts if h not in ("0.0.0.0", "::")],
            clock=lambda: dt.datetime.now(dt.UTC),
        )
        sealer = await asyncio.to_thread(SecretSealer.load_or_create, data / "secret-keys.json")
        self.store = store = await SqliteStore.open(data / "hub.db", sealer=sealer)
        self.registry = registry = ClusterRegistry(
            store=store, metrics=self.metrics, policy=settings.health
        )
        await registry.load()
        self.index = index = DesiredIndex(metrics=self.metrics)
        self.events = recorder = EventRecorder(store, clock=lambda: dt.datetime.now(dt.UTC))
        self.reconciler = reconciler = Reconciler(
            store=store,
            index=index,
            metrics=self.metrics,
            facts=registry.facts,
            record=recorder.record,
        )
        ingress = await self._start_ingress(store, reconciler, registry, recorder)
        registry.add_status_listener(reconciler.on_cluster_status)
        registry.evaluate()
        await reconciler.load()
        registry.add_change_listener(reconciler.on_cluster_change)
        registry.add_change_listener(ingress.on_cluster_change)
        # When the start-up grace ends, clusters still silent lose their "waiting" benefit.
        self._grace = asyncio.get_running_loop().call_later(
            settings.health.offline_after + 0.1, reconciler.on_cluster_change, ""
        )
        sink = StateSink(store=store)
        store.add_listener(reconciler.on_change)
        store.add_listener(ingress.on_change)
        store.add_listener(self._forget_states)

        def observe(cluster: str, key: ResourceKey, status: Mapping[str, Any] | None) -> None:
            reconciler.on_observed(cluster, key, status)
            ingress.on_observed(cluster, key, status)

        # gRPC Sync server (mutual TLS required by the credentials).
        self._grpc = server = aio.server(options=rpc.SERVER_OPTIONS)
        service = SyncService(
            registry=registry,
            index=index,
            sink=sink,
            signer=pki,
            metrics=self.metrics,
            policy=settings.health,
            settings=settings.stream,
            hub_version=__version__,
            observer=observe,
            record=recorder.record,
        )
        rpc.add_sync_servicer(server, service)
        health_servicer = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
        credentials = tls.grpc_server_credentials(
            cert_pem=pki.serving.cert_pem, key_pem=pki.serving.key_pem, ca_pem=pki.ca_pem
        )
        bound_sync = server.add_secure_port(f"{sync_host}:{sync_port}", credentials)
        if bound_sync == 0:
            raise OSError(f"cannot listen for Sync streams on {settings.sync_address}")
        self.sync_target = f"{self._advertised(sync_host)}:{bound_sync}"

        # HTTPS API socket, bound now so its port is known.
        sock = socket.socket(socket.AF_INET6 if ":" in api_host else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((api_host, api_port))
        except OSError as exc:
            sock.close()
            raise OSError(f"cannot listen for the API on {settings.api_address}: {exc}") from exc
        api_target = f"{advertise}:{sock.getsockname()[1]}"
        self.api_url = f"https://{api_target}"
        bootstrap: Bootstrap = _NotifyingBootstrap(
            HubBootstrap(
                store=store,
                pki=pki,
                api_address=api_target,
                sync_address=self.sync_target,
                agent_cert_ttl=settings.stream.agent_cert_ttl,
            ),
            registry,
        )
        app = build_api_app(
            store=store,
            clusters=registry,
            bootstrap=bootstrap,
            metrics_registry=self.metrics.registry,
            max_body_bytes=settings.max_body_bytes,
            placements=reconciler,
            ingresses=ingress,
        )
        ssl_context: ssl.SSLContext = tls.server_ssl_context(
            cert_pem=pki.serving.cert_pem,
            key_pem=pki.serving.key_pem,
            ca_pem=pki.ca_pem,
            client_certs="optional",
        )
        self._runner = runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        await web.SockSite(runner, sock, ssl_context=ssl_context).start()
        await server.start()
        for name in ("", rpc.SERVICE_NAME):
            await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
        self._tasks = [
            asyncio.create_task(sink.run(), name="state-sink"),
            asyncio.create_task(self._evaluate_health(), name="cluster-health"),
            asyncio.create_task(reconciler.run(), name="reconciler"),
            asyncio.create_task(recorder.run(), name="events"),
            asyncio.create_task(ingress.run(), name="ingress"),
        ]
        for path in (data / "admin.kfedconfig", *settings.cli_config_paths):
            await asyncio.to_thread(
                save_config,
                path,
                server=self.api_url,
                ca_pem=pki.ca_pem,
                cert_pem=pki.admin.cert_pem,
                key_pem=pki.admin.key_pem,
            )
        log.info("hub serving: API %s, Sync %s", self.api_url, self.sync_target)

    async def _start_ingress(
        self,
        store: Store,
        reconciler: Reconciler,
        registry: ClusterRegistry,
        recorder: EventRecorder,
    ) -> IngressController:
        """The plugin host (the allowed entry points, loaded off the loop) and the federated
        Ingress controller, wired to the reconciler and the registry."""
        settings = self.settings
        host = self.plugin_host
        if host is None:
            host = await asyncio.to_thread(PluginHost, allow=list(settings.plugins.allow))
            self.plugin_host = host
        for failure in host.errors:
            log.warning("plugin %s: %s", failure.plugin, failure.message)
        pool = ProviderPool(host, settings.ingress, settings.data_dir)
        self.metrics.registry.register(ProviderMetricsCollector(pool))
        self.ingress = ingress = IngressController(
            store=store,
            placements=reconciler,
            facts=registry.facts,
            pool=pool,
            settings=settings.ingress,
            metrics=IngressMetrics.create(self.metrics.registry),
            record=recorder.record,
            refresh_member=reconciler.refresh,
        )
        reconciler.member_annotations = ingress.member_annotations

        def cluster_status(cluster: str, status: str, message: str) -> None:
            ingress.on_cluster_change(cluster)
            host.notify_cluster_status_changed(cluster, status, message)

        registry.add_status_listener(cluster_status)
        await ingress.load()
        return ingress

    def _forget_states(self, change: ObjectChange) -> None:
        if change.after is None and self.store is not None:
            task = asyncio.create_task(self.store.delete_object_states(key=change.key))
            self._tasks.append(task)
            task.add_done_callback(self._tasks.remove)

    async def _evaluate_health(self) -> None:
        assert self.registry is not None
        while True:
            self.registry.evaluate()
            await asyncio.sleep(min(1.0, self.settings.health.heartbeat_interval / 2))

    async def wait(self) -> None:
        """Until :meth:`stop` is called."""
        await self._stopped.wait()

    async def stop(self) -> None:
        """Stop serving: end streams, close listeners, flush and close the store."""
        if self._stopped.is_set():
            return
        if self._grace is not None:
            self._grace.cancel()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.ingress is not None:
            await self.ingress.close()
        if self.registry is not None:
            self.registry.close_all("ShuttingDown", "the hub is stopping; reconnect later")
        if self._grpc is not None:
            try:
                # Bounded: a stop must end even if gRPC's shutdown events never arrive (its
                # asyncio stack is built for one event loop per process).
                async with asyncio.timeout(GRPC_STOP_TIMEOUT):
                    await self._grpc.stop(grace=1.0)
            except TimeoutError:
                log.warning("the gRPC server did not stop in %ss; going on", GRPC_STOP_TIMEOUT)
        if self._runner is not None:
            with contextlib.suppress(Exception):
                await self._runner.cleanup()
        if self.store is not None:
            await self.store.close()
        self._stopped.set()
