"""Write rules kube-apiserver applies to every update: what a client may not change, and when.

Layer: pure (below the API logic). Which metadata a write carries over from the stored object,
which half of an object a status or finalize write may touch, when ``metadata.generation``
moves, when a write is a no-op, and which fields server-side apply never tracks for a resource.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kfed_local.sim import objects
from kfed_local.sim.apply import NO_RESET, ResetFields
from kfed_local.sim.resources import ResourceType

# Kinds whose metadata.generation kube-apiserver maintains (custom resources always have one).
GENERATION_KINDS = frozenset(
    {
        "apps/deployments",
        "apps/replicasets",
        "/pods",
        "apiextensions.k8s.io/customresourcedefinitions",
    }
)


def keep_unwritable(
    rt: ResourceType,
    old: Mapping[str, Any],
    new: dict[str, Any],
    subresource: str | None,
) -> dict[str, Any]:
    """Carry over what a write may not change: identity metadata, the other half of status."""
    old_meta = old["metadata"]
    meta = new.setdefault("metadata", {})
    for key in (
        "uid",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "generation",
    ):
        if key in old_meta:
            meta[key] = old_meta[key]
        else:
            meta.pop(key, None)
    if subresource == "finalize":
        kept = objects.clone(dict(old))
        kept["metadata"]["resourceVersion"] = meta.get(
            "resourceVersion", old_meta.get("resourceVersion")
        )
        kept.setdefault("spec", {})["finalizers"] = (new.get("spec") or {}).get("finalizers", [])
        return kept
    if subresource == "status":
        kept = {k: v for k, v in old.items() if k not in ("status", "metadata")}
        kept["metadata"] = objects.clone(old_meta) | {
            "resourceVersion": meta.get("resourceVersion", old_meta.get("resourceVersion"))
        }
        if "managedFields" in meta:
            kept["metadata"]["managedFields"] = meta["managedFields"]
        if "status" in new:
            kept["status"] = new["status"]
        return kept
    if "status" in rt.subresources:
        if "status" in old:
            new["status"] = old["status"]
        else:
            new.pop("status", None)
    return new


def reset_for(rt: ResourceType, subresource: str | None) -> ResetFields | None:
    # Without a status subresource, status is written (and owned) through the main resource.
    if subresource is None and "status" not in rt.subresources:
        return NO_RESET
    return None


def tracks_generation(rt: ResourceType) -> bool:
    return rt.is_custom or rt.storage_key in GENERATION_KINDS


def spec_changed(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    ignored = {"metadata", "status", "apiVersion", "kind"}
    old_rest = {k: v for k, v in old.items() if k not in ignored}
    new_rest = {k: v for k, v in new.items() if k not in ignored}
    if old_rest != new_rest:
        return True
    # Setting deletionTimestamp bumps the generation too (graceful deletion does that).
    return bool(new.get("metadata", {}).get("deletionTimestamp")) and not old["metadata"].get(
        "deletionTimestamp"
    )


def semantically_equal(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    def strip(obj: Mapping[str, Any]) -> dict[str, Any]:
        meta = {
            k: v
            for k, v in obj.get("metadata", {}).items()
            if k not in ("managedFields", "resourceVersion")
        }
        managers = [
            {k: v for k, v in entry.items() if k != "time"}
            for entry in obj.get("metadata", {}).get("managedFields", ())
        ]
        return {**obj, "metadata": meta, "__managers": managers}

    return strip(old) == strip(new)
