"""Kind-specific federated status: replica sums and conditions of workloads, load balancer
addresses of Services, and the ``Scheduled`` condition of a placement.

Layer: ``kfed_hub.api``, pure (values in, values out; no clock, no I/O). :mod:`.status` calls it
with the per-cluster entries it built (``cluster``, ``placed``, ``replicas`` planned,
``observed`` status) and the clusters that are Ready.

Rules:

* Sums count only clusters that are Ready: what a NotReady or Offline cluster last reported is
  shown per cluster but is stale, and counting it twice during a failover (its old replicas and
  their replacements) would overstate what runs.
* ``status.observedGeneration`` is left out. The federated object's generation is the hub's;
  each member counts its own, and its manifest differs from the hub's (its planned replicas,
  overrides), so no member's ``observedGeneration`` says anything about the hub's generation.
  Whether a member runs the current spec is ``status.clusters[].current`` (content versions).
* ``Available`` is kept apart from ``Propagated`` ("applied in cluster X"): it is True when the
  available replicas reach every replica asked for (the object's ``spec.replicas``, or more when
  the hub asks the members for more, as without placement, where each member runs the whole).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from kfed_core.addresses import load_balancer_ingress as global_ingress_item
from kfed_core.keys import CORE_GROUP, ResourceKey
from kfed_hub.ingress.state import CONDITION as LB_CONDITION
from kfed_hub.ingress.state import IngressLoadBalancer
from kfed_hub.ports import ObjectPlacement

SCHEDULED = "Scheduled"
AVAILABLE = "Available"
WORKLOAD_GROUPS = frozenset({"apps", "extensions"})
WORKLOAD_KINDS = frozenset({"ReplicaSet", "Deployment"})
SUMMED: dict[str, tuple[str, ...]] = {
    "ReplicaSet": ("replicas", "fullyLabeledReplicas", "readyReplicas", "availableReplicas"),
    "Deployment": ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas"),
}
_NAMES_SHOWN = 5  # clusters named in a condition message; the per-cluster list has them all


def names(items: Sequence[str]) -> str:
    """``a, b, c`` and, past five, ``... and 4 more``."""
    shown = ", ".join(items[:_NAMES_SHOWN])
    more = len(items) - _NAMES_SHOWN
    return f"{shown} and {more} more" if more > 0 else shown


def clusters_text(count: int) -> str:
    return f"{count} cluster" if count == 1 else f"{count} clusters"


def is_workload(key: ResourceKey) -> bool:
    """ReplicaSets and Deployments, current (apps) and legacy (extensions)."""
    return key.group in WORKLOAD_GROUPS and key.kind in WORKLOAD_KINDS


def is_ingress(key: ResourceKey) -> bool:
    """Ingresses, current (networking.k8s.io) and legacy (extensions)."""
    return key.group in ("networking.k8s.io", "extensions") and key.kind == "Ingress"


def global_load_balancer(state: IngressLoadBalancer | None) -> dict[str, Any]:
    """A federated Ingress's ``status.loadBalancer``: its one global address, once it has one
    (an IP as ``ip``, a DNS name as ``hostname``), never the members' own addresses."""
    if state is None or not state.address:
        return {}
    return {"ingress": [global_ingress_item(state.address)]}


def load_balancer_condition(state: IngressLoadBalancer) -> dict[str, Any]:
    """``GlobalLoadBalancer``: True when it serves; else the reason and what to do."""
    return {
        "type": LB_CONDITION,
        "status": state.condition_status(),
        "reason": state.reason,
        "message": state.message,
    }


def load_balancer_summary(state: IngressLoadBalancer) -> dict[str, Any]:
    """``status.globalLoadBalancer``: provider, name, address and how many clusters serve."""
    return {
        "provider": state.provider,
        "name": state.name,
        "address": state.address,
        "backends": state.backends,
        "serving": state.serving,
    }


def is_service(key: ResourceKey) -> bool:
    return key.group == CORE_GROUP and key.kind == "Service"


