"""What the agent tells the hub about its cluster: health, capacity and each object's status.

Layer: ``kfed_agent``, pure (no I/O, no clock, no logging): raw Node and Pod dicts in, frozen
values out. Capacity follows the scheduler's arithmetic: a pod requests the larger of its app
containers (plus sidecars) and its biggest init container, plus its overhead; only Ready,
schedulable nodes offer room, and only pods bound to them and not finished use it.
"""

from __future__ import annotations

import copy
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kfed_core.quantity import parse_quantity

REGION_LABEL = "topology.kubernetes.io/region"
ZONE_LABEL = "topology.kubernetes.io/zone"
_LEGACY_REGION = "failure-domain.beta.kubernetes.io/region"
_LEGACY_ZONE = "failure-domain.beta.kubernetes.io/zone"

_NO_STATUS_KINDS = frozenset({"Secret", "ConfigMap"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Capacity:
    """CPU in millicores, memory in bytes, pods as a count."""

    cpu_millis: int = 0
    memory_bytes: int = 0
    pods: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class ClusterHealthValue:
    """A member cluster's health and capacity as the agent reports it."""

    kubernetes_version: str
    region: str
    zones: tuple[str, ...]
    nodes_total: int
    nodes_ready: int
    allocatable: Capacity
    requested: Capacity
    unschedulable_pods: int
    provider: str = ""


PROVIDER_LABEL = "kfed.io/provider"


def _provider(node: Mapping[str, Any]) -> str:
    """The node's cloud: its kfed.io/provider label, else its providerID's scheme
    (``gce://…`` → ``gce``, ``aws:///…`` → ``aws``)."""
    labelled = _labels(node).get(PROVIDER_LABEL)
    if labelled:
        return labelled
    provider_id = str((node.get("spec") or {}).get("providerID") or "")
    return provider_id.split("://", 1)[0] if "://" in provider_id else ""


def _amount(resources: Mapping[str, Any] | None, name: str, *, per: int = 1) -> int:
    """``resources[name]`` in units of 1/``per`` (millicores: per=1000), rounded up; 0 if absent
    or unreadable (the API server validated it; a broken value must not stop the report)."""
    raw = (resources or {}).get(name)
    if raw is None:
        return 0
    try:
        return math.ceil(parse_quantity(raw) * per)
    except ValueError:
        return 0


def _condition(obj: Mapping[str, Any], kind: str) -> Mapping[str, Any]:
    for condition in (obj.get("status") or {}).get("conditions") or []:
        if condition.get("type") == kind:
            return dict(condition)
    return {}


def _labels(obj: Mapping[str, Any]) -> Mapping[str, str]:
    return dict((obj.get("metadata") or {}).get("labels") or {})


def _name(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("name") or "")


def _node_ready(node: Mapping[str, Any]) -> bool:
    return _condition(node, "Ready").get("status") == "True"


def _container_request(container: Mapping[str, Any]) -> tuple[int, int]:
    requests = (container.get("resources") or {}).get("requests") or {}
    return _amount(requests, "cpu", per=1000), _amount(requests, "memory")


def pod_request(pod: Mapping[str, Any]) -> tuple[int, int]:
    """``(cpu_millis, memory_bytes)`` the scheduler reserves for the pod.

    Init containers run one at a time before the app containers, so the pod needs the larger of
    the app containers' sum and the biggest init container; sidecars (init containers with
    ``restartPolicy: Always``) keep running, so they add to both.
    """
    spec = pod.get("spec") or {}
    cpu = memory = 0
    init_cpu = init_memory = 0
    sidecar_cpu = sidecar_memory = 0
    for container in spec.get("initContainers") or []:
        c, m = _container_request(container)
        if container.get("restartPolicy") == "Always":
            sidecar_cpu, sidecar_memory = sidecar_cpu + c, sidecar_memory + m
            init_cpu, init_memory = max(init_cpu, sidecar_cpu), max(init_memory, sidecar_memory)
        else:
            init_cpu = max(init_cpu, sidecar_cpu + c)
            init_memory = max(init_memory, sidecar_memory + m)
    for container in spec.get("containers") or []:
        c, m = _container_request(container)
        cpu, memory = cpu + c, memory + m
    overhead = spec.get("overhead") or {}
    cpu = max(cpu + sidecar_cpu, init_cpu) + _amount(overhead, "cpu", per=1000)
    memory = max(memory + sidecar_memory, init_memory) + _amount(overhead, "memory")
    return cpu, memory


def _unschedulable(pod: Mapping[str, Any]) -> bool:
    scheduled = _condition(pod, "PodScheduled")
    return scheduled.get("status") == "False" and scheduled.get("reason") == "Unschedulable"


def cluster_health(
    *,
    nodes: Iterable[Mapping[str, Any]],
    pods: Iterable[Mapping[str, Any]],
    kubernetes_version: str,
) -> ClusterHealthValue:
    """Health and capacity from the cluster's Nodes and Pods."""
    node_list = list(nodes)
    regions: Counter[str] = Counter()
    providers: Counter[str] = Counter()
    zones: set[str] = set()
    usable: set[str] = set()
    cpu = memory = pod_slots = 0
    ready = 0
    for node in node_list:
        labels = _labels(node)
        region = labels.get(REGION_LABEL) or labels.get(_LEGACY_REGION)
        zone = labels.get(ZONE_LABEL) or labels.get(_LEGACY_ZONE)
        if region:
            regions[region] += 1
        provider = _provider(node)
        if provider:
            providers[provider] += 1
        if zone:
            zones.add(zone)
        if not _node_ready(node):
            continue
        ready += 1
        if (node.get("spec") or {}).get("unschedulable"):
            continue
        usable.add(_name(node))
        allocatable = (node.get("status") or {}).get("allocatable") or {}
        cpu += _amount(allocatable, "cpu", per=1000)
        memory += _amount(allocatable, "memory")
        pod_slots += _amount(allocatable, "pods")
    used_cpu = used_memory = used_pods = 0
    unschedulable = 0
    for pod in pods:
        phase = (pod.get("status") or {}).get("phase")
        if phase in ("Succeeded", "Failed"):
            continue
        if _unschedulable(pod):
            unschedulable += 1
        if (pod.get("spec") or {}).get("nodeName") not in usable:
            continue
        c, m = pod_request(pod)
        used_cpu, used_memory, used_pods = used_cpu + c, used_memory + m, used_pods + 1
    # Most common region; a tie goes to the alphabetically first, so reports are stable.
    region = min(regions, key=lambda r: (-regions[r], r)) if regions else ""
    provider = min(providers, key=lambda p: (-providers[p], p)) if providers else ""
    return ClusterHealthValue(
        provider=provider,
        kubernetes_version=kubernetes_version,
        region=region,
        zones=tuple(sorted(zones)),
        nodes_total=len(node_list),
        nodes_ready=ready,
        allocatable=Capacity(cpu_millis=cpu, memory_bytes=memory, pods=pod_slots),
        requested=Capacity(cpu_millis=used_cpu, memory_bytes=used_memory, pods=used_pods),
        unschedulable_pods=unschedulable,
    )


def observed_status(manifest: Mapping[str, Any]) -> dict[str, Any] | None:
    """The object's ``.status`` to report, or None: Secrets and ConfigMaps have none worth
    sending (and a Secret's must never leave the cluster), and many objects have none yet."""
    if manifest.get("kind") in _NO_STATUS_KINDS:
        return None
    status = manifest.get("status")
    if not isinstance(status, Mapping):
        return None
    return copy.deepcopy(dict(status))
