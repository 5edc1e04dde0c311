"""The desired index: each member cluster's desired state, kept current from the store.

Layer: ``kfed_hub`` core with one owner of mutable state. The index is changed only on the event
loop (by :meth:`DesiredIndex.on_change`, a store listener); readers (stream tasks) run on the same
loop, so no locks are needed.

Placement in this issue is "every federated object goes to every joined cluster" (issue 4 brings
placement and scheduling): all clusters share one map of entries, so hub memory grows with the
number of objects, not objects times clusters. A stream subscribes to its cluster and is told which
keys changed; it reads the newest entry when it builds a batch (latest wins).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from kfed_core.keys import canonical_json, content_version
from kfed_core.sync.hub_side import DesiredEntry
from kfed_hub.desired import desired_manifest
from kfed_hub.metrics import HubMetrics
from kfed_hub.store.protocol import ObjectChange, Store, StoredObject

Listener = Callable[[Iterable[str]], None]


def entry_of(stored: StoredObject) -> DesiredEntry:
    """The desired entry (key, content version, JSON manifest) of a stored federated object."""
    manifest = desired_manifest(stored.manifest)
    return DesiredEntry(str(stored.key), content_version(manifest), canonical_json(manifest))


@dataclass(slots=True)
class _SharedView:
    entries: dict[str, DesiredEntry]

    def get(self, key: str) -> DesiredEntry | None:
        return self.entries.get(key)

    def keys(self) -> Iterable[str]:
        return self.entries.keys()


@dataclass(slots=True)
class DesiredIndex:
    """Every cluster's desired state (see the module docstring for placement)."""

    metrics: HubMetrics
    clock: Callable[[], float] = time.monotonic
    _entries: dict[str, DesiredEntry] = field(default_factory=dict)
    _changed_at: dict[str, tuple[str, float]] = field(default_factory=dict)
    _listeners: dict[str, Listener] = field(default_factory=dict)

    async def load(self, store: Store) -> None:
        """Fill the index from the store (at start, before streams are served)."""
        for stored in await store.list_objects():
            entry = entry_of(stored)
            self._entries[entry.key] = entry
        self.metrics.desired_objects.set(len(self._entries))

    def on_change(self, change: ObjectChange) -> None:
        """Store listener: update the entry and tell every subscribed stream."""
        key = str(change.key)
        if change.after is None:
            if self._entries.pop(key, None) is None:
                return
            self._changed_at.pop(key, None)
        else:
            entry = entry_of(change.after)
            previous = self._entries.get(key)
            if previous is not None and previous.version == entry.version:
                return  # metadata-only or status-only change: nothing for members
            self._entries[key] = entry
            self._changed_at[key] = (entry.version, self.clock())
        self.metrics.desired_objects.set(len(self._entries))
        for listener in list(self._listeners.values()):
            listener((key,))

    def view(self, cluster: str) -> _SharedView:
        """The desired state of ``cluster``."""
        return _SharedView(self._entries)

    def subscribe(self, cluster: str, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with changed keys of ``cluster``'s desired state; returns the
        unsubscribe function. One listener per cluster: a newer stream replaces the older."""
        self._listeners[cluster] = listener

        def unsubscribe() -> None:
            if self._listeners.get(cluster) is listener:
                del self._listeners[cluster]

        return unsubscribe

    def changed_at(self, key: str, version: str) -> float | None:
        """When (monotonic) ``key`` last changed to ``version`` through the hub, if it did."""
        recorded = self._changed_at.get(key)
        if recorded is None or recorded[0] != version:
            return None
        return recorded[1]

    def __len__(self) -> int:
        return len(self._entries)
