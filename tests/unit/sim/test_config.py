"""Cluster descriptions: flags, files and presets."""

from __future__ import annotations

import pytest

from kfed_local.sim.config import ConfigError, parse_clusters_flag, parse_config, preset


def test_seed_preset_is_the_blogs_nine_clusters_in_their_zones() -> None:
    clusters = preset("seed")
    assert [(c.name, c.region, c.zone) for c in clusters][:3] == [
        ("gce-asia-east1-a", "asia-east1", "asia-east1-a"),
        ("gce-asia-east1-b", "asia-east1", "asia-east1-b"),
        ("gce-asia-east1-c", "asia-east1", "asia-east1-c"),
    ]
    assert len(clusters) == 9 and {c.provider for c in clusters} == {"gce"}
    assert {c.region for c in clusters} == {"asia-east1", "europe-west1", "us-central1"}


def test_unknown_preset_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="known presets: seed"):
        preset("nope")


def test_clusters_flag_parses_names_regions_and_zones() -> None:
    specs = parse_clusters_flag("east=us-east1/us-east1-b, west=us-west1/us-west1-a")
    assert [(s.name, s.region, s.zones) for s in specs] == [
        ("east", "us-east1", ("us-east1-b",)),
        ("west", "us-west1", ("us-west1-a",)),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("east", "item 1 ('east') is not NAME=REGION/ZONE"),
        ("a=r/z,b=r", "item 2"),
        ("", "names no cluster"),
        ("A=r/z", "must be a DNS label"),
        ("a=R/z", "region/zone 'R'"),
    ],
)
def test_clusters_flag_errors_say_what_and_where(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_clusters_flag(text)


def test_config_file_sets_every_field() -> None:
    (spec,) = parse_config(
        "clusters:\n"
        "- name: onprem\n  region: dc1\n  zones: [dc1-a, dc1-b]\n  provider: openstack\n"
        "  nodes: 4\n  capacity: {cpu: 500m, memory: 2Gi, pods: 8}\n  podStartDelay: 2\n"
        "  labels: {team: infra}\n"
    )
    assert spec.zones == ("dc1-a", "dc1-b") and spec.provider == "openstack" and spec.nodes == 4
    assert (spec.capacity.cpu, spec.capacity.memory, spec.capacity.pods) == ("500m", "2Gi", 8)
    assert spec.pod_start_delay == 2.0 and spec.labels == {"team": "infra"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("clusters: [", "not valid YAML at line 1"),
        ("clusters: []", "at least one cluster"),
        ("clusters:\n- name: a\n  region: r\n", "give 'zone: NAME'"),
        ("clusters:\n- name: a\n  region: r\n  zone: z\n  nodse: 3\n", "unknown field(s) nodse"),
        ("clusters:\n- name: a\n  region: r\n  zone: z\n  nodes: -1\n", "clusters[0].nodes"),
        (
            "clusters:\n- name: a\n  region: r\n  zone: z\n  capacity: {cpu: lots}\n",
            "capacity.cpu: 'lots' is not a quantity",
        ),
        ("clusters:\n- name: a\n  region: r\n  zone: z\n  podStartDelay: soon\n", "podStartDelay"),
    ],
)
def test_config_file_errors_name_the_place(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, source="c.yaml")
    assert message in str(caught.value)
    assert str(caught.value).startswith("c.yaml")
