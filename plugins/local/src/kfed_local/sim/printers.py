"""Server-side printers of the built-in kinds: the columns and cells of ``kubectl get``.

Layer: pure (beside :mod:`kfed_local.sim.tables`, which assembles ``meta.k8s.io/v1`` Tables from
these printers). For each built-in resource kube-apiserver 1.37 prints, this module knows the
column definitions (name, type, format, description, priority; priority 1 columns are the ones
only ``-o wide`` shows) and how each cell is computed from a stored object, with the same
placeholders (``<none>``, ``<unknown>``, ``<pending>``, ``<unset>``) and formats (ages in
``HumanDuration`` form, ``80:30061/TCP`` ports, ``2/2`` readiness) kubectl users see. Like
kube-apiserver, rows always carry the wide cells: the client hides priority-1 columns.

Column descriptions come from the Kubernetes 1.37 OpenAPI definitions (:mod:`schema`). This module
reads no clock (the caller passes ``now``), does no I/O besides that one lazy schema load, keeps no
state and never mutates the objects it prints.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from kfed_local.sim.schema import definitions

Cell = str | int | float | bool | None
"""A table cell as JSON: kube-apiserver emits strings, int64, float64, booleans or null."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Column:
    """One ``TableColumnDefinition``."""

    name: str
    type: str = "string"
    format: str = ""
    description: str = ""
    priority: int = 0

    def to_json(self) -> dict[str, Any]:
        """The column as kube-apiserver serializes it (every field present, even when empty)."""
        return {
            "name": self.name,
            "type": self.type,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    """The cells of one object, plus the row conditions kubectl uses (completed pods)."""

    cells: tuple[Cell, ...]
    conditions: tuple[Mapping[str, str], ...] = ()


RowFunction = Callable[[Mapping[str, Any], datetime], Row]


@dataclass(frozen=True, slots=True, kw_only=True)
class Printer:
    """How one resource is printed: its columns and a function from (object, now) to a row."""

    columns: tuple[Column, ...]
    row: RowFunction
    null_rows_when_empty: bool = False
    """True for kube's default convertor, whose empty result serializes ``"rows": null``."""


# -- time ------------------------------------------------------------------------------------

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?(Z|[+-]\d{2}:\d{2})$"
)


def parse_time(value: object) -> datetime | None:
    """An RFC 3339 timestamp (``metav1.Time`` / ``MicroTime``), or None if absent or malformed."""
    if not isinstance(value, str):
        return None
    match = _RFC3339.match(value)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micros = int((fraction or "0")[:6].ljust(6, "0"))
    offset = timedelta(0)
    if zone != "Z":
        offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
        offset = offset if zone[0] == "+" else -offset
    try:
        parsed = datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            micros,
            timezone(offset),
        ).astimezone(UTC)
    except ValueError:  # out-of-range fields, which Go's time.Parse refuses too
        return None
    return parsed


def human_duration(seconds: float) -> str:
    """kube's ``duration.HumanDuration``: ~2-3 significant figures (``42s``, ``5m10s``, ``3d4h``).

    Up to 1s in the future still reads ``0s`` (clock skew between machines); further in the
    future is ``<invalid>``.
    """
    whole = int(seconds)  # truncates toward zero, as Go's int(d.Seconds()) does
    if whole < -1:
        return "<invalid>"
    if whole < 0:
        return "0s"
    if whole < 120:
        return f"{whole}s"
    minutes = whole // 60
    if minutes < 10:
        rest = whole % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = whole // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h{rest}m" if rest else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d{rest}h" if rest else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        rest = (hours // 24) % 365
        years = hours // 24 // 365
        return f"{years}y{rest}d" if rest else f"{years}y"
    return f"{hours // 24 // 365}y"


def age(timestamp: object, now: datetime) -> str:
    """Time since ``timestamp`` (``translateTimestampSince``); ``<unknown>`` when it is unset."""
    parsed = parse_time(timestamp)
    if parsed is None:
        return "<unknown>"
    return human_duration((now - parsed).total_seconds())


def _later(current: datetime | None, candidate: datetime | None) -> datetime | None:
    if candidate is None:
        return current
    return candidate if current is None or candidate > current else current


