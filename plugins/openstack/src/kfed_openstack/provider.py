"""The ``openstack`` ingress provider: Octavia per region plus DNS-based failover in Designate.

Layer: ``kfed_openstack`` shell; implements :class:`kfed_core.providers.IngressProvider` over
the :class:`~kfed_openstack.api.OpenStackApi` seam. For each :class:`GlobalLoadBalancer`:

1. each OpenStack region named by a backend's ``region`` gets an Octavia load balancer with a
   listener, a pool, a health monitor and one member per cluster (:mod:`kfed_openstack.regional`);
   drained clusters stay as members with weight 0;
2. one Designate A recordset ``<label>.<zone>`` lists the VIPs of the regions with at least one
   serving member; with none, the recordset is removed. The global address is its host name.

Regions no backend names any more lose their load balancer. ``delete`` removes the recordset,
then each region's load balancer (cascade), waiting until they are gone. ``owned`` reads the
ownership tags and recordset markers from the cloud. The provider keeps no state between calls
but its connections; concurrent calls for one load balancer name are serialised.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Iterable
from functools import partial

from kfed_core.providers import Backend, GlobalLoadBalancer, LoadBalancerStatus, ProviderError
from kfed_openstack import naming
from kfed_openstack.api import OpenStackApi, Recordset
from kfed_openstack.calls import Calls
from kfed_openstack.regional import (
    RegionPlan,
    RegionState,
    converge_region,
    find_owned,
    remove_region,
)
from kfed_openstack.settings import OpenStackSettings, SettingsError, lb_settings

log = logging.getLogger(__name__)


class OpenStackProvider:
    """Global load balancers on OpenStack. Call it from one event loop."""

    def __init__(self, settings: OpenStackSettings, api: OpenStackApi, *, name: str) -> None:
        self.name = name
        self.settings = settings
        self._api = api
        self._calls = Calls(
            api=api,
            retry=settings.retry,
            poll_interval=settings.poll_interval,
            poll_timeout=settings.poll_timeout,
        )
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    @property
    def calls(self) -> Calls:
        """How this provider reaches the cloud (tests swap its clock and sleep)."""
        return self._calls

    async def ensure(self, desired: GlobalLoadBalancer) -> LoadBalancerStatus:
        """Converge every region's load balancer, then the DNS record; returns the status."""
        plans = self._plans(desired)
        async with self._locks[desired.name]:
            states: list[RegionState] = []
            for plan in plans:
                states.append(await converge_region(self._calls, plan))
            wanted = {plan.region for plan in plans}
            for region in await self._regions(extra=wanted):
                if region not in wanted:
                    lbs = await find_owned(self._calls, region, self.settings.owner, desired.name)
                    await remove_region(self._calls, region, lbs)
            return await self._converge_dns(desired, states)

    async def delete(self, name: str) -> None:
        """Remove the DNS record, then each region's load balancer; absent is deleted."""
        async with self._locks[name]:
            zone_id = await self._zone_id()
            label = naming.dns_label(name)
            for record in await self._records(zone_id, label):
                await self._calls.absent_ok(
                    f"deleting DNS record {record.name}",
                    partial(self._api.delete_recordset, zone_id, record.id),
                )
            for region in await self._regions():
                lbs = await find_owned(self._calls, region, self.settings.owner, name)
                await remove_region(self._calls, region, lbs)

    async def owned(self) -> list[str]:
        """Names found through the ``kfed-owner`` tag on load balancers and DNS record markers."""
        owner = self.settings.owner
        names: set[str] = set()
        for region in await self._regions():
            lbs = await self._calls(
                f"listing kfed's load balancers in region {region}",
                partial(self._api.load_balancers, region, tags=[f"{naming.OWNER_TAG}{owner}"]),
            )
            names.update(name for lb in lbs if (name := naming.tag_value(lb.tags, naming.LB_TAG)))
        zone_id = await self._zone_id()
        records = await self._calls(
            f"listing DNS records in zone {self.settings.dns_zone}",
            lambda: self._api.recordsets(zone_id),
        )
        for record in records:
            marker = naming.parse_description(record.description)
            if marker is not None and marker[0] == owner:
                names.add(marker[1])
        return sorted(names)

    async def close(self) -> None:
        """Close the cloud connections; never deletes anything."""
        await self._api.close()

    # -- planning ----------------------------------------------------------------------------

    def _plans(self, desired: GlobalLoadBalancer) -> list[RegionPlan]:
        where = f"load balancer {desired.name} (Ingress {desired.ingress})"
        try:
            lb = lb_settings(self.settings.lb, desired.options)
            label = naming.dns_label(desired.name)
            by_region: dict[str, list[Backend]] = defaultdict(list)
            clusters: set[str] = set()
            for backend in desired.backends:
                if backend.cluster in clusters:
                    raise SettingsError(f"cluster {backend.cluster} is listed twice")
                if not backend.region:
                    raise SettingsError(f"cluster {backend.cluster} has no region")
                clusters.add(backend.cluster)
                by_region[backend.region].append(backend)
            weights = naming.member_weights(desired.backends)
            if not 0 < desired.port < 65536:
                raise SettingsError(f"port {desired.port} is not 1-65535")
            tags = naming.ownership_tags(self.settings.owner, desired.name, desired.ingress)
            plans = []
            for region, backends in sorted(by_region.items()):
                if self.settings.regions and region not in self.settings.regions:
                    raise SettingsError(
                        f"cluster {backends[0].cluster} is in region {region}, which is not in "
                        f"the provider's 'regions' option ({', '.join(self.settings.regions)})"
                    )
                members = {
                    naming.split_address(b.address): (b.cluster, weights[b.address])
                    for b in backends
                }
                plans.append(
                    RegionPlan(
                        region=region,
                        name=desired.name,
                        label=label,
                        owner=self.settings.owner,
                        tags=tags,
                        vip_subnet=self.settings.vip_subnet(region),
                        port=desired.port,
                        lb=lb,
                        members=members,
                    )
                )
        except ValueError as e:  # SettingsError included
            raise ProviderError(f"{where}: {e}", retryable=False) from None
        return plans

    async def _regions(self, extra: Iterable[str] = ()) -> list[str]:
        """Where to look for kfed's load balancers: the configured regions, or every region
        with Octavia in the catalog (so a restarted hub finds what it made anywhere)."""
        if self.settings.regions:
            return sorted({*self.settings.regions, *extra})
        found = await self._calls("reading the service catalog", self._api.regions)
        return sorted({*found, *extra})

    # -- DNS ---------------------------------------------------------------------------------

    async def _zone_id(self) -> str:
        zone = self.settings.dns_zone
        zones = await self._calls(f"finding DNS zone {zone}", lambda: self._api.zones(zone))
        exact = [z for z in zones if z.name == zone]
        if not exact:
            raise ProviderError(
                f"the Designate zone {zone} does not exist in this project; create it or fix "
                "the 'dnsZone' option",
                retryable=False,
            )
        return exact[0].id

    async def _records(self, zone_id: str, label: str) -> list[Recordset]:
        name = naming.record_name(label, self.settings.dns_zone)
        records = await self._calls(
            f"listing DNS records in zone {self.settings.dns_zone}",
            lambda: self._api.recordsets(zone_id),
        )
        mine = [r for r in records if r.name == name]
        for record in mine:
            marker = naming.parse_description(record.description)
            if marker is None or marker[0] != self.settings.owner:
                raise ProviderError(
                    f"the DNS record {name} exists but kfed (owner {self.settings.owner!r}) did "
                    "not make it; delete it or rename the Ingress",
                    retryable=False,
                )
        return mine

    async def _converge_dns(
        self, desired: GlobalLoadBalancer, states: list[RegionState]
    ) -> LoadBalancerStatus:
        label = naming.dns_label(desired.name)
        zone = self.settings.dns_zone
        name = naming.record_name(label, zone)
        ttl = lb_settings(self.settings.lb, desired.options).dns_ttl
        vips = sorted({s.vip for s in states if s.serving > 0 and s.active and s.vip})
        zone_id = await self._zone_id()
        records = await self._records(zone_id, label)
        record = records[0] if records else None
        for extra in records[1:]:  # a duplicate from an interrupted create: keep one
            await self._calls.absent_ok(
                f"deleting duplicate DNS record {name}",
                partial(self._api.delete_recordset, zone_id, extra.id),
            )
        if not vips:
            if record is not None:
                await self._calls.absent_ok(
                    f"deleting DNS record {name} (no region serves)",
                    partial(self._api.delete_recordset, zone_id, record.id),
                )
            record = None
        elif record is None:
            record = await self._calls(
                f"creating DNS record {name}",
                lambda: self._api.create_recordset(
                    zone_id,
                    name=name,
                    type="A",
                    records=vips,
                    ttl=ttl,
                    description=naming.record_description(self.settings.owner, desired.name),
                ),
            )
        elif sorted(record.records) != vips or record.ttl != ttl:
            record = await self._calls(
                f"updating DNS record {name}",
                partial(self._api.update_recordset, zone_id, record.id, records=vips, ttl=ttl),
            )
        return _status(naming.host_name(label, zone), states, record)


def _status(
    address: str, states: list[RegionState], record: Recordset | None
) -> LoadBalancerStatus:
    parts = []
    for s in states:
        if s.serving:
            parts.append(f"{s.region}: {s.serving} of {s.total} members serving")
        else:
            parts.append(f"{s.region}: drained (no member healthy with capacity), out of DNS")
    if not states:
        message = "no backends: no cluster serves this Ingress yet"
    else:
        message = "; ".join(parts)
    ready = record is not None
    if record is None and states:
        message += "; no region serves, so the DNS record is removed"
    elif record is not None and record.status not in ("", "ACTIVE"):
        ready = False
        message += f"; DNS record {record.status.lower()} (Designate is propagating it)"
    return LoadBalancerStatus(address=address, ready=ready, message=message)
