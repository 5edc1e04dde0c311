"""Server-side printers of services, endpoints, workloads and ingresses: their table cells.

Layer: pure (beside :mod:`printers_pods`, on :mod:`printers_common`; :mod:`printers` puts these
row functions in its table of built-in printers). Covers Services (``80:30061/TCP`` ports, the
external IP placeholders ``<none>`` and ``<pending>``), Endpoints and EndpointSlices (the first
three addresses, then `` + N more...``), Deployments and ReplicaSets (container names, images
and the selector of the wide output), Ingresses and IngressClasses, as kube-apiserver 1.37 prints
them.

Column definitions live in :mod:`printers`. This module reads no clock (callers pass ``now``),
does no I/O, keeps no state and never mutates the objects it prints.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from kfed_local.sim.printers_common import (
    Row,
    age_of,
    format_labels,
    int_at,
    map_at,
    maps_at,
    name_of,
    present,
    selector_string,
    str_at,
    strs_at,
    value_at,
)


def _container_cells(pod_spec: Mapping[str, Any]) -> tuple[str, str]:
    containers = maps_at(pod_spec, "containers")
    names = ",".join(str_at(container, "name") for container in containers)
    images = ",".join(str_at(container, "image") for container in containers)
    return names, images


def _list_with_more(items: Sequence[str], limit: int = 3) -> str:
    """The first ``limit`` items, then `` + N more...``; ``<unset>`` when there are none."""
    text = ",".join(items[:limit])
    if len(items) > limit:
        return f"{text} + {len(items) - limit} more..."
    return text or "<unset>"


def _join_host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _load_balancer_addresses(status: Mapping[str, Any]) -> str:
    """Distinct ingress IPs (or hostnames when there is no IP), sorted and comma-joined."""
    found: set[str] = set()
    for ingress in maps_at(status, "loadBalancer", "ingress"):
        address = str_at(ingress, "ip") or str_at(ingress, "hostname")
        if address:
            found.add(address)
    return ",".join(sorted(found))


# -- services and endpoints ---------------------------------------------------------------------


def _service_external_ip(service: Mapping[str, Any], service_type: str) -> str:
    external_ips = strs_at(service, "spec", "externalIPs")
    match service_type:
        case "ClusterIP" | "NodePort":
            return ",".join(external_ips) or "<none>"
        case "LoadBalancer":
            balancer = _load_balancer_addresses(map_at(service, "status"))
            addresses = ([balancer] if balancer else []) + external_ips
            return ",".join(addresses) or "<pending>"
        case "ExternalName":
            return str_at(service, "spec", "externalName")
    return "<unknown>"


def service_row(service: Mapping[str, Any], now: datetime) -> Row:
    spec = map_at(service, "spec")
    service_type = str_at(spec, "type", default="ClusterIP")
    cluster_ips = strs_at(spec, "clusterIPs")
    cluster_ip = cluster_ips[0] if cluster_ips else str_at(spec, "clusterIP") or "<none>"
    ports = []
    for port in maps_at(spec, "ports"):
        number, protocol = int_at(port, "port"), str_at(port, "protocol", default="TCP")
        node_port = int_at(port, "nodePort")
        ports.append(
            f"{number}:{node_port}/{protocol}" if node_port > 0 else f"{number}/{protocol}"
        )
    return Row(
        cells=(
            name_of(service),
            service_type,
            cluster_ip,
            _service_external_ip(service, service_type),
            ",".join(ports) or "<none>",
            age_of(service, now),
            format_labels(map_at(spec, "selector")),
        )
    )


def _endpoints_text(endpoints: Mapping[str, Any]) -> str:
    subsets = maps_at(endpoints, "subsets")
    if not subsets:
        return "<none>"
    shown: list[str] = []
    total = 0
    for subset in subsets:
        ips = [str_at(address, "ip") for address in maps_at(subset, "addresses")]
        # Headless services may have no ports: their endpoints are bare addresses.
        ports: list[int | None] = [int_at(port, "port") for port in maps_at(subset, "ports")]
        for port in ports or [None]:
            total += len(ips)
            for ip in ips:
                if len(shown) < 3:
                    shown.append(ip if port is None else _join_host_port(ip, port))
    text = ",".join(shown)
    return f"{text} + {total - 3} more..." if total > 3 else text


def endpoints_row(endpoints: Mapping[str, Any], now: datetime) -> Row:
    return Row(cells=(name_of(endpoints), _endpoints_text(endpoints), age_of(endpoints, now)))


def endpoint_slice_row(slice_: Mapping[str, Any], now: datetime) -> Row:
    ports = []
    for port in maps_at(slice_, "ports"):
        number = value_at(port, "port")
        if isinstance(number, int) and not isinstance(number, bool):
            ports.append(str(number))
        else:
            ports.append(str_at(port, "name", default="*"))
    addresses = [
        a for endpoint in maps_at(slice_, "endpoints") for a in strs_at(endpoint, "addresses")
    ]
    return Row(
        cells=(
            name_of(slice_),
            str_at(slice_, "addressType"),
            _list_with_more(ports),
            _list_with_more(addresses),
            age_of(slice_, now),
        )
    )


# -- workloads and ingresses --------------------------------------------------------------------


def deployment_row(deployment: Mapping[str, Any], now: datetime) -> Row:
    spec, status = map_at(deployment, "spec"), map_at(deployment, "status")
    names, images = _container_cells(map_at(spec, "template", "spec"))
    selector = selector_string(value_at(spec, "selector"))
    return Row(
        cells=(
            name_of(deployment),
            f"{int_at(status, 'readyReplicas')}/{int_at(spec, 'replicas', default=1)}",
            int_at(status, "updatedReplicas"),
            int_at(status, "availableReplicas"),
            age_of(deployment, now),
            names,
            images,
            "<invalid>" if selector is None else selector,
        )
    )


def replica_set_row(replica_set: Mapping[str, Any], now: datetime) -> Row:
    spec, status = map_at(replica_set, "spec"), map_at(replica_set, "status")
    names, images = _container_cells(map_at(spec, "template", "spec"))
    selector = selector_string(value_at(spec, "selector"))
    return Row(
        cells=(
            name_of(replica_set),
            int_at(spec, "replicas", default=1),
            int_at(status, "replicas"),
            int_at(status, "readyReplicas"),
            age_of(replica_set, now),
            names,
            images,
            "<error>" if selector is None else selector or "<none>",
        )
    )


def _ingress_hosts(rules: Sequence[Mapping[str, Any]]) -> str:
    hosts: list[str] = []
    more = False
    for rule in rules:
        more = more or len(hosts) == 3
        if not more and str_at(rule, "host"):
            hosts.append(str_at(rule, "host"))
    if not hosts:
        return "*"
    # kube counts every rule beyond the third, host or not.
    return f"{','.join(hosts)} + {len(rules) - 3} more..." if more else ",".join(hosts)


def ingress_row(ingress: Mapping[str, Any], now: datetime) -> Row:
    spec = map_at(ingress, "spec")
    class_name = value_at(spec, "ingressClassName")
    return Row(
        cells=(
            name_of(ingress),
            class_name if isinstance(class_name, str) else "<none>",
            _ingress_hosts(maps_at(spec, "rules")),
            _load_balancer_addresses(map_at(ingress, "status")),
            "80, 443" if maps_at(spec, "tls") else "80",
            age_of(ingress, now),
        )
    )


def ingress_class_row(ingress_class: Mapping[str, Any], now: datetime) -> Row:
    parameters = "<none>"
    if present(ingress_class, "spec", "parameters"):
        ref = map_at(ingress_class, "spec", "parameters")
        group = value_at(ref, "apiGroup")
        kind = str_at(ref, "kind") + (f".{group}" if isinstance(group, str) else "")
        parameters = f"{kind}/{str_at(ref, 'name')}"
    return Row(
        cells=(
            name_of(ingress_class),
            str_at(ingress_class, "spec", "controller"),
            parameters,
            age_of(ingress_class, now),
        )
    )
