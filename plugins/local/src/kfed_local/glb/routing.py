"""Which backend serves a request: the closest healthy one with capacity, as a decision value.

Layer: pure (no I/O, no clock, no logging). The proxy (:mod:`kfed_local.glb.proxy`) gathers what
it knows right now (each backend's health, weight and requests in flight) and the client's
address and headers; this module turns that into a :class:`Decision`: the backends to try in
order (the first serves, the next takes a retry) and why, or a 503 when nothing can serve.

Rules, in order:

* A backend serves only if it is healthy (the hub says so *and* the active checks agree) and
  has a weight above 0 (weight 0 is how the hub drains a full or leaving cluster).
* Fail open on the hub's account, never on the checks: when no backend is healthy that way,
  the backends whose active checks pass (weight above 0) serve, and the decision says so. The
  hub marks a cluster unhealthy when its agent goes quiet; if every agent goes quiet at once
  the likelier story is the hub's own trouble (a pause, a partition from the agents), and
  answering 503 everywhere would turn that into an outage of every cluster that still serves.
* The client's region comes from the trusted ``X-Client-Region`` header when the settings allow
  it (demos and tests, where every client is on loopback), else from the longest matching CIDR
  of the configured client networks. ``X-Forwarded-For`` is never trusted: anyone can write it.
* Known region: nearest first by great-circle distance (rounded to the kilometre so co-located
  regions tie), ties by utilisation (in flight per unit of weight), then by cluster name, so the
  same inputs always give the same answer. A backend at its in-flight limit moves behind every
  backend with room: the request spills over to the next closest.
* Unknown region (no header, no matching network, or a region without coordinates): the backend
  with the most spare capacity, and the decision says so.
* Every serving backend at its limit: overload the least utilised (default), or answer 503 when
  the settings ask to shed load.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from kfed_local.glb.regions import RegionTable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Reason = Literal["closest", "spill-over", "most-capacity", "overloaded", "no-backend", "fail-open"]
PlaceSource = Literal["header", "network", "unknown"]

_REGION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


class RoutingError(ValueError):
    """Routing configuration that cannot be used; the message names the entry."""


@dataclass(frozen=True, slots=True, kw_only=True)
class BackendLoad:
    """What routing knows about one backend at the moment of a request."""

    cluster: str
    region: str
    healthy: bool
    """The hub reports it healthy and the active health checks pass."""
    checks_pass: bool = False
    """The active health checks pass, whatever the hub says (used only to fail open)."""
    weight: int = 1
    in_flight: int = 0
    limit: int = 0
    """The most requests it may have in flight; 0 for no limit."""

    @property
    def full(self) -> bool:
        """At its in-flight limit: new requests spill over to the next backend."""
        return self.limit > 0 and self.in_flight >= self.limit

    @property
    def utilisation(self) -> float:
        """Requests in flight per unit of weight (lower is less loaded)."""
        return self.in_flight / self.weight if self.weight > 0 else math.inf

    @property
    def spare(self) -> int:
        """Room left: free in-flight slots under a limit, else the weight."""
        return self.limit - self.in_flight if self.limit > 0 else self.weight


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientNetwork:
    """Clients whose address is in ``network`` are in ``region``."""

    network: Network
    region: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientPlace:
    """Where a client is, and how we know."""

    region: str | None
    source: PlaceSource
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """The backends to try, best first (the first serves, the next takes a retry), and why."""

    order: tuple[str, ...]
    reason: Reason
    detail: str
    client_region: str | None = None

    @property
    def chosen(self) -> str | None:
        """The backend that serves, or None when the proxy answers 503 itself."""
        return self.order[0] if self.order else None

    @property
    def status(self) -> int | None:
        """503 when nothing can serve; None when the request goes to :attr:`chosen`."""
        return None if self.order else 503


def parse_client_networks(mapping: Mapping[str, str]) -> tuple[ClientNetwork, ...]:
    """``{"10.1.0.0/16": "us-east1", ...}`` as values, most specific network first."""
    parsed: list[ClientNetwork] = []
    for cidr, region in mapping.items():
        try:
            network = ipaddress.ip_network(cidr.strip(), strict=False)
        except ValueError as exc:
            raise RoutingError(
                f"client network {cidr!r}: {exc}; write a CIDR such as 10.1.0.0/16 or 2001:db8::/32"
            ) from None
        if not _REGION_NAME.match(region.strip()):
            raise RoutingError(f"client network {cidr}: {region!r} is not a region name")
        parsed.append(ClientNetwork(network=network, region=region.strip()))
    parsed.sort(key=lambda n: (-n.network.prefixlen, n.network.version, str(n.network)))
    return tuple(parsed)


def locate_client(
    *,
    peer: str | None,
    header: str | None,
    networks: Sequence[ClientNetwork],
    trust_header: bool,
) -> ClientPlace:
    """The client's region from a trusted ``X-Client-Region`` header or its peer address."""
    note = ""
    if header is not None and header.strip():
        if not trust_header:
            note = "X-Client-Region ignored: the provider does not trust it"
        elif _REGION_NAME.match(header.strip()):
            return ClientPlace(region=header.strip(), source="header")
        else:
            note = "X-Client-Region ignored: not a region name"
    if peer:
        try:
            address = ipaddress.ip_address(peer.split("%", 1)[0])
        except ValueError:
            address = None
        if address is not None:
            # Networks are sorted most specific first, so the first match is the longest prefix.
            for entry in networks:
                if address.version == entry.network.version and address in entry.network:
                    return ClientPlace(region=entry.region, source="network", note=note)
    return ClientPlace(region=None, source="unknown", note=note)


