"""Pods of the workloads kfed manages, summarised for the hub (``kfed get pods --clusters``) and
for capacity (pods that cannot be scheduled); and the ready endpoints of the Services kfed
manages, which the hub's ingress controller weighs each cluster's backend by.

Layer: ``kfed_agent`` pure core: values in, values out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

MAX_PODS = 100
"""At most this many pods are summarised per workload, so one status report stays small."""


def _selected(pod: Mapping[str, Any], match_labels: Mapping[str, str]) -> bool:
    labels = (pod.get("metadata") or {}).get("labels") or {}
    return all(labels.get(k) == v for k, v in match_labels.items())


def _condition(pod: Mapping[str, Any], kind: str) -> Mapping[str, Any]:
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == kind:
            return dict(condition)
    return {}


def _reason(pod: Mapping[str, Any]) -> str:
    scheduled = _condition(pod, "PodScheduled")
    if scheduled.get("status") == "False" and scheduled.get("reason"):
        return str(scheduled["reason"])
    status = pod.get("status") or {}
    for container in status.get("containerStatuses") or []:
        waiting = (container.get("state") or {}).get("waiting") or {}
        if waiting.get("reason"):
            return str(waiting["reason"])
    return str(status.get("reason") or "")


def summarise(pod: Mapping[str, Any]) -> dict[str, Any]:
    """One pod as ``kfed get pods --clusters`` shows it."""
    metadata = pod.get("metadata") or {}
    status = pod.get("status") or {}
    containers = (pod.get("spec") or {}).get("containers") or []
    statuses = status.get("containerStatuses") or []
    ready = sum(1 for c in statuses if c.get("ready"))
    return {
        "name": metadata.get("name", ""),
        "namespace": metadata.get("namespace", ""),
        "phase": status.get("phase", "Pending"),
        "ready": f"{ready}/{len(containers)}",
        "restarts": sum(int(c.get("restartCount") or 0) for c in statuses),
        "node": (pod.get("spec") or {}).get("nodeName") or "",
        "creationTimestamp": metadata.get("creationTimestamp", ""),
        "reason": _reason(pod),
    }


def workload_pods(
    workload: Mapping[str, Any], pods: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Summaries of the pods a ReplicaSet or Deployment selects (by ``matchLabels``), by name."""
    metadata = workload.get("metadata") or {}
    namespace = metadata.get("namespace") or "default"
    selector = ((workload.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    if not selector:
        return []
    chosen = [
        summarise(pod)
        for pod in pods
        if (pod.get("metadata") or {}).get("namespace") == namespace
        and (pod.get("metadata") or {}).get("deletionTimestamp") is None
        and _selected(pod, selector)
    ]
    chosen.sort(key=lambda p: str(p["name"]))
    return chosen[:MAX_PODS]


def service_selector(service: Mapping[str, Any]) -> dict[str, str]:
    """A Service's ``spec.selector`` (empty for a Service without one: its endpoints are managed
    by hand, so kfed cannot count them)."""
    selector = (service.get("spec") or {}).get("selector") or {}
    return {str(k): str(v) for k, v in selector.items()}


def _ready(pod: Mapping[str, Any]) -> bool:
    return _condition(pod, "Ready").get("status") == "True"


def ready_endpoints(service: Mapping[str, Any], pods: Iterable[Mapping[str, Any]]) -> int:
    """How many pods in the Service's namespace its selector picks (every selector label equal)
    that are Ready and not terminating: the endpoints traffic can reach. 0 without a selector."""
    selector = service_selector(service)
    if not selector:
        return 0
    namespace = (service.get("metadata") or {}).get("namespace") or "default"
    return sum(
        1
        for pod in pods
        if (pod.get("metadata") or {}).get("namespace") == namespace
        and (pod.get("metadata") or {}).get("deletionTimestamp") is None
        and _selected(pod, selector)
        and _ready(pod)
    )
