"""Simulated kubelets and the node lifecycle controller: pods start, become Ready, stop; nodes fail.

Layer: controllers. No container runs. For every pod bound to a simulated node the kubelet:

* right after binding reports ``ContainerCreating`` (start time, host IP, pod IP);
* after the cluster's ``pod_start_delay`` reports ``Running`` with every container ready and the
  PodReadyToStartContainers, Initialized, Ready, ContainersReady and PodScheduled conditions;
* confirms the deletion of terminating pods (the grace period of a simulated container is zero).

When a node is down (a fault), its kubelet is silent and the node lifecycle controller takes
over as kube-controller-manager does: the node's conditions become Unknown, it gets the
``node.kubernetes.io/unreachable`` taints, its pods turn NotReady, and after the eviction timeout
(the pod's ``tolerationSeconds``, capped by the simulator's ``eviction_timeout`` to compress time)
its pods are deleted; they stay Terminating until the node returns, and their ReplicaSets
replace them on nodes that are up. When the node returns, it is Ready again, its surviving pods
become Ready and the terminating ones are finally removed.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Hashable, Iterable, Mapping
from typing import Any

from kfed_local.sim import deletion, objects
from kfed_local.sim.controllers.base import Controller, ControllerContext
from kfed_local.sim.store import Change

PODS = "/pods"
NODES = "/nodes"
UNREACHABLE = "node.kubernetes.io/unreachable"
_POD_CONDITIONS = (
    "PodReadyToStartContainers",
    "Initialized",
    "Ready",
    "ContainersReady",
    "PodScheduled",
)


def normalized_image(image: str) -> str:
    """The image a runtime reports: ``nginx`` becomes ``docker.io/library/nginx:latest``."""
    name = image
    if "@" not in name and ":" not in name.rsplit("/", 1)[-1]:
        name += ":latest"
    first = name.split("/", 1)[0]
    if "/" not in name:
        return f"docker.io/library/{name}"
    if "." not in first and ":" not in first and first != "localhost":
        return f"docker.io/{name}"
    return name


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class Kubelet(Controller):
    """Every simulated node's kubelet, plus the node lifecycle controller."""

    name = "kubelet"
    manager = "kubelet"
    watches = (PODS, NODES)

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)
        self.pods = self.api.registry.require("", "v1", "pods")
        self.nodes = self.api.registry.require("", "v1", "nodes")
        self._pod_network = ipaddress.ip_network("10.244.0.0/16")
        self._next_ip: dict[str, int] = {}
        self._node_index: dict[str, int] = {}

    def keys_for(self, change: Change) -> Iterable[Hashable]:
        if change.storage_key == NODES:
            return (("node", objects.name_of(change.obj)),)
        if change.type == "DELETED" or not (change.obj.get("spec") or {}).get("nodeName"):
            return ()
        return (("pod", objects.namespace_of(change.obj), objects.name_of(change.obj)),)

    def resync(self) -> Iterable[Hashable]:
        keys: list[Hashable] = [
            ("node", objects.name_of(e.obj)) for e in self.api.store.items(NODES)
        ]
        keys += [
            ("pod", objects.namespace_of(e.obj), objects.name_of(e.obj))
            for e in self.api.store.items(PODS)
            if (e.obj.get("spec") or {}).get("nodeName")
        ]
        return keys

    def reconcile(self, key: Any) -> float | None:
        if key[0] == "node":
            return self._reconcile_node(key[1])
        return self._reconcile_pod(key[1], key[2])

    # -- pods ----------------------------------------------------------------------------------

    def _reconcile_pod(self, namespace: str, name: str) -> float | None:
        entry = self.api.store.get(PODS, namespace, name)
        if entry is None:
            return None
        pod = entry.obj
        node_name = (pod.get("spec") or {}).get("nodeName")
        node = self.api.store.get(NODES, "", node_name or "")
        if node is None or self.ctx.faults.node_is_down(node_name or ""):
            return None  # a silent kubelet: the node lifecycle controller speaks for it
        if objects.is_terminating(pod):
            self._confirm_deletion(pod)
            return None
        status = pod.get("status") or {}
        phase = status.get("phase")
        if phase in ("Succeeded", "Failed"):
            return None
        delay = self.ctx.spec.pod_start_delay
        if not status.get("startTime"):
            self._write_status(pod, self._creating_status(pod, node.obj))
            return delay
        if phase == "Pending":
            waited = (self.api.clock() - objects.parse_time(status["startTime"])).total_seconds()
            if waited < delay:
                return delay - waited
            self._write_status(pod, self._running_status(pod, ready=True))
            return None
        ready = objects.condition(pod, "Ready")
        if ready is None or ready.get("status") != "True":
            self._write_status(pod, self._running_status(pod, ready=True))
        return None

    def _confirm_deletion(self, pod: dict[str, Any]) -> None:
        deletion.delete_if_present(
            self.api,
            self.pods,
            objects.namespace_of(pod),
            objects.name_of(pod),
            deletion.DeleteOptions(grace_period_seconds=0),
            self.writer,
        )

    def _pod_ip(self, node_name: str) -> str:
        index = self._node_index.setdefault(node_name, len(self._node_index) + 1)
        host = self._next_ip.get(node_name, 1)
        self._next_ip[node_name] = host + 1 if host < 253 else 1
        return str(self._pod_network.network_address + index * 256 + host)

    def _node_ip(self, node: Mapping[str, Any]) -> str:
        for address in (node.get("status") or {}).get("addresses") or ():
            if address.get("type") == "InternalIP":
                return str(address.get("address"))
        return ""

    def _creating_status(self, pod: Mapping[str, Any], node: Mapping[str, Any]) -> dict[str, Any]:
        now = self.api.now()
        status = objects.clone(pod.get("status") or {})
        host_ip = self._node_ip(node)
        pod_ip = self._pod_ip(objects.name_of(node))
        status.update(
            phase="Pending",
            hostIP=host_ip,
            hostIPs=[{"ip": host_ip}],
            podIP=pod_ip,
            podIPs=[{"ip": pod_ip}],
            startTime=now,
        )
        conditions = status.get("conditions") or []
        for kind, value, reason in (
            ("PodReadyToStartContainers", "True", ""),
            ("Initialized", "True", ""),
            ("Ready", "False", "ContainersNotReady"),
            ("ContainersReady", "False", "ContainersNotReady"),
            ("PodScheduled", "True", ""),
        ):
            names = [c.get("name") for c in (pod.get("spec") or {}).get("containers") or ()]
            message = f"containers with unready status: [{' '.join(names)}]" if reason else ""
            conditions = objects.set_condition(
                conditions, kind, value, reason=reason, message=message, now=now
            )
        status["conditions"] = _ordered(conditions)
        status["containerStatuses"] = [
            {
                "name": c.get("name"),
                "image": c.get("image"),
                "imageID": "",
                "ready": False,
                "started": False,
                "restartCount": 0,
                "state": {"waiting": {"reason": "ContainerCreating"}},
                "lastState": {},
            }
            for c in (pod.get("spec") or {}).get("containers") or ()
        ]
        return status

    def _running_status(self, pod: Mapping[str, Any], *, ready: bool) -> dict[str, Any]:
        now = self.api.now()
        status = objects.clone(pod.get("status") or {})
        status["phase"] = "Running"
        flag = "True" if ready else "False"
        conditions = status.get("conditions") or []
        for kind in _POD_CONDITIONS:
            value = flag if kind in ("Ready", "ContainersReady") else "True"
            conditions = objects.set_condition(conditions, kind, value, now=now)
        status["conditions"] = _ordered(conditions)
        started = status.get("startTime", now)
        pod_uid = pod["metadata"].get("uid", "")
        status["containerStatuses"] = [
            {
                "name": c.get("name"),
                "image": normalized_image(str(c.get("image", ""))),
                "imageID": f"{normalized_image(str(c.get('image', ''))).rsplit(':', 1)[0]}"
                f"@sha256:{_digest(str(c.get('image')))}",
                "containerID": f"containerd://{_digest(pod_uid + str(c.get('name')))}",
                "ready": ready,
                "started": True,
                "restartCount": 0,
                "state": {"running": {"startedAt": started}},
                "lastState": {},
            }
            for c in (pod.get("spec") or {}).get("containers") or ()
        ]
        return status

    def _write_status(self, pod: dict[str, Any], status: dict[str, Any]) -> None:
        updated = objects.clone(pod)
        updated["status"] = status
        self.api.update(
            self.pods,
            objects.namespace_of(pod),
            objects.name_of(pod),
            updated,
            self.writer,
            subresource="status",
        )

    # -- nodes ---------------------------------------------------------------------------------

    def _pods_on(self, node_name: str) -> list[dict[str, Any]]:
        return [
            e.obj
            for e in self.api.store.items(PODS)
            if (e.obj.get("spec") or {}).get("nodeName") == node_name
        ]

    def _reconcile_node(self, name: str) -> float | None:
        entry = self.api.store.get(NODES, "", name)
        if entry is None:
            return None
        node = entry.obj
        down = self.ctx.faults.node_is_down(name)
        ready = objects.condition(node, "Ready")
        is_ready = ready is not None and ready.get("status") == "True"
        if down and is_ready:
            self._set_node(node, ready=False)
            self.ctx.events.record(
                node,
                "Normal",
                "NodeNotReady",
                f"Node {name} status is now: NodeNotReady",
                component="node-controller",
            )
            for pod in self._pods_on(name):
                if not objects.is_terminating(pod):
                    self._write_status(
                        pod,
                        self._running_status(pod, ready=False)
                        if (pod.get("status") or {}).get("phase") == "Running"
                        else pod.get("status") or {},
                    )
            return self._eviction_delay([])
        if down:
            return self._evict_due(name)
        if not is_ready:
            self._set_node(node, ready=True)
            self.ctx.events.record(
                node,
                "Normal",
                "NodeReady",
                f"Node {name} status is now: NodeReady",
                component="kubelet",
                host=name,
            )
            for pod in self._pods_on(name):
                self.queue.add(("pod", objects.namespace_of(pod), objects.name_of(pod)))
        return None

    def _eviction_delay(self, _: list[Any]) -> float:
        return self.ctx.eviction_timeout

    def _evict_due(self, node_name: str) -> float | None:
        """Delete pods that stayed on a down node past their (capped) toleration."""
        entry = self.api.store.get(NODES, "", node_name)
        if entry is None:
            return None
        since = next(
            (
                t.get("timeAdded")
                for t in (entry.obj.get("spec") or {}).get("taints") or ()
                if t.get("key") == UNREACHABLE and t.get("effect") == "NoExecute"
            ),
            None,
        )
        if since is None:
            return 0.1
        down_for = (self.api.clock() - objects.parse_time(since)).total_seconds()
        next_check: float | None = None
        for pod in self._pods_on(node_name):
            if objects.is_terminating(pod):
                continue
            limit = _toleration_seconds(pod, self.ctx.eviction_timeout)
            if limit is None:
                continue
            if down_for >= limit:
                self.ctx.events.record(
                    pod,
                    "Normal",
                    "TaintManagerEviction",
                    f"Marking for deletion Pod {objects.namespace_of(pod)}/{objects.name_of(pod)}",
                    component="taint-eviction-controller",
                )
                deletion.delete_if_present(
                    self.api,
                    self.pods,
                    objects.namespace_of(pod),
                    objects.name_of(pod),
                    deletion.DeleteOptions(),
                    self.writer,
                )
            else:
                wait = limit - down_for
                next_check = wait if next_check is None else min(next_check, wait)
        return next_check

    def _set_node(self, node: dict[str, Any], *, ready: bool) -> None:
        now = self.api.now()
        updated = objects.clone(node)
        status = updated.setdefault("status", {})
        conditions = status.get("conditions") or []
        if ready:
            conditions = objects.set_condition(
                conditions,
                "Ready",
                "True",
                reason="KubeletReady",
                message="kubelet is posting ready status",
                now=now,
            )
            for kind, reason, message in _PRESSURE:
                conditions = objects.set_condition(
                    conditions, kind, "False", reason=reason, message=message, now=now
                )
        else:
            for kind in ("MemoryPressure", "DiskPressure", "PIDPressure", "Ready"):
                conditions = objects.set_condition(
                    conditions,
                    kind,
                    "Unknown",
                    reason="NodeStatusUnknown",
                    message="Kubelet stopped posting node status.",
                    now=now,
                )
        for item in conditions:
            item["lastHeartbeatTime"] = now
        status["conditions"] = conditions
        self.api.update(
            self.nodes, "", objects.name_of(node), updated, self.writer, subresource="status"
        )
        latest = self.api.store.get(NODES, "", objects.name_of(node))
        assert latest is not None
        with_taints = objects.clone(latest.obj)
        spec = with_taints.setdefault("spec", {})
        taints = [t for t in spec.get("taints") or () if t.get("key") != UNREACHABLE]
        if not ready:
            taints += [
                {"key": UNREACHABLE, "effect": "NoSchedule", "timeAdded": now},
                {"key": UNREACHABLE, "effect": "NoExecute", "timeAdded": now},
            ]
        spec["taints"] = taints
        if not taints:
            del spec["taints"]
        self.api.update(self.nodes, "", objects.name_of(node), with_taints, self.writer)


_PRESSURE = (
    ("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
)


def _toleration_seconds(pod: Mapping[str, Any], cap: float) -> float | None:
    """How long a pod stays on an unreachable node: None if it tolerates it forever."""
    for toleration in (pod.get("spec") or {}).get("tolerations") or ():
        if toleration.get("effect") not in (None, "", "NoExecute"):
            continue
        key = toleration.get("key")
        if key not in (None, "", UNREACHABLE) or (
            not key and toleration.get("operator") != "Exists"
        ):
            continue
        seconds = toleration.get("tolerationSeconds")
        if seconds is None:
            return None
        return min(float(seconds), cap)
    return 0.0


def _ordered(conditions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    order = {kind: i for i, kind in enumerate(_POD_CONDITIONS)}
    return sorted(conditions, key=lambda c: order.get(c.get("type", ""), len(order)))
