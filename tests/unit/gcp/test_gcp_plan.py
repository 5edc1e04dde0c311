"""The pure plan: weights, draining, addresses, zones and drift of the gcp provider."""

from dataclasses import replace
from typing import Any

import pytest

from kfed_core.conformance import DEFAULT_BACKENDS
from kfed_core.providers import Backend, GlobalLoadBalancer, ProviderError
from kfed_gcp.options import GcpOptions
from kfed_gcp.plan import (
    backend_service_body,
    backend_service_drifted,
    firewall_body,
    firewall_drifted,
    forwarding_rule_replaced,
    health_check_body,
    health_check_drifted,
    make_plan,
    split_address,
)

OPTIONS = GcpOptions(project="kfed-test", rate_per_weight=10.0)
US, EU, ASIA = DEFAULT_BACKENDS


def lb(*backends: Backend, port: int = 80) -> GlobalLoadBalancer:
    return GlobalLoadBalancer(
        name="kfed-shop-web", ingress="shop/web", backends=backends, port=port
    )


def test_weight_sets_the_max_rate_and_serving_backends_scale_one() -> None:
    plan = make_plan(lb(replace(US, weight=4), EU), OPTIONS)
    by_cluster = {b.cluster: b for b in plan.backends}
    assert by_cluster["us"].max_rate == 40.0 and by_cluster["us"].capacity == 1.0
    assert by_cluster["eu"].max_rate == 10.0 and by_cluster["eu"].capacity == 1.0


def test_weight_zero_and_unhealthy_backends_are_drained_with_scaler_zero() -> None:
    plan = make_plan(lb(replace(US, weight=0), replace(EU, healthy=False), ASIA), OPTIONS)
    drained = {b.cluster for b in plan.backends if b.capacity == 0.0}
    assert drained == {"us", "eu"}
    assert [b.cluster for b in plan.serving] == ["asia"]
    backends = backend_service_body(plan)["backends"]
    assert all(b["maxRatePerEndpoint"] > 0 for b in backends)  # GCE requires a rate in RATE mode


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("192.0.2.1:8080", ("192.0.2.1", 8080)),
        ("192.0.2.1", ("192.0.2.1", 80)),
        ("[2001:db8::1]:443", ("2001:db8::1", 443)),
        ("2001:db8::1", ("2001:db8::1", 80)),
        ("shop.example:80", (None, 80)),
        ("192.0.2.1:99999", (None, 99999)),
        ("192.0.2.1:http", (None, 0)),
    ],
)
def test_addresses_split_into_ip_and_port(address: str, expected: tuple[str | None, int]) -> None:
    assert split_address(address, default_port=80) == expected


def test_a_cluster_outside_gce_needs_a_zone_map_entry() -> None:
    onprem = Backend(cluster="dc1", region="dc", zone="rack-7", address="10.1.2.3:80")
    with pytest.raises(ProviderError, match="zone_map") as refused:
        make_plan(lb(onprem), OPTIONS)
    assert not refused.value.retryable
    mapped = make_plan(lb(onprem), replace(OPTIONS, zone_map={"rack-7": "us-east4-c"}))
    assert mapped.backends[0].zone == "us-east4-c"


def test_a_cluster_listed_twice_or_a_port_gce_cannot_serve_is_refused() -> None:
    with pytest.raises(ProviderError, match="twice"):
        make_plan(lb(US, US), OPTIONS)
    with pytest.raises(ProviderError, match="80 or 8080"):
        make_plan(lb(US, port=443), OPTIONS)


def test_host_names_and_ipv6_backends_are_refused_with_advice() -> None:
    with pytest.raises(ProviderError, match="IP address and port"):
        make_plan(lb(replace(US, address="shop.example:80")), OPTIONS)
    with pytest.raises(ProviderError, match="IPv4"):
        make_plan(lb(replace(US, address="[2001:db8::1]:80")), OPTIONS)


def test_the_backend_service_drifts_only_on_what_kfed_sets() -> None:
    plan = make_plan(lb(US, EU), OPTIONS)
    current: dict[str, Any] = {
        **backend_service_body(plan),
        "fingerprint": "abc=",
        "selfLink": "https://www.googleapis.com/compute/v1/projects/kfed-test/global/x",
        "healthChecks": [
            "https://www.googleapis.com/compute/v1/projects/kfed-test/global/healthChecks/"
            + plan.names.health_check
        ],
    }
    current["backends"] = [
        {**b, "group": "https://www.googleapis.com/compute/v1/" + b["group"]}
        for b in reversed(current["backends"])
    ]
    assert not backend_service_drifted(current, plan)
    drained = make_plan(lb(replace(US, weight=0), EU), OPTIONS)
    assert backend_service_drifted(current, drained)
    assert backend_service_drifted(current, make_plan(lb(US), OPTIONS))


def test_health_check_defaults_gce_adds_are_not_drift() -> None:
    plan = make_plan(lb(US), OPTIONS)
    current = health_check_body(plan)
    current["httpHealthCheck"] = {**current["httpHealthCheck"], "proxyHeader": "NONE"}
    assert not health_check_drifted(current, plan)
    assert health_check_drifted(current, make_plan(lb(US), replace(OPTIONS, unhealthy_threshold=5)))


def test_the_firewall_opens_every_backend_port_to_the_health_checkers() -> None:
    plan = make_plan(lb(replace(US, address="192.0.2.10:8443"), EU), OPTIONS)
    body = firewall_body(plan)
    assert body["allowed"] == [{"IPProtocol": "tcp", "ports": ["80", "8443"]}]
    assert sorted(body["sourceRanges"]) == ["130.211.0.0/22", "35.191.0.0/16"]
    assert not firewall_drifted(body, plan)
    assert firewall_drifted(body, make_plan(lb(US), OPTIONS))


def test_a_forwarding_rule_is_replaced_when_its_address_or_port_differ() -> None:
    plan = make_plan(lb(US), OPTIONS)
    rule = {
        "IPAddress": "203.0.113.1",
        "portRange": "80-80",
        "loadBalancingScheme": "EXTERNAL_MANAGED",
    }
    assert not forwarding_rule_replaced(rule, plan, "203.0.113.1")
    assert forwarding_rule_replaced(rule, plan, "203.0.113.2")
    assert forwarding_rule_replaced(rule, make_plan(lb(US, port=8080), OPTIONS), "203.0.113.1")
