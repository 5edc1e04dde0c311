"""The provider conformance kit: checks that an IngressProvider keeps its contract, run by each
provider's own tests against that provider's fake cloud.

Layer: ``kfed_core`` test kit. It drives a provider only through the
:class:`~kfed_core.providers.IngressProvider` Protocol and looks behind it only through the
callables the provider's tests hand it; it imports no test framework, so any runner will do
(pytest with asyncio_mode=auto is what kfed uses)::

    @pytest.mark.parametrize("check", CHECKS)
    async def test_provider_conforms(check: str, cloud: FakeCloud) -> None:
        kit = ConformanceKit(make_provider=lambda: AcmeProvider(cloud.client()),
                             inspect_resources=cloud.resource_ids)
        await kit.run(check)

Each check starts from an empty fake and ends by deleting what it made, so one fake can serve
every check; a failed check leaves its resources behind, so give each check a fresh fake.
``make_provider`` must return a *new* provider instance on the same fake each time it is called:
that is how the kit plays a hub restart. Failures raise :class:`ConformanceError` (an
AssertionError) naming the check and what differed.
"""

from __future__ import annotations

import inspect
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import TypeVar

from kfed_core.providers import Backend, GlobalLoadBalancer, IngressProvider, LoadBalancerStatus

CHECKS = ("create", "idempotent", "backends", "drain", "adoption", "delete")
"""The checks :meth:`ConformanceKit.run` knows, in the order :meth:`~ConformanceKit.run_all`
runs them."""

ResourceLister = Callable[[], Collection[str] | Awaitable[Collection[str]]]
"""Lists one string per resource in the fake (a list may repeat a name: two resources of one
name are a duplicate the kit should see, so include ids where the service allows that)."""

BackendLister = Callable[[str], Mapping[str, float] | Awaitable[Mapping[str, float]]]
"""For a load balancer name, the fake's backends: ``{Backend.address: weight it gets}``, 0 or
absent for drained ones (the provider's own scale: only zero versus positive is compared)."""

DEFAULT_BACKENDS = (
    Backend(cluster="us", region="us-central1", zone="us-central1-b", address="192.0.2.10:80"),
    Backend(cluster="eu", region="europe-west1", zone="europe-west1-c", address="192.0.2.20:80"),
    Backend(cluster="asia", region="asia-east1", zone="asia-east1-a", address="192.0.2.30:80"),
)

_T = TypeVar("_T")


class ConformanceError(AssertionError):
    """A provider broke the IngressProvider contract in one conformance check."""


