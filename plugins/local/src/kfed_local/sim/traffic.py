"""Real traffic for LoadBalancer Services: HTTP on the cluster's address, served by ready pods.

Layer: I/O shell of a simulated cluster. For each LoadBalancer Service port the
:class:`TrafficManager` listens on ``<cluster address>:<port>`` while at least one ready pod backs
the Service, and answers each request from the next ready pod in turn with a small page naming
the pod, the cluster and the zone ("You are being served from asia-east1-b"). With no ready pod
the listener is closed, so connections are refused, as with a real load balancer without
healthy backends. No container runs: every Service answers with this page, whatever its image.

Controllers call :meth:`TrafficManager.desire` synchronously; a task of the manager opens and
closes sockets. While the cluster is down every listener is closed (refused); while it is
unreachable, connections are accepted and never answered (a black hole, like a partition).
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from kfed_local.sim.listeners import BlackHole, drain_connections, stop_accepting

log = logging.getLogger(__name__)

ServiceKey = tuple[str, str]  # (namespace, name)


@dataclass(frozen=True, slots=True, kw_only=True)
class Backend:
    """A ready pod behind a Service."""

    pod: str
    node: str
    zone: str
    ip: str


@dataclass(slots=True)
class _Port:
    service: ServiceKey
    port: int
    backends: list[Backend] = field(default_factory=list)
    turn: int = 0
    server: asyncio.Server | None = None
    web_server: web.Server | None = None
    error: str | None = None
    served: int = 0


class TrafficManager:
    """The LoadBalancer listeners of one simulated cluster."""

    def __init__(
        self,
        *,
        cluster: str,
        address: str,
        region: str,
        on_error: Callable[[ServiceKey, int, str | None], None] | None = None,
    ) -> None:
        self.cluster = cluster
        self.address = address
        self.region = region
        self.on_error = on_error
        self._ports: dict[int, _Port] = {}
        self._mode = "up"  # up | down | blackhole
        self._black_hole: BlackHole | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # -- control -------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the task that converges sockets to what controllers desire."""
        self._task = asyncio.create_task(self._converge_forever(), name=f"traffic-{self.cluster}")

    async def stop(self) -> None:
        """Close every listener and stop."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for port in list(self._ports.values()):
            await self._close(port)
        await self._close_black_holes()

    def desire(self, service: ServiceKey, ports: list[int], backends: list[Backend]) -> None:
        """What one Service should serve: its ports and its ready pods (empty: nothing)."""
        for number, state in list(self._ports.items()):
            if state.service == service and number not in ports:
                state.backends = []
        for number in ports:
            existing = self._ports.get(number)
            if existing is not None and existing.service != service and existing.backends:
                if self.on_error is not None:
                    holder = f"{existing.service[0]}/{existing.service[1]}"
                    self.on_error(
                        service, number, f"port {number} is already used by service {holder}"
                    )
                continue
            if existing is None or existing.service != service:
                existing = self._ports[number] = _Port(service, number)
            existing.backends = list(backends)
        self._wake.set()

    def set_mode(self, mode: str) -> None:
        """``up`` (normal), ``down`` (refuse everything) or ``blackhole`` (accept, never answer)."""
        self._mode = mode
        self._wake.set()

    def listening(self) -> dict[int, ServiceKey]:
        """The ports with an open listener, and their Services."""
        return {n: p.service for n, p in self._ports.items() if p.server is not None}

    def requests_served(self, service: ServiceKey) -> int:
        """How many requests the Service has answered."""
        return sum(p.served for p in self._ports.values() if p.service == service)

    async def settled(self) -> None:
        """Wait until the sockets match the desired state (used by tests and the demo)."""
        for _ in range(200):
            if (
                all(
                    (p.server is not None) == self._should_listen(p) or p.error
                    for p in self._ports.values()
                )
                and not self._wake.is_set()
            ):
                return
            await asyncio.sleep(0.01)

    # -- sockets -------------------------------------------------------------------------------

    def _should_listen(self, port: _Port) -> bool:
        return self._mode == "up" and bool(port.backends)

    async def _converge_forever(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self._converge()
            except Exception:  # keep serving the other ports; the log has the trace
                log.exception("traffic of cluster %s failed to converge", self.cluster)

    async def _converge(self) -> None:
        if self._mode != "blackhole":
            await self._close_black_holes()
        for number, port in list(self._ports.items()):
            if self._should_listen(port) and port.server is None:
                await self._open(port)
            elif not self._should_listen(port) and port.server is not None:
                await self._close(port)
            if not port.backends and port.server is None and self._mode == "up":
                del self._ports[number]
        if self._mode == "blackhole" and self._black_hole is None:
            self._black_hole = BlackHole()
            for number in sorted(self._ports):
                with contextlib.suppress(OSError):
                    await self._black_hole.listen(self.address, number)

    async def _open(self, port: _Port) -> None:
        loop = asyncio.get_running_loop()
        web_server = web.Server(lambda request: self._answer(port, request), access_log=None)
        try:
            server = await loop.create_server(
                web_server, self.address, port.port, reuse_address=True
            )
        except OSError as exc:
            message = f"cannot listen on {self.address}:{port.port}: {exc.strerror or exc}"
            if exc.errno == 13:
                message += (
                    " (ports below 1024 need root, or lower net.ipv4.ip_unprivileged_port_start)"
                )
            if port.error != message:
                port.error = message
                if self.on_error is not None:
                    self.on_error(port.service, port.port, message)
            return
        port.server, port.web_server = server, web_server
        if port.error is not None:
            port.error = None
            if self.on_error is not None:
                self.on_error(port.service, port.port, None)

    async def _close(self, port: _Port) -> None:
        server, web_server = port.server, port.web_server
        port.server = port.web_server = None
        if server is not None:
            await stop_accepting(server)
            if web_server is not None:
                await web_server.shutdown(0.5)
                # Connections whose handler registered after the shutdown began are cut here.
                await drain_connections(server, web_server, within=1.0)

    async def _close_black_holes(self) -> None:
        hole, self._black_hole = self._black_hole, None
        if hole is not None:
            await hole.close()

    async def _answer(self, port: _Port, request: web.BaseRequest) -> web.StreamResponse:
        if not port.backends:
            raise web.HTTPServiceUnavailable(text="no ready endpoints\n")
        backend = port.backends[port.turn % len(port.backends)]
        port.turn += 1
        port.served += 1
        return web.Response(
            text=page(backend=backend, cluster=self.cluster),
            content_type="text/html",
            headers={
                "X-Kfed-Cluster": self.cluster,
                "X-Kfed-Region": self.region,
                "X-Kfed-Zone": backend.zone,
                "X-Kfed-Pod": backend.pod,
                "X-Kfed-Node": backend.node,
            },
        )


def page(*, backend: Backend, cluster: str) -> str:
    """The page a simulated pod serves (the 2016 walk-through's, plus who answered)."""
    zone = html.escape(backend.zone)
    return (
        "<!DOCTYPE html>\n<html>\n<head>\n<title>Welcome to the global site!</title>\n</head>\n"
        f"<body>\n<h1>Welcome to the global site! You are being served from {zone}</h1>\n"
        "<p>Congratulations!</p>\n"
        f"<p>pod {html.escape(backend.pod)} on node {html.escape(backend.node)} in cluster "
        f"{html.escape(cluster)}</p>\n</body>\n</html>\n"
    )


def describe_backends(backends: list[Backend]) -> list[dict[str, Any]]:
    """Backends as plain data (for status and debugging)."""
    return [{"pod": b.pod, "node": b.node, "zone": b.zone, "ip": b.ip} for b in backends]
