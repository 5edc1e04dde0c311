"""Cluster health from heartbeats: Ready, NotReady or Offline, as a pure function of times.

Layer: ``kfed_hub`` pure core (no clock: the caller passes ``now``; no I/O).

Defaults (documented in docs/hub-and-agent.md):
- agents send a heartbeat every **2 s** (:attr:`HealthPolicy.heartbeat_interval`);
- a cluster is **NotReady** once **3** heartbeats in a row are missed (6 s without a word), when its
  stream ends, or when it reports no Ready node;
- it is **Offline** when nothing has been heard for **40 s** (or it never connected since the hub
  started and it has no stream).
"""

from __future__ import annotations

from dataclasses import dataclass

from kfed_hub.ports import ClusterStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class HealthPolicy:
    """Timings of cluster health, in seconds."""

    heartbeat_interval: float = 2.0
    """How often agents send a heartbeat (told to them in Welcome)."""
    missed_heartbeats: int = 3
    """Heartbeats missed in a row before a cluster is NotReady."""
    offline_after: float = 40.0
    """Silence after which a cluster is Offline."""

    @property
    def not_ready_after(self) -> float:
        """Silence after which a connected cluster is NotReady."""
        return self.heartbeat_interval * self.missed_heartbeats


@dataclass(frozen=True, slots=True, kw_only=True)
class Liveness:
    """What the hub knows of a cluster's link: when it last heard from it (monotonic seconds,
    None if never since start), whether a stream is open, and the Ready nodes it reported."""

    last_heard: float | None
    connected: bool
    nodes_ready: int
    nodes_total: int


def judge(liveness: Liveness, policy: HealthPolicy, now: float) -> tuple[ClusterStatus, str]:
    """The cluster's status and, unless Ready, why."""
    if liveness.last_heard is None:
        return ClusterStatus.OFFLINE, "the agent has not connected since the hub started"
    silent = now - liveness.last_heard
    if silent >= policy.offline_after:
        return ClusterStatus.OFFLINE, f"nothing heard from the agent for {silent:.0f}s"
    if not liveness.connected:
        return ClusterStatus.NOT_READY, "the agent's stream is closed"
    if silent >= policy.not_ready_after:
        return (
            ClusterStatus.NOT_READY,
            f"{policy.missed_heartbeats} heartbeats missed (silent for {silent:.0f}s)",
        )
    if liveness.nodes_ready == 0:
        return ClusterStatus.NOT_READY, f"0/{liveness.nodes_total} nodes are Ready"
    return ClusterStatus.READY, ""