# -- reading plain-dict objects tolerantly ---------------------------------------------------


def _get(obj: object, *path: str) -> object:
    for key in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def _map(obj: object, *path: str) -> Mapping[str, Any]:
    value = _get(obj, *path)
    return value if isinstance(value, Mapping) else {}


def _maps(obj: object, *path: str) -> list[Mapping[str, Any]]:
    value = _get(obj, *path)
    if not isinstance(value, list | tuple):
        return []
    return [item for item in value if isinstance(item, Mapping)]


def _strs(obj: object, *path: str) -> list[str]:
    value = _get(obj, *path)
    if not isinstance(value, list | tuple):
        return []
    return [item for item in value if isinstance(item, str)]


def _str(obj: object, *path: str, default: str = "") -> str:
    value = _get(obj, *path)
    return value if isinstance(value, str) else default


def _int(obj: object, *path: str, default: int = 0) -> int:
    value = _get(obj, *path)
    if isinstance(value, bool) or not isinstance(value, int):
        return default
    return value


def _present(obj: object, *path: str) -> bool:
    """True when the field holds an object (a non-nil pointer in the Go types)."""
    return isinstance(_get(obj, *path), Mapping)


def _name(obj: Mapping[str, Any]) -> str:
    return _str(obj, "metadata", "name")


def _age(obj: Mapping[str, Any], now: datetime) -> str:
    return age(_get(obj, "metadata", "creationTimestamp"), now)


# -- shared formatting -------------------------------------------------------------------------


def format_labels(labels: Mapping[str, Any]) -> str:
    """``labels.FormatLabels``: ``a=b,c=d`` sorted by key, ``<none>`` when empty."""
    text = ",".join(f"{key}={labels[key]}" for key in sorted(labels))
    return text or "<none>"


def selector_string(selector: object) -> str | None:
    """A ``LabelSelector`` as ``labels.Selector.String()``; None when it cannot be converted.

    An absent selector selects nothing and an empty one everything; both print as ``""``.
    """
    if not isinstance(selector, Mapping):
        return ""
    requirements: list[tuple[str, str]] = []
    for key, value in _map(selector, "matchLabels").items():
        requirements.append((key, f"{key}={value}"))
    for expression in _maps(selector, "matchExpressions"):
        key = _str(expression, "key")
        values = sorted(_strs(expression, "values"))
        match _str(expression, "operator"):
            case "In" if values:
                requirements.append((key, f"{key} in ({','.join(values)})"))
            case "NotIn" if values:
                requirements.append((key, f"{key} notin ({','.join(values)})"))
            case "Exists" if not values:
                requirements.append((key, key))
            case "DoesNotExist" if not values:
                requirements.append((key, f"!{key}"))
            case _:
                return None
    requirements.sort(key=lambda requirement: requirement[0])
    return ",".join(text for _, text in requirements)


def _container_cells(pod_spec: Mapping[str, Any]) -> tuple[str, str]:
    containers = _maps(pod_spec, "containers")
    names = ",".join(_str(container, "name") for container in containers)
    images = ",".join(_str(container, "image") for container in containers)
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
    for ingress in _maps(status, "loadBalancer", "ingress"):
        address = _str(ingress, "ip") or _str(ingress, "hostname")
        if address:
            found.add(address)
    return ",".join(sorted(found))


# -- the printers ----------------------------------------------------------------------------

_POD_COMPLETED = (
    {
        "type": "Completed",
        "status": "True",
        "reason": "Succeeded",
        "message": "The pod has completed successfully.",
    },
)
_POD_FAILED = (
    {"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."},
)


def _exit_reason(terminated: Mapping[str, Any], prefix: str) -> str:
    signal = _int(terminated, "signal")
    if signal:
        return f"{prefix}Signal:{signal}"
    return f"{prefix}ExitCode:{_int(terminated, 'exitCode')}"


def _has_condition(conditions: Sequence[Mapping[str, Any]], kind: str) -> bool:
    return any(_str(c, "type") == kind and _str(c, "status") == "True" for c in conditions)


