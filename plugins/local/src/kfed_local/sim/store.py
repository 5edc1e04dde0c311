"""The object store of one simulated cluster: objects, resourceVersions, watch history and watchers.

Layer: state owner below the API logic. It knows nothing of validation, defaulting or HTTP: it
keeps objects keyed by (storage key, namespace, name), hands out a monotonic resourceVersion per
cluster, records a bounded per-resource history of changes for watches, and fans changes out to
watchers and in-process listeners (the controllers).

Concurrency: not thread-safe. Every method is synchronous and runs on the cluster's event loop,
so each call is atomic with respect to every other coroutine. Stored objects are treated as
immutable once stored: writers pass a new dict and readers may share the stored one, which lets
list and watch responses reuse each object's cached JSON encoding.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

EventType = Literal["ADDED", "MODIFIED", "DELETED"]
Key = tuple[str, str]  # (namespace or "", name)

DEFAULT_HISTORY = 2000
"""Changes kept per resource for watches; older resourceVersions get 410 Expired."""

DEFAULT_WATCH_QUEUE = 4096
"""Events a watcher may fall behind by before the server closes it (as kube-apiserver does)."""


class StoredObject:
    """One stored object version with its JSON encoding computed once, on first use."""

    __slots__ = ("_raw", "obj", "rv")

    def __init__(self, obj: dict[str, Any], rv: int) -> None:
        self.obj = obj
        self.rv = rv
        self._raw: bytes | None = None

    def raw(self) -> bytes:
        """The object encoded as compact JSON (cached)."""
        if self._raw is None:
            self._raw = json.dumps(self.obj, separators=(",", ":")).encode()
        return self._raw


@dataclass(frozen=True, slots=True)
class Change:
    """A change to one object, as watches and controllers see it."""

    type: EventType
    storage_key: str
    entry: StoredObject
    old: StoredObject | None = None

    @property
    def obj(self) -> dict[str, Any]:
        """The object after the change (for DELETED: its last state, with the deletion's rv)."""
        return self.entry.obj

    @property
    def rv(self) -> int:
        """The resourceVersion of the change."""
        return self.entry.rv


WatchFilter = Callable[[dict[str, Any]], bool]


def visible_event(change: Change, accepts: WatchFilter) -> tuple[EventType, StoredObject] | None:
    """How a change looks to a watch with a selector, as kube-apiserver shows it.

    An object that starts matching appears as ADDED, one that stops matching as DELETED (in its
    new state); changes to objects that match neither before nor after are invisible.
    """
    now_matches = accepts(change.obj)
    if change.type == "DELETED":
        return ("DELETED", change.entry) if now_matches else None
    was_matching = change.old is not None and accepts(change.old.obj)
    if now_matches and was_matching:
        return ("MODIFIED", change.entry)
    if now_matches:
        return ("ADDED", change.entry)
    if was_matching:
        return ("DELETED", change.entry)
    return None


@dataclass(eq=False, slots=True)
class Watcher:
    """One open watch: a bounded queue of changes that pass its filter."""

    storage_key: str
    namespace: str | None
    accepts: WatchFilter
    queue: asyncio.Queue[Change | None] = field(
        default_factory=lambda: asyncio.Queue(maxsize=DEFAULT_WATCH_QUEUE)
    )
    overflowed: bool = False

    def offer(self, change: Change) -> None:
        """Queue ``change`` if it concerns this watch; close the watch if it fell too far behind."""
        if self.overflowed:
            return
        if self.namespace is not None and change.obj["metadata"].get("namespace") != self.namespace:
            return
        if visible_event(change, self.accepts) is None:
            return
        try:
            self.queue.put_nowait(change)
        except asyncio.QueueFull:
            self.overflowed = True
            self.close()

    def close(self) -> None:
        """End the watch: the reader sees ``None`` next (room is made if the queue is full)."""
        while True:
            try:
                self.queue.put_nowait(None)
                return
            except asyncio.QueueFull:
                self.queue.get_nowait()


class TooOldResourceVersion(Exception):
    """A watch asked for changes older than the retained history."""

    def __init__(self, requested: int, oldest: int) -> None:
        super().__init__(f"too old resource version: {requested} ({oldest})")
        self.requested = requested
        self.oldest = oldest


class ObjectStore:
    """All objects of one simulated cluster, with history and watch fan-out."""

    def __init__(self, *, history: int = DEFAULT_HISTORY) -> None:
        self._rv = 0
        self._objects: dict[str, dict[Key, StoredObject]] = {}
        self._history: dict[str, deque[Change]] = {}
        self._compacted: dict[str, int] = {}
        self._history_limit = history
        self._watchers: dict[str, set[Watcher]] = {}
        self._listeners: list[Callable[[Change], None]] = []

    # -- reads -------------------------------------------------------------------------------

    @property
    def resource_version(self) -> int:
        """The newest resourceVersion handed out in this cluster."""
        return self._rv

    def get(self, storage_key: str, namespace: str, name: str) -> StoredObject | None:
        """The stored object, or None."""
        return self._objects.get(storage_key, {}).get((namespace, name))

    def items(self, storage_key: str, namespace: str | None = None) -> list[StoredObject]:
        """Objects of one resource (optionally one namespace), sorted by namespace and name."""
        bucket = self._objects.get(storage_key, {})
        if namespace is None:
            keys = sorted(bucket)
        else:
            keys = sorted(k for k in bucket if k[0] == namespace)
        return [bucket[k] for k in keys]

    def count(self, storage_key: str) -> int:
        """How many objects of one resource are stored."""
        return len(self._objects.get(storage_key, {}))

    def storage_keys(self) -> Iterator[str]:
        """Every resource that has or had objects."""
        return iter(list(self._objects))

    # -- writes ------------------------------------------------------------------------------

    def next_resource_version(self) -> int:
        """Reserve the next resourceVersion (for objects stored right after)."""
        self._rv += 1
        return self._rv

    def put(self, storage_key: str, obj: dict[str, Any]) -> StoredObject:
        """Store ``obj`` (a new dict the caller no longer mutates) under a new resourceVersion.

        ``metadata.resourceVersion`` is set here; the change is recorded and fanned out.
        """
        meta = obj["metadata"]
        key = (meta.get("namespace", ""), meta["name"])
        rv = self.next_resource_version()
        meta["resourceVersion"] = str(rv)
        entry = StoredObject(obj, rv)
        bucket = self._objects.setdefault(storage_key, {})
        old = bucket.get(key)
        bucket[key] = entry
        self._record(Change("MODIFIED" if old else "ADDED", storage_key, entry, old))
        return entry

    def remove(self, storage_key: str, namespace: str, name: str) -> StoredObject | None:
        """Remove an object; its last state is recorded with a new resourceVersion."""
        bucket = self._objects.get(storage_key, {})
        old = bucket.pop((namespace, name), None)
        if old is None:
            return None
        rv = self.next_resource_version()
        final = dict(old.obj)
        final["metadata"] = {**old.obj["metadata"], "resourceVersion": str(rv)}
        entry = StoredObject(final, rv)
        self._record(Change("DELETED", storage_key, entry, old))
        return entry

    def _record(self, change: Change) -> None:
        history = self._history.setdefault(change.storage_key, deque())
        history.append(change)
        while len(history) > self._history_limit:
            dropped = history.popleft()
            self._compacted[change.storage_key] = dropped.rv
        for watcher in tuple(self._watchers.get(change.storage_key, ())):
            watcher.offer(change)
        for listener in tuple(self._listeners):
            listener(change)

    # -- watching ----------------------------------------------------------------------------

    def subscribe(self, listener: Callable[[Change], None]) -> Callable[[], None]:
        """Call ``listener`` synchronously after every change; returns the unsubscribe function.

        Listeners must be quick and must not write to the store (they enqueue work instead).
        """
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def watch(
        self,
        storage_key: str,
        *,
        namespace: str | None,
        accepts: WatchFilter,
        since: int | None,
    ) -> tuple[Watcher, list[Change]]:
        """Open a watch; returns the watcher and the recorded changes newer than ``since``.

        ``since=None`` replays nothing (the caller sends the current objects as ADDED events).
        Raises :class:`TooOldResourceVersion` if changes after ``since`` were already dropped.
        """
        backlog: list[Change] = []
        if since is not None:
            compacted = self._compacted.get(storage_key, 0)
            if since < compacted:
                raise TooOldResourceVersion(since, compacted + 1)
            for change in self._history.get(storage_key, ()):
                if change.rv > since and (
                    namespace is None or change.obj["metadata"].get("namespace") == namespace
                ):
                    backlog.append(change)
        watcher = Watcher(storage_key, namespace, accepts)
        self._watchers.setdefault(storage_key, set()).add(watcher)
        return watcher, [c for c in backlog if visible_event(c, accepts) is not None]

    def unwatch(self, watcher: Watcher) -> None:
        """Forget a watcher (its reader has gone)."""
        self._watchers.get(watcher.storage_key, set()).discard(watcher)

    def close_watchers(self) -> None:
        """End every open watch (the API server is stopping)."""
        for watchers in self._watchers.values():
            for watcher in tuple(watchers):
                watcher.close()
            watchers.clear()

    def oldest_retained(self, storage_key: str) -> int:
        """The oldest resourceVersion a watch of this resource may still start from."""
        return self._compacted.get(storage_key, 0)


def object_key(obj: Mapping[str, Any]) -> Key:
    """The (namespace, name) key of an object."""
    meta = obj["metadata"]
    return (meta.get("namespace", ""), meta["name"])
