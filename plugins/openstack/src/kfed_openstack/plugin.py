"""kfed-openstack as a kfed plugin: offers the ``openstack`` global load balancer provider.

Layer: ``kfed_openstack`` plugin registration (entry point group ``kfed.plugins``). The factory
parses options only: it does no I/O, and openstacksdk is imported (and Keystone reached) only
when the provider makes its first call. The hub never imports this module.
"""

from __future__ import annotations

from kfed_core.hookspecs import ProviderInfo, ProviderSettings, hookimpl
from kfed_core.providers import IngressProvider, ProviderError
from kfed_openstack.provider import OpenStackProvider
from kfed_openstack.settings import SettingsError, parse_settings


def make_provider(settings: ProviderSettings) -> IngressProvider:
    """Build the provider from the hub's options; ProviderError (not retryable) if wrong."""
    try:
        parsed = parse_settings(settings.options, name=settings.name)
    except SettingsError as e:
        raise ProviderError(
            f"provider {settings.name!r} (openstack): {e}; fix it in the hub's settings",
            retryable=False,
        ) from None
    # Imported here so that merely registering the plugin never loads openstacksdk.
    from kfed_openstack.os_client import SdkOpenStackApi

    api = SdkOpenStackApi(parsed.auth, dns_region=parsed.dns_region)
    return OpenStackProvider(parsed, api, name=settings.name)


@hookimpl
def kfed_register_providers() -> list[ProviderInfo]:
    """The ``openstack`` provider: Octavia per region, Designate DNS across regions."""
    return [
        ProviderInfo(
            name="openstack",
            description="OpenStack Octavia load balancer per region with Designate DNS failover",
            factory=make_provider,
        )
    ]