def _pod_row(pod: Mapping[str, Any], now: datetime) -> Row:
    spec, status = _map(pod, "spec"), _map(pod, "status")
    conditions = _maps(status, "conditions")
    init_specs = _maps(spec, "initContainers")
    # Restartable init containers (sidecars) keep running, so they count as pod containers.
    sidecar_specs = [c for c in init_specs if _str(c, "restartPolicy") == "Always"]
    sidecars = {_str(c, "name") for c in sidecar_specs}
    total = len(_maps(spec, "containers")) + len(sidecar_specs)
    phase = _str(status, "phase")
    reason = _str(status, "reason") or phase
    if any(
        _str(c, "type") == "PodScheduled" and _str(c, "reason") == "SchedulingGated"
        for c in conditions
    ):
        reason = "SchedulingGated"

    ready = restarts = sidecar_restarts = 0
    last_restart: datetime | None = None
    sidecar_last_restart: datetime | None = None
    initializing = False
    for index, container in enumerate(_maps(status, "initContainerStatuses")):
        count = _int(container, "restartCount")
        finished = parse_time(_get(container, "lastState", "terminated", "finishedAt"))
        restarts += count
        last_restart = _later(last_restart, finished)
        is_sidecar = _str(container, "name") in sidecars
        if is_sidecar:
            sidecar_restarts += count
            sidecar_last_restart = _later(sidecar_last_restart, finished)
        terminated = _map(container, "state", "terminated")
        waiting_reason = _str(container, "state", "waiting", "reason")
        if _present(container, "state", "terminated") and _int(terminated, "exitCode") == 0:
            continue
        if is_sidecar and _get(container, "started") is True:
            if _get(container, "ready") is True:
                ready += 1
            continue
        if _present(container, "state", "terminated"):
            term_reason = _str(terminated, "reason")
            reason = f"Init:{term_reason}" if term_reason else _exit_reason(terminated, "Init:")
        elif waiting_reason and waiting_reason != "PodInitializing":
            reason = f"Init:{waiting_reason}"
        else:
            reason = f"Init:{index}/{len(init_specs)}"
        initializing = True
        break

    if not initializing or _has_condition(conditions, "Initialized"):
        # Only sidecar restarts count once the pod is initialized; regular init containers ran.
        restarts, last_restart = sidecar_restarts, sidecar_last_restart
        has_running = False
        for container in reversed(_maps(status, "containerStatuses")):
            restarts += _int(container, "restartCount")
            last_restart = _later(
                last_restart, parse_time(_get(container, "lastState", "terminated", "finishedAt"))
            )
            state = _map(container, "state")
            if _str(state, "waiting", "reason"):
                reason = _str(state, "waiting", "reason")
            elif _str(state, "terminated", "reason"):
                reason = _str(state, "terminated", "reason")
            elif _present(state, "terminated"):
                reason = _exit_reason(_map(state, "terminated"), "")
            elif _get(container, "ready") is True and _present(state, "running"):
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            reason = "Running" if _has_condition(conditions, "Ready") else "NotReady"

    if _get(pod, "metadata", "deletionTimestamp") is not None:
        if _str(status, "reason") == "NodeLost":
            reason = "Unknown"
        elif phase not in ("Failed", "Succeeded"):
            reason = "Terminating"

    restarts_text = str(restarts)
    if restarts and last_restart is not None:
        since = human_duration((now - last_restart).total_seconds())
        restarts_text = f"{restarts} ({since} ago)"

    pod_ips = _maps(status, "podIPs")
    pod_ip = _str(pod_ips[0], "ip") if pod_ips else _str(status, "podIP")
    gates = _maps(spec, "readinessGates")
    gates_text = "<none>"
    if gates:
        by_type: dict[str, str] = {}
        for condition in conditions:
            by_type.setdefault(_str(condition, "type"), _str(condition, "status"))
        passed = sum(1 for gate in gates if by_type.get(_str(gate, "conditionType")) == "True")
        gates_text = f"{passed}/{len(gates)}"
    cells: tuple[Cell, ...] = (
        _name(pod),
        f"{ready}/{total}",
        reason,
        restarts_text,
        _age(pod, now),
        pod_ip or "<none>",
        _str(spec, "nodeName") or "<none>",
        _str(status, "nominatedNodeName") or "<none>",
        gates_text,
    )
    row_conditions = {"Succeeded": _POD_COMPLETED, "Failed": _POD_FAILED}.get(phase, ())
    return Row(cells=cells, conditions=row_conditions)


