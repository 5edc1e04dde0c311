"""The plugin host: allow-listed entry points, refusals at load, provider registry, isolation."""

from __future__ import annotations

import importlib.metadata
import logging
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from kfed_core.hookspecs import ProviderInfo, ProviderSettings, hookimpl
from kfed_core.plugins import PluginError, PluginHost, installed_entry_points
from kfed_core.providers import GlobalLoadBalancer, LoadBalancerStatus, ProviderError


class StubProvider:
    def __init__(self, settings: ProviderSettings) -> None:
        self.name = settings.name
        self.settings = settings

    async def ensure(self, desired: GlobalLoadBalancer) -> LoadBalancerStatus:
        return LoadBalancerStatus(address="198.51.100.1", ready=True)

    async def delete(self, name: str) -> None:
        return None

    async def owned(self) -> list[str]:
        return []

    async def close(self) -> None:
        return None


class Offers:
    """A plugin offering providers of the given names."""

    def __init__(self, *names: str) -> None:
        self.names = names

    @hookimpl
    def kfed_register_providers(self) -> list[ProviderInfo]:
        return [
            ProviderInfo(name=n, description=f"{n} lb", factory=StubProvider) for n in self.names
        ]


@dataclass
class FakeEntryPoint:
    name: str
    target: object
    value: str = "fake_module:plugin"
    loaded: list[str] = field(default_factory=list)

    def load(self) -> Any:
        self.loaded.append(self.name)
        if isinstance(self.target, BaseException):
            raise self.target
        return self.target


def host_with(*entry_points: FakeEntryPoint, allow: list[str] | None = None) -> PluginHost:
    def loader(group: str) -> list[FakeEntryPoint]:
        assert group == "kfed.plugins"
        return list(entry_points)

    return PluginHost(allow=allow, entry_points=loader)


def messages(host: PluginHost) -> str:
    return "\n".join(f"{f.plugin}: {f.message}" for f in host.errors)


def test_only_allowed_entry_points_are_loaded() -> None:
    gcp, aws = FakeEntryPoint("gcp", Offers("gcp")), FakeEntryPoint("aws", Offers("aws"))
    host = host_with(gcp, aws, allow=["gcp"])
    assert host.plugin_names() == ["gcp"]
    assert aws.loaded == [], "a plugin left out of the allow-list is never imported"
    assert list(host.providers()) == ["gcp"]


def test_no_allow_list_loads_every_installed_plugin_and_an_empty_one_none() -> None:
    eps = [FakeEntryPoint("gcp", Offers("gcp")), FakeEntryPoint("aws", Offers("aws"))]
    assert host_with(*eps, allow=None).plugin_names() == ["aws", "gcp"]
    assert host_with(*eps, allow=[]).plugin_names() == []


def test_an_allowed_plugin_that_is_not_installed_is_reported() -> None:
    host = host_with(FakeEntryPoint("gcp", Offers("gcp")), allow=["gcp", "azure"])
    assert host.plugin_names() == ["gcp"]
    assert [f.plugin for f in host.errors] == ["azure"]
    assert "no installed distribution" in messages(host)


def test_a_plugin_that_fails_to_import_is_reported_and_skipped() -> None:
    broken = FakeEntryPoint("aws", ModuleNotFoundError("No module named 'boto3'"))
    host = host_with(broken, FakeEntryPoint("gcp", Offers("gcp")), allow=None)
    assert host.plugin_names() == ["gcp"]
    assert [f.plugin for f in host.errors] == ["aws"]
    assert "could not be imported: ModuleNotFoundError: No module named 'boto3'" in messages(host)


class FromTheFuture(Offers):
    @hookimpl
    def kfed_frobnicate_widgets(self) -> None:
        raise AssertionError("never called")


def test_an_unknown_hook_is_refused_at_load_naming_the_plugin_and_the_hook() -> None:
    host = host_with(FakeEntryPoint("future", FromTheFuture("future")), allow=None)
    assert host.plugin_names() == []
    assert host.providers() == {}, "a refused plugin's other hooks are not called either"
    [failure] = host.errors
    assert failure.plugin == "future"
    assert "kfed_frobnicate_widgets" in failure.message
    assert "kfed_register_providers" in failure.message, "the message lists the known hooks"


