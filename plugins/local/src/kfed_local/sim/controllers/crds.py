"""CustomResourceDefinitions: serve their resources, report Established, clean up on delete.

Layer: controllers. The registry is updated synchronously as the CRD is stored (from the store's
change stream), so a custom resource can be created right after its CRD, as soon as kubectl's
discovery sees it. The reconcile loop then writes the CRD's status (NamesAccepted, Established,
acceptedNames, storedVersions) and, when the CRD is deleted, removes every custom object of it
before dropping the ``customresourcecleanup.apiextensions.k8s.io`` finalizer.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any

from kfed_local.sim import deletion, objects
from kfed_local.sim.controllers.base import Controller
from kfed_local.sim.resources import types_from_crd
from kfed_local.sim.store import Change

CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io"
CRDS = "apiextensions.k8s.io/customresourcedefinitions"


class CrdController(Controller):
    """Serves and retires custom resources."""

    name = "apiextensions"
    manager = "kube-apiserver"
    watches = (CRDS,)

    def resync(self) -> Iterable[Hashable]:
        names = []
        for entry in self.api.store.items(CRDS):
            self._serve(entry.obj)
            names.append(objects.name_of(entry.obj))
        return names

    def keys_for(self, change: Change) -> Iterable[Hashable]:
        if change.type == "DELETED":
            self.api.registry.remove_crd(objects.name_of(change.obj))
        else:
            self._serve(change.obj)
        return (objects.name_of(change.obj),)

    def _serve(self, crd: dict[str, Any]) -> None:
        name = objects.name_of(crd)
        served = types_from_crd(crd)
        current = {
            (t.group, t.version, t.plural, t.kind, t.namespaced)
            for t in self.api.registry
            if t.crd_name == name
        }
        wanted = {(t.group, t.version, t.plural, t.kind, t.namespaced) for t in served}
        if current != wanted:
            self.api.registry.remove_crd(name)
        for rt in served:
            self.api.registry.add(rt)

    def reconcile(self, key: Any) -> float | None:
        crds = self.api.registry.require("apiextensions.k8s.io", "v1", "customresourcedefinitions")
        entry = self.api.store.get(CRDS, "", key)
        if entry is None:
            return None
        crd = entry.obj
        updated = objects.clone(crd)
        now = self.api.now()
        if objects.is_terminating(crd):
            return self._clean_up(crd)
        finalizers = updated["metadata"].setdefault("finalizers", [])
        if CLEANUP_FINALIZER not in finalizers:
            finalizers.append(CLEANUP_FINALIZER)
            self.api.update(crds, "", key, updated, self.writer)
            return 0.0
        spec = crd.get("spec") or {}
        status = objects.clone(crd.get("status") or {})
        conditions = status.get("conditions") or []
        conditions = objects.set_condition(
            conditions,
            "NamesAccepted",
            "True",
            reason="NoConflicts",
            message="no conflicts found",
            now=now,
        )
        conditions = objects.set_condition(
            conditions,
            "Established",
            "True",
            reason="InitialNamesAccepted",
            message="the initial names have been accepted",
            now=now,
        )
        status["conditions"] = conditions
        status["acceptedNames"] = spec.get("names", {})
        storage = [v["name"] for v in spec.get("versions", ()) if v.get("storage")]
        stored = list(status.get("storedVersions") or [])
        for version in storage:
            if version not in stored:
                stored.append(version)
        status["storedVersions"] = stored
        if status != (crd.get("status") or {}):
            updated["status"] = status
            self.api.update(crds, "", key, updated, self.writer, subresource="status")
        return None

    def _clean_up(self, crd: dict[str, Any]) -> float | None:
        name = objects.name_of(crd)
        types = [t for t in self.api.registry if t.crd_name == name]
        remaining = 0
        if types:
            rt = types[0]
            for item in self.api.store.items(rt.storage_key):
                remaining += 1
                if objects.is_terminating(item.obj):
                    continue
                deletion.delete_if_present(
                    self.api,
                    rt,
                    objects.namespace_of(item.obj),
                    objects.name_of(item.obj),
                    deletion.DeleteOptions(),
                    self.writer,
                )
        if remaining:
            return 0.2
        crds = self.api.registry.require("apiextensions.k8s.io", "v1", "customresourcedefinitions")
        finalizers = list(crd["metadata"].get("finalizers") or ())
        if CLEANUP_FINALIZER in finalizers:
            updated = objects.clone(crd)
            updated["metadata"]["finalizers"] = [f for f in finalizers if f != CLEANUP_FINALIZER]
            self.api.update(crds, "", name, updated, self.writer)
        return None
