"""Parsing the gcp provider's options: defaults, checks, and messages naming the option."""

import pytest

from kfed_core.providers import ProviderError
from kfed_gcp.options import gce_zone, parse_options
from kfed_gcp.retry import RetryPolicy


def test_only_the_project_is_required_and_the_defaults_are_sane() -> None:
    options = parse_options({"project": "my-project-1"}, source="provider gcp")
    assert options.project == "my-project-1"
    assert options.network == "default"
    assert options.endpoint == "" and options.credentials_file == ""
    assert options.scheme == "EXTERNAL_MANAGED"
    assert options.owner == "kfed"
    assert options.retry == RetryPolicy()
    assert options.rate_per_weight == 100.0


def test_every_option_is_read() -> None:
    options = parse_options(
        {
            "project": "example.com:shop-prod",
            "network": "lb-net",
            "endpoint": "http://127.0.0.1:9000/",
            "credentials_file": "/etc/kfed/gcp.json",
            "owner": "hub-eu",
            "scheme": "external",
            "rate_per_weight": "25.5",
            "health_check_path": "/healthz",
            "health_check_interval": "10",
            "unhealthy_threshold": "3",
            "zone_map": "us-east-1a=us-east4-a, dc1=europe-west1-b",
            "retry_attempts": "3",
            "retry_base_delay": "0.1",
            "retry_max_delay": "2",
            "retry_deadline": "30",
            "request_timeout": "5",
            "operation_timeout": "60",
            "operation_poll_interval": "0.5",
        },
        source="provider gcp",
    )
    assert options.endpoint == "http://127.0.0.1:9000"
    assert options.scheme == "EXTERNAL"
    assert options.zone_map == {"us-east-1a": "us-east4-a", "dc1": "europe-west1-b"}
    assert options.retry == RetryPolicy(attempts=3, base_delay=0.1, max_delay=2.0, deadline=30.0)
    assert options.health_check_interval == 10 and options.unhealthy_threshold == 3


@pytest.mark.parametrize(
    ("given", "named"),
    [
        ({}, "project"),
        ({"project": "x"}, "project"),
        ({"project": "good-project", "network": "Bad_Net"}, "network"),
        ({"project": "good-project", "endpoint": "127.0.0.1:80"}, "endpoint"),
        ({"project": "good-project", "owner": "Bad Owner"}, "owner"),
        ({"project": "good-project", "scheme": "INTERNAL_MANAGED"}, "scheme"),
        ({"project": "good-project", "health_check_path": "healthz"}, "health_check_path"),
        ({"project": "good-project", "retry_attempts": "0"}, "retry_attempts"),
        ({"project": "good-project", "rate_per_weight": "lots"}, "rate_per_weight"),
        ({"project": "good-project", "unhealthy_threshold": "11"}, "unhealthy_threshold"),
        ({"project": "good-project", "zone_map": "dc1=nowhere"}, "zone_map"),
        ({"project": "good-project", "region": "us"}, "region"),
    ],
)
def test_bad_options_are_refused_naming_the_option(given: dict[str, str], named: str) -> None:
    with pytest.raises(ProviderError) as refused:
        parse_options(given, source="provider gcp")
    assert not refused.value.retryable
    assert f"option {named!r}" in str(refused.value)
    assert str(refused.value).startswith("provider gcp: ")


def test_gce_zones_pass_and_others_need_the_zone_map() -> None:
    options = parse_options({"project": "good-project", "zone_map": "dc1=us-east4-a"}, source="x")
    assert gce_zone("europe-west1-b", options) == "europe-west1-b"
    assert gce_zone("dc1", options) == "us-east4-a"
    assert gce_zone("us-east-1a", options) is None
