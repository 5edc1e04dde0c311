"""Defaulting for the simulated API server: the fields kube-apiserver 1.37 fills in on write.

Layer: pure (next to ``kfed_local.sim.schema``). When an object is created or updated, the real
server runs the versioned ``SetDefaults_*`` functions of every type inside the object, a few
conversion rules (``Secret.stringData`` into ``data``, the deprecated ``serviceAccount`` field)
and the default mutating admission plugins. :func:`apply_defaults` does the same to a plain dict:
it walks the object along its real OpenAPI schema and runs the defaulter registered for each
definition it meets, so a ``Probe`` is defaulted alike in a Pod, a Deployment template or a
lifecycle hook. Pod types live in :mod:`kfed_local.sim.defaults_pod`.

It also fills a few zero values that the Go server always serializes (``resources: {}``,
``status.loadBalancer: {}``, ``Event.reportingComponent: ""``) so that ``kubectl get -o yaml``
looks like a real cluster's. It never allocates (cluster IPs, node ports, uids, names, token
volumes are the API layer's), never raises, reads no clock or random source, and never mutates
the caller's object.
"""

from __future__ import annotations

import base64
import ipaddress
from collections.abc import Mapping
from typing import Any

from kfed_local.sim.defaults_pod import (
    CORE,
    POD_DEFAULTERS,
    Admission,
    Defaulter,
    JsonObject,
    child,
    children,
    fill,
    is_unset,
)
from kfed_local.sim.schema import SchemaNode, schema_for_kind

__all__ = ["apply_defaults"]

_APPS = "io.k8s.api.apps.v1."
_NETWORKING = "io.k8s.api.networking.v1."
_DISCOVERY = "io.k8s.api.discovery.v1."
_COORDINATION = "io.k8s.api.coordination.v1."
_APIEXTENSIONS = "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1."

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


def apply_defaults(
    group: str,
    version: str,
    kind: str,
    obj: Mapping[str, Any],
    *,
    service_account_admission: bool = True,
    default_toleration_seconds: bool = True,
    priority_admission: bool = True,
) -> dict[str, Any]:
    """A copy of ``obj`` with the defaults kube-apiserver 1.37 sets on create and update.

    Values the user set are kept, with the exceptions the real server makes too: the namespace
    name label is always rewritten, ``Secret.stringData`` is merged into ``data`` (winning) and
    removed, and ``serviceAccount`` always mirrors ``serviceAccountName``. Kinds that Kubernetes
    does not know (custom resources) come back as an unchanged copy. Idempotent.

    The three flags switch off the pod admission plugins (ServiceAccount: ``serviceAccountName:
    default``; DefaultTolerationSeconds: the not-ready/unreachable tolerations; Priority:
    ``priority`` and ``preemptionPolicy``); the real plugins act on pod creation only, so pass
    False for updates.
    """
    copied = _plain_copy(obj)
    assert isinstance(copied, dict)  # a Mapping copies to a dict
    schema = schema_for_kind(group, version, kind)
    if schema is None:
        return copied
    admission = Admission(
        service_account=service_account_admission,
        default_toleration_seconds=default_toleration_seconds,
        priority=priority_admission,
    )
    _walk(copied, schema, admission)
    return copied


