"""The local provider loads through the plugin host like any third-party provider."""

from __future__ import annotations

from kfed_core.hookspecs import ProviderSettings
from kfed_core.plugins import PluginHost
from kfed_local.glb.provider import LocalProvider


async def test_the_installed_local_plugin_offers_the_local_provider() -> None:
    host = PluginHost(allow=["local"])
    assert host.errors == ()
    assert "local" in host.providers()
    provider = host.make_provider("local", ProviderSettings(name="local"))
    try:
        assert isinstance(provider, LocalProvider)
        assert await provider.owned() == []
    finally:
        await provider.close()
