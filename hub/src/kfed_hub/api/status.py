"""The served form of a federated object: its stored manifest plus where it is placed, what each
member cluster reports, and the federated status aggregated from those reports.

Layer: ``kfed_hub.api``. :func:`propagation` and :func:`decorate` are pure; :func:`served_object`
reads the store's per-cluster states, the cluster directory and the reconciler's placements. It
never writes.

``status.clusters`` has one entry per cluster the object is placed in (every joined cluster when
the hub runs without placements) and per cluster that still reports it (``placed: false``, say a
cluster it moved away from, until that cluster removes it): the version it last applied, whether
that is the current one, its outcome, the observed ``.status``, the planned ``replicas`` of a
workload and the ``explanation`` of the placement. ``status.conditions``: ``Scheduled`` (with
placements), ``Propagated`` (every placed cluster applied the current content version) and, for
workloads, ``Available``; see :mod:`.aggregate` for the sums and the Service addresses.

The current version of a cluster is what the hub sends it. Without placements that is one
version for all (:func:`kfed_hub.desired.desired_version`); with them each cluster's manifest
differs (its replicas, overrides, a translated legacy apiVersion), and the placement's
``versions`` say which one each cluster should hold.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from kfed_hub.api import aggregate
from kfed_hub.api.admission import timestamp
from kfed_hub.desired import desired_version
from kfed_hub.ingress.state import CONDITION as LB_CONDITION
from kfed_hub.ingress.state import IngressLoadBalancer
from kfed_hub.ports import (
    ClusterDirectory,
    ClusterStatus,
    IngressStatuses,
    ObjectPlacement,
    Placements,
)
from kfed_hub.store.protocol import ClusterObjectState, Store, StoredObject

PROPAGATED = "Propagated"
_OWN_CONDITIONS = frozenset({PROPAGATED, aggregate.SCHEDULED, aggregate.AVAILABLE, LB_CONDITION})


def propagation(
    version: str,
    states: Iterable[ClusterObjectState],
    placed: Sequence[str],
    *,
    joined: Sequence[str] | None = None,
    versions: Mapping[str, str] | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The ``status.clusters`` entries and the ``Propagated`` condition of one object placed in
    ``placed`` (``joined``: every joined cluster, when it differs). ``versions``: the current
    version per cluster where it is not ``version``."""
    by_cluster = {state.cluster: state for state in states}
    reporting = {c for c, s in by_cluster.items() if c in placed or s.outcome != "Removed"}
    wanted = {c: (versions or {}).get(c) or version for c in set(placed) | reporting}
    entries = [
        _entry(cluster, by_cluster.get(cluster), wanted[cluster], placed=cluster in placed)
        for cluster in sorted(wanted)
    ]
    current = {e["cluster"] for e in entries if e["current"]}
    failed = [
        f"{e['cluster']} ({e['reason'] or 'Failed'})"
        for e in entries
        if e["placed"] and e["outcome"] == "Failed" and e["version"] == wanted[e["cluster"]]
    ]
    waiting = [c for c in sorted(placed) if c not in current]
    condition: dict[str, Any] = {"type": PROPAGATED}
    if not placed:
        no_members = not (placed if joined is None else joined)
        condition.update(
            status="False",
            reason="NoClusters",
            message="no member cluster has joined yet (`kfed token create` makes a join token)"
            if no_members
            else "it is placed in no member cluster (see the Scheduled condition)",
        )
    elif not waiting:
        condition.update(
            status="True",
            reason="Applied",
            message=f"applied in all {aggregate.clusters_text(len(placed))}",
        )
    elif failed:
        condition.update(
            status="False",
            reason="ApplyFailed",
            message=f"failed in {len(failed)} of {len(placed)} clusters: {aggregate.names(failed)}",
        )
    else:
        condition.update(
            status="False",
            reason="Pending",
            message=f"applied in {len(placed) - len(waiting)} of {len(placed)} clusters; "
            f"waiting for {aggregate.names(waiting)}",
        )
    return entries, condition


def _entry(
    cluster: str, state: ClusterObjectState | None, version: str, *, placed: bool
) -> dict[str, Any]:
    if state is None:
        return {
            "cluster": cluster,
            "placed": placed,
            "version": "",
            "current": False,
            "outcome": "Pending",
            "reason": "",
            "message": "",
            "observed": None,
            "updatedAt": None,
        }
    return {
        "cluster": cluster,
        "placed": placed,
        "version": state.version,
        "current": state.version == version and state.outcome == "Applied",
        "outcome": state.outcome or "Pending",
        "reason": state.reason,
        "message": state.message,
        "observed": copy.deepcopy(dict(state.status)) if state.status else None,
        "updatedAt": timestamp(state.updated_at) if state.updated_at else None,
    }