def _plain_copy(value: Any) -> Any:
    # Deep copy into plain dicts and lists, so defaulters may mutate freely.
    if isinstance(value, Mapping):
        return {key: _plain_copy(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain_copy(item) for item in value]
    return value


def _walk(value: Any, node: SchemaNode, admission: Admission) -> None:
    # Outer types first, as the generated Go defaulters do: a Pod's own defaults see its
    # containers before the Container defaults run.
    if isinstance(value, dict):
        defaulter = _DEFAULTERS.get(node.ref) if node.ref is not None else None
        if defaulter is not None:
            defaulter(value, admission)
        for key, item in value.items():
            field = node.field(key)
            if field is not None and field.value_type in ("object", "array"):
                _walk(item, field, admission)
    elif isinstance(value, list):
        items = node.items()
        if items is not None and items.value_type in ("object", "array"):
            for item in value:
                _walk(item, items, admission)


# -- apps ----------------------------------------------------------------------------------------


def _deployment(deployment: JsonObject, _: Admission) -> None:
    spec = child(deployment, "spec")
    if spec is not None:
        fill(spec, "replicas", 1)
        fill(spec, "revisionHistoryLimit", 10)
        fill(spec, "progressDeadlineSeconds", 600)
        fill(spec, "strategy", {})
        strategy = child(spec, "strategy")
        if strategy is not None:
            fill(strategy, "type", "RollingUpdate", zero_is_unset=True)
            if strategy["type"] == "RollingUpdate":
                fill(strategy, "rollingUpdate", {})
                rolling = child(strategy, "rollingUpdate")
                if rolling is not None:
                    fill(rolling, "maxUnavailable", "25%")
                    fill(rolling, "maxSurge", "25%")
    fill(deployment, "status", {})


def _replica_set(replica_set: JsonObject, _: Admission) -> None:
    spec = child(replica_set, "spec")
    if spec is not None:
        fill(spec, "replicas", 1)
    fill(replica_set, "status", {})
    status = child(replica_set, "status")
    if status is not None:
        fill(status, "replicas", 0)  # the one status field without omitempty


# -- core ----------------------------------------------------------------------------------------


def _service(service: JsonObject, _: Admission) -> None:
    spec = child(service, "spec")
    if spec is not None:
        _service_spec(spec)
    fill(service, "status", {})
    status = child(service, "status")
    if status is not None:
        fill(status, "loadBalancer", {})
        if spec is not None and spec.get("type") == "LoadBalancer":
            balancer = child(status, "loadBalancer") or {}
            for ingress in children(balancer, "ingress"):
                if ingress.get("ip"):
                    fill(ingress, "ipMode", "VIP")


def _service_spec(spec: JsonObject) -> None:
    fill(spec, "type", "ClusterIP", zero_is_unset=True)
    fill(spec, "sessionAffinity", "None", zero_is_unset=True)
    service_type = spec["type"]
    if spec["sessionAffinity"] == "ClientIP":
        fill(spec, "sessionAffinityConfig", {})
        config = child(spec, "sessionAffinityConfig")
        if config is not None:
            fill(config, "clientIP", {})
            client_ip = child(config, "clientIP")
            if client_ip is not None:
                fill(client_ip, "timeoutSeconds", 10800)
    for port in children(spec, "ports"):
        fill(port, "protocol", "TCP", zero_is_unset=True)
        if "port" in port:
            fill(port, "targetPort", port["port"], zero_is_unset=True)
    externally_accessible = service_type in ("NodePort", "LoadBalancer") or (
        service_type == "ClusterIP" and bool(spec.get("externalIPs"))
    )
    if externally_accessible:
        fill(spec, "externalTrafficPolicy", "Cluster", zero_is_unset=True)
    if service_type == "LoadBalancer":
        fill(spec, "allocateLoadBalancerNodePorts", True)
    if service_type in ("ClusterIP", "NodePort", "LoadBalancer"):
        fill(spec, "internalTrafficPolicy", "Cluster")
        _service_ip_families(spec)


def _ip_family(address: str) -> str | None:
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return None
    return "IPv6" if parsed.version == 6 else "IPv4"


def _service_ip_families(spec: JsonObject) -> None:
    # The registry's part of dual-stack defaulting, for a single-stack IPv4 cluster. The cluster
    # IP itself is allocated later by the API layer, which must then keep both fields in sync.
    cluster_ip = spec.get("clusterIP")
    cluster_ips = spec.get("clusterIPs")
    if isinstance(cluster_ip, str) and cluster_ip and not cluster_ips:
        spec["clusterIPs"] = cluster_ips = [cluster_ip]
    elif isinstance(cluster_ips, list) and cluster_ips and is_unset(cluster_ip, zero_is_unset=True):
        spec["clusterIP"] = cluster_ip = cluster_ips[0]
    headless = cluster_ip == "None"
    selectorless = not spec.get("selector")
    ip_families = [
        family
        for family in (_ip_family(ip) for ip in cluster_ips or () if isinstance(ip, str))
        if family is not None
    ]
    chosen = spec.get("ipFamilies")
    if headless and selectorless:
        # Such services only carry DNS for hand-made endpoints, so they default to both families
        # even on a single-stack cluster.
        fill(spec, "ipFamilyPolicy", "RequireDualStack")
    elif isinstance(chosen, list) and chosen:
        fill(spec, "ipFamilyPolicy", "RequireDualStack" if len(chosen) > 1 else "SingleStack")
    else:
        fill(spec, "ipFamilyPolicy", "RequireDualStack" if len(ip_families) > 1 else "SingleStack")
    if not ip_families:
        dual = headless and selectorless and spec["ipFamilyPolicy"] != "SingleStack"
        ip_families = ["IPv4", "IPv6"] if dual else ["IPv4"]
    if not chosen:
        spec["ipFamilies"] = ip_families


def _namespace(namespace: JsonObject, _: Admission) -> None:
    metadata = child(namespace, "metadata")
    name = metadata.get("name") if metadata is not None else None
    if metadata is not None and isinstance(name, str) and name:
        labels = child(metadata, "labels")
        # Set on every write, overriding the user: selectors may rely on it naming the namespace.
        metadata["labels"] = {**(labels or {}), NAMESPACE_NAME_LABEL: name}
    fill(namespace, "spec", {})
    spec = child(namespace, "spec")
    if spec is not None:
        finalizers = spec.get("finalizers")
        existing = list(finalizers) if isinstance(finalizers, list) else []
        if "kubernetes" not in existing:
            spec["finalizers"] = [*existing, "kubernetes"]
    fill(namespace, "status", {})
    status = child(namespace, "status")
    if status is not None:
        fill(status, "phase", "Active", zero_is_unset=True)


def _secret(secret: JsonObject, _: Admission) -> None:
    fill(secret, "type", "Opaque", zero_is_unset=True)
    if "stringData" not in secret:
        return
    string_data = secret["stringData"]
    if string_data is None:
        del secret["stringData"]
        return
    if not isinstance(string_data, dict) or not all(
        isinstance(value, str) for value in string_data.values()
    ):
        return  # not decodable as map[string]string: left for validation to refuse
    data = child(secret, "data")
    merged = dict(data) if data is not None else {}
    for key, value in string_data.items():
        merged[key] = base64.b64encode(value.encode("utf-8")).decode("ascii")
    secret["data"] = merged
    del secret["stringData"]


def _endpoint_port(port: JsonObject, _: Admission) -> None:
    fill(port, "protocol", "TCP", zero_is_unset=True)


def _event(event: JsonObject, _: Admission) -> None:
    # Go fields without omitempty: a real server always prints them, empty or not.
    fill(event, "reportingComponent", "")
    fill(event, "reportingInstance", "")
    fill(event, "source", {})


def _node(node: JsonObject, _: Admission) -> None:
    fill(node, "spec", {})
    spec = child(node, "spec")
    if spec is not None:
        pod_cidr = spec.get("podCIDR")
        pod_cidrs = spec.get("podCIDRs")
        if isinstance(pod_cidr, str) and pod_cidr and not pod_cidrs:
            spec["podCIDRs"] = [pod_cidr]
        elif isinstance(pod_cidrs, list) and pod_cidrs and not pod_cidr:
            spec["podCIDR"] = pod_cidrs[0]
    status = child(node, "status")
    if status is not None:
        capacity = child(status, "capacity")
        if capacity is not None:
            fill(status, "allocatable", dict(capacity))


# -- networking, discovery, coordination ---------------------------------------------------------


def _ingress(ingress: JsonObject, _: Admission) -> None:
    fill(ingress, "spec", {})
    fill(ingress, "status", {})
    status = child(ingress, "status")
    if status is not None:
        fill(status, "loadBalancer", {})


def _ingress_class(ingress_class: JsonObject, _: Admission) -> None:
    fill(ingress_class, "spec", {})
    spec = child(ingress_class, "spec")
    parameters = child(spec, "parameters") if spec is not None else None
    if parameters is not None:
        fill(parameters, "scope", "Cluster")


def _slice_port(port: JsonObject, _: Admission) -> None:
    fill(port, "name", "")
    fill(port, "protocol", "TCP")


def _lease(lease: JsonObject, _: Admission) -> None:
    fill(lease, "spec", {})


# -- apiextensions -------------------------------------------------------------------------------


def _crd(crd: JsonObject, _: Admission) -> None:
    spec = child(crd, "spec")
    if spec is None:
        return
    names = child(spec, "names")
    kind = names.get("kind") if names is not None else None
    if names is not None and isinstance(kind, str) and kind:
        fill(names, "singular", kind.lower(), zero_is_unset=True)
        fill(names, "listKind", kind + "List", zero_is_unset=True)
    fill(spec, "conversion", {"strategy": "None"})


def _webhook_service(service: JsonObject, _: Admission) -> None:
    fill(service, "port", 443)


_DEFAULTERS: Mapping[str, Defaulter] = {
    **POD_DEFAULTERS,
    _APPS + "Deployment": _deployment,
    _APPS + "ReplicaSet": _replica_set,
    CORE + "Service": _service,
    CORE + "Namespace": _namespace,
    CORE + "Secret": _secret,
    CORE + "EndpointPort": _endpoint_port,
    CORE + "Event": _event,
    CORE + "Node": _node,
    _NETWORKING + "Ingress": _ingress,
    _NETWORKING + "IngressClass": _ingress_class,
    _DISCOVERY + "EndpointPort": _slice_port,
    _COORDINATION + "Lease": _lease,
    _APIEXTENSIONS + "CustomResourceDefinition": _crd,
    _APIEXTENSIONS + "ServiceReference": _webhook_service,
}
