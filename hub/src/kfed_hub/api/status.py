"""The served form of a federated object: its stored manifest plus where it has been applied.

Layer: ``kfed_hub.api``. :func:`propagation` is pure; :func:`served_object` reads the store's
per-cluster states and the cluster directory. It never writes.

``status.clusters`` lists every joined cluster (and any cluster that still reports the object)
with the version it last applied and whether that is the current one; ``status.conditions``
holds a ``Propagated`` condition: True when every joined cluster has applied the current content
version (:func:`kfed_hub.desired.desired_version`).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from typing import Any

from kfed_hub.api.admission import timestamp
from kfed_hub.desired import desired_version
from kfed_hub.ports import ClusterDirectory
from kfed_hub.store.protocol import ClusterObjectState, Store, StoredObject

PROPAGATED = "Propagated"
_NAMES_SHOWN = 5  # clusters named in a condition message; the per-cluster list has them all


def _names(clusters: Sequence[str]) -> str:
    shown = ", ".join(clusters[:_NAMES_SHOWN])
    more = len(clusters) - _NAMES_SHOWN
    return f"{shown} and {more} more" if more > 0 else shown


def propagation(
    version: str, states: Iterable[ClusterObjectState], joined: Sequence[str]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The ``status.clusters`` entries and the ``Propagated`` condition of one object."""
    by_cluster = {state.cluster: state for state in states}
    entries = [
        _entry(cluster, by_cluster.get(cluster), version)
        for cluster in sorted(set(joined) | set(by_cluster))
    ]
    current = {e["cluster"] for e in entries if e["current"]}
    failed = [
        f"{e['cluster']} ({e['reason'] or 'Failed'})"
        for e in entries
        if e["cluster"] in joined and e["outcome"] == "Failed" and e["version"] == version
    ]
    waiting = [c for c in sorted(joined) if c not in current]
    condition: dict[str, Any] = {"type": PROPAGATED}
    if not joined:
        condition.update(
            status="False",
            reason="NoClusters",
            message="no member cluster has joined yet (`kfed token create` makes a join token)",
        )
    elif not waiting:
        condition.update(
            status="True", reason="Applied", message=f"applied in all {len(joined)} clusters"
        )
    elif failed:
        condition.update(
            status="False",
            reason="ApplyFailed",
            message=f"failed in {len(failed)} of {len(joined)} clusters: {_names(failed)}",
        )
    else:
        condition.update(
            status="False",
            reason="Pending",
            message=f"applied in {len(joined) - len(waiting)} of {len(joined)} clusters; "
            f"waiting for {_names(waiting)}",
        )
    return entries, condition


def _entry(cluster: str, state: ClusterObjectState | None, version: str) -> dict[str, Any]:
    if state is None:
        return {
            "cluster": cluster,
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
        "version": state.version,
        "current": state.version == version and state.outcome == "Applied",
        "outcome": state.outcome or "Pending",
        "reason": state.reason,
        "message": state.message,
        "observed": copy.deepcopy(dict(state.status)) if state.status else None,
        "updatedAt": timestamp(state.updated_at) if state.updated_at else None,
    }


def decorate(
    stored: StoredObject, states: Iterable[ClusterObjectState], joined: Sequence[str]
) -> dict[str, Any]:
    """The served form: a copy of the manifest with resourceVersion and the status added."""
    manifest = copy.deepcopy(dict(stored.manifest))
    metadata = manifest.setdefault("metadata", {})
    metadata["resourceVersion"] = str(stored.revision)
    entries, condition = propagation(desired_version(stored.manifest), states, joined)
    status = dict(manifest.get("status") or {})
    if manifest.get("kind") == "Namespace":
        status.setdefault("phase", "Active")
    status["clusters"] = entries
    others = [c for c in status.get("conditions") or [] if c.get("type") != PROPAGATED]
    status["conditions"] = [*others, condition]
    manifest["status"] = status
    return manifest


async def served_object(
    stored: StoredObject, *, store: Store, clusters: ClusterDirectory
) -> dict[str, Any]:
    """The served form of one object."""
    joined = [view.name for view in clusters.list_clusters()]
    return decorate(stored, await store.object_states(key=stored.key), joined)


async def served_objects(
    objects: Sequence[StoredObject], *, store: Store, clusters: ClusterDirectory
) -> list[dict[str, Any]]:
    """The served forms of many objects (one state query for a big list, one per object else)."""
    joined = [view.name for view in clusters.list_clusters()]
    if len(objects) > 50:
        states_by_key: dict[Any, list[ClusterObjectState]] = {}
        for state in await store.object_states():
            states_by_key.setdefault(state.key, []).append(state)
        return [decorate(o, states_by_key.get(o.key, []), joined) for o in objects]
    return [decorate(o, await store.object_states(key=o.key), joined) for o in objects]
