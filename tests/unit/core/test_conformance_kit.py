"""The conformance kit passes a provider that keeps the contract and catches each way to break it.

The fake cloud here has two resource kinds (an address and a pool of members), tags what kfed
made, and refuses to delete what is not there; the provider can be given flaws on purpose.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pytest

from kfed_core.conformance import CHECKS, DEFAULT_BACKENDS, ConformanceError, ConformanceKit
from kfed_core.providers import GlobalLoadBalancer, LoadBalancerStatus, ProviderError


@dataclass
class Resource:
    kind: str
    name: str
    spec: dict[str, object] = field(default_factory=dict)


@dataclass
class FakeCloud:
    resources: dict[int, Resource] = field(default_factory=dict)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def create(self, kind: str, name: str) -> tuple[int, Resource]:
        rid = next(self.ids)
        self.resources[rid] = Resource(kind=kind, name=name, spec={"ip": f"203.0.113.{rid}"})
        return rid, self.resources[rid]

    def find(self, kind: str, name: str) -> tuple[int, Resource] | None:
        found = [(i, r) for i, r in self.resources.items() if (r.kind, r.name) == (kind, name)]
        return found[0] if found else None

    def delete(self, rid: int) -> None:
        del self.resources[rid]  # KeyError plays the cloud's NotFound

    def resource_ids(self) -> list[str]:
        return [f"{r.kind}/{r.name}" for r in self.resources.values()]

    def members(self, name: str) -> dict[str, float]:
        pool = self.find("pool", name)
        members = pool[1].spec.get("members", {}) if pool else {}
        assert isinstance(members, dict)
        return members


class FakeProvider:
    """Keeps the contract, unless told to break it in one of the ``flaws`` ways."""

    def __init__(self, cloud: FakeCloud, flaws: frozenset[str] = frozenset()) -> None:
        self.name = "fake"
        self.cloud, self.flaws = cloud, flaws
        self.remembered: dict[str, list[int]] = {}  # what "amnesia" relies on instead of the cloud
        self.closed = False

    def _find(self, kind: str, name: str) -> tuple[int, Resource] | None:
        found = self.cloud.find(kind, name)
        if "amnesia" in self.flaws and (not found or found[0] not in self.remembered.get(name, [])):
            return None
        return found

    def _ensure(self, kind: str, name: str) -> Resource:
        duplicate = kind == "pool" and "duplicates" in self.flaws  # never looks before creating
        found = None if duplicate else self._find(kind, name)
        if found is None:
            found = self.cloud.create(kind, name)
            self.remembered.setdefault(name, []).append(found[0])
        return found[1]

    async def ensure(self, desired: GlobalLoadBalancer) -> LoadBalancerStatus:
        address = self._ensure("address", desired.name)
        pool = self._ensure("pool", desired.name)
        members = {
            b.address: float(b.weight)
            for b in desired.backends
            if (b.healthy or "drain-ignores-health" in self.flaws) and b.weight > 0
        }
        if "sticky-backends" in self.flaws:
            members = {**self.cloud.members(desired.name), **members}
        if "new-address" in self.flaws and pool.spec.get("members", members) != members:
            address.spec["ip"] += "0"  # type: ignore[operator]
        pool.spec["members"] = members
        if "no-address" in self.flaws:
            return LoadBalancerStatus()
        return LoadBalancerStatus(address=str(address.spec["ip"]), ready=True)

    async def delete(self, name: str) -> None:
        found = [self._find(kind, name) for kind in ("pool", "address")]  # reverse order
        if "strict-delete" in self.flaws and not any(found):
            raise ProviderError(f"load balancer {name} not found")
        for item in found[1:] if "leak" in self.flaws else found:
            if item is not None:
                self.cloud.delete(item[0])

    async def owned(self) -> list[str]:
        names = {r.name for r in self.cloud.resources.values() if r.kind == "address"}
        return sorted(n for n in names if "amnesia" not in self.flaws or n in self.remembered)

    async def close(self) -> None:
        self.closed = True
        if "close-deletes" in self.flaws:
            for name in await self.owned():
                await self.delete(name)


def kit_for(
    cloud: FakeCloud, *flaws: str, made: list[FakeProvider] | None = None
) -> ConformanceKit:
    def make() -> FakeProvider:
        provider = FakeProvider(cloud, frozenset(flaws))
        if made is not None:
            made.append(provider)
        return provider

    return ConformanceKit(
        make_provider=make, inspect_resources=cloud.resource_ids, inspect_backends=cloud.members
    )


async def test_a_conforming_provider_passes_every_check_on_one_fake() -> None:
    cloud, made = FakeCloud(), list[FakeProvider]()
    await kit_for(cloud, made=made).run_all()
    assert cloud.resources == {}
    assert made and all(p.closed for p in made), "the kit closes every provider it makes"


@pytest.mark.parametrize("check", CHECKS)
async def test_each_check_passes_alone_with_async_inspectors(check: str) -> None:
    cloud = FakeCloud()

    async def resources() -> set[str]:
        return set(cloud.resource_ids())

    async def members(name: str) -> dict[str, float]:
        return cloud.members(name)

    kit = ConformanceKit(
        make_provider=lambda: FakeProvider(cloud),
        inspect_resources=resources,
        inspect_backends=members,
        options={"project": "p1"},
    )
    await kit.run(check)


async def test_the_kit_runs_without_a_backend_inspector() -> None:
    cloud = FakeCloud()
    kit = ConformanceKit(
        make_provider=lambda: FakeProvider(cloud), inspect_resources=cloud.resource_ids
    )
    await kit.run_all()


@pytest.mark.parametrize(
    ("flaw", "check", "says"),
    [
        ("no-address", "create", "ensure returned no address"),
        ("leak", "create", r"after delete\('kfed-conformance-web'\), the fake has extra \['pool/"),
        ("duplicates", "idempotent", r"after a second ensure .* extra \['pool/"),
        ("new-address", "backends", "address changed .* after adding a backend"),
        ("sticky-backends", "backends", r"and \['192.0.2.30:80'\] that are not wanted"),
        ("drain-ignores-health", "drain", "backends receiving traffic are"),
        ("close-deletes", "adoption", "after closing the provider .close must not delete."),
        ("amnesia", "adoption", r"a new instance's owned\(\) lacks it"),
        ("strict-delete", "delete", "the provider raised ProviderError: load balancer"),
    ],
)
async def test_the_kit_catches_a_broken_provider(flaw: str, check: str, says: str) -> None:
    with pytest.raises(ConformanceError, match=f"conformance check '{check}': .*{says}"):
        await kit_for(FakeCloud(), flaw).run(check)


async def test_the_fake_must_start_empty() -> None:
    cloud = FakeCloud()
    cloud.create("address", "someone-elses")
    with pytest.raises(ConformanceError, match="the fake must start empty"):
        await kit_for(cloud).run("create")


async def test_unknown_checks_and_too_few_backends_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown conformance check 'fly'"):
        await kit_for(FakeCloud()).run("fly")
    cloud = FakeCloud()
    kit = ConformanceKit(
        make_provider=lambda: FakeProvider(cloud),
        inspect_resources=cloud.resource_ids,
        backends=DEFAULT_BACKENDS[:2],
    )
    with pytest.raises(ValueError, match="at least three backends"):
        await kit.run("create")


def test_a_conformance_failure_is_an_assertion_error_for_any_test_runner() -> None:
    assert issubclass(ConformanceError, AssertionError)
