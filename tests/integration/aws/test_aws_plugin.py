"""The aws provider is found through the kfed.plugins entry point; its factory checks options
without I/O; a load balancer's bad options are refused."""

from __future__ import annotations

import pytest

import kfed_aws.plugin
from kfed_core.hookspecs import ProviderSettings
from kfed_core.plugins import PluginHost
from kfed_core.providers import ProviderError


def test_the_plugin_is_found_through_its_entry_point() -> None:
    host = PluginHost(allow=["aws"])
    assert host.errors == ()
    assert "aws" in host.plugin_names()
    info = host.providers()["aws"]
    assert "Global Accelerator" in info.description
    provider = host.make_provider("aws", ProviderSettings(name="aws-prod", options={}))
    assert provider.name == "aws-prod"


def test_registering_the_module_directly_offers_the_same_provider() -> None:
    host = PluginHost(allow=[])
    host.register(kfed_aws.plugin, name="aws")
    assert list(host.providers()) == ["aws"]


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"regoin": "us-east-1"}, "regoin"),
        ({"endpoint": "localhost:5000"}, "endpoint"),
        ({"retryAttempts": "many"}, "retryAttempts"),
        ({"clientAffinity": "COOKIE"}, "clientAffinity"),
    ],
)
def test_the_factory_refuses_bad_options_naming_them(options: dict[str, str], named: str) -> None:
    host = PluginHost(allow=["aws"])
    with pytest.raises(ProviderError) as caught:
        host.make_provider("aws", ProviderSettings(name="aws", options=options))
    assert not caught.value.retryable and named in str(caught.value)


async def test_the_factory_does_no_io(world) -> None:
    provider = kfed_aws.plugin.make_provider(
        ProviderSettings(name="aws", options={"endpoint": "http://127.0.0.1:9", "profile": "nope"})
    )
    await provider.close()  # never connected: nothing to close, nothing raised
    assert sum(world.fake.calls.values()) == 0


async def test_bad_load_balancer_options_are_refused_before_any_call(world) -> None:
    provider = world.provider()
    try:
        with pytest.raises(ProviderError) as caught:
            await provider.ensure(
                world.lb("kfed-default-web", world.backends(), hostname="www.example.com")
            )
        assert not caught.value.retryable and "hostedZoneId" in str(caught.value)
        with pytest.raises(ProviderError, match="listed twice"):
            await provider.ensure(world.lb("kfed-default-web", [world.backend("tokyo")] * 2))
        assert sum(world.fake.calls.values()) == 0
    finally:
        await provider.close()