def _namespace_row(namespace: Mapping[str, Any], now: datetime) -> Row:
    return Row(cells=(_name(namespace), _str(namespace, "status", "phase"), _age(namespace, now)))


def _node_row(node: Mapping[str, Any], now: datetime) -> Row:
    status = _map(node, "status")
    ready: str | None = None
    for condition in _maps(status, "conditions"):
        if _str(condition, "type") == "Ready":  # the last Ready condition wins, as in a Go map
            ready = "Ready" if _str(condition, "status") == "True" else "NotReady"
    states = [ready or "Unknown"]
    if _get(node, "spec", "unschedulable") is True:
        states.append("SchedulingDisabled")
    roles: set[str] = set()
    for key, value in _map(node, "metadata", "labels").items():
        if key.startswith("node-role.kubernetes.io/"):
            if role := key.removeprefix("node-role.kubernetes.io/"):
                roles.add(role)
        elif key == "kubernetes.io/role" and value:
            roles.add(str(value))
    info = _map(status, "nodeInfo")

    def address(kind: str) -> str:
        for entry in _maps(status, "addresses"):
            if _str(entry, "type") == kind:
                return _str(entry, "address")
        return "<none>"

    return Row(
        cells=(
            _name(node),
            ",".join(states),
            ",".join(sorted(roles)) or "<none>",
            _age(node, now),
            _str(info, "kubeletVersion"),
            address("InternalIP"),
            address("ExternalIP"),
            _str(info, "osImage") or "<unknown>",
            _str(info, "kernelVersion") or "<unknown>",
            _str(info, "containerRuntimeVersion") or "<unknown>",
        )
    )


def _service_external_ip(service: Mapping[str, Any], service_type: str) -> str:
    external_ips = _strs(service, "spec", "externalIPs")
    match service_type:
        case "ClusterIP" | "NodePort":
            return ",".join(external_ips) or "<none>"
        case "LoadBalancer":
            balancer = _load_balancer_addresses(_map(service, "status"))
            addresses = ([balancer] if balancer else []) + external_ips
            return ",".join(addresses) or "<pending>"
        case "ExternalName":
            return _str(service, "spec", "externalName")
    return "<unknown>"


def _service_row(service: Mapping[str, Any], now: datetime) -> Row:
    spec = _map(service, "spec")
    service_type = _str(spec, "type", default="ClusterIP")
    cluster_ips = _strs(spec, "clusterIPs")
    cluster_ip = cluster_ips[0] if cluster_ips else _str(spec, "clusterIP") or "<none>"
    ports = []
    for port in _maps(spec, "ports"):
        number, protocol = _int(port, "port"), _str(port, "protocol", default="TCP")
        node_port = _int(port, "nodePort")
        ports.append(
            f"{number}:{node_port}/{protocol}" if node_port > 0 else f"{number}/{protocol}"
        )
    return Row(
        cells=(
            _name(service),
            service_type,
            cluster_ip,
            _service_external_ip(service, service_type),
            ",".join(ports) or "<none>",
            _age(service, now),
            format_labels(_map(spec, "selector")),
        )
    )


def _endpoints_text(endpoints: Mapping[str, Any]) -> str:
    subsets = _maps(endpoints, "subsets")
    if not subsets:
        return "<none>"
    shown: list[str] = []
    total = 0
    for subset in subsets:
        ips = [_str(address, "ip") for address in _maps(subset, "addresses")]
        # Headless services may have no ports: their endpoints are bare addresses.
        ports: list[int | None] = [_int(port, "port") for port in _maps(subset, "ports")]
        for port in ports or [None]:
            total += len(ips)
            for ip in ips:
                if len(shown) < 3:
                    shown.append(ip if port is None else _join_host_port(ip, port))
    text = ",".join(shown)
    return f"{text} + {total - 3} more..." if total > 3 else text


