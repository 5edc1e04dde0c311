"""The state and rules of :class:`kfed_agent.fake_kube.FakeKubeApi`, the in-memory Kubernetes API.

Layer: ``kfed_agent`` test double (see :mod:`kfed_agent.fake_kube` for the verbs); the agent itself
never uses it. It behaves like an API server where it matters to kfed: namespaced
objects need their namespace, resourceVersions grow, a stale ``replace`` (or ``replace_status``,
which writes only ``.status``) fails with ``Conflict``, deleting a Namespace deletes its
objects, applying a CRD serves its kind, watches see changes (selector watches see objects enter
and leave). Server-side apply is approximated: the applied
top-level fields, labels and annotations replace the stored ones, and those the same field
manager applied before but no longer does are removed; ``force`` is implied.

Faults: :meth:`FakeKubeApi.fail_next` makes the next matching call raise a given error, and
:meth:`FakeKubeApi.set_reachable` with False makes every call raise :class:`KubeUnreachable` and
ends open watches with it. Single event loop, no locking.
"""

from __future__ import annotations

import asyncio
import copy
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kfed_agent.ports import ApiResource, KubeError, KubeUnreachable, Manifest, UnknownKind
from kfed_agent.resources import object_path, split_api_version
from kfed_core.keys import ResourceKey

_ALL_VERBS = frozenset({"create", "delete", "get", "list", "patch", "update", "watch"})
_BUILTIN = [
    ("", "v1", "Namespace", "namespaces", False),
    ("", "v1", "Node", "nodes", False),
    ("", "v1", "ConfigMap", "configmaps", True),
    ("", "v1", "Secret", "secrets", True),
    ("", "v1", "Service", "services", True),
    ("", "v1", "ServiceAccount", "serviceaccounts", True),
    ("", "v1", "Pod", "pods", True),
    ("apps", "v1", "Deployment", "deployments", True),
    ("apps", "v1", "ReplicaSet", "replicasets", True),
    ("coordination.k8s.io", "v1", "Lease", "leases", True),
    ("networking.k8s.io", "v1", "Ingress", "ingresses", True),
    ("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", False),
]
BUILTIN_RESOURCES = tuple(
    ApiResource(group=g, version=v, kind=k, plural=p, namespaced=n, verbs=_ALL_VERBS)
    for g, v, k, p, n in _BUILTIN
)
ObjectId = tuple[str, str, str, str]  # group, kind, namespace, name


@dataclass(slots=True, kw_only=True)
class Failure:
    """An injected error and the calls it applies to (None: any)."""

    error: KubeError
    verb: str | None
    kind: str | None
    name: str | None
    times: int


@dataclass(slots=True, kw_only=True, eq=False)  # identity, so watchers can live in a set
class Watcher:
    """One open watch: what it selects and the queue its events (or its end) go to."""

    group: str
    kind: str
    selector: list[tuple[str, str, str]]
    queue: asyncio.Queue[tuple[str, Manifest] | BaseException | None] = field(
        default_factory=asyncio.Queue
    )


def parse_selector(text: str) -> list[tuple[str, str, str]]:
    """``(operator, key, value)`` terms of an equality-based label selector."""
    terms = []
    for raw in filter(None, (part.strip() for part in text.split(","))):
        if "!=" in raw:
            key, value = raw.split("!=", 1)
            terms.append(("!=", key.strip(), value.strip()))
        elif "=" in raw:
            key, value = raw.replace("==", "=").split("=", 1)
            terms.append(("=", key.strip(), value.strip()))
        elif raw.startswith("!"):
            terms.append(("!", raw[1:].strip(), ""))
        elif " " in raw or "(" in raw:
            raise KubeError(
                f"label selector {text!r}: the fake supports =, ==, != and existence only",
                status=400,
                reason="BadRequest",
            )
        else:
            terms.append(("exists", raw, ""))
    return terms


def matches(selector: list[tuple[str, str, str]], obj: Mapping[str, Any]) -> bool:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    for op, key, value in selector:
        ok = {
            "=": labels.get(key) == value,
            "!=": labels.get(key) != value,
            "exists": key in labels,
            "!": key not in labels,
        }[op]
        if not ok:
            return False
    return True


