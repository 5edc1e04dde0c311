"""The scheduler: binds pending pods to nodes that fit them, or marks them Unschedulable.

Layer: controllers. A node fits a pod when it is Ready and schedulable, carries no untolerated
NoSchedule/NoExecute taint, matches the pod's ``nodeSelector`` and required node affinity, and
has room: the pod's requests plus those of the pods already bound stay within the node's
allocatable cpu, memory and pods. Among the nodes that fit, the one with the fewest pods of the
same owner wins (spreading replicas), then the least loaded. A pod that fits nowhere keeps
``PodScheduled=False`` with reason ``Unschedulable`` and a kube-scheduler style message
("0/3 nodes are available: 3 Insufficient cpu."), plus a FailedScheduling event: this is the
capacity signal kfed's agents report. Pending pods are retried whenever nodes or pods change.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from fractions import Fraction
from typing import Any

from kfed_core.quantity import parse_quantity, pod_requests
from kfed_local.sim import objects
from kfed_local.sim.binding import bind_pod
from kfed_local.sim.controllers.base import Controller
from kfed_local.sim.store import Change

PODS = "/pods"
NODES = "/nodes"
RETRY_ALL = ("retry-all",)
RETRY_INTERVAL = 5.0


def _is_pending_for_us(pod: Mapping[str, Any]) -> bool:
    spec = pod.get("spec") or {}
    return (
        not spec.get("nodeName")
        and spec.get("schedulerName", "default-scheduler") == "default-scheduler"
        and not objects.is_terminating(pod)
    )


class Scheduler(Controller):
    """kube-scheduler's default profile, reduced to what placement and capacity need."""

    name = "scheduler"
    manager = "default-scheduler"
    watches = (PODS, NODES)

    def keys_for(self, change: Change) -> Iterable[Hashable]:
        if change.storage_key == NODES:
            return (RETRY_ALL,)
        if change.type == "DELETED" or (
            change.old is not None
            and not _is_pending_for_us(change.old.obj)
            and objects.is_terminating(change.obj)
        ):
            return (RETRY_ALL,)  # capacity was freed
        if _is_pending_for_us(change.obj):
            return (("pod", objects.namespace_of(change.obj), objects.name_of(change.obj)),)
        return ()

    def resync(self) -> Iterable[Hashable]:
        return (RETRY_ALL,)

    def reconcile(self, key: Any) -> float | None:
        if key == RETRY_ALL:
            pending = [e.obj for e in self.api.store.items(PODS) if _is_pending_for_us(e.obj)]
            for pod in pending:
                self._schedule(pod)
            return RETRY_INTERVAL if pending else None
        _, namespace, name = key
        entry = self.api.store.get(PODS, namespace, name)
        if entry is None or not _is_pending_for_us(entry.obj):
            return None
        self._schedule(entry.obj)
        return None

    def _schedule(self, pod: dict[str, Any]) -> None:
        nodes = [e.obj for e in self.api.store.items(NODES)]
        usage = self._usage()
        reasons: Counter[str] = Counter()
        fitting: list[dict[str, Any]] = []
        requests = pod_requests(pod)
        for node in nodes:
            problem = self._misfit(pod, requests, node, usage.get(objects.name_of(node)))
            if problem is None:
                fitting.append(node)
            else:
                reasons[problem] += 1
        if not fitting:
            self._unschedulable(pod, len(nodes), reasons)
            return
        owner = objects.controller_ref(pod)
        owner_uid = owner.get("uid") if owner else None

        def score(node: dict[str, Any]) -> tuple[int, Fraction, str]:
            used = usage.get(objects.name_of(node)) or _Usage()
            siblings = used.owners.get(owner_uid, 0) if owner_uid else 0
            return (siblings, used.load(node), objects.name_of(node))

        chosen = min(fitting, key=score)
        bind_pod(
            self.api,
            objects.namespace_of(pod),
            objects.name_of(pod),
            objects.name_of(chosen),
            self.writer,
        )
        self.ctx.events.record(
            pod,
            "Normal",
            "Scheduled",
            f"Successfully assigned {objects.namespace_of(pod)}/{objects.name_of(pod)} to "
            f"{objects.name_of(chosen)}",
            component="default-scheduler",
        )

    def _usage(self) -> dict[str, _Usage]:
        usage: dict[str, _Usage] = {}
        for entry in self.api.store.items(PODS):
            pod = entry.obj
            node = (pod.get("spec") or {}).get("nodeName")
            phase = (pod.get("status") or {}).get("phase")
            if not node or phase in ("Succeeded", "Failed"):
                continue
            used = usage.setdefault(node, _Usage())
            used.pods += 1
            for name, amount in pod_requests(pod).items():
                used.requests[name] = used.requests.get(name, Fraction(0)) + amount
            owner = objects.controller_ref(pod)
            if owner is not None and not objects.is_terminating(pod):
                used.owners[owner.get("uid")] = used.owners.get(owner.get("uid"), 0) + 1
        return usage

    def _misfit(
        self,
        pod: Mapping[str, Any],
        requests: Mapping[str, Fraction],
        node: Mapping[str, Any],
        used: _Usage | None,
    ) -> str | None:
        ready = objects.condition(node, "Ready")
        if ready is None or ready.get("status") != "True":
            return "node(s) had untolerated taint {node.kubernetes.io/unreachable: }"
        node_spec = node.get("spec") or {}
        if node_spec.get("unschedulable"):
            return "node(s) were unschedulable"
        pod_spec = pod.get("spec") or {}
        for taint in node_spec.get("taints") or ():
            if taint.get("effect") in ("NoSchedule", "NoExecute") and not _tolerates(
                pod_spec, taint
            ):
                key, value = taint.get("key"), taint.get("value", "")
                return f"node(s) had untolerated taint {{{key}: {value}}}"
        labels = objects.labels_of(node)
        selector = pod_spec.get("nodeSelector") or {}
        if any(labels.get(k) != v for k, v in selector.items()) or not _affinity_allows(
            pod_spec, labels
        ):
            return "node(s) didn't match Pod's node affinity/selector"
        allocatable = (node.get("status") or {}).get("allocatable") or {}
        used = used or _Usage()
        if used.pods + 1 > int(allocatable.get("pods", 110)):
            return "Too many pods"
        for resource in ("cpu", "memory", "ephemeral-storage"):
            wanted = requests.get(resource)
            if not wanted:
                continue
            limit = parse_quantity(allocatable.get(resource, 0))
            if used.requests.get(resource, Fraction(0)) + wanted > limit:
                return f"Insufficient {resource}"
        return None

    def _unschedulable(self, pod: dict[str, Any], node_count: int, reasons: Counter[str]) -> None:
        detail = " ".join(f"{count} {reason}." for reason, count in sorted(reasons.items()))
        message = f"0/{node_count} nodes are available: {detail}".rstrip()
        if not node_count:
            message = "no nodes available to schedule pods"
        status = pod.get("status") or {}
        current = objects.condition(pod, "PodScheduled")
        if (
            current is not None
            and current.get("message") == message
            and current.get("status") == "False"
        ):
            return
        updated = objects.clone(pod)
        updated.setdefault("status", {})["conditions"] = objects.set_condition(
            status.get("conditions") or [],
            "PodScheduled",
            "False",
            reason="Unschedulable",
            message=message,
            now=self.api.now(),
            probe_time=True,
        )
        pods = self.api.registry.require("", "v1", "pods")
        self.api.update(
            pods,
            objects.namespace_of(pod),
            objects.name_of(pod),
            updated,
            self.writer,
            subresource="status",
        )
        self.ctx.events.record(
            pod, "Warning", "FailedScheduling", message, component="default-scheduler"
        )


