"""The agent's Prometheus metrics, on a registry the agent owns (never the global one).

Layer: ``kfed_agent`` shell helper. Labels never carry secret data.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


@dataclass(frozen=True, slots=True)
class AgentMetrics:
    """Every metric the agent exports."""

    registry: CollectorRegistry
    connected: Gauge
    leader: Gauge
    reconnects: Counter
    applies: Counter
    apply_errors: Counter
    removals: Counter
    drift_repairs: Counter
    apply_seconds: Histogram
    managed_objects: Gauge

    @classmethod
    def create(cls, registry: CollectorRegistry | None = None) -> AgentMetrics:
        reg = registry if registry is not None else CollectorRegistry()
        return cls(
            registry=reg,
            connected=Gauge(
                "kfed_agent_connected", "1 while the Sync stream is open.", registry=reg
            ),
            leader=Gauge("kfed_agent_leader", "1 while this agent holds the Lease.", registry=reg),
            reconnects=Counter(
                "kfed_agent_stream_reconnects", "Sync streams opened after the first.", registry=reg
            ),
            applies=Counter("kfed_agent_applies", "Objects applied.", registry=reg),
            apply_errors=Counter(
                "kfed_agent_apply_errors",
                "Objects that failed to apply, by reason.",
                ["reason"],
                registry=reg,
            ),
            removals=Counter("kfed_agent_removals", "Objects pruned.", registry=reg),
            drift_repairs=Counter(
                "kfed_agent_drift_repairs",
                "Managed objects changed by others and re-applied.",
                registry=reg,
            ),
            apply_seconds=Histogram(
                "kfed_agent_batch_apply_seconds", "Time to apply one batch.", registry=reg
            ),
            managed_objects=Gauge(
                "kfed_agent_managed_objects", "Objects kfed manages in this cluster.", registry=reg
            ),
        )