class FakeClusterState:
    """Objects, served kinds, watchers and faults of a fake cluster; ``calls`` records
    ``(verb, key)`` of every object call, for tests that count applies."""

    def __init__(
        self,
        *,
        version: str = "v1.37.0+fake",
        namespaces: tuple[str, ...] = ("default", "kube-system"),
    ) -> None:
        self.version = version
        self.reachable = True
        self.calls: list[tuple[str, str]] = []
        self._resources = {(r.group, r.version, r.kind): r for r in BUILTIN_RESOURCES}
        self._objects: dict[ObjectId, Manifest] = {}
        self._applied: dict[tuple[ObjectId, str], set[str]] = {}  # fields per field manager
        self._failures: list[Failure] = []
        self._watchers: set[Watcher] = set()
        self._history: deque[tuple[int, Manifest | None, Manifest | None]] = deque(maxlen=1000)
        self._rv = 0
        self._uids = 0
        self._closed = False
        for name in namespaces:
            self.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})

    # -- test controls -------------------------------------------------------------------------

    def fail_next(
        self,
        kind: str | None,
        name: str | None,
        error: KubeError,
        *,
        verb: str | None = None,
        times: int = 1,
    ) -> None:
        """The next ``times`` calls touching ``kind``/``name`` (None: any) with ``verb`` (apply,
        get, create, replace, replace_status, delete, list, watch; None: any) raise ``error``."""
        self._failures.append(Failure(error=error, verb=verb, kind=kind, name=name, times=times))

    def set_reachable(self, reachable: bool) -> None:
        """Make every call fail with :class:`KubeUnreachable` (open watches end with it)."""
        self.reachable = reachable
        if not reachable:
            for watcher in self._watchers:
                watcher.queue.put_nowait(KubeUnreachable("watch: the fake API server went away"))

    def put(self, manifest: Mapping[str, Any]) -> Manifest:
        """Store an object as is (status included), bypassing faults: nodes, pods, fixtures."""
        resource = self._resource(str(manifest.get("apiVersion", "")), str(manifest.get("kind")))
        return self._store(self._id(resource, manifest), copy.deepcopy(dict(manifest)))

    def objects(self) -> list[Manifest]:
        """Every stored object (copies), ordered by key."""
        return [copy.deepcopy(self._objects[i]) for i in sorted(self._objects)]

    # -- internals -----------------------------------------------------------------------------

    def _enter(self, verb: str, kind: str = "", name: str = "") -> None:
        if self._closed:
            raise KubeError(f"{verb} {kind} {name}: the fake Kubernetes API is closed")
        if not self.reachable:
            raise KubeUnreachable(f"{verb} {kind} {name}: the fake API server is unreachable")
        for failure in self._failures:
            if (
                failure.verb in (None, verb)
                and failure.kind in (None, kind)
                and failure.name in (None, name)
            ):
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.remove(failure)
                raise failure.error

    def _resource(self, api_version: str, kind: str) -> ApiResource:
        try:
            group, version = split_api_version(api_version)
        except ValueError:
            raise UnknownKind(api_version, kind) from None
        found = self._resources.get((group, version, kind))
        if found is None:
            raise UnknownKind(api_version, kind)
        return found

    def _id(self, resource: ApiResource, manifest: Mapping[str, Any]) -> ObjectId:
        meta = manifest.get("metadata") or {}
        namespace, name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
        object_path(resource, namespace, name)  # the real API's scope and name checks
        return resource.group, resource.kind, namespace, name

    def _target(self, verb: str, manifest: Mapping[str, Any]) -> tuple[ApiResource, ObjectId]:
        kind = str(manifest.get("kind", ""))
        name = str((manifest.get("metadata") or {}).get("name") or "")
        self._enter(verb, kind, name)
        resource = self._resource(str(manifest.get("apiVersion", "")), kind)
        ident = self._id(resource, manifest)
        self.calls.append((verb, str(object_key(ident))))
        if ident[2] and ("", "Namespace", "", ident[2]) not in self._objects:
            raise KubeError(
                f'{verb} {kind} {ident[2]}/{ident[3]}: namespaces "{ident[2]}" not found',
                status=404,
                reason="NotFound",
            )
        return resource, ident

    def _store(self, ident: ObjectId, obj: Manifest) -> Manifest:
        old = self._objects.get(ident)
        self._rv += 1
        meta = obj.setdefault("metadata", {})
        meta["resourceVersion"] = str(self._rv)
        if old is None:
            self._uids += 1
            meta["uid"] = f"fake-uid-{self._uids}"
            meta["generation"] = 1
        else:
            meta["uid"] = old["metadata"]["uid"]
            changed = {k: v for k, v in obj.items() if k not in ("metadata", "status")} != {
                k: v for k, v in old.items() if k not in ("metadata", "status")
            }
            meta["generation"] = old["metadata"].get("generation", 1) + int(changed)
        self._objects[ident] = obj
        if ident[1] == "CustomResourceDefinition":
            self._serve_crd(obj)
        self._notify(old, obj)
        return copy.deepcopy(obj)

    def _serve_crd(self, crd: Manifest) -> None:
        spec = crd.get("spec") or {}
        names = spec.get("names") or {}
        for version in spec.get("versions") or []:
            if version.get("served", True):
                resource = ApiResource(
                    group=str(spec.get("group", "")),
                    version=str(version.get("name", "")),
                    kind=str(names.get("kind", "")),
                    plural=str(names.get("plural", "")),
                    namespaced=spec.get("scope") == "Namespaced",
                    verbs=_ALL_VERBS,
                )
                self._resources[(resource.group, resource.version, resource.kind)] = resource

    def _remove(self, ident: ObjectId) -> None:
        obj = self._objects.pop(ident)
        for owned in [k for k in self._applied if k[0] == ident]:
            del self._applied[owned]
        self._rv += 1
        self._notify(obj, None)
        if ident[1] == "Namespace":
            for inner in [i for i in self._objects if i[2] == ident[3]]:
                self._remove(inner)
        if ident[1] == "CustomResourceDefinition":
            spec = obj.get("spec") or {}
            group, kind = spec.get("group"), (spec.get("names") or {}).get("kind")
            for inner in [i for i in self._objects if (i[0], i[1]) == (group, kind)]:
                self._remove(inner)
            for served in [r for r in self._resources if (r[0], r[2]) == (group, kind)]:
                del self._resources[served]

    def _notify(self, old: Manifest | None, new: Manifest | None) -> None:
        self._history.append((self._rv, copy.deepcopy(old), copy.deepcopy(new)))
        for watcher in self._watchers:
            for event in watcher_events(watcher, old, new):
                watcher.queue.put_nowait(event)


