"""The global address: an HTTP reverse proxy that sends each request to the closest backend.

Layer: I/O shell of the global load balancer. One :class:`GlobalProxy` per load balancer listens
on its global address (an aiohttp low-level server), asks :func:`kfed_local.glb.routing.choose`
for each request, and forwards it (:mod:`kfed_local.glb.upstream`) over a shared, pooled aiohttp
client session. The answer carries ``X-Kfed-Backend: <cluster>``.

A failure before the backend answered is retried once on the next choice when that is safe:
always for a refused or timed-out connection (nothing was sent), and for a reset or a silent
backend only when the request is a GET, HEAD or OPTIONS without a body. Otherwise the client gets
502 (or 504 for a timeout). A failure after the answer started aborts the client's connection,
as any proxy must.

Concurrency: all state (backends, in-flight counts) lives on the event loop; requests change it
only between awaits, so no locks. Backends change through :meth:`GlobalProxy.update` without
restarting the listener, so the address stays.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Callable, Sequence

import aiohttp
from aiohttp import web

from kfed_core.providers import Backend
from kfed_local.glb import upstream
from kfed_local.glb.health import HealthChecker, HealthSettings
from kfed_local.glb.metrics import GlbMetrics
from kfed_local.glb.routing import BackendLoad, Decision, choose, locate_client
from kfed_local.glb.settings import ProxyConfig

log = logging.getLogger(__name__)

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class GlobalProxy:
    """One load balancer: its listener, backends, health checks and in-flight counts."""

    def __init__(
        self,
        name: str,
        config: ProxyConfig,
        *,
        session: aiohttp.ClientSession,
        metrics: GlbMetrics,
        health: HealthSettings,
    ) -> None:
        self.name = name
        self.config = config
        self.metrics = metrics
        self.address = ""
        self._session = session
        self._backends: dict[str, Backend] = {}
        self._in_flight: dict[str, int] = {}
        self._runner: web.ServerRunner | None = None
        self._handlers: set[asyncio.Task[object]] = set()
        self.checker = HealthChecker(health, label=name, on_change=self._health_changed)

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self, host: str, port: int) -> str:
        """Listen on ``host:port`` (0: any free port); returns the address as ``host:port``."""
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        # A client that hangs up cancels its request upstream too (frees the backend's slot).
        server = web.Server(self._handle, access_log=None, handler_cancellation=True)
        self._runner = web.ServerRunner(server, shutdown_timeout=2.0)
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()
        bound = sock.getsockname()[1]
        self.address = f"[{host}]:{bound}" if family == socket.AF_INET6 else f"{host}:{bound}"
        self.checker.start()
        log.info("load balancer %s listens on http://%s", self.name, self.address)
        return self.address

    async def stop(self) -> None:
        """Stop listening, finish (or cut) requests in flight, stop the health checks."""
        await self.checker.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        # Handlers whose client already left are no longer the server's: end them here, before
        # the owner closes the client session under them.
        for task in self._handlers:
            task.cancel()
        if self._handlers:
            await asyncio.wait(list(self._handlers), timeout=2.0)
        for cluster in self._backends:
            self.metrics.forget(self.name, cluster)

    def update(
        self,
        backends: Sequence[Backend],
        config: ProxyConfig | None = None,
        health: HealthSettings | None = None,
    ) -> None:
        """Serve these backends from now on (requests in flight finish where they are)."""
        if config is not None:
            self.config = config
        if health is not None:
            self.checker.settings = health
        wanted = {b.cluster: b for b in backends}
        for gone in set(self._backends) - set(wanted):
            self.metrics.forget(self.name, gone)
        self._backends = wanted
        self.checker.set_targets({name: b.address for name, b in wanted.items()})
        for name in wanted:
            self._in_flight.setdefault(name, 0)
            self._export_health(name)

    # -- state ---------------------------------------------------------------------------------

    def is_serving(self, cluster: str) -> bool:
        """The hub says healthy, the checks pass, and its weight is above 0."""
        backend = self._backends.get(cluster)
        return (
            backend is not None
            and backend.healthy
            and backend.weight > 0
            and self.checker.is_healthy(cluster)
        )

    def backend(self, cluster: str) -> Backend:
        """The backend named ``cluster`` as the hub last described it (KeyError if absent)."""
        return self._backends[cluster]

    def loads(self) -> list[BackendLoad]:
        """What routing needs to know about every backend, right now."""
        per_weight = self.config.in_flight_per_weight
        loads = []
        for name, b in self._backends.items():
            checks_pass = self.checker.is_healthy(name)
            loads.append(
                BackendLoad(
                    cluster=name,
                    region=b.region,
                    healthy=b.healthy and checks_pass,
                    checks_pass=checks_pass,
                    weight=b.weight,
                    in_flight=self._in_flight.get(name, 0),
                    limit=max(0, b.weight) * per_weight,
                )
            )
        return loads

    def decide(self, *, peer: str | None, region_header: str | None) -> Decision:
        """The routing decision for a request from ``peer`` (exposed for tests and debugging)."""
        place = locate_client(
            peer=peer,
            header=region_header,
            networks=self.config.networks,
            trust_header=self.config.trust_client_region_header,
        )
        return choose(
            self.loads(), place, self.config.regions, shed_when_full=self.config.shed_when_full
        )

    def _health_changed(self, cluster: str, healthy: bool, error: str) -> None:
        self._export_health(cluster)

    def _export_health(self, cluster: str) -> None:
        self.metrics.backend_healthy.labels(self.name, cluster).set(
            1 if self.is_serving(cluster) else 0
        )

    # -- requests ------------------------------------------------------------------------------

    async def _handle(self, request: web.BaseRequest) -> web.StreamResponse:
        started = time.perf_counter()
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
        try:
            return await self._route(request)
        finally:
            if task is not None:
                self._handlers.discard(task)
            self.metrics.request_seconds.labels(self.name).observe(time.perf_counter() - started)

    async def _route(self, request: web.BaseRequest) -> web.StreamResponse:
        decision = self.decide(
            peer=request.remote, region_header=request.headers.get("X-Client-Region")
        )
        if decision.status is not None:
            return self._answer(decision.status, "none", decision.detail, retry_after=True)
        retry_safe = request.method in _SAFE_METHODS and not request.body_exists
        candidates = decision.order[:2]
        for attempt, cluster in enumerate(candidates):
            try:
                return await self._forward(request, cluster)
            except upstream.UpstreamFailed as failure:
                self.metrics.upstream_errors.labels(self.name, cluster, failure.kind).inc()
                last_try = attempt + 1 == len(candidates)
                if last_try or not (failure.nothing_sent or retry_safe):
                    status = 504 if failure.kind == "timeout" else 502
                    return self._answer(status, cluster, str(failure))
                log.debug(  # per request: the upstream error metric counts them
                    "load balancer %s: %s; retrying on %s",
                    self.name,
                    failure,
                    candidates[attempt + 1],
                )
        raise AssertionError("unreachable: decision.order is never empty here")

    def _answer(
        self, status: int, backend: str, detail: str, *, retry_after: bool = False
    ) -> web.Response:
        self.metrics.count(self.name, backend, status)
        headers = {"Retry-After": "1"} if retry_after else {}
        return web.Response(
            status=status,
            text=f"kfed global load balancer {self.name}: {detail}\n",
            headers=headers,
        )

    async def _forward(self, request: web.BaseRequest, cluster: str) -> web.StreamResponse:
        backend = self._backends[cluster]
        gauge = self.metrics.in_flight.labels(self.name, cluster)
        self._in_flight[cluster] = self._in_flight.get(cluster, 0) + 1
        gauge.inc()
        try:
            answer = await upstream.send(
                self._session, request, cluster=cluster, address=backend.address, config=self.config
            )
            try:
                response = await upstream.relay(
                    request, answer, cluster=cluster, on_broken=self._broken(cluster)
                )
            finally:
                answer.release()
            self.metrics.count(self.name, cluster, response.status)
            return response
        finally:
            self._in_flight[cluster] = self._in_flight.get(cluster, 1) - 1
            gauge.dec()

    def _broken(self, cluster: str) -> Callable[[BaseException], None]:
        def report(exc: BaseException) -> None:
            self.metrics.upstream_errors.labels(self.name, cluster, "body").inc()
            log.info(
                "load balancer %s: backend %s broke off its answer: %r", self.name, cluster, exc
            )

        return report
