"""``FakeKubeApi``: an in-memory :class:`~kfed_agent.ports.KubeApi` for unit tests of the agent.

Layer: ``kfed_agent`` test double shipped beside the seam (as httpx ships its mock transport); the
agent itself never uses it. The verbs live here, the state and its rules (namespaces, CRDs,
resourceVersions, watch fan-out, faults) in :mod:`kfed_agent.fake_kube_state`::

    kube = FakeKubeApi()
    kube.put(node)                                   # fixtures, status included
    kube.fail_next("ConfigMap", "settings", KubeError("boom", status=500, reason="InternalError"))
    await kube.replace_status(ingress)               # writes .status only (PUT .../status)
    kube.set_reachable(False)                        # every call: KubeUnreachable
    assert ("apply", "core/ConfigMap/default/settings") in kube.calls
"""

from __future__ import annotations

import copy
from collections.abc import AsyncGenerator, Mapping
from typing import Any

from kfed_agent.fake_kube_state import (
    BUILTIN_RESOURCES,
    FakeClusterState,
    Watcher,
    field_paths,
    matches,
    object_key,
    parse_selector,
    watcher_events,
)
from kfed_agent.ports import ApiResource, KubeError, Manifest, UnknownKind, WatchEvent

__all__ = ["BUILTIN_RESOURCES", "FakeKubeApi"]

_SERVER_FIELDS = ("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields")


def _stripped(manifest: Mapping[str, Any]) -> Manifest:
    obj = copy.deepcopy(dict(manifest))
    obj.pop("status", None)
    meta = obj.setdefault("metadata", {})
    for name in _SERVER_FIELDS:
        meta.pop(name, None)
    return obj


def _set_path(target: Manifest, source: Manifest | None, path: str) -> None:
    """Copy ``path`` (a top-level field, ``labels/<k>`` or ``annotations/<k>``) from ``source``
    into ``target``; remove it from ``target`` when ``source`` is None."""
    if "/" in path:
        section, key = path.split("/", 1)
        values = target.setdefault("metadata", {}).setdefault(section, {})
        if source is None:
            values.pop(key, None)
        else:
            values[key] = source["metadata"][section][key]
    elif source is None:
        target.pop(path, None)
    else:
        target[path] = copy.deepcopy(source[path])


