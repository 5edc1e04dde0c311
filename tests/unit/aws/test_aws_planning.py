"""Backends become endpoint groups with scaled weights and traffic dials; diffs and status."""

from __future__ import annotations

from kfed_aws.api import Accelerator, Endpoint, EndpointGroup, GroupSpec, LoadBalancerRef
from kfed_aws.planning import (
    diff_groups,
    ga_weight,
    group_matches,
    place_backends,
    split_address,
    summarise,
)
from kfed_core.providers import Backend

LBS = {
    "us-east-1": [
        LoadBalancerRef(arn="arn:us-a", dns_name="a.us-east-1.elb.amazonaws.com", kind="network"),
        LoadBalancerRef(arn="arn:us-b", dns_name="B.us-east-1.elb.amazonaws.com.", kind="network"),
    ],
    "eu-west-1": [
        LoadBalancerRef(arn="arn:eu", dns_name="e.eu-west-1.elb.amazonaws.com", kind="network")
    ],
}


def backend(cluster: str, region: str, host: str, **kw: object) -> Backend:
    port = kw.pop("port", 80)
    return Backend(cluster=cluster, region=region, zone="", address=f"{host}:{port}", **kw)  # type: ignore[arg-type]


def test_split_address_accepts_host_port_only() -> None:
    assert split_address("A.example.com.:8080") == ("a.example.com", 8080)
    assert split_address("nohost") is None
    assert split_address("h:0") is None
    assert split_address("h:99999") is None


def test_weights_scale_to_255_and_drained_ones_are_zero() -> None:
    assert ga_weight(4, 4) == 255
    assert ga_weight(1, 4) == 64
    assert ga_weight(1, 10_000) == 1  # never 0 while serving
    assert ga_weight(0, 4) == 0


def test_backends_go_to_their_regions_load_balancers_with_scaled_weights() -> None:
    placement = place_backends(
        [
            backend("us1", "us-east-1", "a.us-east-1.elb.amazonaws.com", weight=3),
            backend("us2", "us-east-1", "b.us-east-1.elb.amazonaws.com", weight=1),
            backend("eu", "eu-west-1", "e.eu-west-1.elb.amazonaws.com", weight=3),
        ],
        LBS,
        80,
    )
    assert placement.left_out == {}
    assert placement.groups == (
        GroupSpec(region="eu-west-1", endpoints=(("arn:eu", 255),), traffic_dial=100.0),
        GroupSpec(
            region="us-east-1", endpoints=(("arn:us-a", 255), ("arn:us-b", 85)), traffic_dial=100.0
        ),
    )
    assert placement.endpoint_of == {"us1": "arn:us-a", "us2": "arn:us-b", "eu": "arn:eu"}


def test_a_region_whose_backends_are_all_drained_gets_dial_zero() -> None:
    placement = place_backends(
        [
            backend("us1", "us-east-1", "a.us-east-1.elb.amazonaws.com", weight=0),
            backend("us2", "us-east-1", "b.us-east-1.elb.amazonaws.com", healthy=False),
            backend("eu", "eu-west-1", "e.eu-west-1.elb.amazonaws.com"),
        ],
        LBS,
        80,
    )
    us = next(g for g in placement.groups if g.region == "us-east-1")
    assert us.traffic_dial == 0.0
    assert us.endpoints == (("arn:us-a", 0), ("arn:us-b", 0))


def test_unknown_hosts_and_regions_are_left_out_with_a_reason() -> None:
    placement = place_backends(
        [
            backend("lost", "us-east-1", "nope.us-east-1.elb.amazonaws.com"),
            backend("elsewhere", "ap-south-1", "a.us-east-1.elb.amazonaws.com"),
            Backend(cluster="bad", region="us-east-1", zone="", address="no-port"),
            backend("gcp", "us-central1", "a.us-east-1.elb.amazonaws.com"),
            backend("eu", "eu-west-1", "e.eu-west-1.elb.amazonaws.com"),
        ],
        LBS,
        80,
    )
    assert set(placement.left_out) == {"lost", "elsewhere", "bad", "gcp"}
    assert "not an AWS region" in placement.left_out["gcp"]
    assert "nope.us-east-1.elb.amazonaws.com" in placement.left_out["lost"]
    assert "not host:port" in placement.left_out["bad"]
    assert [g.region for g in placement.groups] == ["eu-west-1"]


def test_a_region_on_another_port_gets_a_port_override_and_odd_ports_are_left_out() -> None:
    placement = place_backends(
        [
            backend("us1", "us-east-1", "a.us-east-1.elb.amazonaws.com", port=8080),
            backend("us2", "us-east-1", "b.us-east-1.elb.amazonaws.com", port=8080),
            backend("odd", "us-east-1", "b.us-east-1.elb.amazonaws.com", port=9090),
        ],
        LBS,
        80,
    )
    assert placement.groups[0].endpoint_port == 8080
    assert "port 9090" in placement.left_out["odd"]