class _Usage:
    """What the pods bound to one node request."""

    __slots__ = ("owners", "pods", "requests")

    def __init__(self) -> None:
        self.pods = 0
        self.requests: dict[str, Fraction] = {}
        self.owners: dict[Any, int] = {}

    def load(self, node: Mapping[str, Any]) -> Fraction:
        allocatable = (node.get("status") or {}).get("allocatable") or {}
        total = Fraction(0)
        for resource in ("cpu", "memory"):
            limit = parse_quantity(allocatable.get(resource, 0))
            if limit:
                total += self.requests.get(resource, Fraction(0)) / limit
        return total


def _tolerates(pod_spec: Mapping[str, Any], taint: Mapping[str, Any]) -> bool:
    for toleration in pod_spec.get("tolerations") or ():
        effect = toleration.get("effect")
        if effect and effect != taint.get("effect"):
            continue
        operator = toleration.get("operator", "Equal")
        key = toleration.get("key")
        if operator == "Exists" and (not key or key == taint.get("key")):
            return True
        if (
            operator == "Equal"
            and key == taint.get("key")
            and toleration.get("value", "") == taint.get("value", "")
        ):
            return True
    return False


def _affinity_allows(pod_spec: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    required = ((pod_spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {}
    terms = required.get("nodeSelectorTerms") or []
    if not terms:
        return True
    return any(_term_matches(term, labels) for term in terms)


def _term_matches(term: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    for expression in term.get("matchExpressions") or ():
        key = expression.get("key", "")
        values = expression.get("values") or []
        operator = expression.get("operator")
        value = labels.get(key)
        if operator == "In" and value not in values:
            return False
        if operator == "NotIn" and value in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
        if operator in ("Gt", "Lt"):
            try:
                number, bound = int(value or ""), int(values[0])
            except (ValueError, IndexError):
                return False
            if (operator == "Gt" and not number > bound) or (
                operator == "Lt" and not number < bound
            ):
                return False
    return True
