"""Fault state of one simulated cluster: which nodes are down, and how its network behaves.

Layer: pure state (owned by :class:`kfed_local.sim.cluster.SimCluster`, read by controllers).
A cluster's API server can be stopped (connections refused), the whole cluster can be
unreachable (connections accepted and never answered) or down (every node down, the API server
unreachable and no load balancer traffic); single nodes or whole zones can be down.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Scope = Literal["cluster", "zone", "region", "node"]
FaultKind = Literal["down", "unreachable", "api-server"]


class FleetError(Exception):
    """A fleet that cannot start, or a fault that names nothing; the message says what to do."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FaultTarget:
    """What a fault applies to: one cluster, node, zone or region."""

    scope: Scope
    name: str


@dataclass(slots=True)
class FaultState:
    """What is broken in one cluster right now."""

    nodes_down: set[str] = field(default_factory=set)
    cluster_down: bool = False
    unreachable: bool = False
    api_stopped: bool = False

    def node_is_down(self, node: str) -> bool:
        """True if the node's kubelet is silent (the node or the whole cluster is down)."""
        return self.cluster_down or node in self.nodes_down

    @property
    def api_mode(self) -> str:
        """How the API server answers: ``up``, ``refused`` or ``blackhole``."""
        if self.cluster_down or self.unreachable:
            return "blackhole"
        if self.api_stopped:
            return "refused"
        return "up"

    @property
    def traffic_mode(self) -> str:
        """How load balancers answer: ``up``, ``down`` (refused) or ``blackhole``."""
        if self.unreachable and not self.cluster_down:
            return "blackhole"
        if self.cluster_down:
            return "down"
        return "up"

    def summary(self) -> dict[str, object]:
        """The state as plain data (for ``kfed sim fault`` and the control API)."""
        return {
            "down": self.cluster_down,
            "unreachable": self.unreachable,
            "apiServerStopped": self.api_stopped,
            "nodesDown": sorted(self.nodes_down),
        }
