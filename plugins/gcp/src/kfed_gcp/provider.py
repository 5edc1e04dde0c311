"""The ``gcp`` ingress provider: a global external HTTP load balancer per federated Ingress.

Layer: I/O shell of the ``gcp`` plugin; implements :class:`kfed_core.providers.IngressProvider`
over the :class:`kfed_gcp.api.ComputeApi` seam (never the SDK itself). :meth:`ensure` converges,
in dependency order: global address, health check, one hybrid NEG per cluster (and its
endpoint), backend service, stale NEGs removed, URL map, target HTTP proxy, global forwarding
rule, firewall rule for Google's health checkers. :meth:`delete` goes the other way. Resource
bodies and drift checks are pure (:mod:`kfed_gcp.plan`); retries live in :mod:`kfed_gcp.calls`.

Ownership is read from GCE every time (the JSON mark in each ``description``, see
:mod:`kfed_gcp.names`), so a restarted hub adopts what an earlier one made, and a same-named
resource without kfed's mark is refused, never taken over or deleted.

Concurrency: call from one event loop. Calls for one load balancer name are serialised by a
per-name lock; different load balancers converge concurrently.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import uuid
from collections.abc import Awaitable, Callable

from kfed_core.providers import GlobalLoadBalancer, LoadBalancerStatus, ProviderError
from kfed_gcp.api import GLOBAL_KINDS, ComputeApi, Kind, Resource, link_tail, same_link
from kfed_gcp.calls import Caller
from kfed_gcp.errors import GceError
from kfed_gcp.names import ResourceNames, names_for, read_mark
from kfed_gcp.options import GcpOptions
from kfed_gcp.plan import (
    BackendPlan,
    Plan,
    address_body,
    backend_service_body,
    backend_service_drifted,
    firewall_body,
    firewall_drifted,
    forwarding_rule_body,
    forwarding_rule_replaced,
    health_check_body,
    health_check_drifted,
    http_proxy_body,
    make_plan,
    neg_body,
    url_map_body,
)

log = logging.getLogger(__name__)

_LABELS = {
    Kind.ADDRESS: "global address",
    Kind.HEALTH_CHECK: "health check",
    Kind.NEG: "network endpoint group",
    Kind.BACKEND_SERVICE: "backend service",
    Kind.URL_MAP: "URL map",
    Kind.HTTP_PROXY: "target HTTP proxy",
    Kind.FORWARDING_RULE: "global forwarding rule",
    Kind.FIREWALL: "firewall rule",
}
DELETE_ORDER = (
    Kind.FIREWALL,
    Kind.FORWARDING_RULE,
    Kind.HTTP_PROXY,
    Kind.URL_MAP,
    Kind.BACKEND_SERVICE,
    Kind.NEG,
    Kind.HEALTH_CHECK,
    Kind.ADDRESS,
)
"""Reverse dependency order: each resource goes before the ones it references."""


def _not_found(error: GceError) -> bool:
    return error.not_found


def _exists(error: GceError) -> bool:
    return error.already_exists


def _name_of(names: ResourceNames, kind: Kind) -> str:
    return str(getattr(names, kind.name.lower()))


class GcpProvider:
    """Global external HTTP(S) load balancers in one GCP project."""

    def __init__(
        self, name: str, options: GcpOptions, api: ComputeApi, *, caller: Caller | None = None
    ) -> None:
        self.name = name
        self.options = options
        self._api = api
        self._call = caller or Caller(options.retry)
        self._locks: dict[str, asyncio.Lock] = {}

    def _where(self, kind: Kind, name: str, zone: str = "") -> str:
        place = f"zone {zone} of project" if zone else "project"
        return f"{_LABELS[kind]} {name} in {place} {self.options.project}"

    async def ensure(self, desired: GlobalLoadBalancer) -> LoadBalancerStatus:
        """Create what is missing, fix what drifted, remove clusters no longer wanted."""
        plan = make_plan(desired, self.options)
        async with self._locks.setdefault(desired.name, asyncio.Lock()):
            address = await self._ensure(Kind.ADDRESS, plan, address_body(plan))
            ip = str(address.get("address", ""))
            await self._ensure_health_check(plan)
            for backend in plan.backends:
                await self._ensure_neg(plan, backend)
            await self._ensure_backend_service(plan)
            await self._remove_stale_negs(plan)
            await self._ensure_url_map(plan)
            await self._ensure_proxy(plan)
            await self._ensure_forwarding_rule(plan, ip)
            await self._ensure_firewall(plan)
            return await self._status(plan, ip)

    async def delete(self, name: str) -> None:
        """Delete ``name``'s resources in reverse order; absent ones count as deleted."""
        names = names_for(name)
        async with self._locks.setdefault(name, asyncio.Lock()):
            for kind in DELETE_ORDER:
                if kind is Kind.NEG:
                    for neg in await self._owned_negs(name):
                        await self._delete(kind, neg["name"], name, zone=_zone_of(neg))
                else:
                    await self._delete(kind, _name_of(names, kind), name)

    async def owned(self) -> list[str]:
        """Load balancers whose resources carry this provider's owner mark, read from GCE."""
        found: set[str] = set()
        for kind in GLOBAL_KINDS:
            items = await self._call.run(
                f"listing {_LABELS[kind]}s in project {self.options.project}",
                functools.partial(self._api.list_all, kind),
            )
            found.update(self._lb_of(item) for item in items)
        found.update(self._lb_of(neg) for neg in await self._all_negs())
        found.discard("")
        return sorted(found)

    async def close(self) -> None:
        """Close the GCE connections; never deletes anything."""
        await self._api.close()

    def _lb_of(self, item: Resource) -> str:
        mark = read_mark(item.get("description"))
        return mark.lb if mark is not None and mark.owner == self.options.owner else ""

    # --- reading and creating, with the ownership check -------------------------------------

    async def _get(self, kind: Kind, name: str, plan: Plan, zone: str = "") -> Resource | None:
        """The resource, None when absent; ProviderError when it exists without our mark."""
        try:
            found = await self._call.run(
                f"reading {self._where(kind, name, zone)}",
                lambda: self._api.get(kind, name, zone=zone),
                passthrough=_not_found,
            )
        except GceError:
            return None
        mark = read_mark(found.get("description"))
        if mark is None or mark.owner != plan.mark.owner or mark.lb != plan.mark.lb:
            whose = f"is marked for {mark.owner}/{mark.lb}" if mark else "has no kfed mark"
            raise ProviderError(
                f"{self._where(kind, name, zone)} exists but {whose}, so kfed will not take it "
                f"over for load balancer {plan.mark.lb}; delete or rename it, or give this "
                "provider another owner option",
                retryable=False,
            )
        return found

    async def _ensure(self, kind: Kind, plan: Plan, body: Resource, zone: str = "") -> Resource:
        """Get the resource, creating it from ``body`` when absent."""
        name = str(body["name"])
        found = await self._get(kind, name, plan, zone)
        if found is not None:
            return found
        request_id = str(uuid.uuid4())  # the same id on every retry: GCE applies it once
        with contextlib.suppress(GceError):  # 409: made by a racing call; the check below decides
            await self._call.run(
                f"creating {self._where(kind, name, zone)}",
                lambda: self._api.insert(kind, body, request_id=request_id, zone=zone),
                passthrough=_exists,
            )
        made = await self._get(kind, name, plan, zone)
        if made is None:
            raise ProviderError(
                f"{self._where(kind, name, zone)} vanished right after it was created; "
                "something else deletes kfed's resources (another hub with the same owner?)",
                retryable=True,
            )
        return made

    async def _mutate(self, doing: str, call: Callable[[str], Awaitable[None]]) -> None:
        request_id = str(uuid.uuid4())
        await self._call.run(doing, lambda: call(request_id))

    async def _delete(self, kind: Kind, name: str, lb: str, zone: str = "") -> None:
        where = self._where(kind, name, zone)
        try:
            found = await self._call.run(
                f"reading {where}",
                lambda: self._api.get(kind, name, zone=zone),
                passthrough=_not_found,
            )
        except GceError:
            return  # NotFound: already deleted
        mark = read_mark(found.get("description"))
        if mark is None or mark.owner != self.options.owner or mark.lb != lb:
            log.warning("gcp: not deleting %s: kfed did not make it for %s", where, lb)
            return
        request_id = str(uuid.uuid4())
        try:
            await self._call.run(
                f"deleting {where}",
                lambda: self._api.delete(kind, name, request_id=request_id, zone=zone),
                passthrough=_not_found,
            )
        except GceError:
            return  # deleted meanwhile: that is what we wanted

    # --- the steps of ensure -----------------------------------------------------------------

    async def _ensure_health_check(self, plan: Plan) -> None:
        body = health_check_body(plan)
        current = await self._ensure(Kind.HEALTH_CHECK, plan, body)
        if health_check_drifted(current, plan):
            name = plan.names.health_check
            await self._mutate(
                f"updating {self._where(Kind.HEALTH_CHECK, name)}",
                lambda rid: self._api.patch(Kind.HEALTH_CHECK, name, body, request_id=rid),
            )

    async def _ensure_neg(self, plan: Plan, backend: BackendPlan) -> None:
        zone, name = backend.zone, backend.neg
        await self._ensure(Kind.NEG, plan, neg_body(plan, backend), zone)
        where = self._where(Kind.NEG, name, zone)
        endpoints = await self._call.run(
            f"listing the endpoints of {where}", lambda: self._api.list_endpoints(zone, name)
        )
        stale = [
            e
            for e in endpoints
            if (e.get("ipAddress"), int(e.get("port", 0))) != (backend.ip, backend.port)
        ]
        if stale:
            await self._mutate(
                f"detaching old endpoints from {where}",
                lambda rid: self._api.detach_endpoints(zone, name, stale, request_id=rid),
            )
        if len(endpoints) == len(stale):  # the wanted endpoint is not there yet
            await self._mutate(
                f"attaching {backend.ip}:{backend.port} to {where}",
                lambda rid: self._api.attach_endpoints(
                    zone, name, [backend.endpoint], request_id=rid
                ),
            )

    async def _ensure_backend_service(self, plan: Plan) -> None:
        name = plan.names.backend_service
        current = await self._ensure(Kind.BACKEND_SERVICE, plan, backend_service_body(plan))
        if not backend_service_drifted(current, plan):
            return

        async def patch(request_id: str) -> None:
            # Re-read for a fresh fingerprint on every try: GCE refuses a stale one (412).
            now = await self._api.get(Kind.BACKEND_SERVICE, name)
            wanted = backend_service_body(plan)
            body = {
                "healthChecks": wanted["healthChecks"],
                "backends": wanted["backends"],
                "fingerprint": now.get("fingerprint", ""),
            }
            await self._api.patch(Kind.BACKEND_SERVICE, name, body, request_id=request_id)

        await self._mutate(
            f"updating the backends of {self._where(Kind.BACKEND_SERVICE, name)}", patch
        )

    async def _remove_stale_negs(self, plan: Plan) -> None:
        wanted = {(b.zone, b.neg) for b in plan.backends}
        for neg in await self._owned_negs(plan.names.lb):
            if (_zone_of(neg), neg["name"]) not in wanted:
                await self._delete(Kind.NEG, neg["name"], plan.names.lb, zone=_zone_of(neg))

    async def _ensure_url_map(self, plan: Plan) -> None:
        name = plan.names.url_map
        body = url_map_body(plan)
        current = await self._ensure(Kind.URL_MAP, plan, body)
        if not same_link(current.get("defaultService"), body["defaultService"]):
            patch = {
                "defaultService": body["defaultService"],
                "fingerprint": current.get("fingerprint", ""),
            }
            await self._mutate(
                f"updating {self._where(Kind.URL_MAP, name)}",
                lambda rid: self._api.patch(Kind.URL_MAP, name, patch, request_id=rid),
            )

    async def _ensure_proxy(self, plan: Plan) -> None:
        name = plan.names.http_proxy
        body = http_proxy_body(plan)
        current = await self._ensure(Kind.HTTP_PROXY, plan, body)
        if not same_link(current.get("urlMap"), body["urlMap"]):
            await self._mutate(
                f"pointing {self._where(Kind.HTTP_PROXY, name)} at its URL map",
                lambda rid: self._api.set_url_map(name, body["urlMap"], request_id=rid),
            )

    async def _ensure_forwarding_rule(self, plan: Plan, ip: str) -> None:
        name = plan.names.forwarding_rule
        body = forwarding_rule_body(plan)
        current = await self._ensure(Kind.FORWARDING_RULE, plan, body)
        if forwarding_rule_replaced(current, plan, ip):
            # Address, port and scheme are immutable on a forwarding rule: make it again.
            await self._delete(Kind.FORWARDING_RULE, name, plan.names.lb)
            await self._ensure(Kind.FORWARDING_RULE, plan, body)
        elif not same_link(current.get("target"), body["target"]):
            await self._mutate(
                f"pointing {self._where(Kind.FORWARDING_RULE, name)} at its proxy",
                lambda rid: self._api.set_target(name, body["target"], request_id=rid),
            )

    async def _ensure_firewall(self, plan: Plan) -> None:
        name = plan.names.firewall
        body = firewall_body(plan)
        current = await self._ensure(Kind.FIREWALL, plan, body)
        if firewall_drifted(current, plan):
            patch = {"allowed": body["allowed"], "sourceRanges": body["sourceRanges"]}
            await self._mutate(
                f"updating {self._where(Kind.FIREWALL, name)}",
                lambda rid: self._api.patch(Kind.FIREWALL, name, patch, request_id=rid),
            )

    async def _status(self, plan: Plan, ip: str) -> LoadBalancerStatus:
        serving = plan.serving
        if not serving:
            drained = len(plan.backends)
            return LoadBalancerStatus(
                address=ip,
                message=f"no backend can take traffic ({drained} drained: weight 0 or unhealthy)",
            )
        healthy = []
        for backend in serving:
            group = plan.link(Kind.NEG, backend.neg, backend.zone)
            states = await self._call.run(
                f"reading the health of {backend.cluster} in "
                f"{self._where(Kind.BACKEND_SERVICE, plan.names.backend_service)}",
                functools.partial(self._api.backend_health, plan.names.backend_service, group),
            )
            if any(state.get("healthState") == "HEALTHY" for state in states):
                healthy.append(backend.cluster)
        if not healthy:
            waiting = ", ".join(b.cluster for b in serving)
            return LoadBalancerStatus(
                address=ip,
                message=f"Google's health checks report none of {waiting} HEALTHY yet",
            )
        return LoadBalancerStatus(
            address=ip, ready=True, message=f"serving from {', '.join(healthy)}"
        )

    # --- NEGs are zonal: find them by their mark across zones ---------------------------------

    async def _all_negs(self) -> list[Resource]:
        return await self._call.run(
            f"listing network endpoint groups in project {self.options.project}",
            self._api.list_negs,
        )

    async def _owned_negs(self, lb: str) -> list[Resource]:
        return [neg for neg in await self._all_negs() if self._lb_of(neg) == lb]


def _zone_of(resource: Resource) -> str:
    """``us-central1-b`` from a NEG's ``zone`` URL."""
    return link_tail(str(resource.get("zone", ""))).rsplit("/", 1)[-1]
