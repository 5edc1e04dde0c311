"""The gcp plugin: found through its entry point; its factory checks options and does no I/O."""

import pytest

from kfed_core.hookspecs import ProviderSettings
from kfed_core.plugins import PluginHost
from kfed_core.providers import ProviderError
from kfed_gcp.fake import FakeGce


def test_the_gcp_plugin_is_found_through_the_kfed_plugins_entry_point() -> None:
    host = PluginHost(allow=["gcp"])
    assert host.errors == ()
    assert "gcp" in host.plugin_names()
    assert "gcp" in host.providers()


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({}, "project"),
        ({"project": "Not A Project"}, "project"),
        ({"project": "kfed-test", "endpoint": "ftp://x"}, "endpoint"),
        ({"project": "kfed-test", "scheme": "INTERNAL"}, "scheme"),
        ({"project": "kfed-test", "retry_attempts": "many"}, "retry_attempts"),
        ({"project": "kfed-test", "zone_map": "dc1"}, "zone_map"),
        ({"project": "kfed-test", "colour": "blue"}, "colour"),
    ],
)
def test_the_factory_refuses_bad_options_naming_them(options: dict, named: str) -> None:
    host = PluginHost(allow=["gcp"])
    with pytest.raises(ProviderError) as refused:
        host.make_provider("gcp", ProviderSettings(name="gcp", options=options))
    assert not refused.value.retryable
    assert f"option {named!r}" in str(refused.value)


async def test_the_factory_does_no_io_and_close_deletes_nothing(fake: FakeGce) -> None:
    host = PluginHost(allow=["gcp"])
    options = {"project": "kfed-test", "endpoint": fake.url}
    gcp = host.make_provider("gcp", ProviderSettings(name="gcp-eu", options=options))
    assert gcp.name == "gcp-eu"
    assert fake.calls == []  # nothing until the first call
    assert await gcp.owned() == []
    assert fake.calls  # the first call did reach the fake
    await gcp.close()


async def test_real_credentials_are_not_loaded_by_the_factory() -> None:
    host = PluginHost(allow=["gcp"])
    settings = ProviderSettings(
        name="gcp", options={"project": "kfed-test", "credentials_file": "/nonexistent/key.json"}
    )
    gcp = host.make_provider("gcp", settings)  # no file read yet
    with pytest.raises(ProviderError) as raised:
        await gcp.owned()
    await gcp.close()
    assert not raised.value.retryable and "credentials" in str(raised.value)
