"""The desired index: each member cluster's desired state, as the reconciler decided it.

Layer: ``kfed_hub`` core, one owner of mutable state. Changed only on the event loop by the
reconciler; read by stream tasks on the same loop, so no locks are needed.

Clusters that get identical content share one :class:`DesiredEntry` object, so memory grows with
distinct manifests, not objects times clusters. A stream subscribes to its cluster and is told
which keys changed; it reads the newest entry when it builds a batch (latest wins).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from kfed_core.sync.hub_side import DesiredEntry
from kfed_hub.metrics import HubMetrics

Listener = Callable[[Iterable[str]], None]
_VERSIONS_KEPT = 64  # recent content versions per key whose change time is remembered


@dataclass(slots=True)
class ClusterView:
    """One cluster's desired entries (a live view: it sees later changes)."""

    entries: dict[str, DesiredEntry]
    orphans: set[str]

    def get(self, key: str) -> DesiredEntry | None:
        return self.entries.get(key)

    def keys(self) -> Iterable[str]:
        return self.entries.keys()

    def orphaned(self, key: str) -> bool:
        """Whether a removal of ``key`` should leave the object in place (--cascade=orphan)."""
        return key in self.orphans


@dataclass(slots=True)
class DesiredIndex:
    """Every cluster's desired state (see the module docstring)."""

    metrics: HubMetrics
    clock: Callable[[], float] = time.monotonic
    _entries: dict[str, dict[str, DesiredEntry]] = field(default_factory=dict)
    _changed_at: dict[str, dict[str, float]] = field(default_factory=dict)
    _listeners: dict[str, Listener] = field(default_factory=dict)
    _orphans: set[str] = field(default_factory=set)

    def view(self, cluster: str) -> ClusterView:
        """The desired state of ``cluster`` (empty until the reconciler fills it)."""
        return ClusterView(self._entries.setdefault(cluster, {}), self._orphans)

    def set(self, cluster: str, key: str, entry: DesiredEntry | None) -> bool:
        """Make ``entry`` the desired state of ``key`` in ``cluster`` (None: not there);
        returns whether anything changed, and tells the cluster's stream if so."""
        entries = self._entries.setdefault(cluster, {})
        previous = entries.get(key)
        if entry is None:
            if previous is None:
                return False
            del entries[key]
        else:
            if previous is not None and previous.version == entry.version:
                return False
            entries[key] = entry
            versions = self._changed_at.setdefault(key, {})
            if entry.version not in versions:
                versions[entry.version] = self.clock()
                while len(versions) > _VERSIONS_KEPT:  # per-cluster versions differ (replicas)
                    del versions[next(iter(versions))]
        listener = self._listeners.get(cluster)
        if listener is not None:
            listener((key,))
        return True

    def forget_cluster(self, cluster: str) -> None:
        """Drop a removed cluster's desired state."""
        self._entries.pop(cluster, None)

    def set_orphaned(self, key: str, orphaned: bool) -> None:
        """Mark removals of ``key`` as orphaning (or not)."""
        if orphaned:
            self._orphans.add(key)
        else:
            self._orphans.discard(key)

    def forget_key(self, key: str) -> None:
        """The object left every cluster's desired state: drop its timing record."""
        self._changed_at.pop(key, None)

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
        return self._changed_at.get(key, {}).get(version)

    def object_count(self) -> int:
        """Distinct keys across clusters (for the metrics gauge)."""
        keys: set[str] = set()
        for entries in self._entries.values():
            keys.update(entries)
        return len(keys)