def test_register_refuses_an_unknown_hook_and_leaves_nothing_registered() -> None:
    host = host_with(allow=[])
    with pytest.raises(PluginError, match=r"plugin 'future' implements kfed_frobnicate_widgets"):
        host.register(FromTheFuture("future"), name="future")
    assert host.plugin_names() == []
    host.register(Offers("gcp"), name="gcp")  # the host is still usable afterwards
    assert list(host.providers()) == ["gcp"]


def test_an_unknown_hook_marked_optional_is_accepted() -> None:
    class Tolerant(Offers):
        @hookimpl(optionalhook=True)
        def kfed_frobnicate_widgets(self) -> None:
            raise AssertionError("never called")

    host = host_with(allow=[])
    host.register(Tolerant("gcp"), name="gcp")
    assert list(host.providers()) == ["gcp"]


class Unmarked:
    def kfed_register_providers(self) -> list[ProviderInfo]:
        raise AssertionError("never called")


class Async:
    @hookimpl
    async def kfed_ingress_changed(self, ingress: str) -> None:
        raise AssertionError("never called")


class Wrapper:
    @hookimpl(wrapper=True)
    def kfed_ingress_changed(self, ingress: str) -> Iterator[None]:
        yield


class ExtraArgument:
    @hookimpl
    def kfed_ingress_changed(self, ingress: str, colour: str) -> None:
        raise AssertionError("never called")


@pytest.mark.parametrize(
    ("plugin", "reason"),
    [
        (Unmarked(), "defines kfed_register_providers without @hookimpl"),
        (Async(), "kfed_ingress_changed is async"),
        (Wrapper(), "kfed_ingress_changed is a hook wrapper"),
        (ExtraArgument(), "could not be registered: .*colour"),
    ],
    ids=["unmarked", "async", "wrapper", "extra-argument"],
)
def test_implementations_the_host_cannot_call_are_refused(plugin: object, reason: str) -> None:
    host = host_with(allow=[])
    with pytest.raises(PluginError, match=reason):
        host.register(plugin, name="odd")
    assert host.plugin_names() == []


def test_a_taken_plugin_name_is_refused() -> None:
    host = host_with(allow=[])
    host.register(Offers("gcp"), name="gcp")
    with pytest.raises(PluginError, match="'gcp' could not be registered"):
        host.register(Offers("gcp2"), name="gcp")


def test_providers_collects_every_plugins_registrations() -> None:
    host = host_with(
        FakeEntryPoint("clouds", Offers("gcp", "aws")),
        FakeEntryPoint("local", Offers("local")),
        allow=None,
    )
    providers = host.providers()
    assert list(providers) == ["aws", "gcp", "local"]
    assert providers["gcp"].description == "gcp lb"


def test_one_provider_name_from_two_plugins_is_an_error_naming_both() -> None:
    host = host_with(
        FakeEntryPoint("gcp", Offers("gcp")), FakeEntryPoint("gcp-fork", Offers("gcp")), allow=None
    )
    with pytest.raises(PluginError) as caught:
        host.providers()
    message = str(caught.value)
    assert "provider 'gcp' is offered by plugins" in message
    assert "'gcp-fork' and 'gcp'" in message or "'gcp' and 'gcp-fork'" in message


def test_a_raising_or_malformed_registration_is_reported_and_the_others_register() -> None:
    class Raises:
        @hookimpl
        def kfed_register_providers(self) -> list[ProviderInfo]:
            raise RuntimeError("credentials file unreadable")

    class ReturnsNames:
        @hookimpl
        def kfed_register_providers(self) -> list[str]:
            return ["gcp"]

    host = host_with(allow=[])
    for name, plugin in [("raises", Raises()), ("names", ReturnsNames()), ("ok", Offers("ok"))]:
        host.register(plugin, name=name)
    assert list(host.providers()) == ["ok"]
    assert sorted(f.plugin for f in host.errors) == ["names", "raises"]
    assert "RuntimeError: credentials file unreadable" in messages(host)
    assert "not a list of kfed_core.hookspecs.ProviderInfo" in messages(host)
    host.providers()
    assert len(host.errors) == 2, "registration results are cached, errors not repeated"


def test_unregister_removes_a_plugins_providers() -> None:
    host = host_with(FakeEntryPoint("gcp", Offers("gcp")), allow=None)
    assert list(host.providers()) == ["gcp"]
    host.unregister("gcp")
    host.unregister("gcp")  # absent is fine
    assert host.providers() == {}


