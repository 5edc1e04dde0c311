"""From kfed's backends to Global Accelerator endpoint groups, and back to a status.

Layer: ``kfed_aws`` pure core (values in, values out; no I/O, no clock, no SDK types). The
provider feeds it the load balancers ELBv2 lists in each backend's region and the endpoint
groups that exist; it answers which groups should exist with which endpoints, weights and
traffic dials, which calls bring the cloud there, and what to tell people.

How capacity maps onto Global Accelerator: each cluster's load balancer (found by the DNS name
in :attr:`Backend.address`) is an endpoint in its region's endpoint group, weighted 1-255 in
proportion to :attr:`Backend.weight` (the largest serving weight becomes 255). A backend with
weight 0 or not healthy keeps its endpoint at weight 0; a region none of whose backends serve
gets traffic dial 0, so Global Accelerator sends its clients to the next closest region.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kfed_aws.api import DEPLOYED, HEALTHY, Accelerator, EndpointGroup, GroupSpec, LoadBalancerRef
from kfed_core.providers import Backend

MAX_WEIGHT = 255
MAX_ENDPOINTS = 10  # per endpoint group, a Global Accelerator limit
_AWS_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")


@dataclass(frozen=True, slots=True, kw_only=True)
class Placement:
    """Where the backends go: one :class:`GroupSpec` per AWS region, sorted by region;
    ``endpoint_of`` maps each placed backend's cluster to its endpoint (load balancer ARN);
    ``left_out`` says, per cluster, why a backend could not be placed."""

    groups: tuple[GroupSpec, ...]
    endpoint_of: Mapping[str, str]
    left_out: Mapping[str, str]


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupChanges:
    """The endpoint group calls that bring the cloud to a :class:`Placement`."""

    create: tuple[GroupSpec, ...] = ()
    update: tuple[tuple[str, GroupSpec], ...] = ()  # (endpoint group ARN, what it should hold)
    delete: tuple[str, ...] = ()  # endpoint group ARNs

    @property
    def empty(self) -> bool:
        return not (self.create or self.update or self.delete)


def split_address(address: str) -> tuple[str, int] | None:
    """``host:port`` as (lowercase host without a trailing dot, port), or None if malformed."""
    host, sep, port = address.strip().rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        return None
    return host.lower().rstrip("."), int(port)


def is_aws_region(region: str) -> bool:
    """Whether ``region`` is shaped like an AWS region (``us-east-1``, ``us-gov-west-1``);
    others (``us-central1``, a cluster in another cloud) are never asked of AWS."""
    return bool(_AWS_REGION.match(region))


def serving(backend: Backend) -> bool:
    """Whether kfed wants traffic sent to ``backend`` at all."""
    return backend.healthy and backend.weight > 0


def ga_weight(weight: float, top: float) -> int:
    """A backend's Global Accelerator weight: 0 when drained, else 1-255 scaled so that the
    largest serving weight ``top`` is 255 (weights are relative within a group)."""
    if weight <= 0 or top <= 0:
        return 0
    return max(1, min(MAX_WEIGHT, round(weight * MAX_WEIGHT / top)))


def place_backends(
    backends: Sequence[Backend],
    load_balancers: Mapping[str, Sequence[LoadBalancerRef]],
    listener_port: int,
) -> Placement:
    """Place ``backends`` on the load balancers found per region (``load_balancers[region]``)."""
    left_out: dict[str, str] = {}
    found: dict[str, list[tuple[Backend, str, int]]] = {}  # region -> (backend, arn, port)
    for backend in backends:
        parsed = split_address(backend.address)
        if parsed is None:
            left_out[backend.cluster] = f"address {backend.address!r} is not host:port"
            continue
        host, port = parsed
        if not is_aws_region(backend.region):
            left_out[backend.cluster] = f"region {backend.region!r} is not an AWS region"
            continue
        by_name = {
            lb.dns_name.lower().rstrip("."): lb for lb in load_balancers.get(backend.region, ())
        }
        match = by_name.get(host)
        if match is None:
            left_out[backend.cluster] = (
                f"no load balancer in {backend.region} has the DNS name {host}; check the "
                "cluster's Service (type LoadBalancer) and the backend's region"
            )
            continue
        found.setdefault(backend.region, []).append((backend, match.arn, port))

    placed: dict[str, list[tuple[Backend, str]]] = {}  # region -> (backend, arn)
    ports: dict[str, int] = {}
    for region, entries in found.items():
        # One port per group (PortOverrides apply to the whole group): the most common wins.
        counts = Counter(port for _, _, port in entries)
        port = min(counts, key=lambda p: (-counts[p], p))
        ports[region] = port
        for backend, lb_arn, backend_port in entries:
            if backend_port != port:
                left_out[backend.cluster] = (
                    f"port {backend_port} differs from port {port} of the other backends in "
                    f"{region}; an endpoint group forwards to one port"
                )
            else:
                placed.setdefault(region, []).append((backend, lb_arn))

    raw: dict[tuple[str, str], float] = {}  # (region, arn) -> summed weight of serving backends
    for region, members in placed.items():
        for backend, arn in members:
            raw[region, arn] = raw.get((region, arn), 0.0) + (
                backend.weight if serving(backend) else 0.0
            )
    top = max(raw.values(), default=0.0)

    groups: list[GroupSpec] = []
    endpoint_of: dict[str, str] = {}
    for region in sorted(placed):
        arns = sorted({arn for _, arn in placed[region]})
        for backend, arn in placed[region]:
            endpoint_of[backend.cluster] = arn
        endpoints = tuple((arn, ga_weight(raw[region, arn], top)) for arn in arns)
        if len(endpoints) > MAX_ENDPOINTS:
            for backend, arn in placed[region]:
                if arn in dict(endpoints[MAX_ENDPOINTS:]):
                    left_out[backend.cluster] = (
                        f"{region} has more than {MAX_ENDPOINTS} load balancers, the most an "
                        "endpoint group holds"
                    )
                    endpoint_of.pop(backend.cluster, None)
            endpoints = endpoints[:MAX_ENDPOINTS]
        dial = 100.0 if any(weight > 0 for _, weight in endpoints) else 0.0
        port = ports[region]
        groups.append(
            GroupSpec(
                region=region,
                endpoints=endpoints,
                traffic_dial=dial,
                endpoint_port=None if port == listener_port else port,
            )
        )
    return Placement(groups=tuple(groups), endpoint_of=endpoint_of, left_out=left_out)


def group_matches(current: EndpointGroup, want: GroupSpec, listener_port: int) -> bool:
    """Whether an existing endpoint group already holds what ``want`` asks for."""
    overrides = () if want.endpoint_port is None else ((listener_port, want.endpoint_port),)
    return (
        current.region == want.region
        and sorted((e.endpoint_id, e.weight) for e in current.endpoints) == list(want.endpoints)
        and current.traffic_dial == want.traffic_dial
        and tuple(sorted(current.port_overrides)) == overrides
    )


def diff_groups(
    current: Sequence[EndpointGroup], wanted: Sequence[GroupSpec], listener_port: int
) -> GroupChanges:
    """The calls from ``current`` to ``wanted``: create missing regions, update drifted ones,
    delete regions no backend wants (and any second group of one region)."""
    by_region: dict[str, EndpointGroup] = {}
    delete: list[str] = []
    for group in sorted(current, key=lambda g: g.arn):
        if group.region in by_region:
            delete.append(group.arn)
        else:
            by_region[group.region] = group
    want = {spec.region: spec for spec in wanted}
    delete.extend(g.arn for region, g in sorted(by_region.items()) if region not in want)
    create = tuple(spec for region, spec in sorted(want.items()) if region not in by_region)
    update = tuple(
        (by_region[region].arn, spec)
        for region, spec in sorted(want.items())
        if region in by_region and not group_matches(by_region[region], spec, listener_port)
    )
    return GroupChanges(create=create, update=update, delete=tuple(delete))


def summarise(
    accelerator: Accelerator,
    groups: Sequence[EndpointGroup],
    backends: Sequence[Backend],
    placement: Placement,
) -> tuple[bool, str]:
    """``(ready, message)``: ready when the accelerator is deployed and enabled and at least
    one endpoint with weight > 0 in a group with a dial > 0 passes its health checks."""
    health: dict[str, str] = {}
    live: set[str] = set()
    for group in groups:
        for endpoint in group.endpoints:
            health[endpoint.endpoint_id] = endpoint.health
            if endpoint.weight > 0 and group.traffic_dial > 0 and endpoint.health == HEALTHY:
                live.add(endpoint.endpoint_id)
    deployed = accelerator.status == DEPLOYED and accelerator.enabled
    ready = deployed and bool(live)

    up: list[str] = []
    down: list[str] = []
    for backend in sorted(backends, key=lambda b: b.cluster):
        arn = placement.endpoint_of.get(backend.cluster)
        if backend.cluster in placement.left_out or arn is None:
            reason = placement.left_out.get(backend.cluster, "not placed")
            down.append(f"{backend.cluster} left out: {reason}")
        elif backend.weight <= 0:
            down.append(f"{backend.cluster} drained (weight 0)")
        elif not backend.healthy:
            down.append(f"{backend.cluster} drained (reported unhealthy by the hub)")
        elif arn in live:
            up.append(backend.cluster)
        elif health.get(arn) == "UNHEALTHY":
            down.append(f"{backend.cluster} failing its load balancer's health checks")
        else:
            down.append(f"{backend.cluster} waiting for Global Accelerator's first health check")

    ips = ", ".join(accelerator.ip_addresses) or "none yet"
    state = accelerator.status if accelerator.enabled else f"{accelerator.status}, disabled"
    parts = [f"accelerator {accelerator.name} {state} (static IPs {ips})"]
    if backends:
        parts.append(f"{len(up)} of {len(backends)} backends serving")
    else:
        parts.append("no backends: no cluster serves this Ingress yet")
    parts.extend(down)
    if not deployed:
        parts.append("changes are deploying; the next reconcile reports again")
    return ready, "; ".join(parts)
