"""Helpers of the gcp provider's integration tests: providers on a fake GCE, load balancers."""

from __future__ import annotations

from collections.abc import Sequence

from kfed_core.conformance import DEFAULT_BACKENDS
from kfed_core.hookspecs import ProviderSettings
from kfed_core.providers import Backend, GlobalLoadBalancer, IngressProvider
from kfed_gcp.fake import FakeGce
from kfed_gcp.names import names_for
from kfed_gcp.plugin import make_provider

FAST = {
    # Tiny waits so retries and operation polls take no time in tests.
    "retry_attempts": "4",
    "retry_base_delay": "0.001",
    "retry_max_delay": "0.005",
    "retry_deadline": "5",
    "request_timeout": "10",
    "operation_poll_interval": "0.001",
    "operation_timeout": "10",
}


def options(fake: FakeGce, **extra: str) -> dict[str, str]:
    return {"project": fake.model.project, "endpoint": fake.url, **FAST, **extra}


def provider(fake: FakeGce, **extra: str) -> IngressProvider:
    """A new provider instance on ``fake`` (a new one plays a restarted hub)."""
    return make_provider(ProviderSettings(name="gcp", options=options(fake, **extra)))


def balancer(
    name: str = "kfed-shop-web", backends: Sequence[Backend] = DEFAULT_BACKENDS, port: int = 80
) -> GlobalLoadBalancer:
    return GlobalLoadBalancer(
        name=name, ingress=f"shop/{name}", backends=tuple(backends), port=port
    )


def rates(fake: FakeGce, lb: str) -> dict[str, float]:
    """What each backend address may receive as the fake sees it (0 when drained)."""
    return fake.backend_rates(names_for(lb).backend_service)