def watcher_events(
    watcher: Watcher, old: Manifest | None, new: Manifest | None
) -> list[tuple[str, Manifest]]:
    """What a watcher sees of one change: objects entering, changing in or leaving its selection."""
    current = new if new is not None else old
    assert current is not None
    group = split_api_version(str(current.get("apiVersion", "")))[0]
    if (watcher.group, watcher.kind) != (group, current.get("kind")):
        return []
    before = old is not None and matches(watcher.selector, old)
    after = new is not None and matches(watcher.selector, new)
    if after:
        return [("MODIFIED" if before else "ADDED", copy.deepcopy(current))]
    if before:
        return [("DELETED", copy.deepcopy(current))]
    return []


def object_key(ident: ObjectId) -> ResourceKey:
    return ResourceKey(group=ident[0] or "core", kind=ident[1], namespace=ident[2], name=ident[3])


def field_paths(manifest: Mapping[str, Any]) -> set[str]:
    """What an apply sets: top-level fields and each label and annotation."""
    meta = manifest.get("metadata") or {}
    paths = {k for k in manifest if k not in ("apiVersion", "kind", "metadata", "status")}
    paths.update(f"labels/{k}" for k in meta.get("labels") or {})
    paths.update(f"annotations/{k}" for k in meta.get("annotations") or {})
    return paths