class FakeKubeApi(FakeClusterState):
    """In-memory :class:`~kfed_agent.ports.KubeApi`; see :mod:`kfed_agent.fake_kube_state`."""

    async def server_version(self) -> str:
        self._enter("version")
        return self.version

    async def resource_for(self, api_version: str, kind: str) -> ApiResource:
        self._enter("discover", kind)
        return self._resource(api_version, kind)

    async def apply(
        self, manifest: Mapping[str, Any], *, field_manager: str, force: bool = True
    ) -> Manifest:
        _, ident = self._target("apply", manifest)
        applied = _stripped(manifest)
        paths = field_paths(applied)
        old = self._objects.get(ident)
        if old is None:
            obj = applied
        else:
            obj = copy.deepcopy(old)
            obj["apiVersion"] = applied["apiVersion"]
            others: set[str] = set()
            for (owner_ident, manager), owned in self._applied.items():
                if owner_ident == ident and manager != field_manager:
                    others |= owned
            # SSA removes what this manager applied before and no longer applies (unless shared).
            for path in self._applied.get((ident, field_manager), set()) - paths - others:
                _set_path(obj, None, path)
            for path in paths:
                _set_path(obj, applied, path)
        self._applied[(ident, field_manager)] = paths
        if obj == old:
            return copy.deepcopy(old)  # a no-op apply writes nothing, as on a real server
        return self._store(ident, obj)

    async def get(self, api_version: str, kind: str, namespace: str, name: str) -> Manifest | None:
        self._enter("get", kind, name)
        resource = self._resource(api_version, kind)
        ident = self._id(resource, {"metadata": {"namespace": namespace, "name": name}})
        found = self._objects.get(ident)
        return copy.deepcopy(found) if found is not None else None

    async def create(self, manifest: Mapping[str, Any]) -> Manifest:
        resource, ident = self._target("create", manifest)
        if ident in self._objects:
            raise KubeError(
                f'create {ident[1]}: {resource.plural} "{ident[3]}" already exists',
                status=409,
                reason="AlreadyExists",
            )
        return self._store(ident, _stripped(manifest))

    async def replace(self, manifest: Mapping[str, Any]) -> Manifest:
        resource, ident = self._target("replace", manifest)
        old = self._objects.get(ident)
        where = f'{resource.plural}.{resource.group or "core"} "{ident[3]}"'
        if old is None:
            raise KubeError(f"replace {ident[1]}: {where} not found", status=404, reason="NotFound")
        wanted = str((manifest.get("metadata") or {}).get("resourceVersion") or "")
        if wanted and wanted != old["metadata"]["resourceVersion"]:
            raise KubeError(
                f"replace {ident[1]}: Operation cannot be fulfilled on {where}: the object has "
                "been modified; please apply your changes to the latest version and try again",
                status=409,
                reason="Conflict",
            )
        obj = _stripped(manifest)
        if "status" in old:
            obj["status"] = copy.deepcopy(old["status"])  # status has its own subresource
        obj["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
        obj["metadata"]["uid"] = old["metadata"]["uid"]
        obj["metadata"]["generation"] = old["metadata"].get("generation", 1)
        if obj == old:
            return copy.deepcopy(old)
        return self._store(ident, obj)

    async def replace_status(self, manifest: Mapping[str, Any]) -> Manifest:
        resource, ident = self._target("replace_status", manifest)
        old = self._objects.get(ident)
        where = f'{resource.plural}.{resource.group or "core"} "{ident[3]}"'
        if old is None:
            raise KubeError(
                f"replace the status of {ident[1]}: {where} not found",
                status=404,
                reason="NotFound",
            )
        wanted = str((manifest.get("metadata") or {}).get("resourceVersion") or "")
        if wanted and wanted != old["metadata"]["resourceVersion"]:
            raise KubeError(
                f"replace the status of {ident[1]}: Operation cannot be fulfilled on {where}: the "
                "object has been modified; please apply your changes to the latest version and "
                "try again",
                status=409,
                reason="Conflict",
            )
        # The status subresource writes only status: spec and metadata stay as stored.
        obj = copy.deepcopy(old)
        if "status" in manifest:
            obj["status"] = copy.deepcopy(manifest["status"])
        else:
            obj.pop("status", None)
        if obj == old:
            return copy.deepcopy(old)
        return self._store(ident, obj)

    async def delete(self, api_version: str, kind: str, namespace: str, name: str) -> bool:
        self._enter("delete", kind, name)
        try:
            resource = self._resource(api_version, kind)
        except UnknownKind:
            return False
        ident = self._id(resource, {"metadata": {"namespace": namespace, "name": name}})
        self.calls.append(("delete", str(object_key(ident))))
        if ident not in self._objects:
            return False
        self._remove(ident)
        return True

    async def list_managed(self, label_selector: str) -> list[Manifest]:
        self._enter("list")
        selector = parse_selector(label_selector)
        return [obj for obj in self.objects() if matches(selector, obj)]

    async def list_nodes(self) -> list[Manifest]:
        self._enter("list", "Node")
        return [obj for obj in self.objects() if obj.get("kind") == "Node"]

    async def list_pods(self) -> list[Manifest]:
        self._enter("list", "Pod")
        return [obj for obj in self.objects() if obj.get("kind") == "Pod"]

    async def watch(
        self,
        api_version: str,
        kind: str,
        *,
        label_selector: str = "",
        resource_version: str | None = None,
    ) -> AsyncGenerator[WatchEvent, None]:
        self._enter("watch", kind)
        resource = self._resource(api_version, kind)
        watcher = Watcher(
            group=resource.group, kind=resource.kind, selector=parse_selector(label_selector)
        )
        # Snapshot and registration happen together, so no change falls between them.
        backlog: list[WatchEvent] = []
        since = int(resource_version) if resource_version else None
        if since is None or (self._history and since < self._history[0][0] - 1):
            for ident in sorted(self._objects):
                obj = self._objects[ident]
                same_kind = (ident[0], ident[1]) == (resource.group, resource.kind)
                if same_kind and matches(watcher.selector, obj):
                    backlog.append(("ADDED", copy.deepcopy(obj)))
        else:
            for rv, old, new in self._history:
                if rv > since:
                    backlog.extend(watcher_events(watcher, old, new))
        self._watchers.add(watcher)
        try:
            for event in backlog:
                yield event
            while True:
                item = await watcher.queue.get()
                if item is None:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            self._watchers.discard(watcher)

    async def close(self) -> None:
        self._closed = True
        for watcher in self._watchers:
            watcher.queue.put_nowait(None)
