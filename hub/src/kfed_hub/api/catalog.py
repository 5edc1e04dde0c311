"""Every kind the API serves: the built-in table plus the dynamic kinds learned at run time.

Layer: ``kfed_hub.api``. Owns in-memory state only; reads the store once (lazily, on the first
request) and then follows its committed changes through a store listener.

A **dynamic kind** is any kind of a named group that :mod:`.kinds` does not list (custom
resources, StatefulSets, ...): kfed stores it and propagates it as it is. The path of a request
does not say its kind, so the catalog remembers the (group, version, plural) → kind mapping:

- a federated **CustomResourceDefinition** teaches its kinds with their real plural, singular,
  short names and scope, one per served version; it wins over a guess;
- otherwise a kind is known while at least one stored object has it, served at the plural
  :func:`.kinds.guess_plural` derives (nothing is added to the stored object) and with the scope
  its objects were created with. The first create of such a kind is resolved from its body by
  :mod:`.dynamic`; deleting its last object forgets it. After a restart the mapping is rebuilt
  from the stored objects, so it needs no storage of its own.

Neither kind of entry replaces a built-in one, and the core group (``/api/v1``) and the hub's
own ``kfed.io`` never get dynamic kinds. One stored object per group, kind and name is served at
every version of that kind, as stored (kfed converts nothing).

Concurrency: one event loop. The store calls :meth:`KindCatalog.changed` synchronously after
each commit, in commit order; :meth:`KindCatalog.load` lists the store once, and keeps what a
change reported meanwhile (it is at least as new as the listing). Memory: one small entry per
stored object of a dynamic kind, one per kind a CRD teaches.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from kfed_core.keys import ResourceKey
from kfed_hub.api import kinds
from kfed_hub.api.crds import kinds_of_crd
from kfed_hub.api.kinds import CRD_GROUP, CRD_KIND, KFED_GROUP, KindInfo, ResourcePath
from kfed_hub.store.protocol import ObjectChange, Store, StoredObject


@dataclass(frozen=True, slots=True, kw_only=True, order=True)
class _Seen:
    """A dynamic kind as one stored object shows it."""

    group: str
    version: str
    kind: str
    namespaced: bool

    def derived(self) -> KindInfo:
        return KindInfo(
            group=self.group,
            version=self.version,
            kind=self.kind,
            plural=kinds.guess_plural(self.kind),
            singular=self.kind.lower(),
            namespaced=self.namespaced,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class _Table:
    by_path: dict[tuple[str, str, str], KindInfo]
    by_kind: dict[tuple[str, str], KindInfo]


def _is_crd(key: ResourceKey) -> bool:
    return key.group == CRD_GROUP and key.kind == CRD_KIND


def _seen(stored: StoredObject) -> _Seen | None:
    """The dynamic kind of a stored object; None for built-in kinds."""
    api_version = str(stored.manifest.get("apiVersion") or "")
    group, _, version = api_version.rpartition("/")
    kind = stored.key.kind
    if not group or group == KFED_GROUP or kinds.find_kind(api_version, kind) is not None:
        return None
    return _Seen(group=group, version=version, kind=kind, namespaced=bool(stored.key.namespace))


class KindCatalog:
    """The served kinds; see the module docstring."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._crds: dict[str, tuple[KindInfo, ...]] = {}
        self._objects: dict[ResourceKey, _Seen] = {}
        self._counts: dict[_Seen, int] = {}
        self._touched: set[ResourceKey] | None = set()  # None once loaded
        self._lock = asyncio.Lock()
        self._loaded = False
        self._table: _Table | None = None
        store.add_listener(self.changed)

    async def load(self) -> None:
        """Read the stored objects once (later calls return at once)."""
        if not self._loaded:
            async with self._lock:
                await self._load_once()

    async def _load_once(self) -> None:
        if self._loaded:
            return  # another request loaded while this one waited for the lock
        touched = self._touched or set()
        for stored in await self._store.list_objects():
            if stored.key not in touched:
                self._record(stored.key, stored)
        self._touched, self._loaded = None, True

    def changed(self, change: ObjectChange) -> None:
        """The store's listener: follow one committed change."""
        if self._touched is not None:
            self._touched.add(change.key)
        self._record(change.key, change.after)

    def _record(self, key: ResourceKey, stored: StoredObject | None) -> None:
        if _is_crd(key):
            taught = kinds_of_crd(stored.manifest) if stored is not None else ()
            if taught:
                self._crds[key.name] = taught
            else:
                self._crds.pop(key.name, None)
            self._table = None
            return
        old = self._objects.pop(key, None)
        new = _seen(stored) if stored is not None else None
        if old == new:
            if new is not None:
                self._objects[key] = new
            return
        if old is not None:
            self._counts[old] -= 1
            if not self._counts[old]:
                del self._counts[old]
                self._table = None
        if new is not None:
            self._objects[key] = new
            self._counts[new] = self._counts.get(new, 0) + 1
            if self._counts[new] == 1:
                self._table = None

    def _dynamic(self) -> _Table:
        if self._table is not None:
            return self._table
        table = _Table(by_path={}, by_kind={})
        taught = [info for name in sorted(self._crds) for info in self._crds[name]]
        for info in [*taught, *(seen.derived() for seen in sorted(self._counts))]:
            path = (info.group, info.version, info.plural)
            kind = (info.api_version, info.kind)
            if kinds.find_resource(*path) or kinds.find_kind(*kind):
                continue  # built-in kinds are never replaced
            if path in table.by_path or kind in table.by_kind:
                continue  # the first CRD (by name) wins, and a CRD wins over a guess
            table.by_path[path] = table.by_kind[kind] = info
        self._table = table
        return table

    # -- lookups ----------------------------------------------------------------------------

    def served(self) -> list[KindInfo]:
        """Every served kind: the built-in table, then the dynamic kinds."""
        dynamic = sorted(self._dynamic().by_path.values(), key=lambda k: (k.group, k.plural))
        return [*kinds.SERVED_KINDS, *dynamic]

    def find_resource(self, group: str, version: str, plural: str) -> KindInfo | None:
        """The kind served at ``/apis/{group}/{version}/{plural}``."""
        found = kinds.find_resource(group, version, plural)
        return found or self._dynamic().by_path.get((group, version, plural))

    def find_kind(self, api_version: str, kind: str) -> KindInfo | None:
        """The kind a manifest's ``apiVersion`` and ``kind`` name."""
        found = kinds.find_kind(api_version, kind)
        return found or self._dynamic().by_kind.get((api_version, kind))

    def defined(self, group: str, kind: str, plural: str) -> list[KindInfo]:
        """What federated CRDs teach about ``kind`` or ``plural`` of ``group``, any version."""
        return [
            info
            for name in sorted(self._crds)
            for info in self._crds[name]
            if info.group == group and (info.kind == kind or info.plural == plural)
        ]

    def parse(self, group: str, version: str, tail: str) -> ResourcePath | None:
        """What ``[namespaces/{ns}/]{plural}[/{name}]`` names; None if no served federated
        kind (or a scope that does not fit it)."""
        parsed = kinds.split_tail(tail)
        if parsed is None:
            return None
        namespace, plural, name = parsed
        info = self.find_resource(group, version, plural)
        if info is None or not info.federated:
            return None
        return kinds.resource_path(info, namespace, name)
