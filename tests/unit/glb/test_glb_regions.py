"""The built-in region table, great-circle distance and configured regions."""

from __future__ import annotations

import pytest

from kfed_local.glb.regions import (
    BUILTIN_REGIONS,
    Coordinates,
    RegionError,
    RegionTable,
    great_circle_km,
    parse_regions,
)

REQUIRED_GCP = [
    "asia-east1",
    "asia-northeast1",
    "asia-southeast1",
    "australia-southeast1",
    "europe-west1",
    "europe-west2",
    "europe-west3",
    "europe-west4",
    "europe-north1",
    "us-central1",
    "us-east1",
    "us-east4",
    "us-west1",
    "us-west2",
    "us-west3",
    "us-west4",
    "southamerica-east1",
]
REQUIRED_AWS = [
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-north-1",
    "ap-northeast-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-south-1",
    "sa-east-1",
    "ca-central-1",
]


@pytest.mark.parametrize("region", REQUIRED_GCP + REQUIRED_AWS)
def test_builtin_table_knows_the_common_cloud_regions(region: str) -> None:
    assert region in BUILTIN_REGIONS


def test_openstack_default_region_needs_configuration() -> None:
    table = RegionTable()
    assert table.coordinates("RegionOne") is None
    configured = table.with_overrides({"RegionOne": Coordinates(latitude=48.1, longitude=11.6)})
    assert configured.coordinates("regionone") == Coordinates(latitude=48.1, longitude=11.6)


def test_great_circle_distance_matches_known_city_pairs() -> None:
    london = BUILTIN_REGIONS["europe-west2"]
    paris = BUILTIN_REGIONS["europe-west9"]
    tokyo = BUILTIN_REGIONS["asia-northeast1"]
    sydney = BUILTIN_REGIONS["australia-southeast1"]
    assert great_circle_km(london, paris) == pytest.approx(344, abs=10)
    assert great_circle_km(tokyo, sydney) == pytest.approx(7820, abs=80)
    assert great_circle_km(tokyo, sydney) == pytest.approx(great_circle_km(sydney, tokyo))
    assert great_circle_km(tokyo, tokyo) == 0.0


def test_antipodes_are_half_the_earth_apart() -> None:
    north = Coordinates(latitude=90.0, longitude=0.0)
    south = Coordinates(latitude=-90.0, longitude=0.0)
    assert great_circle_km(north, south) == pytest.approx(20015, abs=5)


def test_zones_and_numbered_regions_resolve_to_their_region() -> None:
    table = RegionTable()
    assert table.coordinates("asia-east1-b") == BUILTIN_REGIONS["asia-east1"]
    assert table.coordinates("us-east-1a") == BUILTIN_REGIONS["us-east-1"]
    assert table.coordinates("GRA11") == BUILTIN_REGIONS["gra"]
    assert table.coordinates("US-CENTRAL1") == BUILTIN_REGIONS["us-central1"]
    assert table.coordinates("mars-north1") is None


def test_distance_between_regions_is_none_when_one_is_unknown_but_zero_for_the_same_name() -> None:
    table = RegionTable()
    assert table.distance_km("us-central1", "nowhere") is None
    assert table.distance_km("RegionOne", "regionone") == 0.0
    closer = table.distance_km("asia-east1", "europe-west1")
    farther = table.distance_km("asia-east1", "us-central1")
    assert closer is not None and farther is not None and closer < farther


def test_overrides_move_a_builtin_region_without_changing_the_original_table() -> None:
    table = RegionTable()
    moved = table.with_overrides({"us-central1": Coordinates(latitude=0.0, longitude=0.0)})
    assert moved.coordinates("us-central1") == Coordinates(latitude=0.0, longitude=0.0)
    assert table.coordinates("us-central1") == BUILTIN_REGIONS["us-central1"]
    assert len(moved) == len(table)


def test_configured_regions_parse_from_lists_and_strings() -> None:
    parsed = parse_regions({"dc1": [52.5, 13.4], "dc2": "40.4, -3.7"})
    assert parsed == {
        "dc1": Coordinates(latitude=52.5, longitude=13.4),
        "dc2": Coordinates(latitude=40.4, longitude=-3.7),
    }


@pytest.mark.parametrize("value", [[91.0, 0.0], [0.0, 181.0], "north", [1.0], [True, 2.0], None])
def test_bad_configured_region_names_the_entry_and_the_fix(value: object) -> None:
    with pytest.raises(RegionError, match=r"regions\.dc1: .*write \[latitude, longitude\]"):
        parse_regions({"dc1": value})
