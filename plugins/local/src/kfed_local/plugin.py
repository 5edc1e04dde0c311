"""kfed-local as a kfed plugin: offers the ``local`` global load balancer provider.

Layer: ``kfed_local`` plugin registration (entry point group ``kfed.plugins``). kfed's own
providers register exactly like a third party's; the hub never imports this module.
"""

from __future__ import annotations

from kfed_core.hookspecs import ProviderInfo, ProviderSettings, hookimpl
from kfed_core.providers import IngressProvider
from kfed_local.glb.provider import LocalProvider
from kfed_local.glb.settings import settings_from_mapping


def _make(settings: ProviderSettings) -> IngressProvider:
    return LocalProvider(
        settings_from_mapping(settings.options, source=f"provider {settings.name}")
    )


@hookimpl
def kfed_register_providers() -> list[ProviderInfo]:
    """The ``local`` provider: a software global load balancer on this machine."""
    return [
        ProviderInfo(
            name="local",
            description="software global HTTP load balancer: closest healthy cluster with room",
            factory=_make,
        )
    ]
