"""What a federated Ingress asks of its global load balancer: its backend Service, its
provider, its deterministic name, and one :class:`~kfed_core.providers.Backend` per cluster.

Layer: ``kfed_hub.ingress``, pure (values in, values out; no clock, no I/O, no logging). The
controller (:mod:`kfed_hub.ingress.controller`) feeds it the stored objects, the Ingress's
placement, the clusters' facts and what each cluster's agent reported about the Service.

Rules (documented in ``docs/federated-ingress.md``):

* The backend is ``spec.defaultBackend`` (legacy ``spec.backend`` is translated before this
  sees it), else the first rule path's backend. One Service carries the global load balancer;
  other paths' Services are served by each cluster's own Ingress.
* The provider is the ``kfed.io/ingress-provider`` annotation, else ``spec.ingressClassName``
  when it names a configured provider, else the hub's default.
* A cluster is a backend when the Ingress is placed there and the Service reports a load
  balancer address there. Its weight is the Service's ready endpoints there; it is healthy when
  the cluster is Ready and has at least one ready endpoint. Unhealthy and weight-0 backends stay
  in the list: the provider drains them (and their address is kept for when they recover).
* Fail open: when not one backend is healthy by that rule, those with a weight above 0 (their
  clusters are not Ready, their last report had ready endpoints) are sent as healthy, with a
  note saying so. Every cluster NotReady at once points at the hub (a pause, a partition from
  its agents) more than at every cluster; the load balancer's own health checks still take out
  any that really went down, where draining them all would be an outage for certain.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from kfed_core.conventions import READY_ENDPOINTS_STATUS
from kfed_core.providers import Backend, GlobalLoadBalancer
from kfed_hub.planning.facts import ClusterFacts

PROVIDER_ANNOTATION = "kfed.io/ingress-provider"
"""Chooses a federated Ingress's provider by name (wins over ``spec.ingressClassName``)."""

OPTION_ANNOTATION_PREFIX = "lb.kfed.io/"
"""Annotations ``lb.kfed.io/<option>: value`` become the load balancer's provider options."""

INGRESS_KINDS = frozenset({("networking.k8s.io", "Ingress"), ("extensions", "Ingress")})
NAME_LIMIT = 63  # the strictest of the clouds' name rules (RFC 1035 labels, GCE names)


class IngressSpecError(ValueError):
    """A federated Ingress that names no usable backend Service; the message says where."""


@dataclass(frozen=True, slots=True, kw_only=True)
class IngressTarget:
    """The Service (in the Ingress's namespace) and port the global load balancer fronts."""

    namespace: str
    service: str
    port: int | str  # a port number, or a port's name in the Service


def is_ingress(group: str, kind: str) -> bool:
    """Federated Ingresses, current (networking.k8s.io) and legacy (extensions)."""
    return (group, kind) in INGRESS_KINDS


def _backend_of(backend: Any, where: str) -> tuple[str, int | str]:
    service = backend.get("service") if isinstance(backend, Mapping) else None
    if not isinstance(service, Mapping) or not service.get("name"):
        raise IngressSpecError(f"{where}.service.name is missing: name the backend Service")
    port = service.get("port")
    if not isinstance(port, Mapping):
        raise IngressSpecError(f"{where}.service.port is missing: give a number or a name")
    if isinstance(port.get("number"), int) and port["number"] > 0:
        return str(service["name"]), int(port["number"])
    if isinstance(port.get("name"), str) and port["name"]:
        return str(service["name"]), str(port["name"])
    raise IngressSpecError(f"{where}.service.port needs a number (1-65535) or a name")


def ingress_target(manifest: Mapping[str, Any]) -> IngressTarget:
    """The Service and port of a networking.k8s.io/v1 Ingress; raises IngressSpecError."""
    metadata = manifest.get("metadata") or {}
    namespace = str(metadata.get("namespace") or "default")
    spec = manifest.get("spec") or {}
    if spec.get("defaultBackend") is not None:
        service, port = _backend_of(spec["defaultBackend"], "spec.defaultBackend")
        return IngressTarget(namespace=namespace, service=service, port=port)
    for r, rule in enumerate(spec.get("rules") or []):
        paths = ((rule or {}).get("http") or {}).get("paths") or []
        for p, path in enumerate(paths):
            if isinstance(path, Mapping) and path.get("backend") is not None:
                where = f"spec.rules[{r}].http.paths[{p}].backend"
                service, port = _backend_of(path["backend"], where)
                return IngressTarget(namespace=namespace, service=service, port=port)
    raise IngressSpecError(
        "spec has neither defaultBackend nor a rule path with a backend Service: "
        "a global load balancer needs one"
    )


def choose_provider(
    manifest: Mapping[str, Any], configured: Collection[str], default: str
) -> tuple[str, str]:
    """``(provider name, why)``: the annotation, else a class naming a configured provider,
    else ``default``. The annotation is taken as it is (an unknown name is reported later)."""
    annotations = (manifest.get("metadata") or {}).get("annotations") or {}
    chosen = str(annotations.get(PROVIDER_ANNOTATION) or "").strip()
    if chosen:
        return chosen, f"annotation {PROVIDER_ANNOTATION}"
    klass = str((manifest.get("spec") or {}).get("ingressClassName") or "")
    if klass and klass in configured:
        return klass, f"spec.ingressClassName {klass}"
    return default, "the hub's default provider"