def decorate(
    stored: StoredObject,
    states: Iterable[ClusterObjectState],
    joined: Sequence[str],
    *,
    placement: ObjectPlacement | None = None,
    scheduling: bool = False,
    ready: Collection[str] | None = None,
    versions: Mapping[str, str] | None = None,
    load_balancer: IngressLoadBalancer | None = None,
) -> dict[str, Any]:
    """The served form: a copy of the manifest with resourceVersion and the status added.

    ``scheduling`` False: the hub runs without placements, so the object is placed in every
    joined cluster (``placement`` is ignored). ``ready``: clusters whose reports are current
    (default: every joined cluster). ``versions``: per cluster, the version the hub sends it
    (default: the stored manifest's). ``load_balancer``: a federated Ingress's global load
    balancer, shown as its ``status.loadBalancer`` and ``GlobalLoadBalancer`` condition.
    """
    manifest = copy.deepcopy(dict(stored.manifest))
    manifest.setdefault("metadata", {})["resourceVersion"] = str(stored.revision)
    key, ready = stored.key, set(joined) if ready is None else set(ready)
    if not scheduling:
        placement = None
    placed = list(joined) if not scheduling else list(placement.clusters if placement else ())
    entries, propagated = propagation(
        desired_version(stored.manifest), states, placed, joined=joined, versions=versions
    )
    explanations: Mapping[str, str] = placement.explanations if placement else {}
    for entry in entries:
        entry["explanation"] = explanations.get(entry["cluster"], "")
    status = dict(manifest.get("status") or {})
    status.pop("observedGeneration", None)  # why: see kfed_hub.api.aggregate
    if key.kind == "Namespace":
        status.setdefault("phase", "Active")
    wanted = aggregate.spec_replicas(manifest)
    workload = aggregate.is_workload(key)
    conditions = [c for c in status.get("conditions") or [] if c.get("type") not in _OWN_CONDITIONS]
    if scheduling:
        conditions.append(
            aggregate.scheduled_condition(placement, workload=workload, wanted=wanted)
        )
    conditions.append(propagated)
    if workload:
        plan = placement.replicas if placement else None
        for entry in entries:
            own = wanted if entry["placed"] else 0
            entry["replicas"] = own if plan is None else int(plan.get(entry["cluster"], 0))
        status.update(aggregate.workload_status(key.kind, entries, ready))
        asked = max(wanted, sum(e["replicas"] for e in entries if e["placed"]))
        unplaced = placement.unplaced if placement else 0
        conditions.append(aggregate.available_condition(asked, entries, ready, unplaced))
    if aggregate.is_service(key):
        ingress = aggregate.load_balancer_ingress(entries)
        status["loadBalancer"] = {"ingress": ingress} if ingress else {}
    if aggregate.is_ingress(key):
        status["loadBalancer"] = aggregate.global_load_balancer(load_balancer)
        if load_balancer is not None:
            conditions.append(aggregate.load_balancer_condition(load_balancer))
            status["globalLoadBalancer"] = aggregate.load_balancer_summary(load_balancer)
    status["clusters"] = entries
    status["conditions"] = conditions
    manifest["status"] = status
    return manifest


def _fleet(clusters: ClusterDirectory) -> tuple[list[str], set[str]]:
    views = clusters.list_clusters()
    return [v.name for v in views], {v.name for v in views if v.status == ClusterStatus.READY}


def _served(
    stored: StoredObject,
    states: Iterable[ClusterObjectState],
    joined: Sequence[str],
    ready: Collection[str],
    placements: Placements | None,
    ingresses: IngressStatuses | None = None,
) -> dict[str, Any]:
    lb = ingresses.load_balancer(stored.key) if ingresses is not None else None
    if placements is None:
        return decorate(stored, states, joined, ready=ready, load_balancer=lb)
    placement = placements.placement(stored.key)
    return decorate(
        stored,
        states,
        joined,
        placement=placement,
        scheduling=True,
        ready=ready,
        versions=placement.versions if placement is not None else None,
        load_balancer=lb,
    )


async def served_object(
    stored: StoredObject,
    *,
    store: Store,
    clusters: ClusterDirectory,
    placements: Placements | None = None,
    ingresses: IngressStatuses | None = None,
) -> dict[str, Any]:
    """The served form of one object."""
    joined, ready = _fleet(clusters)
    states = await store.object_states(key=stored.key)
    return _served(stored, states, joined, ready, placements, ingresses)


async def served_objects(
    objects: Sequence[StoredObject],
    *,
    store: Store,
    clusters: ClusterDirectory,
    placements: Placements | None = None,
    ingresses: IngressStatuses | None = None,
) -> list[dict[str, Any]]:
    """The served forms of many objects (one state query for a big list, one per object else)."""
    joined, ready = _fleet(clusters)
    if len(objects) > 50:
        states_by_key: dict[Any, list[ClusterObjectState]] = {}
        for state in await store.object_states():
            states_by_key.setdefault(state.key, []).append(state)
    else:
        states_by_key = {o.key: await store.object_states(key=o.key) for o in objects}
    return [
        _served(o, states_by_key.get(o.key, []), joined, ready, placements, ingresses)
        for o in objects
    ]
