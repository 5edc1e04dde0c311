"""Server-side printers of the built-in kinds: the columns and cells of ``kubectl get``.

Layer: pure (beside :mod:`kfed_local.sim.tables`, which assembles ``meta.k8s.io/v1`` Tables from
these printers). For each built-in resource kube-apiserver 1.37 prints, this module knows the
column definitions (name, type, format, description, priority; priority 1 columns are the ones
only ``-o wide`` shows) and which function computes each row from a stored object, with the same
placeholders (``<none>``, ``<unknown>``, ``<pending>``, ``<unset>``) and formats (ages in
``HumanDuration`` form, ``80:30061/TCP`` ports, ``2/2`` readiness) kubectl users see. Like
kube-apiserver, rows always carry the wide cells: the client hides priority-1 columns.

The rows of pods, namespaces and nodes are in :mod:`printers_pods`, those of services, endpoints,
workloads and ingresses in :mod:`printers_workloads`; the few simple kinds left (config maps,
secrets, service accounts, events, leases) are here, and the shared types and helpers are in
:mod:`printers_common`. Column descriptions come from the Kubernetes 1.37 OpenAPI definitions
(:mod:`schema`). This module reads no clock (the caller passes ``now``), does no I/O besides that
one lazy schema load, keeps no state and never mutates the objects it prints.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from kfed_local.sim.printers_common import (
    ColumnSpec,
    Printer,
    Row,
    RowFunction,
    age,
    age_of,
    column,
    int_at,
    map_at,
    maps_at,
    name_of,
    parse_time,
    present,
    str_at,
    value_at,
)
from kfed_local.sim.printers_pods import namespace_row, node_row, pod_row
from kfed_local.sim.printers_workloads import (
    deployment_row,
    endpoint_slice_row,
    endpoints_row,
    ingress_class_row,
    ingress_row,
    replica_set_row,
    service_row,
)

# -- the simple kinds --------------------------------------------------------------------------


def _config_map_row(config_map: Mapping[str, Any], now: datetime) -> Row:
    count = len(map_at(config_map, "data")) + len(map_at(config_map, "binaryData"))
    return Row(cells=(name_of(config_map), count, age_of(config_map, now)))


def _secret_row(secret: Mapping[str, Any], now: datetime) -> Row:
    secret_type = str_at(secret, "type", default="Opaque")
    return Row(
        cells=(name_of(secret), secret_type, len(map_at(secret, "data")), age_of(secret, now))
    )


def _service_account_row(account: Mapping[str, Any], now: datetime) -> Row:
    return Row(cells=(name_of(account), len(maps_at(account, "secrets")), age_of(account, now)))


def _event_row(event: Mapping[str, Any], now: datetime) -> Row:
    first_seen = age(value_at(event, "firstTimestamp"), now)
    if parse_time(value_at(event, "firstTimestamp")) is None:
        first_seen = age(value_at(event, "eventTime"), now)
    last_seen = age(value_at(event, "lastTimestamp"), now)
    if parse_time(value_at(event, "lastTimestamp")) is None:
        last_seen = first_seen
    count = int_at(event, "count")
    if present(event, "series"):
        last_seen = age(value_at(event, "series", "lastObservedTime"), now)
        count = int_at(event, "series", "count")
    elif count == 0:
        count = 1  # events.k8s.io singletons carry no count
    involved = map_at(event, "involvedObject")
    target = str_at(involved, "kind").lower()
    if str_at(involved, "name"):
        target = f"{target}/{str_at(involved, 'name')}"
    component = str_at(event, "source", "component") or str_at(event, "reportingController")
    instance = str_at(event, "source", "host") or str_at(event, "reportingInstance")
    return Row(
        cells=(
            last_seen,
            str_at(event, "type"),
            str_at(event, "reason"),
            target,
            str_at(involved, "fieldPath"),
            f"{component}, {instance}" if instance else component,
            str_at(event, "message").strip(),
            first_seen,
            count,
            name_of(event),
        )
    )


def _lease_row(lease: Mapping[str, Any], now: datetime) -> Row:
    return Row(cells=(name_of(lease), str_at(lease, "spec", "holderIdentity"), age_of(lease, now)))


# -- column definitions ------------------------------------------------------------------------

# Column specs (``ColumnSpec``, see :mod:`printers_common`): "@" descriptions come from OpenAPI.
_NAME: ColumnSpec = ("Name", "@meta:name")
_AGE: ColumnSpec = ("Age", "@meta:creationTimestamp")
_TEMPLATE = (
    "Names of each container in the template.",
    "Images referenced by each container in the template.",
)
_SPECS: Mapping[str, tuple[ColumnSpec, ...]] = {
    "pods": (
        _NAME,
        ("Ready", "The aggregate readiness state of this pod for accepting traffic."),
        ("Status", "The aggregate status of the containers in this pod."),
        (
            "Restarts",
            "The number of times the containers in this pod have been restarted and when the "
            "last container in this pod has restarted.",
        ),
        _AGE,
        ("IP", "@core.PodStatus:podIP", 1),
        ("Node", "@core.PodSpec:nodeName", 1),
        ("Nominated Node", "@core.PodStatus:nominatedNodeName", 1),
        ("Readiness Gates", "@core.PodSpec:readinessGates", 1),
    ),
    "namespaces": (_NAME, ("Status", "The status of the namespace"), _AGE),
    "nodes": (
        _NAME,
        ("Status", "The status of the node"),
        ("Roles", "The roles of the node"),
        _AGE,
        ("Version", "@core.NodeSystemInfo:kubeletVersion"),
        ("Internal-IP", "@core.NodeStatus:addresses", 1),
        ("External-IP", "@core.NodeStatus:addresses", 1),
        ("OS-Image", "@core.NodeSystemInfo:osImage", 1),
        ("Kernel-Version", "@core.NodeSystemInfo:kernelVersion", 1),
        ("Container-Runtime", "@core.NodeSystemInfo:containerRuntimeVersion", 1),
    ),
    "services": (
        _NAME,
        ("Type", "@core.ServiceSpec:type"),
        ("Cluster-IP", "@core.ServiceSpec:clusterIP"),
        ("External-IP", "@core.ServiceSpec:externalIPs"),
        ("Port(s)", "@core.ServiceSpec:ports"),
        _AGE,
        ("Selector", "@core.ServiceSpec:selector", 1),
    ),
    "endpoints": (_NAME, ("Endpoints", "@core.Endpoints:subsets"), _AGE),
    "endpointslices": (
        _NAME,
        ("AddressType", "@discovery.EndpointSlice:addressType"),
        ("Ports", "@discovery.EndpointSlice:ports"),
        ("Endpoints", "@discovery.EndpointSlice:endpoints"),
        _AGE,
    ),
    "configmaps": (_NAME, ("Data", "@core.ConfigMap:data"), _AGE),
    "secrets": (_NAME, ("Type", "@core.Secret:type"), ("Data", "@core.Secret:data"), _AGE),
    "serviceaccounts": (_NAME, ("Secrets", "@core.ServiceAccount:secrets"), _AGE),
    "events": (
        ("Last Seen", "@core.Event:lastTimestamp"),
        ("Type", "@core.Event:type"),
        ("Reason", "@core.Event:reason"),
        ("Object", "@core.Event:involvedObject"),
        ("Subobject", "@core.ObjectReference:fieldPath", 1),
        ("Source", "@core.Event:source", 1),
        ("Message", "@core.Event:message"),
        ("First Seen", "@core.Event:firstTimestamp", 1),
        ("Count", "@core.Event:count", 1),
        ("Name", "@meta:name", 1),
    ),
    "deployments": (
        _NAME,
        ("Ready", "Number of the pod with ready state"),
        ("Up-to-date", "@apps.DeploymentStatus:updatedReplicas"),
        ("Available", "@apps.DeploymentStatus:availableReplicas"),
        _AGE,
        ("Containers", _TEMPLATE[0], 1),
        ("Images", _TEMPLATE[1], 1),
        ("Selector", "@apps.DeploymentSpec:selector", 1),
    ),
    "replicasets": (
        _NAME,
        ("Desired", "@apps.ReplicaSetSpec:replicas", 0, "integer"),
        ("Current", "@apps.ReplicaSetStatus:replicas", 0, "integer"),
        ("Ready", "@apps.ReplicaSetStatus:readyReplicas", 0, "integer"),
        _AGE,
        ("Containers", _TEMPLATE[0], 1),
        ("Images", _TEMPLATE[1], 1),
        ("Selector", "@apps.ReplicaSetSpec:selector", 1),
    ),
    "ingresses": (
        _NAME,
        (
            "Class",
            "The name of the IngressClass resource that should be used for additional "
            "configuration",
        ),
        ("Hosts", "Hosts that incoming requests are matched against before the ingress rule"),
        ("Address", "Address is a list containing ingress points for the load-balancer"),
        ("Ports", "Ports of TLS configurations that open"),
        _AGE,
    ),
    "ingressclasses": (
        _NAME,
        ("Controller", "Controller that is responsible for handling this class"),
        ("Parameters", "A reference to a resource with additional parameters"),
        _AGE,
    ),
    "leases": (_NAME, ("Holder", "@coordination.LeaseSpec:holderIdentity"), _AGE),
}


_ROWS: Mapping[tuple[str, str], RowFunction] = {
    ("", "pods"): pod_row,
    ("", "namespaces"): namespace_row,
    ("", "nodes"): node_row,
    ("", "services"): service_row,
    ("", "endpoints"): endpoints_row,
    ("", "configmaps"): _config_map_row,
    ("", "secrets"): _secret_row,
    ("", "serviceaccounts"): _service_account_row,
    ("", "events"): _event_row,
    ("discovery.k8s.io", "endpointslices"): endpoint_slice_row,
    ("apps", "deployments"): deployment_row,
    ("apps", "replicasets"): replica_set_row,
    ("networking.k8s.io", "ingresses"): ingress_row,
    ("networking.k8s.io", "ingressclasses"): ingress_class_row,
    ("coordination.k8s.io", "leases"): _lease_row,
}


@functools.cache
def builtin_printer(group: str, plural: str) -> Printer | None:
    """The printer kube-apiserver uses for built-in resource ``plural.group``, if it has one."""
    row = _ROWS.get((group, plural))
    if row is None:
        return None
    return Printer(columns=tuple(column(spec) for spec in _SPECS[plural]), row=row)
