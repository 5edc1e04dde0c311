"""Provider options are read strictly; load balancer options are read for what they ask."""

from __future__ import annotations

import pytest

from kfed_aws.settings import AwsSettings, lb_options, settings_from_options
from kfed_core.providers import ProviderError


def test_defaults_need_no_options() -> None:
    settings = settings_from_options("aws", {})
    assert settings.ga_region == "us-west-2"
    assert settings.owner_id == "aws"
    assert settings.ga_endpoint is None
    assert settings.retry.attempts >= 3


def test_one_endpoint_serves_every_api_unless_overridden() -> None:
    settings = settings_from_options(
        "aws",
        {"endpoint": "http://127.0.0.1:5000/", "globalAcceleratorEndpoint": "http://127.0.0.1:6"},
    )
    assert settings.elbv2_endpoint == settings.route53_endpoint == "http://127.0.0.1:5000"
    assert settings.ga_endpoint == "http://127.0.0.1:6"


def test_numbers_and_paths_are_read() -> None:
    settings = settings_from_options(
        "aws-two",
        {
            "retryAttempts": "3",
            "retryBaseDelay": "0.01",
            "retryDeadline": "2",
            "pollInterval": "0.5",
            "sharedCredentialsFile": "/etc/kfed/aws-credentials",
            "profile": "kfed",
            "ownerId": "hub-1",
            "hostedZoneId": "/hostedzone/Z123ABC",
        },
    )
    assert settings.retry.attempts == 3 and settings.retry.base_delay == 0.01
    assert settings.retry.deadline == 2 and settings.poll_interval == 0.5
    assert settings.credentials_file == "/etc/kfed/aws-credentials"
    assert settings.owner_id == "hub-1"
    assert settings.hosted_zone_id == "Z123ABC"


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"endpont": "http://x"}, "endpont"),
        ({"endpoint": "ftp://x"}, "endpoint"),
        ({"elbv2Endpoint": "http://x:notaport"}, "elbv2Endpoint"),
        ({"retryAttempts": "1.5"}, "retryAttempts"),
        ({"retryAttempts": "0"}, "retryAttempts"),
        ({"retryBaseDelay": "nan"}, "retryBaseDelay"),
        ({"pollInterval": "-1"}, "pollInterval"),
        ({"clientAffinity": "STICKY"}, "clientAffinity"),
        ({"globalAcceleratorRegion": "mars"}, "globalAcceleratorRegion"),
        ({"hostedZoneId": "not a zone"}, "hostedZoneId"),
        ({"profile": "two words"}, "profile"),
        ({"sharedCredentialsFile": ""}, "sharedCredentialsFile"),
        ({"ownerId": "bad\nowner"}, "ownerId"),
    ],
)
def test_bad_options_are_refused_naming_the_option(options: dict[str, str], named: str) -> None:
    with pytest.raises(ProviderError) as caught:
        settings_from_options("aws", options)
    assert not caught.value.retryable
    assert named in str(caught.value)
    assert "provider 'aws'" in str(caught.value)


def settings() -> AwsSettings:
    return settings_from_options("aws", {"hostedZoneId": "ZDEFAULT"})


def test_lb_options_normalise_the_hostname_and_use_the_default_zone() -> None:
    options = lb_options(settings(), "web", {"hostname": "WWW.Example.com", "other": "x"})
    assert options.hostname == "www.example.com."
    assert options.hosted_zone_id == "ZDEFAULT"
    assert options.client_affinity == "NONE"
    assert lb_options(settings(), "web", {}).hosted_zone_id is None


def test_lb_options_refuse_a_hostname_without_a_zone_or_a_bad_one() -> None:
    bare = settings_from_options("aws", {})
    with pytest.raises(ProviderError, match="hostedZoneId"):
        lb_options(bare, "web", {"hostname": "www.example.com"})
    with pytest.raises(ProviderError, match="not a DNS name"):
        lb_options(settings(), "web", {"hostname": "bad name.example.com"})
    with pytest.raises(ProviderError, match="clientAffinity"):
        lb_options(settings(), "web", {"clientAffinity": "x"})