def provider_options(manifest: Mapping[str, Any]) -> dict[str, str]:
    """``lb.kfed.io/<option>`` annotations as ``{option: value}``."""
    annotations = (manifest.get("metadata") or {}).get("annotations") or {}
    return {
        key[len(OPTION_ANNOTATION_PREFIX) :]: str(value)
        for key, value in sorted(annotations.items())
        if key.startswith(OPTION_ANNOTATION_PREFIX) and len(key) > len(OPTION_ANNOTATION_PREFIX)
    }


def load_balancer_name(namespace: str, name: str) -> str:
    """``kfed-<namespace>-<name>``, lowercase letters, digits and hyphens, starting with a
    letter, at most 63 characters (a hash of the whole keeps truncated names apart)."""
    raw = f"kfed-{namespace}-{name}".lower()
    safe = re.sub(r"[^a-z0-9-]+", "-", raw).strip("-")
    safe = re.sub(r"-{2,}", "-", safe)
    if safe == raw and len(safe) <= NAME_LIMIT:
        return safe
    digest = hashlib.sha256(f"{namespace}/{name}".encode()).hexdigest()[:8]
    return f"{safe[: NAME_LIMIT - 9].rstrip('-')}-{digest}"


def service_port(service: Mapping[str, Any] | None, port: int | str) -> int | None:
    """The Service's port (what its load balancer listens on) for the Ingress's port number or
    name; None when the Service has no such port."""
    ports = ((service or {}).get("spec") or {}).get("ports") or []
    for item in ports:
        if not isinstance(item, Mapping):
            continue
        if isinstance(port, int) and item.get("port") == port:
            return port
        if isinstance(port, str) and item.get("name") == port and isinstance(item.get("port"), int):
            return int(item["port"])
    return None


def lb_host(observed: Mapping[str, Any] | None) -> str:
    """The first ``status.loadBalancer.ingress`` address (IP, else host name), or ``""``."""
    balancer = (observed or {}).get("loadBalancer")
    ingress = balancer.get("ingress") if isinstance(balancer, Mapping) else None
    for item in ingress if isinstance(ingress, list) else []:
        if isinstance(item, Mapping):
            host = item.get("ip") or item.get("hostname")
            if host:
                return str(host)
    return ""


def host_port(host: str, port: int) -> str:
    """``host:port``, with an IPv6 host in brackets."""
    try:
        if ipaddress.ip_address(host).version == 6:
            return f"[{host}]:{port}"
    except ValueError:
        pass
    return f"{host}:{port}"


def plan_backends(
    *,
    placed: Sequence[str],
    facts: Mapping[str, ClusterFacts],
    port: int,
    observed: Mapping[str, Mapping[str, Any] | None],
) -> tuple[list[Backend], list[str]]:
    """One backend per placed cluster whose Service has a load balancer address, and notes on
    the clusters left out (for the Ingress's status message)."""
    backends: list[Backend] = []
    waiting: list[str] = []
    for cluster in sorted(placed):
        seen = observed.get(cluster)
        host = lb_host(seen)
        cluster_facts = facts.get(cluster)
        if not host or cluster_facts is None:
            waiting.append(cluster)
            continue
        endpoints = (seen or {}).get(READY_ENDPOINTS_STATUS)
        ready_endpoints = int(endpoints) if isinstance(endpoints, int) else None
        weight = ready_endpoints if ready_endpoints is not None else 1
        labels = cluster_facts.labels
        backends.append(
            Backend(
                cluster=cluster,
                region=str(labels.get("region", "")),
                zone=str(labels.get("zone", "")),
                address=host_port(host, port),
                weight=max(0, weight),
                healthy=cluster_facts.ready and weight > 0,
            )
        )
    notes = []
    if waiting:
        notes.append(f"no load balancer address reported yet in {', '.join(waiting)}")
    quiet = [b.cluster for b in backends if b.weight > 0]
    if quiet and not any(b.healthy for b in backends):
        backends = [replace(b, healthy=True) if b.weight > 0 else b for b in backends]
        notes.append(
            f"failing open: no cluster of this Ingress is Ready by the hub's account, so "
            f"{', '.join(quiet)} keep serving as long as the load balancer's health checks pass"
        )
    return backends, notes


def desired_load_balancer(
    *,
    key: str,
    manifest: Mapping[str, Any],
    backends: Sequence[Backend],
) -> GlobalLoadBalancer:
    """The GlobalLoadBalancer for a federated Ingress (``key`` is ``namespace/name``). It
    listens for HTTP on port 80, as an Ingress does (TLS is not programmed yet)."""
    metadata = manifest.get("metadata") or {}
    namespace = str(metadata.get("namespace") or "default")
    return GlobalLoadBalancer(
        name=load_balancer_name(namespace, str(metadata.get("name") or "")),
        ingress=key,
        backends=tuple(backends),
        options=provider_options(manifest),
    )


def serving_count(backends: Sequence[Backend]) -> int:
    """Backends that receive traffic (healthy, weight above 0)."""
    return sum(1 for b in backends if b.healthy and b.weight > 0)
