"""Converging one region's Octavia load balancer: LB, listener, pool, health monitor, members.

Layer: ``kfed_openstack`` shell (cloud calls through :class:`~kfed_openstack.calls.Calls`).
Octavia makes a load balancer immutable while it is PENDING_*, so every change here is followed
by waiting for ACTIVE before the next one; creation runs in dependency order (load balancer,
listener, pool, health monitor, members) and each step first looks for what exists, so a
retried or restarted ensure adopts instead of duplicating. Removal is one cascade delete.
It knows nothing of DNS (see :mod:`kfed_openstack.provider`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial

from kfed_core.providers import ProviderError
from kfed_openstack import naming
from kfed_openstack.api import LoadBalancer, MonitorSpec, Pool
from kfed_openstack.calls import Calls
from kfed_openstack.settings import LbSettings


@dataclass(frozen=True, slots=True, kw_only=True)
class RegionPlan:
    """What one region should have: members ``{(ip, port): (cluster, weight)}``."""

    region: str
    name: str  # GlobalLoadBalancer.name
    label: str
    owner: str
    tags: tuple[str, ...]
    vip_subnet: str
    port: int
    lb: LbSettings
    members: Mapping[tuple[str, int], tuple[str, int]]


@dataclass(frozen=True, slots=True, kw_only=True)
class RegionState:
    """What a converged region offers: its VIP, and how many members take traffic."""

    region: str
    vip: str
    serving: int
    total: int
    active: bool


async def find_owned(calls: Calls, region: str, owner: str, name: str) -> list[LoadBalancer]:
    """The load balancers in ``region`` tagged as ``owner``'s for ``name``."""
    tags = naming.identity_tags(owner, name)
    return await calls(
        f"listing load balancers for {name} in region {region}",
        lambda: calls.api.load_balancers(region, tags=tags),
    )


async def converge_region(calls: Calls, plan: RegionPlan) -> RegionState:
    """Create what is missing in ``plan.region`` and correct what drifted; returns its state."""
    api, region = calls.api, plan.region
    lb = await _load_balancer(calls, plan)
    lb = await calls.wait_active(region, lb)
    where = f"in region {region} for load balancer {plan.name}"

    listener_name = naming.listener_name(plan.label)
    listeners = await calls(f"listing listeners {where}", lambda: api.listeners(region, lb.id))
    listener = next((x for x in listeners if x.name == listener_name), None)
    pools = await calls(f"listing pools {where}", lambda: api.pools(region, lb.id))
    pool = next((p for p in pools if p.name == naming.pool_name(plan.label)), None)
    if listener is not None and (listener.protocol, listener.port) != (plan.lb.protocol, plan.port):
        # Octavia cannot change a listener's protocol or port: replace it (and its pool, whose
        # protocol must match; deleting a pool removes its members and health monitor).
        if pool is not None:
            await calls(
                f"deleting pool {pool.name} {where}", partial(api.delete_pool, region, pool.id)
            )
            lb = await calls.wait_active(region, lb)
            pool = None
        await calls(
            f"deleting listener {listener.name} {where}",
            partial(api.delete_listener, region, listener.id),
        )
        lb = await calls.wait_active(region, lb)
        listener = None
    if listener is None:
        listener = await calls(
            f"creating listener {listener_name} {where}",
            lambda: api.create_listener(
                region,
                lb_id=lb.id,
                name=listener_name,
                protocol=plan.lb.protocol,
                port=plan.port,
                tags=plan.tags,
            ),
        )
        lb = await calls.wait_active(region, lb)
    pool, lb = await _pool(calls, plan, lb, listener.id, pool, where)
    lb = await _monitor(calls, plan, lb, pool, where)
    lb = await _members(calls, plan, lb, pool.id, where)
    serving = sum(1 for _, weight in plan.members.values() if weight > 0)
    return RegionState(
        region=region,
        vip=lb.vip_address,
        serving=serving,
        total=len(plan.members),
        active=lb.provisioning_status == "ACTIVE",
    )


async def remove_region(calls: Calls, region: str, lbs: Sequence[LoadBalancer]) -> None:
    """Delete ``lbs`` (kfed's, found by tag) with everything under them; absent is fine."""
    for lb in lbs:
        if lb.provisioning_status == "PENDING_DELETE":
            await calls.wait_gone(region, lb)
            continue
        try:
            lb = await calls.wait_active(region, lb)
        except ProviderError:
            if lb.provisioning_status != "ERROR":  # a broken one may still be deleted
                raise
        await calls.absent_ok(
            f"deleting load balancer {lb.name} ({lb.id}) in region {region}",
            partial(calls.api.delete_load_balancer, region, lb.id, cascade=True),
        )
        await calls.wait_gone(region, lb)


