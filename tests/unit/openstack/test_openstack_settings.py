"""Parsing the OpenStack provider's options."""

from __future__ import annotations

import pytest

from kfed_openstack.settings import LbSettings, SettingsError, lb_settings, parse_settings

BASE = {
    "authUrl": "https://keystone.example.org:5000/v3",
    "username": "kfed",
    "projectName": "apps",
    "dnsZone": "apps.example.org",
}


def test_defaults_and_a_zone_without_its_final_dot() -> None:
    settings = parse_settings(BASE, name="openstack")
    assert settings.owner == "openstack"
    assert settings.dns_zone == "apps.example.org."
    assert settings.auth.password_env == "OS_PASSWORD"
    assert settings.lb == LbSettings()
    assert settings.retry.attempts == 5 and settings.poll_timeout == 600.0


def test_vip_subnets_per_region_fall_back_to_the_default() -> None:
    settings = parse_settings(
        {**BASE, "vipSubnet": "sub-any", "vipSubnet.RegionTwo": "sub-two"}, name="openstack"
    )
    assert settings.vip_subnet("RegionTwo") == "sub-two"
    assert settings.vip_subnet("RegionOne") == "sub-any"


def test_a_region_without_a_vip_subnet_names_the_option_to_set() -> None:
    settings = parse_settings(BASE, name="openstack")
    with pytest.raises(SettingsError, match=r"vipSubnet\.RegionOne"):
        settings.vip_subnet("RegionOne")


def test_a_clouds_yaml_entry_needs_no_auth_url() -> None:
    settings = parse_settings({"cloud": "mycloud", "dnsZone": "z.org."}, name="os")
    assert settings.auth.cloud == "mycloud"


def test_application_credentials_are_parsed() -> None:
    settings = parse_settings(
        {"authUrl": BASE["authUrl"], "authType": "applicationCredential",
         "applicationCredentialId": "id-1", "dnsZone": "z.org."},
        name="os",
    )  # fmt: skip
    assert settings.auth.auth_type == "v3applicationcredential"
    assert settings.auth.application_credential_id == "id-1"


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"password": "x"}, "password"),
        ({"applicationCredentialSecret": "x"}, "applicationCredentialSecret"),
        ({"colour": "blue"}, "colour"),
        ({"dnsZone": ""}, "dnsZone"),
        ({"owner": "a,b"}, "owner"),
        ({"pollInterval": "-1"}, "pollInterval"),
        ({"retryTotal": "nan"}, "retryTotal"),
        ({"lbAlgorithm": "RANDOM"}, "lbAlgorithm"),
        ({"healthPath": "healthz"}, "healthPath"),
        ({"healthMaxRetries": "11"}, "healthMaxRetries"),
        ({"dnsTtl": "0"}, "dnsTtl"),
    ],
)
def test_bad_options_are_refused_naming_the_option(change: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError) as refused:
        parse_settings({**BASE, **change}, name="openstack")
    assert named in str(refused.value)


def test_per_ingress_options_override_only_what_they_name() -> None:
    lb = lb_settings(LbSettings(), {"protocol": "TCP", "dnsTtl": "120", "unrelated": "x"})
    assert (lb.protocol, lb.dns_ttl, lb.algorithm) == ("TCP", 120, "ROUND_ROBIN")
