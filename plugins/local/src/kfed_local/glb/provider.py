"""The ``local`` ingress provider: software global load balancers in this process.

Layer: I/O shell and composition of :mod:`kfed_local.glb`; implements
:class:`kfed_core.providers.IngressProvider`. For each :class:`GlobalLoadBalancer` the hub
ensures, :class:`LocalProvider` runs one :class:`~kfed_local.glb.proxy.GlobalProxy` listening on
its global address (the ``address`` option, else the provider's host with a port of its own) in
front of the backends' addresses. Ensuring again updates the backends, weights and options in
place: the listener, and so the address, stays. All proxies share one pooled HTTP client
session and one metrics registry.

What "owned" means here: load balancers run inside this process, so a restarted hub starts with
none, and ensuring them again gives each a new port unless its ``address`` option pins one.
The provider never touches the hub; the hub (through the plugin host) constructs it, calls it
from one event loop, and closes it.
"""

from __future__ import annotations

import asyncio
import errno
import logging

import aiohttp
from prometheus_client import CollectorRegistry

from kfed_core.providers import GlobalLoadBalancer, LoadBalancerStatus, ProviderError
from kfed_local.glb.metrics import GlbMetrics
from kfed_local.glb.proxy import GlobalProxy
from kfed_local.glb.settings import (
    LocalSettings,
    SettingsError,
    health_settings,
    listen_address,
    proxy_config,
)

log = logging.getLogger(__name__)

__all__ = ["LocalProvider", "LocalSettings"]


class LocalProvider:
    """Global load balancers as HTTP reverse proxies on local addresses.

    Concurrency: call it from one event loop; :meth:`ensure`, :meth:`delete` and :meth:`close`
    are serialised by a lock, so a retry racing an update cannot start two listeners.
    """

    name = "local"

    def __init__(
        self,
        settings: LocalSettings | None = None,
        *,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self.settings = settings or LocalSettings()
        self.metrics = GlbMetrics.create(registry)
        self._proxies: dict[str, GlobalProxy] = {}
        self._requested: dict[str, tuple[str, int]] = {}
        self._session: aiohttp.ClientSession | None = None
        self._lock = asyncio.Lock()

    @property
    def registry(self) -> CollectorRegistry:
        """The Prometheus registry holding this provider's metrics (for the hub to export)."""
        return self.metrics.registry

    def proxy(self, name: str) -> GlobalProxy:
        """The running load balancer ``name`` (KeyError if none): for tests and diagnostics."""
        return self._proxies[name]

    async def ensure(self, desired: GlobalLoadBalancer) -> LoadBalancerStatus:
        """Start or update the proxy for ``desired.name``; its status once backends are checked."""
        _check(desired)
        try:
            config = proxy_config(self.settings, desired.options)
            health = health_settings(self.settings, desired.options)
            where = listen_address(self.settings, desired.options)
        except SettingsError as exc:
            raise ProviderError(
                f"load balancer {desired.name} (Ingress {desired.ingress}): {exc}", retryable=False
            ) from None
        async with self._lock:
            proxy = self._proxies.get(desired.name)
            if proxy is not None and self._requested[desired.name] != where:
                log.info("load balancer %s moves to %s:%s", desired.name, *where)
                await self._stop(desired.name)
                proxy = None
            if proxy is None:
                proxy = GlobalProxy(
                    desired.name,
                    config,
                    session=self._client_session(),
                    metrics=self.metrics,
                    health=health,
                )
                await self._listen(proxy, desired, where)
                self._proxies[desired.name] = proxy
                self._requested[desired.name] = where
            proxy.update(desired.backends, config, health)
        await proxy.checker.check_unchecked()
        return status_of(proxy)

    async def delete(self, name: str) -> None:
        """Stop the load balancer ``name``; absent counts as deleted."""
        async with self._lock:
            await self._stop(name)

    async def owned(self) -> list[str]:
        """Names of the load balancers running in this provider."""
        return sorted(self._proxies)

    async def close(self) -> None:
        """Stop every load balancer and close the shared client session."""
        async with self._lock:
            for name in list(self._proxies):
                await self._stop(name)
            if self._session is not None:
                await self._session.close()
                self._session = None

    async def status(self, name: str) -> LoadBalancerStatus:
        """The current status of a running load balancer (empty status if there is none)."""
        proxy = self._proxies.get(name)
        return LoadBalancerStatus() if proxy is None else status_of(proxy)

    def _client_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                # Pool connections to backends; bounded per backend so one slow cluster cannot
                # take every file descriptor.
                connector=aiohttp.TCPConnector(limit=0, limit_per_host=512),
                auto_decompress=False,  # relay bytes as the backend encoded them
                cookie_jar=aiohttp.DummyCookieJar(),  # never carry one client's cookies to another
            )
        return self._session

    async def _listen(
        self, proxy: GlobalProxy, desired: GlobalLoadBalancer, where: tuple[str, int]
    ) -> None:
        host, port = where
        try:
            await proxy.start(host, port)
        except OSError as exc:
            await proxy.stop()
            hint = {
                errno.EADDRINUSE: "the port is taken; choose another in the 'address' option",
                errno.EADDRNOTAVAIL: "the address is not on this machine; set the provider's "
                "host (or the 'address' option) to a local one such as 127.0.0.200",
                errno.EACCES: "ports below 1024 need privileges; use a higher port",
            }.get(exc.errno or 0, "check the provider's host and the 'address' option")
            raise ProviderError(
                f"load balancer {desired.name} (Ingress {desired.ingress}) cannot listen on "
                f"{host}:{port}: {exc.strerror or exc}; {hint}",
                retryable=exc.errno == errno.EADDRINUSE,
            ) from exc

    async def _stop(self, name: str) -> None:
        proxy = self._proxies.pop(name, None)
        self._requested.pop(name, None)
        if proxy is not None:
            await proxy.stop()


