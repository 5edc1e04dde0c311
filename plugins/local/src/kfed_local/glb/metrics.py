"""The global load balancer's Prometheus metrics, on a registry its owner passes in.

Layer: shell helper of :mod:`kfed_local.glb`. Never the process-global registry, so several
providers (tests, a hub and a benchmark in one process) do not collide. Labels carry load
balancer names, cluster names, status codes and error kinds only; never addresses of clients,
paths or headers (they can be personal data and make series explode).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# Proxy latency spans loopback (a fraction of a millisecond) to slow upstreams (seconds).
_LATENCY_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)


@dataclass(frozen=True, slots=True)
class GlbMetrics:
    """Every metric the local global load balancer exports."""

    registry: CollectorRegistry
    requests: Counter
    upstream_errors: Counter
    backend_healthy: Gauge
    in_flight: Gauge
    request_seconds: Histogram
    _answered: dict[tuple[str, str, int], Any] = field(default_factory=dict)

    @classmethod
    def create(cls, registry: CollectorRegistry | None = None) -> GlbMetrics:
        """Register the metrics on ``registry`` (a fresh one if None)."""
        reg = registry if registry is not None else CollectorRegistry()
        return cls(
            registry=reg,
            requests=Counter(
                "kfed_glb_requests",
                "Requests answered, by load balancer, backend ('none' when the proxy answered "
                "itself) and HTTP status code.",
                ["lb", "backend", "code"],
                registry=reg,
            ),
            upstream_errors=Counter(
                "kfed_glb_upstream_errors",
                "Requests to a backend that failed, by kind: connect, timeout, disconnect "
                "(before its answer), body (its answer broke off).",
                ["lb", "backend", "kind"],
                registry=reg,
            ),
            backend_healthy=Gauge(
                "kfed_glb_backend_healthy",
                "1 when the backend passes its active health checks and the hub reports it "
                "healthy, else 0.",
                ["lb", "backend"],
                registry=reg,
            ),
            in_flight=Gauge(
                "kfed_glb_backend_in_flight",
                "Requests in flight to each backend.",
                ["lb", "backend"],
                registry=reg,
            ),
            request_seconds=Histogram(
                "kfed_glb_request_seconds",
                "From a request's arrival at the proxy to the end of its answer.",
                ["lb"],
                buckets=_LATENCY_BUCKETS,
                registry=reg,
            ),
        )

    def count(self, lb: str, backend: str, status: int) -> None:
        """Count one answer. The labelled child is looked up once: this runs on every request."""
        key = (lb, backend, status)
        child = self._answered.get(key)
        if child is None:
            child = self._answered[key] = self.requests.labels(lb, backend, str(status))
        child.inc()

    def forget(self, lb: str, backend: str) -> None:
        """Drop a backend's gauges (it left the load balancer); its counters stay, as counters
        should."""
        for gauge in (self.backend_healthy, self.in_flight):
            with contextlib.suppress(KeyError):  # never exported: nothing to drop
                gauge.remove(lb, backend)