def _endpoints_row(endpoints: Mapping[str, Any], now: datetime) -> Row:
    return Row(cells=(_name(endpoints), _endpoints_text(endpoints), _age(endpoints, now)))


def _endpoint_slice_row(slice_: Mapping[str, Any], now: datetime) -> Row:
    ports = []
    for port in _maps(slice_, "ports"):
        number = _get(port, "port")
        if isinstance(number, int) and not isinstance(number, bool):
            ports.append(str(number))
        else:
            ports.append(_str(port, "name", default="*"))
    addresses = [a for endpoint in _maps(slice_, "endpoints") for a in _strs(endpoint, "addresses")]
    return Row(
        cells=(
            _name(slice_),
            _str(slice_, "addressType"),
            _list_with_more(ports),
            _list_with_more(addresses),
            _age(slice_, now),
        )
    )


def _config_map_row(config_map: Mapping[str, Any], now: datetime) -> Row:
    count = len(_map(config_map, "data")) + len(_map(config_map, "binaryData"))
    return Row(cells=(_name(config_map), count, _age(config_map, now)))


def _secret_row(secret: Mapping[str, Any], now: datetime) -> Row:
    secret_type = _str(secret, "type", default="Opaque")
    return Row(cells=(_name(secret), secret_type, len(_map(secret, "data")), _age(secret, now)))


def _service_account_row(account: Mapping[str, Any], now: datetime) -> Row:
    return Row(cells=(_name(account), len(_maps(account, "secrets")), _age(account, now)))


def _event_row(event: Mapping[str, Any], now: datetime) -> Row:
    first_seen = age(_get(event, "firstTimestamp"), now)
    if parse_time(_get(event, "firstTimestamp")) is None:
        first_seen = age(_get(event, "eventTime"), now)
    last_seen = age(_get(event, "lastTimestamp"), now)
    if parse_time(_get(event, "lastTimestamp")) is None:
        last_seen = first_seen
    count = _int(event, "count")
    if _present(event, "series"):
        last_seen = age(_get(event, "series", "lastObservedTime"), now)
        count = _int(event, "series", "count")
    elif count == 0:
        count = 1  # events.k8s.io singletons carry no count
    involved = _map(event, "involvedObject")
    target = _str(involved, "kind").lower()
    if _str(involved, "name"):
        target = f"{target}/{_str(involved, 'name')}"
    component = _str(event, "source", "component") or _str(event, "reportingController")
    instance = _str(event, "source", "host") or _str(event, "reportingInstance")
    return Row(
        cells=(
            last_seen,
            _str(event, "type"),
            _str(event, "reason"),
            target,
            _str(involved, "fieldPath"),
            f"{component}, {instance}" if instance else component,
            _str(event, "message").strip(),
            first_seen,
            count,
            _name(event),
        )
    )


def _deployment_row(deployment: Mapping[str, Any], now: datetime) -> Row:
    spec, status = _map(deployment, "spec"), _map(deployment, "status")
    names, images = _container_cells(_map(spec, "template", "spec"))
    selector = selector_string(_get(spec, "selector"))
    return Row(
        cells=(
            _name(deployment),
            f"{_int(status, 'readyReplicas')}/{_int(spec, 'replicas', default=1)}",
            _int(status, "updatedReplicas"),
            _int(status, "availableReplicas"),
            _age(deployment, now),
            names,
            images,
            "<invalid>" if selector is None else selector,
        )
    )