def test_two_clusters_behind_one_load_balancer_share_one_endpoint() -> None:
    placement = place_backends(
        [
            backend("one", "us-east-1", "a.us-east-1.elb.amazonaws.com", weight=1),
            backend("two", "us-east-1", "a.us-east-1.elb.amazonaws.com", weight=1),
            backend("us2", "us-east-1", "b.us-east-1.elb.amazonaws.com", weight=2),
        ],
        LBS,
        80,
    )
    assert placement.groups[0].endpoints == (("arn:us-a", 255), ("arn:us-b", 255))


def group(arn: str, region: str, endpoints: dict[str, int], dial: float = 100.0) -> EndpointGroup:
    return EndpointGroup(
        arn=arn,
        region=region,
        endpoints=tuple(Endpoint(endpoint_id=k, weight=v) for k, v in endpoints.items()),
        traffic_dial=dial,
    )


def test_diff_creates_updates_and_deletes_what_differs_only() -> None:
    current = [
        group("g-us", "us-east-1", {"arn:us-a": 255}),
        group("g-eu", "eu-west-1", {"arn:eu": 255}),
        group("g-eu2", "eu-west-1", {"arn:eu": 255}),  # a second group of one region
        group("g-ap", "ap-northeast-1", {"arn:ap": 255}),
    ]
    wanted = [
        GroupSpec(region="us-east-1", endpoints=(("arn:us-a", 255),), traffic_dial=100.0),
        GroupSpec(region="eu-west-1", endpoints=(("arn:eu", 0),), traffic_dial=0.0),
        GroupSpec(region="sa-east-1", endpoints=(("arn:sa", 255),), traffic_dial=100.0),
    ]
    changes = diff_groups(current, wanted, 80)
    assert changes.delete == ("g-eu2", "g-ap")
    assert changes.update == (("g-eu", wanted[1]),)
    assert changes.create == (wanted[2],)
    assert diff_groups(current[:1], wanted[:1], 80).empty


def test_group_matches_compares_port_overrides() -> None:
    spec = GroupSpec(region="r-1", endpoints=(("a", 1),), traffic_dial=100.0, endpoint_port=8080)
    plain = group("g", "r-1", {"a": 1})
    assert not group_matches(plain, spec, 80)
    overridden = EndpointGroup(
        arn="g",
        region="r-1",
        endpoints=plain.endpoints,
        traffic_dial=100.0,
        port_overrides=((80, 8080),),
    )
    assert group_matches(overridden, spec, 80)


def accelerator(status: str = "DEPLOYED", enabled: bool = True) -> Accelerator:
    return Accelerator(
        arn="acc",
        name="web",
        enabled=enabled,
        status=status,
        dns_name="a.example",
        ip_addresses=("198.51.100.1", "203.0.113.1"),
    )


def test_ready_needs_deployed_and_a_healthy_weighted_endpoint() -> None:
    backends = [backend("us1", "us-east-1", "a.us-east-1.elb.amazonaws.com")]
    placement = place_backends(backends, LBS, 80)
    healthy = [
        EndpointGroup(
            arn="g",
            region="us-east-1",
            traffic_dial=100.0,
            endpoints=(Endpoint(endpoint_id="arn:us-a", weight=255, health="HEALTHY"),),
        )
    ]
    ready, message = summarise(accelerator(), healthy, backends, placement)
    assert ready
    assert "198.51.100.1" in message and "1 of 1 backends serving" in message
    assert not summarise(accelerator("IN_PROGRESS"), healthy, backends, placement)[0]
    assert not summarise(accelerator(enabled=False), healthy, backends, placement)[0]
    initial = [group("g", "us-east-1", {"arn:us-a": 255})]
    ready, message = summarise(accelerator(), initial, backends, placement)
    assert not ready and "first health check" in message
    dialled = [
        EndpointGroup(
            arn="g",
            region="us-east-1",
            traffic_dial=0.0,
            endpoints=(Endpoint(endpoint_id="arn:us-a", weight=255, health="HEALTHY"),),
        )
    ]
    assert not summarise(accelerator(), dialled, backends, placement)[0]


def test_message_names_drained_and_left_out_backends() -> None:
    backends = [
        backend("us1", "us-east-1", "a.us-east-1.elb.amazonaws.com", weight=0),
        backend("us2", "us-east-1", "b.us-east-1.elb.amazonaws.com", healthy=False),
        backend("lost", "us-east-1", "nope.example.com"),
    ]
    placement = place_backends(backends, LBS, 80)
    ready, message = summarise(accelerator(), [], backends, placement)
    assert not ready
    assert "us1 drained (weight 0)" in message
    assert "us2 drained (reported unhealthy by the hub)" in message
    assert "lost left out" in message
    assert "0 of 3 backends serving" in message
