"""What GCE should hold for one federated Ingress: the resource bodies the provider converges to.

Layer: pure (no I/O, no SDK, no clock). From a :class:`GlobalLoadBalancer` and the provider's
:class:`GcpOptions`, :func:`make_plan` decides every resource's name, body and ownership mark;
the ``*_body`` functions give GCE REST JSON; the ``*_drifted`` functions compare what GCE
returned with what is wanted, on the fields kfed owns (GCE adds ids, fingerprints, self links
and defaults that are not drift).

Capacity and draining: each cluster is one hybrid NEG (``NON_GCP_PRIVATE_IP_PORT``) with one
endpoint, its ``Backend.address``. The backend service balances in ``RATE`` mode with
``maxRatePerEndpoint = weight x rate_per_weight``, so clusters fill in proportion to their
weight and overflow to the next closest when full; a drained backend (weight 0 or unhealthy)
stays attached with ``capacityScaler`` 0, which GCE sends no new traffic to, and which makes
restoring it one patch.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from kfed_core.providers import Backend, GlobalLoadBalancer, ProviderError
from kfed_gcp.api import Kind, Resource, link, link_tail, same_link
from kfed_gcp.names import Mark, ResourceNames, labels_for, names_for, write_mark
from kfed_gcp.options import GcpOptions, gce_zone

HEALTH_CHECKER_RANGES = ("35.191.0.0/16", "130.211.0.0/22")
"""Where Google's health checkers and front ends connect from (documented by Google Cloud)."""
NEG_TYPE = "NON_GCP_PRIVATE_IP_PORT"
BACKEND_TIMEOUT_SEC = 30
HTTP_PORTS = (80, 8080)
"""The ports GCE lets a global forwarding rule to a target HTTP proxy use."""


@dataclass(frozen=True, slots=True, kw_only=True)
class BackendPlan:
    """One cluster as GCE sees it: a NEG in ``zone`` with one endpoint ``ip:port``."""

    cluster: str
    zone: str
    neg: str
    ip: str
    port: int
    serving: bool
    max_rate: float
    capacity: float

    @property
    def endpoint(self) -> Resource:
        return {"ipAddress": self.ip, "port": self.port}


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """Everything one load balancer needs, named and marked."""

    project: str
    names: ResourceNames
    mark: Mark
    backends: tuple[BackendPlan, ...]
    port: int
    options: GcpOptions

    def link(self, kind: Kind, name: str, zone: str = "") -> str:
        return link(self.project, kind, name, zone)

    @property
    def description(self) -> str:
        return write_mark(self.mark)

    @property
    def serving(self) -> tuple[BackendPlan, ...]:
        return tuple(b for b in self.backends if b.serving)


def make_plan(desired: GlobalLoadBalancer, options: GcpOptions) -> Plan:
    """The plan for ``desired``; ProviderError (not retryable) when a backend cannot be placed."""
    if desired.port not in HTTP_PORTS:
        raise ProviderError(
            f"{_where(desired)}: port {desired.port} cannot be served: a target HTTP proxy's "
            f"forwarding rule listens on {' or '.join(map(str, HTTP_PORTS))}; set the Ingress "
            "port to one of them",
            retryable=False,
        )
    names = names_for(desired.name)
    seen: set[str] = set()
    backends = []
    for backend in desired.backends:
        if backend.cluster in seen:
            raise ProviderError(
                f"{_where(desired)}: cluster {backend.cluster!r} is listed twice; the hub must "
                "give each cluster one backend",
                retryable=False,
            )
        seen.add(backend.cluster)
        backends.append(_backend_plan(desired, backend, names, options))
    return Plan(
        project=options.project,
        names=names,
        mark=Mark(owner=options.owner, lb=desired.name, ingress=desired.ingress),
        backends=tuple(sorted(backends, key=lambda b: b.cluster)),
        port=desired.port,
        options=options,
    )