def _replica_set_row(replica_set: Mapping[str, Any], now: datetime) -> Row:
    spec, status = _map(replica_set, "spec"), _map(replica_set, "status")
    names, images = _container_cells(_map(spec, "template", "spec"))
    selector = selector_string(_get(spec, "selector"))
    return Row(
        cells=(
            _name(replica_set),
            _int(spec, "replicas", default=1),
            _int(status, "replicas"),
            _int(status, "readyReplicas"),
            _age(replica_set, now),
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
        if not more and _str(rule, "host"):
            hosts.append(_str(rule, "host"))
    if not hosts:
        return "*"
    # kube counts every rule beyond the third, host or not.
    return f"{','.join(hosts)} + {len(rules) - 3} more..." if more else ",".join(hosts)


def _ingress_row(ingress: Mapping[str, Any], now: datetime) -> Row:
    spec = _map(ingress, "spec")
    class_name = _get(spec, "ingressClassName")
    return Row(
        cells=(
            _name(ingress),
            class_name if isinstance(class_name, str) else "<none>",
            _ingress_hosts(_maps(spec, "rules")),
            _load_balancer_addresses(_map(ingress, "status")),
            "80, 443" if _maps(spec, "tls") else "80",
            _age(ingress, now),
        )
    )


def _ingress_class_row(ingress_class: Mapping[str, Any], now: datetime) -> Row:
    parameters = "<none>"
    if _present(ingress_class, "spec", "parameters"):
        ref = _map(ingress_class, "spec", "parameters")
        group = _get(ref, "apiGroup")
        kind = _str(ref, "kind") + (f".{group}" if isinstance(group, str) else "")
        parameters = f"{kind}/{_str(ref, 'name')}"
    return Row(
        cells=(
            _name(ingress_class),
            _str(ingress_class, "spec", "controller"),
            parameters,
            _age(ingress_class, now),
        )
    )


def _lease_row(lease: Mapping[str, Any], now: datetime) -> Row:
    return Row(cells=(_name(lease), _str(lease, "spec", "holderIdentity"), _age(lease, now)))


# -- column definitions ------------------------------------------------------------------------

# A column is (name, description[, priority[, type]]); "@Definition:field" descriptions are read
# from the OpenAPI field docs, as kube uses the Go SwaggerDoc of the same fields.
ColumnSpec = tuple[str, str] | tuple[str, str, int] | tuple[str, str, int, str]
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
_DEFINITION_PREFIXES = {
    "meta": "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
    "core": "io.k8s.api.core.v1",
    "apps": "io.k8s.api.apps.v1",
    "discovery": "io.k8s.api.discovery.v1",
    "coordination": "io.k8s.api.coordination.v1",
}


@functools.cache
def field_doc(definition: str, field: str) -> str:
    """The OpenAPI description of ``field`` in ``definition`` (a full OpenAPI definition name)."""
    properties = definitions().get(definition, {}).get("properties", {})
    return str(properties.get(field, {}).get("description", ""))


def column(spec: ColumnSpec) -> Column:
    """The column a spec describes; every ``Name`` column has the ``name`` format."""
    name, description = spec[0], spec[1]
    if description.startswith("@"):
        reference, field = description[1:].split(":")
        group, _, kind = reference.partition(".")
        prefix = _DEFINITION_PREFIXES[group]
        description = field_doc(f"{prefix}.{kind}" if kind else prefix, field)
    return Column(
        name=name,
        type=spec[3] if len(spec) > 3 else "string",
        format="name" if name == "Name" else "",
        description=description,
        priority=spec[2] if len(spec) > 2 else 0,
    )


_ROWS: Mapping[tuple[str, str], RowFunction] = {
    ("", "pods"): _pod_row,
    ("", "namespaces"): _namespace_row,
    ("", "nodes"): _node_row,
    ("", "services"): _service_row,
    ("", "endpoints"): _endpoints_row,
    ("", "configmaps"): _config_map_row,
    ("", "secrets"): _secret_row,
    ("", "serviceaccounts"): _service_account_row,
    ("", "events"): _event_row,
    ("discovery.k8s.io", "endpointslices"): _endpoint_slice_row,
    ("apps", "deployments"): _deployment_row,
    ("apps", "replicasets"): _replica_set_row,
    ("networking.k8s.io", "ingresses"): _ingress_row,
    ("networking.k8s.io", "ingressclasses"): _ingress_class_row,
    ("coordination.k8s.io", "leases"): _lease_row,
}


@functools.cache
def builtin_printer(group: str, plural: str) -> Printer | None:
    """The printer kube-apiserver uses for built-in resource ``plural.group``, if it has one."""
    row = _ROWS.get((group, plural))
    if row is None:
        return None
    return Printer(columns=tuple(column(spec) for spec in _SPECS[plural]), row=row)