def status_of(proxy: GlobalProxy) -> LoadBalancerStatus:
    """Ready when at least one backend serves (or, failing open, passes its checks); the message
    names the ones that do not serve, and why."""
    loads = proxy.loads()
    serving, idle = [], []
    for backend in loads:
        name = backend.cluster
        if backend.healthy and backend.weight > 0:  # what proxy.is_serving says
            serving.append(name)
        elif backend.weight <= 0:
            idle.append(f"{name} drained (weight 0)")
        elif not proxy.backend(name).healthy:
            idle.append(f"{name} reported unhealthy by the hub")
        else:
            error = proxy.checker.state(name).last_error or "not checked yet"
            idle.append(f"{name} failing health checks ({error})")
    total = len(serving) + len(idle)
    if total == 0:
        message = "no backends: no cluster serves this Ingress yet"
    else:
        message = f"{len(serving)} of {total} backends serving"
        if idle:
            message += "; " + "; ".join(idle)
    fail_open = [] if serving else [b.cluster for b in loads if b.checks_pass and b.weight > 0]
    if fail_open:
        message = (
            f"failing open: the hub reports no healthy backend, so the {len(fail_open)} passing "
            f"their health checks serve ({', '.join(fail_open)}); {message}"
        )
    return LoadBalancerStatus(
        address=proxy.address, ready=bool(serving or fail_open), message=message
    )


def _check(desired: GlobalLoadBalancer) -> None:
    problems: list[str] = []
    if not desired.name:
        problems.append("the load balancer has no name")
    seen: set[str] = set()
    for backend in desired.backends:
        if backend.cluster in seen:
            problems.append(f"cluster {backend.cluster} is listed twice")
        seen.add(backend.cluster)
        host, _, port = backend.address.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            problems.append(
                f"backend {backend.cluster} has address {backend.address!r}, not host:port"
            )
    if problems:
        raise ProviderError(
            f"load balancer {desired.name or '?'} (Ingress {desired.ingress}): "
            + "; ".join(problems),
            retryable=False,
        )