def _backend_plan(
    desired: GlobalLoadBalancer, backend: Backend, names: ResourceNames, options: GcpOptions
) -> BackendPlan:
    zone = gce_zone(backend.zone, options)
    if zone is None:
        raise ProviderError(
            f"{_where(desired)}: cluster {backend.cluster!r} is in zone {backend.zone!r}, which "
            "is not a GCE zone; map it to the GCE zone its hybrid NEG should live in with the "
            f"provider option zone_map (for example '{backend.zone}=us-east4-a')",
            retryable=False,
        )
    ip, port = split_address(backend.address, default_port=desired.port)
    if ip is None:
        raise ProviderError(
            f"{_where(desired)}: cluster {backend.cluster!r} serves at {backend.address!r}, but "
            "hybrid NEGs need an IP address and port; give its Service a load balancer IP",
            retryable=False,
        )
    if ":" in ip:
        raise ProviderError(
            f"{_where(desired)}: cluster {backend.cluster!r} serves at IPv6 {backend.address!r}; "
            "the gcp provider attaches IPv4 endpoints only: give its Service an IPv4 address",
            retryable=False,
        )
    serving = backend.healthy and backend.weight > 0
    rate = max(backend.weight, 1) * options.rate_per_weight
    return BackendPlan(
        cluster=backend.cluster,
        zone=zone,
        neg=names.neg(backend.cluster),
        ip=ip,
        port=port,
        serving=serving,
        max_rate=rate,
        capacity=1.0 if serving else 0.0,
    )


def split_address(address: str, *, default_port: int) -> tuple[str | None, int]:
    """``("203.0.113.5", 8080)`` from ``"203.0.113.5:8080"`` (``[v6]:port`` too); the IP is
    None when the host is not an IP address or the port is not one."""
    host, port = address, default_port
    if address.startswith("["):
        host, _, rest = address[1:].partition("]")
        if rest.startswith(":"):
            port = _port(rest[1:])
    elif address.count(":") == 1:
        host, _, text = address.partition(":")
        port = _port(text)
    try:
        ip = str(ipaddress.ip_address(host))
    except ValueError:
        return None, port
    return (ip, port) if 1 <= port <= 65535 else (None, port)


def _port(text: str) -> int:
    return int(text) if text.isdigit() else 0


def _where(desired: GlobalLoadBalancer) -> str:
    return f"gcp load balancer {desired.name} (Ingress {desired.ingress})"


def address_body(plan: Plan) -> Resource:
    return {
        "name": plan.names.address,
        "description": plan.description,
        "addressType": "EXTERNAL",
        "ipVersion": "IPV4",
        "labels": labels_for(plan.mark),
    }


def health_check_body(plan: Plan) -> Resource:
    interval = plan.options.health_check_interval
    return {
        "name": plan.names.health_check,
        "description": plan.description,
        "type": "HTTP",
        "checkIntervalSec": interval,
        "timeoutSec": interval,
        "healthyThreshold": 2,
        "unhealthyThreshold": plan.options.unhealthy_threshold,
        # Each hybrid endpoint is checked on its own port: clusters need not share a NodePort.
        "httpHealthCheck": {
            "portSpecification": "USE_SERVING_PORT",
            "requestPath": plan.options.health_check_path,
        },
    }


def health_check_drifted(current: Resource, plan: Plan) -> bool:
    wanted = health_check_body(plan)
    http, wanted_http = current.get("httpHealthCheck") or {}, wanted["httpHealthCheck"]
    # GCE fills in defaults (proxyHeader, ...) that are not drift: compare what kfed sets.
    return _differs(
        current, wanted, ("type", "checkIntervalSec", "timeoutSec", "unhealthyThreshold")
    ) or any(http.get(key) != value for key, value in wanted_http.items())


def neg_body(plan: Plan, backend: BackendPlan) -> Resource:
    mark = Mark(
        owner=plan.mark.owner, lb=plan.mark.lb, ingress=plan.mark.ingress, cluster=backend.cluster
    )
    return {
        "name": backend.neg,
        "description": write_mark(mark),
        "networkEndpointType": NEG_TYPE,
        "network": network_link(plan),
        "defaultPort": backend.port,
    }


