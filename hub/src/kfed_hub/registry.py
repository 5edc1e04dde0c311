"""The cluster registry: joined clusters, their live streams and their health.

Layer: ``kfed_hub`` service (owner of mutable state; runs on the event loop only, no locks).
Implements :class:`kfed_hub.ports.ClusterDirectory` for the API. Joined clusters and revoked
certificates are persisted by the store; liveness (last heartbeat, open stream, reported health)
is kept in memory, because writing every heartbeat of a thousand clusters to disk buys nothing.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from kfed_hub.health import HealthPolicy, Liveness, judge
from kfed_hub.metrics import HubMetrics
from kfed_hub.planning.facts import PROVIDER, REGION, ZONE, ClusterFacts
from kfed_hub.ports import Capacity, ClusterStatus, ClusterView
from kfed_hub.store.protocol import ClusterRecord, NotFound, Store


class StreamHandle(Protocol):
    """What the registry may do to a live stream: ask it to end (it sends Goodbye first)."""

    def close(self, reason: str, message: str) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportedHealth:
    """Health and capacity as the agent last reported them."""

    kubernetes_version: str = ""
    region: str = ""
    zones: tuple[str, ...] = ()
    nodes_total: int = 0
    nodes_ready: int = 0
    allocatable: Capacity = Capacity()
    requested: Capacity = Capacity()
    unschedulable_pods: int = 0
    provider: str = ""

    def info(self) -> dict[str, Any]:
        """The part worth keeping in the store across hub restarts."""
        return {
            "kubernetesVersion": self.kubernetes_version,
            "region": self.region,
            "zones": list(self.zones),
            "provider": self.provider,
        }


@dataclass(slots=True)
class _Live:
    last_heard: float | None = None
    last_seen_wall: dt.datetime | None = None
    stream: StreamHandle | None = None
    agent_version: str = ""
    health: ReportedHealth = field(default_factory=ReportedHealth)
    status: ClusterStatus | None = None


StatusListener = Callable[[str, ClusterStatus, str], None]


@dataclass(slots=True)
class ClusterRegistry:
    """Joined clusters and their liveness. Create with :meth:`load`."""

    store: Store
    metrics: HubMetrics
    policy: HealthPolicy = HealthPolicy()
    clock: Callable[[], float] = time.monotonic
    wall_clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
    _records: dict[str, ClusterRecord] = field(default_factory=dict)
    _live: dict[str, _Live] = field(default_factory=dict)
    _revoked: set[str] = field(default_factory=set)
    _status_listeners: list[StatusListener] = field(default_factory=list)
    _connected: set[str] = field(default_factory=set)
    _change_listeners: list[Callable[[str], None]] = field(default_factory=list)
    _started: float = 0.0

    async def load(self) -> None:
        """Read joined clusters and revoked serials from the store."""
        self._started = self.clock()
        self._records = {record.name: record for record in await self.store.list_clusters()}
        self._revoked = set(await self.store.revoked_serials())

    async def refresh(self, name: str) -> None:
        """Re-read one cluster's record (after a join or a label change)."""
        record = await self.store.get_cluster(name)
        if record is None:
            self._records.pop(name, None)
        else:
            self._records[name] = record
        for listener in self._change_listeners:
            listener(name)

    def add_status_listener(self, listener: StatusListener) -> None:
        """Call ``listener(cluster, status, message)`` whenever a cluster's status changes."""
        self._status_listeners.append(listener)

    # -- authorisation -------------------------------------------------------------------------

    async def authorize(self, cluster: str, serial: str) -> str | None:
        """Why a certificate for ``cluster`` with ``serial`` may not connect, or None if it may."""
        if serial in self._revoked:
            return f"the certificate of cluster {cluster!r} was revoked"
        record = self._records.get(cluster)
        if record is None:
            await self.refresh(cluster)
            record = self._records.get(cluster)
        if record is None:
            return f"cluster {cluster!r} is not joined (it was removed, or never joined)"
        if serial not in record.cert_serials:
            return f"the certificate is not one issued to cluster {cluster!r}"
        return None

    async def add_serial(self, cluster: str, serial: str) -> None:
        """Record a renewed certificate of ``cluster``."""
        record = self._records.get(cluster) or await self.store.get_cluster(cluster)
        if record is None:
            raise NotFound(f"cluster {cluster!r} is not joined")
        updated = replace(record, cert_serials=(*record.cert_serials, serial))
        self._records[cluster] = await self.store.update_cluster(updated)

    # -- liveness -----------------------------------------------------------------------------

    def attach(self, cluster: str, stream: StreamHandle, agent_version: str) -> None:
        """A stream for ``cluster`` opened; an older one is told to end (a newer one wins)."""
        live = self._live.setdefault(cluster, _Live())
        if live.stream is not None and live.stream is not stream:
            live.stream.close("Replaced", "a newer stream for this cluster connected")
        live.stream = stream
        self._connected.add(cluster)
        live.agent_version = agent_version
        self.touch(cluster)
        self.metrics.stream_connects.labels(cluster).inc()
        self._count_connected()

    def close_all(self, reason: str, message: str) -> None:
        """Ask every live stream to end with a Goodbye (the hub is stopping)."""
        for live in self._live.values():
            if live.stream is not None:
                live.stream.close(reason, message)

    def detach(self, cluster: str, stream: StreamHandle, reason: str) -> None:
        """A stream ended."""
        live = self._live.get(cluster)
        if live is not None and live.stream is stream:
            live.stream = None
            self._connected.discard(cluster)
        self.metrics.stream_disconnects.labels(cluster, reason).inc()
        self._count_connected()
        self.evaluate(cluster)

    def touch(self, cluster: str) -> None:
        """Something arrived from ``cluster`` (any message counts as a heartbeat)."""
        live = self._live.setdefault(cluster, _Live())
        live.last_heard = self.clock()
        live.last_seen_wall = self.wall_clock()

    async def report_health(self, cluster: str, health: ReportedHealth) -> None:
        """The agent reported health; keep it, and persist what is worth keeping."""
        live = self._live.setdefault(cluster, _Live())
        live.health = health
        self.touch(cluster)
        record = self._records.get(cluster)
        if record is not None and dict(record.info) != health.info():
            self._records[cluster] = await self.store.update_cluster(
                replace(record, info=health.info())
            )
            for listener in self._change_listeners:  # region, zone or provider may have changed
                listener(cluster)
        self.evaluate(cluster)

    def evaluate(self, name: str | None = None) -> None:
        """Recompute one cluster's status (or every cluster's, for the periodic sweep) and tell
        listeners about changes. Events re-judge only their cluster, so a reconnect storm of N
        clusters costs N judgements, not N squared."""
        now = self.clock()
        names = [name] if name is not None else list(self._records)
        for cluster in names:
            if cluster not in self._records:
                continue
            status, message = self._judge(cluster, now)
            live = self._live.setdefault(cluster, _Live())
            if live.status is not status:
                if live.status is not None:
                    self.metrics.clusters_by_status.labels(live.status.value).dec()
                self.metrics.clusters_by_status.labels(status.value).inc()
                live.status = status
                for listener in self._status_listeners:
                    listener(cluster, status, message)
        if name is None:
            counts = dict.fromkeys(ClusterStatus, 0)
            for cluster in self._records:
                known = self._live.get(cluster)
                if known is not None and known.status is not None:
                    counts[known.status] += 1
            for status, count in counts.items():
                self.metrics.clusters_by_status.labels(status.value).set(count)

    def _judge(self, name: str, now: float) -> tuple[ClusterStatus, str]:
        live = self._live.get(name) or _Live()
        liveness = Liveness(
            last_heard=live.last_heard,
            connected=live.stream is not None,
            nodes_ready=live.health.nodes_ready,
            nodes_total=live.health.nodes_total,
        )
        return judge(liveness, self.policy, now)

    def _count_connected(self) -> None:
        self.metrics.connected_clusters.set(len(self._connected))

    # -- ClusterDirectory ---------------------------------------------------------------------

    def list_clusters(self) -> list[ClusterView]:
        return [self._view(name) for name in sorted(self._records)]

    def get_cluster(self, name: str) -> ClusterView | None:
        return self._view(name) if name in self._records else None

    def names(self) -> list[str]:
        """Names of every joined cluster."""
        return sorted(self._records)

    def facts(self) -> list[ClusterFacts]:
        """Every joined cluster as planning sees it: labels (custom ones win over region, zone
        and provider from the agent's report) and whether it is Ready."""
        found = []
        for name in sorted(self._records):
            view = self._view(name)
            info: Mapping[str, Any] = self._records[name].info
            live = self._live.get(name)
            provider = (live.health.provider if live else "") or str(info.get("provider", ""))
            labels = {REGION: view.region, ZONE: view.zones[0] if view.zones else ""}
            labels[PROVIDER] = provider
            labels = {k: v for k, v in labels.items() if v}
            labels.update(view.labels)
            # A hub that has just started has not heard from anyone yet: it keeps the plan for a
            # cluster whose agent has not reconnected, until the offline grace period has passed,
            # instead of failing over from every cluster at once.
            waiting = (
                live is None or live.last_heard is None
            ) and self.clock() - self._started < self.policy.offline_after
            ready = view.status is ClusterStatus.READY or waiting
            found.append(ClusterFacts(name=name, labels=labels, ready=ready))
        return found

    async def set_cluster_labels(self, name: str, changes: Mapping[str, str | None]) -> ClusterView:
        record = self._records.get(name) or await self.store.get_cluster(name)
        if record is None:
            raise NotFound(f"cluster {name!r} is not joined")
        labels = dict(record.labels)
        for label, value in changes.items():
            if value is None:
                labels.pop(label, None)
            else:
                labels[label] = value
        self._records[name] = await self.store.update_cluster(replace(record, labels=labels))
        for listener in self._change_listeners:
            listener(name)
        view = self.get_cluster(name)
        assert view is not None
        return view

    def add_change_listener(self, listener: Callable[[str], None]) -> None:
        """Call ``listener(cluster)`` when a cluster joins, leaves, changes labels or reports
        new health (what placement and scheduling depend on)."""
        self._change_listeners.append(listener)

    async def remove_cluster(self, name: str) -> ClusterView:
        if name not in self._records:
            await self.refresh(name)
        view = self.get_cluster(name)
        record = await self.store.delete_cluster(name)  # raises NotFound; revokes serials
        self._revoked.update(record.cert_serials)
        self._records.pop(name, None)
        live = self._live.pop(name, None)
        self._connected.discard(name)
        if live is not None and live.status is not None:
            self.metrics.clusters_by_status.labels(live.status.value).dec()
        if live is not None and live.stream is not None:
            live.stream.close("Revoked", f"cluster {name!r} was removed from the federation")
        self.metrics.forget_cluster(name)
        self._count_connected()
        self.evaluate()
        for listener in self._change_listeners:
            listener(name)
        assert view is not None
        return view

    def _view(self, name: str) -> ClusterView:
        record = self._records[name]
        live = self._live.get(name) or _Live()
        status, message = self._judge(name, self.clock())
        info: Mapping[str, Any] = record.info
        health = live.health
        return ClusterView(
            name=name,
            status=status,
            joined_at=record.joined_at,
            last_seen=live.last_seen_wall,
            connected=live.stream is not None,
            labels=dict(record.labels),
            region=health.region or str(info.get("region", "")),
            zones=health.zones or tuple(info.get("zones", ())),
            kubernetes_version=health.kubernetes_version or str(info.get("kubernetesVersion", "")),
            agent_version=live.agent_version,
            nodes_ready=health.nodes_ready,
            nodes_total=health.nodes_total,
            allocatable=health.allocatable,
            requested=health.requested,
            unschedulable_pods=health.unschedulable_pods,
            message=message,
        )
