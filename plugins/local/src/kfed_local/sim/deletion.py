"""Deletion with kube-apiserver's semantics: preconditions, finalizers, graceful pods, propagation.

Layer: API logic (called by :class:`kfed_local.sim.api.ClusterApi` and the HTTP server).

* Preconditions on uid and resourceVersion answer 409 Conflict when they do not hold.
* ``propagationPolicy: Orphan`` and ``Foreground`` add the ``orphan`` / ``foregroundDeletion``
  finalizers that the garbage collector acts on; ``Background`` (the default) deletes the owner
  now and leaves its dependents to the collector.
* An object with finalizers, a namespace with ``spec.finalizers``, or a pod bound to a node gets
  ``deletionTimestamp`` (and ``deletionGracePeriodSeconds``) and stays until they are done; the
  kubelet of the simulated node confirms a pod's deletion.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kfed_local.sim import errors, objects
from kfed_local.sim.resources import ResourceType

if TYPE_CHECKING:
    from kfed_local.sim.api import ClusterApi, RequestContext, Selectors

ORPHAN = "orphan"
FOREGROUND = "foregroundDeletion"
_POLICIES = ("Orphan", "Background", "Foreground")
_RETURNS_DELETED_OBJECT = frozenset({"/pods"})


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteOptions:
    """The parts of ``meta/v1 DeleteOptions`` the simulator honours."""

    grace_period_seconds: int | None = None
    propagation_policy: str | None = None
    precondition_uid: str | None = None
    precondition_rv: str | None = None

    @classmethod
    def from_body(cls, body: Mapping[str, Any] | None, query: Mapping[str, str]) -> DeleteOptions:
        """Options from a DeleteOptions body and query parameters (the query wins)."""
        body = body or {}
        preconditions = body.get("preconditions") or {}
        policy = query.get("propagationPolicy") or body.get("propagationPolicy")
        orphan = query.get("orphanDependents", body.get("orphanDependents"))
        if policy is None and orphan is not None:
            policy = "Orphan" if str(orphan).lower() == "true" else "Background"
        if policy is not None and policy not in _POLICIES:
            raise errors.invalid_options(
                "propagationPolicy",
                policy,
                'supported values: "Orphan", "Background", "Foreground"',
            )
        grace: Any = query.get("gracePeriodSeconds", body.get("gracePeriodSeconds"))
        if grace is not None:
            try:
                grace = int(grace)
            except (TypeError, ValueError):
                raise errors.bad_request(
                    f"gracePeriodSeconds must be an integer, got {grace!r}"
                ) from None
            if grace < 0:
                grace = 1  # kube-apiserver treats negative grace periods as 1 second
        return cls(
            grace_period_seconds=grace,
            propagation_policy=policy,
            precondition_uid=preconditions.get("uid"),
            precondition_rv=preconditions.get("resourceVersion"),
        )


@dataclass(frozen=True, slots=True)
class DeleteResult:
    """What to answer: the object (deletion pending, or a pod) or a success Status."""

    body: dict[str, Any]
    deleted: bool


def pending_finalizers(obj: Mapping[str, Any]) -> list[str]:
    """Finalizers that keep an object alive (a namespace's ``spec.finalizers`` count too)."""
    pending = list(objects.meta(obj).get("finalizers") or ())
    if obj.get("kind") == "Namespace":
        pending += list((obj.get("spec") or {}).get("finalizers") or ())
    return pending


def delete(
    api: ClusterApi,
    rt: ResourceType,
    namespace: str,
    name: str,
    options: DeleteOptions,
    ctx: RequestContext,
) -> DeleteResult:
    """DELETE one object."""
    key_ns = namespace if rt.namespaced else ""
    entry = api.store.get(rt.storage_key, key_ns, name)
    if entry is None:
        raise errors.not_found(rt.plural, rt.group, name)
    old = entry.obj
    meta = old["metadata"]
    if options.precondition_uid and options.precondition_uid != meta.get("uid"):
        raise errors.conflict(
            rt.plural,
            rt.group,
            name,
            f"Precondition failed: UID in precondition: {options.precondition_uid}, "
            f"UID in object meta: {meta.get('uid')}",
        )
    if options.precondition_rv and options.precondition_rv != meta.get("resourceVersion"):
        raise errors.conflict(
            rt.plural,
            rt.group,
            name,
            f"Precondition failed: ResourceVersion in precondition: {options.precondition_rv}, "
            f"ResourceVersion in object meta: {meta.get('resourceVersion')}",
        )
    finalizers = list(meta.get("finalizers") or ())
    policy = options.propagation_policy
    for wanted, marker in (("Orphan", ORPHAN), ("Foreground", FOREGROUND)):
        if policy == wanted and marker not in finalizers:
            finalizers.append(marker)
    if policy in ("Background", "Foreground"):
        finalizers = [f for f in finalizers if f != ORPHAN or policy != "Background"]
        if policy == "Background":
            finalizers = [f for f in finalizers if f != FOREGROUND]
    grace = _grace_period(rt, old, options)
    now = api.clock()
    updated = objects.clone(old)
    updated_meta = updated["metadata"]
    updated_meta["finalizers"] = finalizers
    if not finalizers:
        del updated_meta["finalizers"]
    keep = bool(finalizers) or bool(pending_finalizers(updated)) or grace > 0
    if objects.is_terminating(old):
        current_grace = meta.get("deletionGracePeriodSeconds", 0)
        if grace < current_grace:
            updated_meta["deletionGracePeriodSeconds"] = grace
            updated_meta["deletionTimestamp"] = objects.rfc3339(now + dt.timedelta(seconds=grace))
        if not keep:
            return _remove_now(api, rt, key_ns, name, ctx, updated)
        return DeleteResult(_store_if_changed(api, rt, old, updated, ctx), deleted=False)
    if not keep:
        return _remove_now(api, rt, key_ns, name, ctx, old)
    updated_meta["deletionTimestamp"] = objects.rfc3339(now + dt.timedelta(seconds=grace))
    updated_meta["deletionGracePeriodSeconds"] = grace
    if "generation" in updated_meta:
        updated_meta["generation"] += 1
    if rt.storage_key == "/namespaces":
        updated.setdefault("status", {})["phase"] = "Terminating"
    return DeleteResult(_store_if_changed(api, rt, old, updated, ctx), deleted=False)


def delete_if_present(
    api: ClusterApi,
    rt: ResourceType,
    namespace: str,
    name: str,
    options: DeleteOptions,
    ctx: RequestContext,
) -> bool:
    """Delete an object a controller saw a moment ago; False if it was already gone."""
    try:
        delete(api, rt, namespace, name, options, ctx)
    except errors.ApiError as exc:
        if exc.code != 404:
            raise
        return False
    return True


def _grace_period(rt: ResourceType, obj: Mapping[str, Any], options: DeleteOptions) -> int:
    if rt.storage_key != "/pods":
        return 0
    spec = obj.get("spec") or {}
    if not spec.get("nodeName"):
        return 0  # never scheduled: nothing to stop
    if (obj.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
        return 0
    if options.grace_period_seconds is not None:
        return options.grace_period_seconds
    return int(spec.get("terminationGracePeriodSeconds", 30))


def _store_if_changed(
    api: ClusterApi,
    rt: ResourceType,
    old: Mapping[str, Any],
    updated: dict[str, Any],
    ctx: RequestContext,
) -> dict[str, Any]:
    if updated == old or ctx.dry_run:
        return updated
    return api.store.put(rt.storage_key, updated).obj


def _remove_now(
    api: ClusterApi,
    rt: ResourceType,
    key_ns: str,
    name: str,
    ctx: RequestContext,
    last: Mapping[str, Any],
) -> DeleteResult:
    final: Mapping[str, Any] = last
    if not ctx.dry_run:
        removed = api.store.remove(rt.storage_key, key_ns, name)
        assert removed is not None  # looked up in the same synchronous call
        api.allocator.release(rt, removed.obj)
        final = removed.obj
    if rt.storage_key in _RETURNS_DELETED_OBJECT:
        return DeleteResult(dict(final), deleted=True)
    return DeleteResult(success_status(rt, final), deleted=True)


def success_status(rt: ResourceType, obj: Mapping[str, Any]) -> dict[str, Any]:
    """The ``Status`` kube-apiserver answers after deleting an object."""
    details: dict[str, Any] = {"name": objects.name_of(obj), "kind": rt.plural}
    if rt.group:
        details["group"] = rt.group
    uid = objects.meta(obj).get("uid")
    if uid:
        details["uid"] = uid
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": details,
    }


def delete_collection(
    api: ClusterApi,
    rt: ResourceType,
    namespace: str | None,
    selectors: Selectors,
    options: DeleteOptions,
    ctx: RequestContext,
) -> dict[str, Any]:
    """DELETE a collection: every matching object, each with the same options."""
    if options.precondition_uid or options.precondition_rv:
        raise errors.bad_request("preconditions are not allowed when deleting a collection")
    page = api.list_objects(rt, namespace, selectors)
    for entry in page.items:
        try:
            delete(
                api, rt, objects.namespace_of(entry.obj), objects.name_of(entry.obj), options, ctx
            )
        except errors.ApiError as exc:
            if exc.code != 404:  # deleted meanwhile by a cascade: fine
                raise
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}