def backend_service_body(plan: Plan) -> Resource:
    return {
        "name": plan.names.backend_service,
        "description": plan.description,
        "protocol": "HTTP",
        "loadBalancingScheme": plan.options.scheme,
        "healthChecks": [plan.link(Kind.HEALTH_CHECK, plan.names.health_check)],
        "timeoutSec": BACKEND_TIMEOUT_SEC,
        "backends": [
            {
                "group": plan.link(Kind.NEG, b.neg, b.zone),
                "balancingMode": "RATE",
                "maxRatePerEndpoint": b.max_rate,
                "capacityScaler": b.capacity,
            }
            for b in plan.backends
        ],
    }


def backend_service_drifted(current: Resource, plan: Plan) -> bool:
    wanted = backend_service_body(plan)
    checks = current.get("healthChecks", [])
    if len(checks) != 1 or not same_link(checks[0], wanted["healthChecks"][0]):
        return True
    return _backend_set(current.get("backends", [])) != _backend_set(wanted["backends"])


def _backend_set(backends: list[Any]) -> set[tuple[str, str, float, float]]:
    return {
        (
            link_tail(str(b.get("group", ""))),
            str(b.get("balancingMode", "")),
            float(b.get("maxRatePerEndpoint", 0.0)),
            float(b.get("capacityScaler", 1.0)),  # GCE's default when unset
        )
        for b in backends
    }


def url_map_body(plan: Plan) -> Resource:
    return {
        "name": plan.names.url_map,
        "description": plan.description,
        "defaultService": plan.link(Kind.BACKEND_SERVICE, plan.names.backend_service),
    }


def http_proxy_body(plan: Plan) -> Resource:
    return {
        "name": plan.names.http_proxy,
        "description": plan.description,
        "urlMap": plan.link(Kind.URL_MAP, plan.names.url_map),
    }


def forwarding_rule_body(plan: Plan) -> Resource:
    return {
        "name": plan.names.forwarding_rule,
        "description": plan.description,
        "IPAddress": plan.link(Kind.ADDRESS, plan.names.address),
        "IPProtocol": "TCP",
        "portRange": f"{plan.port}-{plan.port}",
        "target": plan.link(Kind.HTTP_PROXY, plan.names.http_proxy),
        "loadBalancingScheme": plan.options.scheme,
        "networkTier": "PREMIUM",
        "labels": labels_for(plan.mark),
    }


def forwarding_rule_replaced(current: Resource, plan: Plan, address_ip: str) -> bool:
    """Whether the rule must be deleted and made again: its address, port or scheme differ
    (GCE cannot change those in place; only the target can be set)."""
    return (
        current.get("IPAddress") != address_ip
        or current.get("portRange") != f"{plan.port}-{plan.port}"
        or current.get("loadBalancingScheme") != plan.options.scheme
    )


def firewall_body(plan: Plan) -> Resource:
    ports = sorted({b.port for b in plan.backends}) or [plan.port]
    return {
        "name": plan.names.firewall,
        "description": plan.description,
        "network": network_link(plan),
        "direction": "INGRESS",
        "priority": 1000,
        "sourceRanges": list(HEALTH_CHECKER_RANGES),
        "allowed": [{"IPProtocol": "tcp", "ports": [str(p) for p in ports]}],
    }


def firewall_drifted(current: Resource, plan: Plan) -> bool:
    wanted = firewall_body(plan)
    return sorted(current.get("sourceRanges", [])) != sorted(wanted["sourceRanges"]) or _differs(
        current, wanted, ("allowed",)
    )


def network_link(plan: Plan) -> str:
    return f"projects/{plan.project}/global/networks/{plan.options.network}"


def _differs(current: Resource, wanted: Resource, keys: tuple[str, ...]) -> bool:
    return any(current.get(key) != wanted[key] for key in keys)
