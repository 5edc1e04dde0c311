"""Routing decisions: closest healthy backend with capacity, spill-over, client location."""

from __future__ import annotations

import ipaddress
from dataclasses import replace
from typing import Any

import pytest

from kfed_local.glb.regions import Coordinates, RegionTable
from kfed_local.glb.routing import (
    BackendLoad,
    ClientNetwork,
    ClientPlace,
    RoutingError,
    choose,
    locate_client,
    parse_client_networks,
)

REGIONS = RegionTable()


def seed(**changes: dict[str, Any]) -> list[BackendLoad]:
    """One backend per region of the 2016 walk-through, with per-cluster changes."""
    base = [
        BackendLoad(cluster="asia", region="asia-east1", healthy=True, limit=10),
        BackendLoad(cluster="eu", region="europe-west1", healthy=True, limit=10),
        BackendLoad(cluster="us", region="us-central1", healthy=True, limit=10),
    ]
    return [replace(load, **changes.get(load.cluster, {})) for load in base]


def client(region: str | None) -> ClientPlace:
    return ClientPlace(region=region, source="header" if region else "unknown")


def test_client_is_sent_to_the_closest_backend() -> None:
    assert choose(seed(), client("asia-east1"), REGIONS).chosen == "asia"
    assert choose(seed(), client("us-east1"), REGIONS).chosen == "us"
    decision = choose(seed(), client("europe-west3"), REGIONS)
    assert decision.chosen == "eu"
    assert decision.reason == "closest"
    assert decision.order == ("eu", "us", "asia")  # Frankfurt: Iowa is nearer than Taiwan


def test_order_continues_with_the_next_closest_for_retries() -> None:
    decision = choose(seed(), client("asia-east1"), REGIONS)
    # Taiwan is closer to Belgium (~9,600 km) than to Iowa (~12,000 km).
    assert decision.order == ("asia", "eu", "us")


def test_full_closest_backend_spills_over_to_the_next_closest() -> None:
    decision = choose(seed(asia={"in_flight": 10}), client("asia-east1"), REGIONS)
    assert decision.chosen == "eu"
    assert decision.reason == "spill-over"
    assert "asia" in decision.detail and "in-flight limit of 10" in decision.detail
    assert decision.order == ("eu", "us", "asia")  # the full one is the last resort


def test_unhealthy_backend_is_skipped() -> None:
    decision = choose(seed(asia={"healthy": False}), client("asia-east1"), REGIONS)
    assert decision.chosen == "eu"
    assert "asia" not in decision.order


def test_drained_backend_with_weight_zero_is_skipped() -> None:
    decision = choose(seed(asia={"weight": 0}), client("asia-east1"), REGIONS)
    assert decision.order == ("eu", "us")


def test_equally_close_backends_prefer_the_least_loaded_then_the_name() -> None:
    backends = [
        BackendLoad(cluster="asia-b", region="asia-east1", healthy=True, in_flight=2),
        BackendLoad(cluster="asia-c", region="asia-east1", healthy=True, in_flight=1),
        BackendLoad(cluster="asia-a", region="asia-east1", healthy=True, in_flight=2),
    ]
    assert choose(backends, client("asia-east1"), REGIONS).order == ("asia-c", "asia-a", "asia-b")
    idle = [BackendLoad(cluster=n, region="asia-east1", healthy=True) for n in ("z", "m", "a")]
    assert choose(idle, client("asia-east1"), REGIONS).chosen == "a"


def test_load_is_compared_per_unit_of_weight() -> None:
    backends = [
        BackendLoad(cluster="small", region="us-east1", healthy=True, weight=1, in_flight=2),
        BackendLoad(cluster="big", region="us-east1", healthy=True, weight=4, in_flight=4),
    ]
    assert choose(backends, client("us-east1"), REGIONS).chosen == "big"


def test_no_healthy_backend_is_a_503_that_says_why() -> None:
    decision = choose(
        seed(asia={"healthy": False}, eu={"weight": 0}, us={"healthy": False}),
        client("asia-east1"),
        REGIONS,
    )
    assert decision.status == 503
    assert decision.chosen is None
    assert decision.detail == (
        "no healthy backend: asia unhealthy, eu drained (weight 0), us unhealthy"
    )
    assert choose([], client(None), REGIONS).status == 503


def test_no_backend_healthy_by_the_hub_fails_open_to_those_whose_checks_pass() -> None:
    # Every agent went quiet at once (the hub paused, or lost its agents): the checks still
    # pass for asia and us, eu is drained on purpose and us is full.
    decision = choose(
        seed(
            asia={"healthy": False, "checks_pass": True},
            eu={"healthy": False, "checks_pass": True, "weight": 0},
            us={"healthy": False, "checks_pass": True, "in_flight": 10},
        ),
        client("us-east1"),
        REGIONS,
    )
    assert decision.reason == "fail-open"
    assert decision.order == ("asia", "us")  # us is closer but full: it spills over
    assert decision.detail == (
        "the hub reports no healthy backend; failing open to the 2 whose health checks pass: "
        "client in us-east1 (header): closest us (1661 km) is at its in-flight limit of 10; "
        "spilled over to asia (asia-east1, 13285 km)"
    )


