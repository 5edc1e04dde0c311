"""The garbage collector: dependents follow their owners through ``ownerReferences``.

Layer: controllers. Keeps an index from owner uid to dependents, built from every change, and:

* deletes dependents whose owners are all gone (background propagation, and dangling references
  to owners that never existed), or drops the reference when other owners remain;
* for an owner terminating with the ``orphan`` finalizer, removes its references from the
  dependents, then the finalizer;
* for an owner terminating with ``foregroundDeletion``, deletes its dependents first and removes
  the finalizer once no dependent with ``blockOwnerDeletion`` is left.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any

from kfed_local.sim import deletion, objects
from kfed_local.sim.controllers.base import Controller, ControllerContext
from kfed_local.sim.resources import ResourceType
from kfed_local.sim.store import Change

Ref = tuple[str, str, str]  # (storage key, namespace, name)


class GarbageCollector(Controller):
    """Deletes and orphans dependents as kube-controller-manager's garbage collector does."""

    name = "garbage-collector"
    manager = "kube-controller-manager"
    watches = ("*",)

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)
        self._dependents: dict[str, set[Ref]] = {}
        self._owners_of: dict[Ref, set[str]] = {}
        self._uids: dict[str, Ref] = {}

    def resync(self) -> Iterable[Hashable]:
        keys: list[Hashable] = []
        for storage_key in self.api.store.storage_keys():
            for entry in self.api.store.items(storage_key):
                keys.extend(self._index(storage_key, entry.obj, deleted=False))
        return keys

    def keys_for(self, change: Change) -> Iterable[Hashable]:
        return self._index(change.storage_key, change.obj, deleted=change.type == "DELETED")

    def _index(self, storage_key: str, obj: dict[str, Any], *, deleted: bool) -> list[Hashable]:
        meta = obj["metadata"]
        ref: Ref = (storage_key, meta.get("namespace", ""), meta["name"])
        uid = meta.get("uid", "")
        keys: list[Hashable] = []
        for owner_uid in self._owners_of.pop(ref, set()):
            self._dependents.get(owner_uid, set()).discard(ref)
        if deleted:
            self._uids.pop(uid, None)
            if self._dependents.get(uid):
                keys.append(("owner-gone", uid))
            return keys
        self._uids[uid] = ref
        owners = {o.get("uid", "") for o in meta.get("ownerReferences") or ()}
        if owners:
            self._owners_of[ref] = owners
            for owner_uid in owners:
                self._dependents.setdefault(owner_uid, set()).add(ref)
                if owner_uid not in self._uids:
                    keys.append(("dangling", ref))
        finalizers = meta.get("finalizers") or ()
        if meta.get("deletionTimestamp") and (
            deletion.ORPHAN in finalizers or deletion.FOREGROUND in finalizers
        ):
            keys.append(("finalize", ref))
        if meta.get("deletionTimestamp") and self._dependents.get(uid):
            # A terminating owner with foreground dependents rechecks as they go.
            keys.append(("finalize", ref))
        for owner_uid in owners:
            owner_ref = self._uids.get(owner_uid)
            if owner_ref is not None:
                keys.append(("finalize", owner_ref))
        return keys

    def reconcile(self, key: Any) -> float | None:
        kind, target = key
        if kind == "owner-gone":
            for ref in list(self._dependents.get(target, ())):
                self._collect(ref)
            if not self._dependents.get(target):
                self._dependents.pop(target, None)
            return None
        if kind == "dangling":
            return self._collect(target)
        return self._finalize(target)

    def _type_of(self, storage_key: str) -> ResourceType | None:
        types = self.api.registry.for_storage_key(storage_key)
        return types[0] if types else None

    def _collect(self, ref: Ref) -> float | None:
        """Delete a dependent whose owners are all gone, or drop references to gone owners."""
        storage_key, namespace, name = ref
        entry = self.api.store.get(storage_key, namespace, name)
        rt = self._type_of(storage_key)
        if entry is None or rt is None:
            return None
        refs = entry.obj["metadata"].get("ownerReferences") or []
        alive = [r for r in refs if r.get("uid") in self._uids]
        if len(alive) == len(refs):
            return None
        if alive:
            updated = objects.clone(entry.obj)
            updated["metadata"]["ownerReferences"] = alive
            self.api.update(rt, namespace, name, updated, self.writer)
            return None
        if objects.is_terminating(entry.obj):
            return None
        deletion.delete_if_present(
            self.api,
            rt,
            namespace,
            name,
            deletion.DeleteOptions(propagation_policy="Background"),
            self.writer,
        )
        return None

    def _finalize(self, ref: Ref) -> float | None:
        storage_key, namespace, name = ref
        entry = self.api.store.get(storage_key, namespace, name)
        rt = self._type_of(storage_key)
        if entry is None or rt is None or not objects.is_terminating(entry.obj):
            return None
        owner = entry.obj
        uid = owner["metadata"]["uid"]
        finalizers = list(owner["metadata"].get("finalizers") or ())
        dependents = [d for d in self._dependents.get(uid, ()) if self._exists(d)]
        if deletion.ORPHAN in finalizers:
            for dependent in dependents:
                self._drop_reference(dependent, uid)
            finalizers.remove(deletion.ORPHAN)
        elif deletion.FOREGROUND in finalizers:
            blocking = 0
            for dependent in dependents:
                blocking += self._delete_for_foreground(dependent, uid)
            if blocking:
                return 0.2
            finalizers.remove(deletion.FOREGROUND)
        else:
            return None
        updated = objects.clone(owner)
        updated["metadata"]["finalizers"] = finalizers
        self.api.update(rt, namespace, name, updated, self.writer)
        return None

    def _exists(self, ref: Ref) -> bool:
        return self.api.store.get(*ref) is not None

    def _drop_reference(self, ref: Ref, owner_uid: str) -> None:
        entry = self.api.store.get(*ref)
        rt = self._type_of(ref[0])
        if entry is None or rt is None:
            return
        updated = objects.clone(entry.obj)
        refs = [
            r for r in updated["metadata"].get("ownerReferences") or () if r.get("uid") != owner_uid
        ]
        updated["metadata"]["ownerReferences"] = refs
        if not refs:
            del updated["metadata"]["ownerReferences"]
        self.api.update(rt, ref[1], ref[2], updated, self.writer)

    def _delete_for_foreground(self, ref: Ref, owner_uid: str) -> int:
        """Delete a dependent of a foreground deletion; 1 if it still blocks its owner."""
        entry = self.api.store.get(*ref)
        rt = self._type_of(ref[0])
        if entry is None or rt is None:
            return 0
        blocks = any(
            r.get("uid") == owner_uid and r.get("blockOwnerDeletion")
            for r in entry.obj["metadata"].get("ownerReferences") or ()
        )
        if not objects.is_terminating(entry.obj):
            deletion.delete_if_present(
                self.api,
                rt,
                ref[1],
                ref[2],
                deletion.DeleteOptions(propagation_policy="Foreground"),
                self.writer,
            )
        return 1 if blocks and self._exists(ref) else 0
