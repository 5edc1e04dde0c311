"""The state of one federated Ingress's global load balancer, as the hub shows it, and the
metrics of the ingress controller.

Layer: ``kfed_hub.ingress`` values (and metric definitions; no I/O). The API reads states
through :class:`kfed_hub.ports.IngressStatuses` to fill the federated Ingress's status.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

CONDITION = "GlobalLoadBalancer"
"""The condition type on a federated Ingress that says whether its global load balancer
serves (True), and if not why (its reason and message)."""

# Reasons of the condition (and of the events the controller records).
READY = "Ready"
NOT_READY = "NotReady"  # converged, but nothing serves yet (no healthy backend, or pending)
PENDING = "Pending"  # not converged yet
PROVIDER_FAILED = "ProviderFailed"  # the provider raised; retried with backoff
PROVIDER_NOT_FOUND = "ProviderNotFound"  # no such provider registered
INVALID_SPEC = "InvalidSpec"  # the Ingress names no usable backend


@dataclass(frozen=True, slots=True, kw_only=True)
class IngressLoadBalancer:
    """What the hub knows of one federated Ingress's global load balancer."""

    provider: str
    name: str
    address: str = ""
    ready: bool = False
    reason: str = PENDING
    message: str = ""
    backends: int = 0
    serving: int = 0

    def condition_status(self) -> str:
        return "True" if self.ready else "False"


@dataclass(frozen=True, slots=True)
class IngressMetrics:
    """The ingress controller's metrics, on the hub's registry."""

    load_balancers: Gauge
    calls: Counter
    call_seconds: Histogram

    @classmethod
    def create(cls, registry: CollectorRegistry) -> IngressMetrics:
        return cls(
            load_balancers=Gauge(
                "kfed_hub_ingress_load_balancers",
                "Federated Ingresses' global load balancers by provider and condition reason.",
                ["provider", "reason"],
                registry=registry,
            ),
            calls=Counter(
                "kfed_hub_ingress_provider_calls",
                "Calls to ingress providers by provider, operation and outcome.",
                ["provider", "operation", "outcome"],
                registry=registry,
            ),
            call_seconds=Histogram(
                "kfed_hub_ingress_provider_call_seconds",
                "How long ingress provider calls took.",
                ["provider", "operation"],
                buckets=(0.005, 0.025, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 180.0, 600.0),
                registry=registry,
            ),
        )