def test_failing_open_needs_passing_checks_and_never_overrides_a_healthy_backend() -> None:
    only_checks = seed(
        asia={"healthy": False, "checks_pass": False},
        eu={"healthy": False, "checks_pass": False},
        us={"healthy": False, "checks_pass": False},
    )
    assert choose(only_checks, client("us-east1"), REGIONS).status == 503
    one_healthy = seed(
        asia={"healthy": True, "checks_pass": True},
        eu={"healthy": False, "checks_pass": True},
        us={"healthy": False, "checks_pass": True},
    )
    decision = choose(one_healthy, client("us-east1"), REGIONS)
    assert (decision.reason, decision.order) == ("closest", ("asia",))
    shedding = seed(
        asia={"healthy": False, "checks_pass": True, "in_flight": 10},
        eu={"healthy": False},
        us={"healthy": False},
    )
    shed = choose(shedding, client("us-east1"), REGIONS, shed_when_full=True)
    assert (shed.status, shed.reason) == (503, "no-backend")


def test_every_backend_full_overloads_the_least_loaded_unless_shedding() -> None:
    backends = seed(asia={"in_flight": 12}, eu={"in_flight": 10}, us={"in_flight": 11})
    decision = choose(backends, client("asia-east1"), REGIONS)
    assert decision.reason == "overloaded"
    assert decision.chosen == "eu"
    shed = choose(backends, client("asia-east1"), REGIONS, shed_when_full=True)
    assert shed.status == 503
    assert "in-flight limit" in shed.detail


def test_unknown_client_region_gets_the_backend_with_the_most_capacity() -> None:
    decision = choose(seed(asia={"in_flight": 3}, eu={"in_flight": 1}), client(None), REGIONS)
    assert decision.reason == "most-capacity"
    assert decision.chosen == "us"
    assert "client region unknown" in decision.detail
    assert "most spare capacity" in decision.detail


def test_client_region_without_coordinates_is_treated_as_unknown_and_says_so() -> None:
    decision = choose(seed(), client("RegionOne"), REGIONS)
    assert decision.reason == "most-capacity"
    assert "'RegionOne' has no coordinates" in decision.detail
    table = REGIONS.with_overrides({"RegionOne": Coordinates(latitude=50.0, longitude=8.0)})
    assert choose(seed(), client("RegionOne"), table).chosen == "eu"


def test_backend_in_an_unknown_region_comes_after_the_known_ones() -> None:
    backends = [
        BackendLoad(cluster="dc", region="dc1", healthy=True),
        BackendLoad(cluster="far", region="australia-southeast1", healthy=True),
    ]
    assert choose(backends, client("europe-west1"), REGIONS).order == ("far", "dc")
    assert choose(backends, client("dc1"), REGIONS).chosen == "dc"  # same name: distance 0


def test_header_is_ignored_unless_the_settings_trust_it() -> None:
    place = locate_client(peer="10.0.0.1", header="asia-east1", networks=(), trust_header=False)
    assert place.region is None
    assert "ignored" in place.note
    trusted = locate_client(peer="10.0.0.1", header="asia-east1", networks=(), trust_header=True)
    assert trusted == ClientPlace(region="asia-east1", source="header")


def test_untrusted_header_does_not_override_the_client_network() -> None:
    networks = parse_client_networks({"10.0.0.0/8": "us-east1"})
    place = locate_client(
        peer="10.2.3.4", header="asia-east1", networks=networks, trust_header=False
    )
    assert (place.region, place.source) == ("us-east1", "network")


def test_malformed_header_is_ignored_even_when_trusted() -> None:
    place = locate_client(peer=None, header="asia east1; drop", networks=(), trust_header=True)
    assert place.region is None
    assert "not a region name" in place.note


def test_client_networks_match_the_longest_prefix() -> None:
    networks = parse_client_networks(
        {"10.0.0.0/8": "us-central1", "10.1.0.0/16": "asia-east1", "2001:db8::/32": "eu-west-1"}
    )

    def region_of(peer: str) -> str | None:
        return locate_client(peer=peer, header=None, networks=networks, trust_header=False).region

    assert region_of("10.1.2.3") == "asia-east1"
    assert region_of("10.2.2.3") == "us-central1"
    assert region_of("2001:db8::7") == "eu-west-1"
    assert region_of("192.168.1.1") is None
    assert region_of("not-an-address") is None


def test_client_networks_parse_and_sort_most_specific_first() -> None:
    networks = parse_client_networks({"10.0.0.0/8": "a", "10.1.0.0/16": "b"})
    assert networks[0] == ClientNetwork(network=ipaddress.ip_network("10.1.0.0/16"), region="b")


@pytest.mark.parametrize(
    ("mapping", "message"),
    [({"10.0.0.0/33": "a"}, "write a CIDR"), ({"10.0.0.0/8": "not a region"}, "not a region")],
)
def test_bad_client_network_is_refused_with_its_entry(
    mapping: dict[str, str], message: str
) -> None:
    with pytest.raises(RoutingError, match=message):
        parse_client_networks(mapping)


def test_same_inputs_give_the_same_decision() -> None:
    backends = seed(asia={"in_flight": 10})
    first = choose(backends, client("asia-east1"), REGIONS)
    assert all(choose(backends, client("asia-east1"), REGIONS) == first for _ in range(5))
