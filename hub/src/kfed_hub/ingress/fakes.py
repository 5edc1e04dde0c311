"""An in-memory ingress provider, for testing the hub's ingress controller (and the CLI, the API
and plugins' observers) without a cloud or a proxy.

Layer: ``kfed_hub.ingress`` test double, kept with the code so every test uses one fake that
keeps the :class:`~kfed_core.providers.IngressProvider` contract (its own tests run the
conformance kit on it). It remembers load balancers in a dict shared between instances made on
one :class:`FakeCloud`, so a "restarted hub" (a new provider instance) adopts them; it injects
failures (retryable or not) and can hold calls until the test releases them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from kfed_core.hookspecs import ProviderInfo, ProviderSettings, hookimpl
from kfed_core.providers import (
    GlobalLoadBalancer,
    IngressProvider,
    LoadBalancerStatus,
    ProviderError,
)


@dataclass
class FakeCloud:
    """The state behind fake providers: load balancers by name, addresses, calls, faults."""

    balancers: dict[str, GlobalLoadBalancer] = field(default_factory=dict)
    addresses: dict[str, str] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)  # (operation, name)
    failures: list[ProviderError | Exception] = field(default_factory=list)
    gate: asyncio.Event | None = None
    """When set to an Event, every call waits for it (a slow cloud)."""
    _next_address: int = 1

    def fail_next(self, count: int = 1, *, retryable: bool = True, message: str = "") -> None:
        """The next ``count`` calls raise ProviderError (throttled, by default)."""
        text = message or ("rate limit exceeded (HTTP 429)" if retryable else "invalid credentials")
        self.failures.extend(ProviderError(text, retryable=retryable) for _ in range(count))

    def weights(self, name: str) -> dict[str, float]:
        """``{address: weight}`` of a load balancer's serving backends (the kit's view)."""
        balancer = self.balancers.get(name)
        if balancer is None:
            return {}
        return {b.address: float(b.weight if b.healthy else 0) for b in balancer.backends}

    def resource_ids(self) -> list[str]:
        return [f"lb/{name}" for name in self.balancers]

    def allocate(self, name: str) -> str:
        if name not in self.addresses:
            self.addresses[name] = f"198.51.100.{self._next_address}"  # TEST-NET-2
            self._next_address += 1
        return self.addresses[name]


class FakeProvider:
    """An :class:`~kfed_core.providers.IngressProvider` over a :class:`FakeCloud`."""

    def __init__(self, cloud: FakeCloud, name: str = "fake") -> None:
        self.cloud = cloud
        self.name = name
        self.closed = False

    async def _enter(self, operation: str, lb: str) -> None:
        self.cloud.calls.append((operation, lb))
        if self.cloud.gate is not None:
            await self.cloud.gate.wait()
        if self.cloud.failures:
            raise self.cloud.failures.pop(0)

    async def ensure(self, desired: GlobalLoadBalancer) -> LoadBalancerStatus:
        await self._enter("ensure", desired.name)
        self.cloud.balancers[desired.name] = desired
        serving = [b for b in desired.backends if b.healthy and b.weight > 0]
        return LoadBalancerStatus(
            address=self.cloud.allocate(desired.name),
            ready=bool(serving),
            message="" if serving else "no backend serves",
        )

    async def delete(self, name: str) -> None:
        await self._enter("delete", name)
        self.cloud.balancers.pop(name, None)
        self.cloud.addresses.pop(name, None)

    async def owned(self) -> list[str]:
        await self._enter("owned", "")
        return sorted(self.cloud.balancers)

    async def close(self) -> None:
        self.closed = True


class FakePlugin:
    """A plugin offering provider ``fake`` (or ``name``) on one cloud; register it on a
    :class:`kfed_core.plugins.PluginHost`. ``made`` lists the providers it started."""

    def __init__(self, cloud: FakeCloud, name: str = "fake") -> None:
        self.cloud = cloud
        self.provider_name = name
        self.made: list[FakeProvider] = []

    def _make(self, settings: ProviderSettings) -> IngressProvider:
        if settings.options.get("broken"):
            raise ProviderError(f"option broken={settings.options['broken']}", retryable=False)
        provider = FakeProvider(self.cloud, settings.name)
        self.made.append(provider)
        return provider

    @hookimpl
    def kfed_register_providers(self) -> list[ProviderInfo]:
        return [ProviderInfo(name=self.provider_name, description="in-memory", factory=self._make)]
