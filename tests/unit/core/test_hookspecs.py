"""The hookspecs: named kfed_<verb>_<noun>, documented, typed values, pluggy's opt-in arguments."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pluggy
import pytest

from kfed_core import hookspecs, plugins
from kfed_core.hookspecs import ProviderInfo, ProviderSettings, hookimpl
from kfed_core.providers import GlobalLoadBalancer, IngressProvider, LoadBalancerStatus

SPECS = {name: f for name, f in vars(hookspecs).items() if hasattr(f, "kfed_spec")}


class NullProvider:
    def __init__(self, settings: ProviderSettings) -> None:
        self.name = settings.name

    async def ensure(self, desired: GlobalLoadBalancer) -> LoadBalancerStatus:
        return LoadBalancerStatus()

    async def delete(self, name: str) -> None:
        return None

    async def owned(self) -> list[str]:
        return []

    async def close(self) -> None:
        return None


def manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    return pm


def test_hooks_are_the_three_of_the_contract() -> None:
    assert sorted(SPECS) == [
        "kfed_cluster_status_changed",
        "kfed_ingress_changed",
        "kfed_register_providers",
    ]


@pytest.mark.parametrize("name", sorted(SPECS))
def test_each_hook_is_named_kfed_verb_noun_and_says_when_it_is_called(name: str) -> None:
    assert re.fullmatch(r"kfed_[a-z]+(_[a-z]+)+", name)
    doc = SPECS[name].__doc__ or ""
    assert "Called " in doc, f"{name}'s docstring must say when it is called"
    assert SPECS[name].__annotations__, f"{name} must be typed"


def test_the_markers_belong_to_the_kfed_project() -> None:
    @hookimpl
    def kfed_register_providers() -> list[ProviderInfo]:
        return []

    assert hookspecs.PROJECT == "kfed"
    assert hasattr(kfed_register_providers, "kfed_impl")


def test_a_plugin_registers_providers_whose_factory_takes_settings() -> None:
    class Plugin:
        @hookimpl
        def kfed_register_providers(self) -> list[ProviderInfo]:
            return [ProviderInfo(name="null", description="does nothing", factory=NullProvider)]

    pm = manager()
    pm.register(Plugin(), name="null")
    [[info]] = pm.hook.kfed_register_providers()
    provider: IngressProvider = info.factory(ProviderSettings(name="null-eu"))
    assert provider.name == "null-eu"


def test_an_implementation_may_take_fewer_arguments_than_its_spec() -> None:
    heard: list[str] = []

    class Plugin:
        @hookimpl
        def kfed_cluster_status_changed(self, cluster: str) -> None:
            heard.append(cluster)

    pm = manager()
    pm.register(Plugin())
    pm.hook.kfed_cluster_status_changed(cluster="asia", status="Offline", message="silent")
    assert heard == ["asia"]


def test_an_implementation_taking_an_argument_the_spec_lacks_is_refused() -> None:
    class Plugin:
        @hookimpl
        def kfed_ingress_changed(self, ingress: str, region: str) -> None:
            raise AssertionError("never called")

    with pytest.raises(pluggy.PluginValidationError, match="region"):
        manager().register(Plugin())


def test_provider_values_are_frozen_keyword_only_and_default_empty() -> None:
    settings = ProviderSettings(name="gcp")
    assert settings.options == {} and settings.data_dir is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.name = "aws"  # type: ignore[misc]
    with pytest.raises(TypeError):
        ProviderSettings("gcp")  # type: ignore[call-arg]
    info = ProviderInfo(name="null", description="d", factory=NullProvider)
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.name = "other"  # type: ignore[misc]
    assert ProviderSettings(name="x", data_dir=Path("/var/lib/kfed")).data_dir == Path(
        "/var/lib/kfed"
    )


def test_importing_the_plugin_modules_makes_no_plugin_manager() -> None:
    for module in (hookspecs, plugins):
        made = [
            v
            for v in vars(module).values()
            if isinstance(v, pluggy.PluginManager | plugins.PluginHost)
        ]
        assert made == [], f"{module.__name__} must not build a plugin manager at import time"
