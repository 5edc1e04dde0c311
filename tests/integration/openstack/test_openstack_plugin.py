"""The openstack plugin: found through the kfed.plugins entry point; its factory refuses bad
options (naming the option) and does no I/O."""

from __future__ import annotations

import pytest

from kfed_core.hookspecs import ProviderSettings
from kfed_core.plugins import PluginHost
from kfed_core.providers import ProviderError

GOOD = {
    "authUrl": "http://127.0.0.1:9/identity/v3",  # nothing listens: the factory must not call
    "username": "kfed",
    "projectName": "kfed",
    "dnsZone": "apps.example.org",
    "vipSubnet": "subnet-1",
}


def test_the_plugin_host_finds_the_openstack_provider_through_its_entry_point() -> None:
    host = PluginHost(allow=["openstack"])
    assert host.errors == ()
    assert "openstack" in host.providers()
    made = host.make_provider("openstack", ProviderSettings(name="os-east", options=GOOD))
    assert made.name == "os-east"


async def test_the_factory_connects_lazily_and_closes_cleanly() -> None:
    host = PluginHost(allow=["openstack"])
    made = host.make_provider("openstack", ProviderSettings(name="openstack", options=GOOD))
    await made.close()  # never connected: nothing to close, nothing raised


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({k: v for k, v in GOOD.items() if k != "dnsZone"}, "dnsZone"),
        ({**GOOD, "password": "hunter2"}, "password"),
        ({**GOOD, "vipSubnets": "x"}, "vipSubnets"),
        ({**GOOD, "authType": "token"}, "authType"),
        ({k: v for k, v in GOOD.items() if k != "authUrl"}, "authUrl"),
        ({k: v for k, v in GOOD.items() if k != "username"}, "username"),
        ({**GOOD, "protocol": "UDP"}, "protocol"),
        ({**GOOD, "retryAttempts": "many"}, "retryAttempts"),
        ({**GOOD, "healthTimeout": "9"}, "healthTimeout"),
    ],
)
def test_the_factory_refuses_bad_options_naming_them(options: dict[str, str], named: str) -> None:
    host = PluginHost(allow=["openstack"])
    with pytest.raises(ProviderError) as refused:
        host.make_provider("openstack", ProviderSettings(name="openstack", options=options))
    assert not refused.value.retryable
    assert named in str(refused.value)
    assert "hunter2" not in str(refused.value)