def test_make_provider_hands_the_settings_to_the_factory() -> None:
    host = host_with(FakeEntryPoint("gcp", Offers("gcp")), allow=None)
    settings = ProviderSettings(name="gcp-eu", options={"project": "p1"})
    provider = host.make_provider("gcp", settings)
    assert isinstance(provider, StubProvider)
    assert provider.name == "gcp-eu" and provider.settings is settings


def test_an_unknown_provider_name_lists_the_known_ones_and_the_broken_plugins() -> None:
    host = host_with(
        FakeEntryPoint("aws", ImportError("boom")), FakeEntryPoint("gcp", Offers("gcp")), allow=None
    )
    with pytest.raises(ProviderError) as caught:
        host.make_provider("aws", ProviderSettings(name="aws"))
    assert not caught.value.retryable
    assert "no provider named 'aws'; known providers: gcp" in str(caught.value)
    assert "plugins with problems: aws" in str(caught.value)


def test_a_failing_factory_degrades_only_that_provider() -> None:
    def broken(settings: ProviderSettings) -> StubProvider:
        raise KeyError("project")

    def throttled(settings: ProviderSettings) -> StubProvider:
        raise ProviderError("quota API throttled", retryable=True)

    class Plugin:
        @hookimpl
        def kfed_register_providers(self) -> list[ProviderInfo]:
            return [
                ProviderInfo(name="broken", description="", factory=broken),
                ProviderInfo(name="throttled", description="", factory=throttled),
                ProviderInfo(name="fine", description="", factory=StubProvider),
            ]

    host = host_with(allow=[])
    host.register(Plugin(), name="p")
    with pytest.raises(ProviderError, match=r"'broken' \(plugin 'p'\) could not start") as caught:
        host.make_provider("broken", ProviderSettings(name="broken"))
    assert not caught.value.retryable and isinstance(caught.value.__cause__, KeyError)
    with pytest.raises(ProviderError, match="throttled") as caught:
        host.make_provider("throttled", ProviderSettings(name="throttled"))
    assert caught.value.retryable, "a factory's own ProviderError passes through unchanged"
    assert host.make_provider("fine", ProviderSettings(name="fine")).name == "fine"


class Listener:
    def __init__(self, *, fail: bool = False) -> None:
        self.fail = fail
        self.heard: list[tuple[str, ...]] = []

    @hookimpl
    def kfed_ingress_changed(self, ingress: str, status: LoadBalancerStatus) -> None:
        self.heard.append((ingress, status.address))
        if self.fail:
            raise RuntimeError("DNS API down")

    @hookimpl
    def kfed_cluster_status_changed(self, cluster: str, status: str) -> None:
        self.heard.append((cluster, status))
        if self.fail:
            raise RuntimeError("pager down")


def test_a_raising_notification_is_logged_and_the_others_still_hear_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    first, broken, last = Listener(), Listener(fail=True), Listener()
    host = host_with(allow=[])
    for name, plugin in [("first", first), ("broken", broken), ("last", last)]:
        host.register(plugin, name=name)
    with caplog.at_level(logging.ERROR, logger="kfed_core.plugins"):
        failed = host.notify_ingress_changed("default/web", LoadBalancerStatus(address="10.9.8.7"))
        failed += host.notify_cluster_status_changed("asia", "Offline", "no heartbeat for 40s")
    for listener in (first, broken, last):
        assert listener.heard == [("default/web", "10.9.8.7"), ("asia", "Offline")]
    assert [f.plugin for f in failed] == ["broken", "broken"]
    assert "failed in kfed_ingress_changed: RuntimeError: DNS API down" in failed[0].message
    assert "plugin 'broken' failed in kfed_cluster_status_changed" in caplog.text
    assert host.errors == (), "notification failures are returned, not kept"


def test_the_default_loader_reads_installed_distributions() -> None:
    assert "sim" in {e.name for e in installed_entry_points("kfed.commands")}
    host = PluginHost(allow=[])
    assert host.plugin_names() == [] and host.errors == ()


def test_a_real_entry_point_loads_a_plugin_module(monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("kfed_test_plugin_module")
    module.kfed_register_providers = Offers("mod").kfed_register_providers  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, module.__name__, module)
    entry_point = importlib.metadata.EntryPoint(
        name="mod", value=module.__name__, group="kfed.plugins"
    )
    host = PluginHost(allow=["mod"], entry_points=lambda group: [entry_point])
    assert list(host.providers()) == ["mod"]


def test_allow_must_be_a_list_of_names_not_one_string() -> None:
    with pytest.raises(TypeError, match="not one string"):
        PluginHost(allow="gcp", entry_points=lambda group: [])
