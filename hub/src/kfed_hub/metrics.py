"""The hub's Prometheus metrics, on a registry the composition root owns (never the global one,
so tests and several hubs in one process do not collide).

Layer: ``kfed_hub`` shell helper. Labels never carry secret data: only cluster names, outcomes
and reasons (Kubernetes Status reasons such as "Invalid").
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# Propagation latency spans loopback tests (milliseconds) to real fleets (tens of seconds).
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


@dataclass(frozen=True, slots=True)
class HubMetrics:
    """Every metric the hub exports."""

    registry: CollectorRegistry
    connected_clusters: Gauge
    clusters_by_status: Gauge
    propagation_seconds: Histogram
    results: Counter
    apply_errors: Counter
    last_result_timestamp: Gauge
    pending_objects: Gauge
    stream_connects: Counter
    stream_disconnects: Counter
    stale_results: Counter
    desired_objects: Gauge

    @classmethod
    def create(cls, registry: CollectorRegistry | None = None) -> HubMetrics:
        """Register the metrics on ``registry`` (a fresh one if None)."""
        reg = registry if registry is not None else CollectorRegistry()
        return cls(
            registry=reg,
            connected_clusters=Gauge(
                "kfed_hub_connected_clusters",
                "Member clusters with a live Sync stream.",
                registry=reg,
            ),
            clusters_by_status=Gauge(
                "kfed_hub_clusters", "Member clusters by status.", ["status"], registry=reg
            ),
            propagation_seconds=Histogram(
                "kfed_hub_propagation_seconds",
                "From a federated object's write to a member cluster's applied result.",
                buckets=_LATENCY_BUCKETS,
                registry=reg,
            ),
            results=Counter(
                "kfed_hub_results",
                "Per-resource results from agents.",
                ["cluster", "outcome"],
                registry=reg,
            ),
            apply_errors=Counter(
                "kfed_hub_apply_errors",
                "Failed per-resource results, by reason.",
                ["cluster", "reason"],
                registry=reg,
            ),
            last_result_timestamp=Gauge(
                "kfed_hub_cluster_last_result_timestamp_seconds",
                "Unix time of the last batch result from each cluster.",
                ["cluster"],
                registry=reg,
            ),
            pending_objects=Gauge(
                "kfed_hub_cluster_pending_objects",
                "Objects whose desired version a cluster does not hold yet (its lag).",
                ["cluster"],
                registry=reg,
            ),
            stream_connects=Counter(
                "kfed_hub_stream_connects",
                "Sync streams opened (a reconnect counts again).",
                ["cluster"],
                registry=reg,
            ),
            stream_disconnects=Counter(
                "kfed_hub_stream_disconnects",
                "Sync streams ended, by reason.",
                ["cluster", "reason"],
                registry=reg,
            ),
            stale_results=Counter(
                "kfed_hub_stale_results",
                "Batch results ignored for a stale nonce.",
                ["cluster"],
                registry=reg,
            ),
            desired_objects=Gauge(
                "kfed_hub_desired_objects", "Federated objects in the desired index.", registry=reg
            ),
        )

    def forget_cluster(self, cluster: str) -> None:
        """Drop a removed cluster's labelled series so they do not linger."""
        for metric in (self.last_result_timestamp, self.pending_objects):
            with contextlib.suppress(KeyError):
                metric.remove(cluster)
