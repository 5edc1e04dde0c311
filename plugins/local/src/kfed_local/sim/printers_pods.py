"""Server-side printers of pods, namespaces and nodes: the cells of their ``kubectl get`` rows.

Layer: pure (beside :mod:`printers_workloads`, on :mod:`printers_common`; :mod:`printers` puts
these row functions in its table of built-in printers). The pod row follows kube-apiserver 1.37's
pod printer closely: the ``Init:``/``Signal:``/``ExitCode:`` status reasons, sidecar (restartable
init) containers counted as pod containers, restarts with the time since the last one, readiness
gates, and the ``Completed`` row conditions kubectl uses to hide finished pods.

Column definitions live in :mod:`printers`. This module reads no clock (callers pass ``now``),
does no I/O, keeps no state and never mutates the objects it prints.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from kfed_local.sim.printers_common import (
    Cell,
    Row,
    age_of,
    human_duration,
    int_at,
    map_at,
    maps_at,
    name_of,
    parse_time,
    present,
    str_at,
    value_at,
)


def _later(current: datetime | None, candidate: datetime | None) -> datetime | None:
    if candidate is None:
        return current
    return candidate if current is None or candidate > current else current


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
    signal = int_at(terminated, "signal")
    if signal:
        return f"{prefix}Signal:{signal}"
    return f"{prefix}ExitCode:{int_at(terminated, 'exitCode')}"


def _has_condition(conditions: Sequence[Mapping[str, Any]], kind: str) -> bool:
    return any(str_at(c, "type") == kind and str_at(c, "status") == "True" for c in conditions)


def pod_row(pod: Mapping[str, Any], now: datetime) -> Row:
    spec, status = map_at(pod, "spec"), map_at(pod, "status")
    conditions = maps_at(status, "conditions")
    init_specs = maps_at(spec, "initContainers")
    # Restartable init containers (sidecars) keep running, so they count as pod containers.
    sidecar_specs = [c for c in init_specs if str_at(c, "restartPolicy") == "Always"]
    sidecars = {str_at(c, "name") for c in sidecar_specs}
    total = len(maps_at(spec, "containers")) + len(sidecar_specs)
    phase = str_at(status, "phase")
    reason = str_at(status, "reason") or phase
    if any(
        str_at(c, "type") == "PodScheduled" and str_at(c, "reason") == "SchedulingGated"
        for c in conditions
    ):
        reason = "SchedulingGated"

    ready = restarts = sidecar_restarts = 0
    last_restart: datetime | None = None
    sidecar_last_restart: datetime | None = None
    initializing = False
    for index, container in enumerate(maps_at(status, "initContainerStatuses")):
        count = int_at(container, "restartCount")
        finished = parse_time(value_at(container, "lastState", "terminated", "finishedAt"))
        restarts += count
        last_restart = _later(last_restart, finished)
        is_sidecar = str_at(container, "name") in sidecars
        if is_sidecar:
            sidecar_restarts += count
            sidecar_last_restart = _later(sidecar_last_restart, finished)
        terminated = map_at(container, "state", "terminated")
        waiting_reason = str_at(container, "state", "waiting", "reason")
        if present(container, "state", "terminated") and int_at(terminated, "exitCode") == 0:
            continue
        if is_sidecar and value_at(container, "started") is True:
            if value_at(container, "ready") is True:
                ready += 1
            continue
        if present(container, "state", "terminated"):
            term_reason = str_at(terminated, "reason")
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
        for container in reversed(maps_at(status, "containerStatuses")):
            restarts += int_at(container, "restartCount")
            last_restart = _later(
                last_restart,
                parse_time(value_at(container, "lastState", "terminated", "finishedAt")),
            )
            state = map_at(container, "state")
            if str_at(state, "waiting", "reason"):
                reason = str_at(state, "waiting", "reason")
            elif str_at(state, "terminated", "reason"):
                reason = str_at(state, "terminated", "reason")
            elif present(state, "terminated"):
                reason = _exit_reason(map_at(state, "terminated"), "")
            elif value_at(container, "ready") is True and present(state, "running"):
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            reason = "Running" if _has_condition(conditions, "Ready") else "NotReady"

    if value_at(pod, "metadata", "deletionTimestamp") is not None:
        if str_at(status, "reason") == "NodeLost":
            reason = "Unknown"
        elif phase not in ("Failed", "Succeeded"):
            reason = "Terminating"

    restarts_text = str(restarts)
    if restarts and last_restart is not None:
        since = human_duration((now - last_restart).total_seconds())
        restarts_text = f"{restarts} ({since} ago)"

    pod_ips = maps_at(status, "podIPs")
    pod_ip = str_at(pod_ips[0], "ip") if pod_ips else str_at(status, "podIP")
    gates = maps_at(spec, "readinessGates")
    gates_text = "<none>"
    if gates:
        by_type: dict[str, str] = {}
        for condition in conditions:
            by_type.setdefault(str_at(condition, "type"), str_at(condition, "status"))
        passed = sum(1 for gate in gates if by_type.get(str_at(gate, "conditionType")) == "True")
        gates_text = f"{passed}/{len(gates)}"
    cells: tuple[Cell, ...] = (
        name_of(pod),
        f"{ready}/{total}",
        reason,
        restarts_text,
        age_of(pod, now),
        pod_ip or "<none>",
        str_at(spec, "nodeName") or "<none>",
        str_at(status, "nominatedNodeName") or "<none>",
        gates_text,
    )
    row_conditions = {"Succeeded": _POD_COMPLETED, "Failed": _POD_FAILED}.get(phase, ())
    return Row(cells=cells, conditions=row_conditions)


def namespace_row(namespace: Mapping[str, Any], now: datetime) -> Row:
    return Row(
        cells=(name_of(namespace), str_at(namespace, "status", "phase"), age_of(namespace, now))
    )


def node_row(node: Mapping[str, Any], now: datetime) -> Row:
    status = map_at(node, "status")
    ready: str | None = None
    for condition in maps_at(status, "conditions"):
        if str_at(condition, "type") == "Ready":  # the last Ready condition wins, as in a Go map
            ready = "Ready" if str_at(condition, "status") == "True" else "NotReady"
    states = [ready or "Unknown"]
    if value_at(node, "spec", "unschedulable") is True:
        states.append("SchedulingDisabled")
    roles: set[str] = set()
    for key, value in map_at(node, "metadata", "labels").items():
        if key.startswith("node-role.kubernetes.io/"):
            if role := key.removeprefix("node-role.kubernetes.io/"):
                roles.add(role)
        elif key == "kubernetes.io/role" and value:
            roles.add(str(value))
    info = map_at(status, "nodeInfo")

    def address(kind: str) -> str:
        for entry in maps_at(status, "addresses"):
            if str_at(entry, "type") == kind:
                return str_at(entry, "address")
        return "<none>"

    return Row(
        cells=(
            name_of(node),
            ",".join(states),
            ",".join(sorted(roles)) or "<none>",
            age_of(node, now),
            str_at(info, "kubeletVersion"),
            address("InternalIP"),
            address("ExternalIP"),
            str_at(info, "osImage") or "<unknown>",
            str_at(info, "kernelVersion") or "<unknown>",
            str_at(info, "containerRuntimeVersion") or "<unknown>",
        )
    )