def spec_replicas(manifest: Mapping[str, Any]) -> int:
    """``spec.replicas``, 1 when absent (Kubernetes' default), 0 when not a count."""
    spec = manifest.get("spec")
    value = spec.get("replicas", 1) if isinstance(spec, Mapping) else 1
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _count(observed: Any, field: str) -> int:
    value = observed.get(field) if isinstance(observed, Mapping) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def workload_status(
    kind: str, entries: Sequence[Mapping[str, Any]], ready: Collection[str]
) -> dict[str, int]:
    """The federated replica counts: each field summed over the Ready clusters' reports."""
    counted = [e.get("observed") for e in entries if e["cluster"] in ready]
    return {field: sum(_count(o, field) for o in counted) for field in SUMMED[kind]}


def available_condition(
    wanted: int, entries: Sequence[Mapping[str, Any]], ready: Collection[str], unplaced: int
) -> dict[str, Any]:
    """``Available``: True when the Ready clusters' available replicas reach ``wanted`` (the
    replicas asked for); otherwise False, naming the placed clusters short of their plan."""
    available = {
        e["cluster"]: _count(e.get("observed"), "availableReplicas")
        for e in entries
        if e["cluster"] in ready
    }
    total = sum(available.values())
    serving = sum(1 for count in available.values() if count > 0)
    if total >= wanted:
        return {
            "type": AVAILABLE,
            "status": "True",
            "reason": "ReplicasAvailable",
            "message": f"{total}/{wanted} replicas available in {clusters_text(serving)}",
        }
    short = []
    for entry in entries:
        planned, cluster = int(entry.get("replicas") or 0), entry["cluster"]
        if not entry.get("placed") or planned <= 0:
            continue
        if cluster not in ready:
            short.append(f"{cluster} (not Ready)")
        elif available[cluster] < planned:
            short.append(f"{cluster} ({available[cluster]}/{planned})")
    parts = [f"{total}/{wanted} replicas available"]
    if short:
        parts.append(f"short in {names(short)}")
    if unplaced:
        parts.append(f"{unplaced} could not be placed in any cluster")
    return {
        "type": AVAILABLE,
        "status": "False",
        "reason": "ReplicasUnavailable",
        "message": "; ".join(parts),
    }


def load_balancer_ingress(entries: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Every placed cluster's ``status.loadBalancer.ingress`` entries, by cluster name."""
    found: list[dict[str, Any]] = []
    for entry in entries:
        observed = entry.get("observed")
        if not entry.get("placed") or not isinstance(observed, Mapping):
            continue
        balancer = observed.get("loadBalancer")
        ingress = balancer.get("ingress") if isinstance(balancer, Mapping) else None
        for item in ingress if isinstance(ingress, list) else []:
            if isinstance(item, Mapping):
                found.append(dict(item))
    return found


def scheduled_condition(
    placement: ObjectPlacement | None, *, workload: bool, wanted: int
) -> dict[str, Any]:
    """``Scheduled``: where the hub placed the object, or what kept it from placing it well."""
    condition: dict[str, Any] = {"type": SCHEDULED}
    if placement is None:
        return condition | {
            "status": "False",
            "reason": "Pending",
            "message": "the hub has not placed this object yet",
        }
    problems = list(placement.problems)
    if placement.unplaced:
        problems.append(
            f"{placement.unplaced} of {wanted} replicas could not be placed in any cluster"
        )
    if problems:
        reason = "PlacementProblem" if placement.problems else "Unschedulable"
        return condition | {"status": "False", "reason": reason, "message": "; ".join(problems)}
    if not placement.clusters:
        return condition | {
            "status": "False",
            "reason": "NoClusters",
            "message": "its placement selects no member cluster",
        }
    if workload and placement.replicas is not None:
        running = sorted(c for c, n in placement.replicas.items() if n > 0)
        total = sum(placement.replicas.values())
        message = f"{total} replicas in {clusters_text(len(running))}"
    else:
        message = f"placed in {clusters_text(len(placement.clusters))}"
    return condition | {"status": "True", "reason": "Scheduled", "message": message}
