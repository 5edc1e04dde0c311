"""Provider settings and per-load-balancer options: parsing and the errors people see."""

from __future__ import annotations

from typing import Any

import pytest

from kfed_local.glb.health import HealthSettings
from kfed_local.glb.regions import Coordinates
from kfed_local.glb.settings import (
    LocalSettings,
    SettingsError,
    health_settings,
    listen_address,
    proxy_config,
    settings_from_mapping,
)


def test_defaults_listen_on_a_loopback_host_with_a_free_port_and_distrust_the_header() -> None:
    settings = LocalSettings()
    assert listen_address(settings, {}) == ("127.0.0.200", 0)
    assert settings.trust_client_region_header is False


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        ("127.0.0.9:8080", ("127.0.0.9", 8080)),
        ("127.0.0.9", ("127.0.0.9", 0)),
        ("[::1]:8080", ("::1", 8080)),
        ("::1", ("::1", 0)),
    ],
)
def test_address_option_pins_host_and_port(option: str, expected: tuple[str, int]) -> None:
    assert listen_address(LocalSettings(), {"address": option}) == expected


@pytest.mark.parametrize(
    ("option", "message"),
    [("example.com:80", "not an IP address"), ("127.0.0.9:http", "port must be a number")],
)
def test_bad_address_option_says_what_to_write(option: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        listen_address(LocalSettings(), {"address": option})


def test_in_flight_option_overrides_the_provider_default() -> None:
    assert proxy_config(LocalSettings(), {}).in_flight_per_weight == 100
    assert proxy_config(LocalSettings(), {"in-flight-per-weight": "3"}).in_flight_per_weight == 3
    with pytest.raises(SettingsError, match="whole number"):
        proxy_config(LocalSettings(), {"in-flight-per-weight": "-1"})


def test_health_path_option_changes_only_the_path() -> None:
    settings = LocalSettings(health=HealthSettings(interval=0.2))
    health = health_settings(settings, {"health-path": "/healthz"})
    assert (health.path, health.interval) == ("/healthz", 0.2)
    with pytest.raises(SettingsError, match="health-path"):
        health_settings(settings, {"health-path": "healthz"})


def test_settings_parse_from_plain_configuration() -> None:
    data: dict[str, Any] = {
        "host": "127.0.0.50",
        "client_networks": {"10.0.0.0/8": "us-east1"},
        "trust_client_region_header": True,
        "health": {"interval": 0.5, "unhealthy_threshold": 3},
        "regions": {"RegionOne": [48.1, 11.6]},
    }
    settings = settings_from_mapping(data)
    assert settings.health.interval == 0.5
    assert settings.regions == {"RegionOne": Coordinates(latitude=48.1, longitude=11.6)}
    config = proxy_config(settings, {})
    assert config.regions.coordinates("RegionOne") is not None
    assert config.networks[0].region == "us-east1"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"hots": "127.0.0.1"}, "unknown setting.*hots.*known: .*host"),
        ({"host": "localhost"}, "not an IP address"),
        ({"client_networks": {"10.0.0.0/40": "a"}}, "write a CIDR"),
        ({"regions": {"dc1": "x"}}, r"local\.regions\.dc1"),
        ({"health": {"interval": -1}}, "positive seconds"),
        ({"health": {"every": 1}}, "every"),
    ],
)
def test_bad_configuration_names_the_setting(data: dict[str, Any], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        settings_from_mapping(data)
