"""kfed-gcp as a kfed plugin: offers the ``gcp`` global load balancer provider.

Layer: plugin registration (entry point ``gcp`` in group ``kfed.plugins``). The hook only
describes; the factory parses options and builds the provider without any I/O (the SDK loads,
and credentials are read, on the provider's first call). Bad options raise
``ProviderError(retryable=False)`` naming the option.
"""

from __future__ import annotations

from kfed_core.hookspecs import ProviderInfo, ProviderSettings, hookimpl
from kfed_core.providers import IngressProvider
from kfed_gcp.options import parse_options
from kfed_gcp.provider import GcpProvider


def make_provider(settings: ProviderSettings) -> IngressProvider:
    """Build a ``gcp`` provider from the hub's settings (no network, no credentials yet)."""
    options = parse_options(settings.options, source=f"provider {settings.name}")
    # Imported here so that listing providers does not load google-cloud-compute.
    from kfed_gcp.gce_client import GceClient

    return GcpProvider(settings.name, options, GceClient(options))


@hookimpl
def kfed_register_providers() -> list[ProviderInfo]:
    """The ``gcp`` provider: Google Cloud's global external HTTP load balancer."""
    return [
        ProviderInfo(
            name="gcp",
            description="Google Cloud global external HTTP load balancer (hybrid NEG per cluster)",
            factory=make_provider,
        )
    ]