def choose(
    backends: Sequence[BackendLoad],
    client: ClientPlace,
    regions: RegionTable,
    *,
    shed_when_full: bool = False,
) -> Decision:
    """Rank the serving backends for one request (see the module docstring for the rules)."""
    serving = [b for b in backends if b.healthy and b.weight > 0]
    if serving:
        return _rank(serving, client, regions, shed_when_full=shed_when_full)
    checked = [b for b in backends if b.checks_pass and b.weight > 0]
    if not checked:
        return Decision(
            order=(), reason="no-backend", detail=_why_none(backends), client_region=client.region
        )
    decision = _rank(checked, client, regions, shed_when_full=shed_when_full)
    if decision.status is not None:
        return decision
    return replace(
        decision,
        reason="fail-open",
        detail=f"the hub reports no healthy backend; failing open to the {len(checked)} whose "
        f"health checks pass: {decision.detail}",
    )


def _rank(
    serving: Sequence[BackendLoad],
    client: ClientPlace,
    regions: RegionTable,
    *,
    shed_when_full: bool,
) -> Decision:
    """Order ``serving`` (every one may serve) for the client: closest with room first."""
    room = [b for b in serving if not b.full]
    if not room:
        if shed_when_full:
            return Decision(
                order=(),
                reason="no-backend",
                detail="every healthy backend is at its in-flight limit (shedding load)",
                client_region=client.region,
            )
        order = sorted(serving, key=lambda b: (b.utilisation, b.cluster))
        return Decision(
            order=_names(order),
            reason="overloaded",
            detail=f"every healthy backend is at its in-flight limit; {order[0].cluster} is the "
            "least loaded",
            client_region=client.region,
        )

    distances = _distances(serving, client.region, regions)
    if distances is None:
        order = sorted(room, key=lambda b: (-b.spare, b.utilisation, b.cluster))
        full = sorted((b for b in serving if b.full), key=lambda b: (b.utilisation, b.cluster))
        return Decision(
            order=_names([*order, *full]),
            reason="most-capacity",
            detail=f"{_unknown_place(client, regions)}: chose {order[0].cluster}, the backend "
            "with the most spare capacity",
            client_region=client.region,
        )

    def nearness(b: BackendLoad) -> tuple[float, float, str]:
        return (distances[b.cluster], b.utilisation, b.cluster)

    nearest = min(serving, key=nearness)
    ranked = sorted(room, key=nearness)
    full = sorted((b for b in serving if b.full), key=nearness)
    chosen = ranked[0]
    where = f"client in {client.region} ({client.source})"
    if nearest.full:
        detail = (
            f"{where}: closest {nearest.cluster} ({_km(distances[nearest.cluster])}) is at its "
            f"in-flight limit of {nearest.limit}; spilled over to {chosen.cluster} "
            f"({chosen.region}, {_km(distances[chosen.cluster])})"
        )
        reason: Reason = "spill-over"
    else:
        detail = f"{where}: closest is {chosen.cluster} ({_km(distances[chosen.cluster])})"
        reason = "closest"
    return Decision(
        order=_names([*ranked, *full]), reason=reason, detail=detail, client_region=client.region
    )


def _distances(
    serving: Sequence[BackendLoad], region: str | None, regions: RegionTable
) -> dict[str, float] | None:
    """Kilometres from the client to each backend (unknown ones last), or None if none is known."""
    if region is None:
        return None
    found: dict[str, float] = {}
    for backend in serving:
        km = regions.distance_km(region, backend.region)
        found[backend.cluster] = math.inf if km is None else float(round(km))
    if all(math.isinf(km) for km in found.values()):
        return None
    return found


def _unknown_place(client: ClientPlace, regions: RegionTable) -> str:
    if client.region is None:
        text = "client region unknown (no trusted X-Client-Region header, no matching network)"
    elif client.region not in regions:
        text = (
            f"client region {client.region!r} has no coordinates (add it to the provider's regions)"
        )
    else:
        text = f"no backend region near {client.region} has coordinates"
    return f"{text}; {client.note}" if client.note else text


def _why_none(backends: Sequence[BackendLoad]) -> str:
    if not backends:
        return "no backends: no cluster serves this Ingress yet"
    parts = [
        f"{b.cluster} {'drained (weight 0)' if b.healthy else 'unhealthy'}"
        for b in sorted(backends, key=lambda b: b.cluster)
    ]
    return "no healthy backend: " + ", ".join(parts)


def _km(distance: float) -> str:
    return "distance unknown" if math.isinf(distance) else f"{distance:.0f} km"


def _names(backends: Sequence[BackendLoad]) -> tuple[str, ...]:
    return tuple(b.cluster for b in backends)