async def _maybe_await(value: _T | Awaitable[_T]) -> _T:
    if inspect.isawaitable(value):
        return await value
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class ConformanceKit:
    """Conformance checks for one provider against its fake.

    ``backends`` (at least three) stand for member clusters; a provider whose fake resolves
    backend addresses (ELB host names, say) passes ones its fake knows. ``options`` become
    :attr:`GlobalLoadBalancer.options`. ``inspect_backends``, when given, lets the kit also
    check which backends receive traffic.
    """

    make_provider: Callable[[], IngressProvider]
    inspect_resources: ResourceLister
    inspect_backends: BackendLister | None = None
    backends: Sequence[Backend] = DEFAULT_BACKENDS
    options: Mapping[str, str] = field(default_factory=dict)
    name: str = "kfed-conformance-web"

    async def run_all(self) -> None:
        """Run every check in :data:`CHECKS` on the one fake."""
        for check in CHECKS:
            await self.run(check)

    async def run(self, check: str) -> None:
        """Run one check; raises :class:`ConformanceError` when the provider fails it."""
        if check not in CHECKS:
            raise ValueError(f"unknown conformance check {check!r}; checks: {', '.join(CHECKS)}")
        if len(self.backends) < 3:
            raise ValueError("the conformance kit needs at least three backends")
        left = await self._resources()
        _require(not left, check, f"the fake must start empty, but it lists {sorted(left)}")
        try:
            await getattr(self, f"_check_{check}")(check)
        except ConformanceError:
            raise
        except Exception as e:
            raise ConformanceError(
                f"conformance check {check!r}: the provider raised {type(e).__name__}: {e}"
            ) from e

    async def _check_create(self, check: str) -> None:
        async with self._provider() as provider:
            _require(bool(provider.name), check, "the provider has no name")
            status = await provider.ensure(self._lb(self.backends))
            _require(bool(status.address), check, f"ensure returned no address: {status}")
            made = await self._resources()
            _require(bool(made), check, "ensure made nothing that inspect_resources lists")
            await self._expect_backends(check, self.backends)
            await self._delete_all(check, provider)

    async def _check_idempotent(self, check: str) -> None:
        async with self._provider() as provider:
            first = await provider.ensure(self._lb(self.backends))
            made = await self._resources()
            again = await provider.ensure(self._lb(self.backends))
            _same_address(check, first, again, "a second ensure")
            await self._expect_resources(check, made, "a second ensure of the same load balancer")
            await self._delete_all(check, provider)

    async def _check_backends(self, check: str) -> None:
        fewer = self.backends[:-1]
        async with self._provider() as provider:
            first = await provider.ensure(self._lb(fewer))
            made = await self._resources()
            await self._expect_backends(check, fewer)
            added = await provider.ensure(self._lb(self.backends))
            _same_address(check, first, added, "adding a backend")
            await self._expect_backends(check, self.backends)
            removed = await provider.ensure(self._lb(fewer))
            _same_address(check, first, removed, "removing a backend")
            await self._expect_backends(check, fewer)
            await self._expect_resources(check, made, "adding a backend and removing it again")
            await self._delete_all(check, provider)

    async def _check_drain(self, check: str) -> None:
        drained = [
            replace(self.backends[0], weight=0),
            replace(self.backends[1], healthy=False),
            *self.backends[2:],
        ]
        async with self._provider() as provider:
            first = await provider.ensure(self._lb(self.backends))
            made = await self._resources()
            status = await provider.ensure(self._lb(drained))
            _same_address(check, first, status, "draining two backends (weight 0, unhealthy)")
            await self._expect_backends(check, drained)
            restored = await provider.ensure(self._lb(self.backends))
            _same_address(check, first, restored, "restoring drained backends")
            await self._expect_backends(check, self.backends)
            await self._expect_resources(check, made, "draining backends and restoring them")
            await self._delete_all(check, provider)

    async def _check_adoption(self, check: str) -> None:
        async with self._provider() as before:
            first = await before.ensure(self._lb(self.backends))
            made = await self._resources()
        await self._expect_resources(check, made, "closing the provider (close must not delete)")
        async with self._provider() as after:  # a restarted hub: a new instance, no memory
            owned = await after.owned()
            _require(self.name in owned, check, f"a new instance's owned() lacks it: {owned}")
            status = await after.ensure(self._lb(self.backends))
            _same_address(check, first, status, "ensure from a new provider instance")
            await self._expect_resources(check, made, "ensure from a new provider instance")
            await self._delete_all(check, provider=after)

    async def _check_delete(self, check: str) -> None:
        other = f"{self.name}-other"
        async with self._provider() as provider:
            await provider.delete(self.name)  # never made: absent counts as deleted
            await provider.ensure(self._lb(self.backends, name=other))
            kept = await self._resources()
            await provider.ensure(self._lb(self.backends))
            owned = await provider.owned()
            _require({self.name, other} <= set(owned), check, f"owned() lacks one: {owned}")
            await provider.delete(self.name)
            await self._expect_resources(check, kept, "deleting one of two load balancers")
            owned = await provider.owned()
            _require(self.name not in owned, check, f"owned() lists a deleted one: {owned}")
            _require(other in owned, check, f"owned() lost one it did not delete: {owned}")
            await provider.delete(self.name)  # again: NotFound is success
            await self._expect_resources(check, kept, "deleting a deleted load balancer again")
            await provider.delete(other)
            await self._expect_resources(check, [], "deleting every load balancer")

    def _lb(self, backends: Sequence[Backend], *, name: str | None = None) -> GlobalLoadBalancer:
        name = name or self.name
        return GlobalLoadBalancer(
            name=name,
            ingress=f"conformance/{name}",
            backends=tuple(backends),
            options=dict(self.options),
        )

    @asynccontextmanager
    async def _provider(self) -> AsyncIterator[IngressProvider]:
        provider = self.make_provider()
        try:
            yield provider
        finally:
            await provider.close()

    async def _resources(self) -> list[str]:
        return sorted(await _maybe_await(self.inspect_resources()))

    async def _expect_resources(self, check: str, expected: Collection[str], after: str) -> None:
        now = Counter(await self._resources())
        want = Counter(expected)
        extra, missing = sorted((now - want).elements()), sorted((want - now).elements())
        differences = ([f"extra {extra}"] if extra else []) + (
            [f"lacks {missing}"] if missing else []
        )
        _require(not differences, check, f"after {after}, the fake has {' and '.join(differences)}")

    async def _expect_backends(self, check: str, backends: Sequence[Backend]) -> None:
        if self.inspect_backends is None:
            return
        seen = await _maybe_await(self.inspect_backends(self.name))
        serving = {b.address for b in backends if b.healthy and b.weight > 0}
        positive = {address for address, weight in seen.items() if weight > 0}
        stray = set(seen) - {b.address for b in backends}
        _require(
            positive == serving and not stray,
            check,
            f"backends receiving traffic are {sorted(positive)} (and {sorted(stray)} that are "
            f"not wanted at all), expected {sorted(serving)}",
        )

    async def _delete_all(self, check: str, provider: IngressProvider) -> None:
        await provider.delete(self.name)
        await self._expect_resources(check, [], f"delete({self.name!r})")
        owned = await provider.owned()
        _require(self.name not in owned, check, f"owned() lists a deleted one: {owned}")


def _require(condition: bool, check: str, message: str) -> None:
    if not condition:
        raise ConformanceError(f"conformance check {check!r}: {message}")


def _same_address(
    check: str, first: LoadBalancerStatus, now: LoadBalancerStatus, after: str
) -> None:
    _require(
        now.address == first.address,
        check,
        f"the address changed from {first.address!r} to {now.address!r} after {after}",
    )