async def _load_balancer(calls: Calls, plan: RegionPlan) -> LoadBalancer:
    api, region = calls.api, plan.region
    found = await calls(
        f"looking up load balancer {plan.label} in region {region}",
        lambda: api.load_balancers(region, name=plan.label),
    )
    ours = [lb for lb in found if naming.tag_value(lb.tags, naming.OWNER_TAG) == plan.owner]
    if ours:
        return ours[0]
    if found:
        raise ProviderError(
            f"an Octavia load balancer named {plan.label} exists in region {region} but kfed "
            f"(owner {plan.owner!r}) did not make it (no kfed-owner tag); delete or rename it, "
            "or rename the Ingress",
            retryable=False,
        )
    return await calls(
        f"creating load balancer {plan.label} in region {region}",
        lambda: api.create_load_balancer(
            region,
            name=plan.label,
            vip_subnet_id=plan.vip_subnet,
            description=f"kfed global load balancer {plan.name}",
            tags=plan.tags,
        ),
    )


async def _pool(
    calls: Calls,
    plan: RegionPlan,
    lb: LoadBalancer,
    listener_id: str,
    pool: Pool | None,
    where: str,
) -> tuple[Pool, LoadBalancer]:
    api, region, name = calls.api, plan.region, naming.pool_name(plan.label)
    if pool is None:
        pool = await calls(
            f"creating pool {name} {where}",
            lambda: api.create_pool(
                region,
                listener_id=listener_id,
                name=name,
                protocol=plan.lb.protocol,
                algorithm=plan.lb.algorithm,
                tags=plan.tags,
            ),
        )
        return pool, await calls.wait_active(region, lb)
    if pool.algorithm != plan.lb.algorithm:
        await calls(
            f"updating pool {name} {where}",
            lambda: api.update_pool(region, pool.id, algorithm=plan.lb.algorithm),
        )
        lb = await calls.wait_active(region, lb)
    return pool, lb


def monitor_spec(settings: LbSettings) -> MonitorSpec:
    """The health monitor for ``settings``: HTTP GET of the path, or a TCP connect."""
    if settings.protocol == "HTTP":
        return MonitorSpec(
            type="HTTP",
            delay=settings.health_delay,
            timeout=settings.health_timeout,
            max_retries=settings.health_max_retries,
            url_path=settings.health_path,
            expected_codes=settings.health_expected_codes,
        )
    return MonitorSpec(
        type="TCP",
        delay=settings.health_delay,
        timeout=settings.health_timeout,
        max_retries=settings.health_max_retries,
    )


async def _monitor(
    calls: Calls, plan: RegionPlan, lb: LoadBalancer, pool: Pool, where: str
) -> LoadBalancer:
    api, region, name = calls.api, plan.region, naming.monitor_name(plan.label)
    spec = monitor_spec(plan.lb)
    if not pool.healthmonitor_id:
        await calls(
            f"creating health monitor {name} {where}",
            lambda: api.create_health_monitor(
                region, pool_id=pool.id, name=name, spec=spec, tags=plan.tags
            ),
        )
        return await calls.wait_active(region, lb)
    monitor = await calls(
        f"reading health monitor {name} {where}",
        lambda: api.get_health_monitor(region, pool.healthmonitor_id),
    )
    if monitor.spec != spec:
        await calls(
            f"updating health monitor {name} {where}",
            lambda: api.update_health_monitor(region, monitor.id, spec=spec),
        )
        lb = await calls.wait_active(region, lb)
    return lb


async def _members(
    calls: Calls, plan: RegionPlan, lb: LoadBalancer, pool_id: str, where: str
) -> LoadBalancer:
    api, region = calls.api, plan.region
    existing = await calls(f"listing members {where}", lambda: api.members(region, pool_id))
    seen: set[tuple[str, int]] = set()
    for member in existing:
        key = (member.address, member.port)
        if key not in plan.members or key in seen:  # unwanted, or a duplicate of one kept
            await calls(
                f"removing member {member.name} ({member.address}:{member.port}) {where}",
                partial(api.delete_member, region, pool_id, member.id),
            )
            lb = await calls.wait_active(region, lb)
            continue
        seen.add(key)
        weight = plan.members[key][1]
        if member.weight != weight:
            await calls(
                f"setting member {member.name} weight to {weight} {where}",
                partial(api.update_member, region, pool_id, member.id, weight=weight),
            )
            lb = await calls.wait_active(region, lb)
    for (address, port), (cluster, weight) in sorted(plan.members.items()):
        if (address, port) in seen:
            continue
        await calls(
            f"adding member {cluster} ({address}:{port}) {where}",
            partial(
                api.create_member,
                region,
                pool_id,
                name=cluster,
                address=address,
                port=port,
                weight=weight,
                tags=plan.tags,
            ),
        )
        lb = await calls.wait_active(region, lb)
    return lb
