"""Placement: cluster names, kubectl-style and Federation v1 selectors, their errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from kfed_hub.planning.facts import ClusterFacts
from kfed_hub.planning.placement import (
    EVERYWHERE,
    Placement,
    PlacementError,
    placement_of,
    select,
    unknown_names,
)
from kfed_hub.planning.selectors import (
    LabelSelector,
    Requirement,
    SelectorError,
    legacy_selector,
    parse_selector,
)

EXAMPLES = Path(__file__).resolve().parents[4] / "examples" / "federation-2016"

FLEET = [
    ClusterFacts(
        name="aws-us-east-1",
        labels={"region": "us-east-1", "zone": "us-east-1a", "provider": "aws", "tier": "1"},
    ),
    ClusterFacts(
        name="gce-us-central1-a",
        labels={"region": "us-central1", "zone": "us-central1-a", "provider": "gcp", "gpu": ""},
    ),
    ClusterFacts(
        name="gce-us-central1-b",
        labels={"region": "us-central1", "zone": "us-central1-b", "provider": "gcp", "tier": "3"},
    ),
    ClusterFacts(name="gce-eu-west1-b", labels={"region": "europe-west1", "provider": "gcp"}),
    ClusterFacts(name="onprem-1", labels={"provider": "openstack"}, ready=False),
]
ALL = sorted(c.name for c in FLEET)


def annotated(**annotations: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "nginx", "annotations": dict(annotations)},
    }


def chosen(annotations: dict[str, str]) -> list[str]:
    return select(placement_of(annotated(**annotations)), FLEET)


def by_selector(text: str) -> list[str]:
    return chosen({"kfed.io/cluster-selector": text})


def test_object_without_placement_goes_to_every_cluster_ready_or_not() -> None:
    assert placement_of({"kind": "Service", "metadata": {"name": "x"}}) == EVERYWHERE
    assert select(EVERYWHERE, FLEET) == ALL
    assert str(EVERYWHERE) == "all clusters"


@pytest.mark.parametrize("path", sorted(EXAMPLES.rglob("*.yaml")), ids=lambda p: p.name)
def test_seed_manifests_go_everywhere(path: Path) -> None:
    assert placement_of(yaml.safe_load(path.read_text())) == EVERYWHERE


def test_names_choose_those_clusters_sorted_and_report_unknown_ones() -> None:
    placement = placement_of(annotated(**{"kfed.io/clusters": " onprem-1, aws-us-east-1,mars-1"}))
    assert placement.names == frozenset({"onprem-1", "aws-us-east-1", "mars-1"})
    assert select(placement, FLEET) == ["aws-us-east-1", "onprem-1"]
    assert unknown_names(placement, FLEET) == ["mars-1"]
    assert unknown_names(EVERYWHERE, FLEET) == []


def test_empty_names_place_nowhere() -> None:
    placement = placement_of(annotated(**{"kfed.io/clusters": ""}))
    assert placement.names == frozenset()
    assert select(placement, FLEET) == []
    assert str(placement) == "clusters (none)"


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("region=us-central1", ["gce-us-central1-a", "gce-us-central1-b"]),
        ("region == us-central1", ["gce-us-central1-a", "gce-us-central1-b"]),
        # != and notin also match clusters without the label, as in Kubernetes.
        ("provider!=gcp", ["aws-us-east-1", "onprem-1"]),
        ("region notin (us-central1,us-east-1)", ["gce-eu-west1-b", "onprem-1"]),
        ("zone in (us-east-1a, us-central1-b)", ["aws-us-east-1", "gce-us-central1-b"]),
        ("gpu", ["gce-us-central1-a"]),
        ("!region", ["onprem-1"]),
        ("tier>1", ["gce-us-central1-b"]),
        ("tier<3", ["aws-us-east-1"]),
        ("provider=gcp,!zone", ["gce-eu-west1-b"]),
        ("provider=gcp , region=us-central1 , tier", ["gce-us-central1-b"]),
        ("gpu=", ["gce-us-central1-a"]),
        ("", ALL),
    ],
)
def test_kubectl_selector_selects_by_cluster_labels(selector: str, expected: list[str]) -> None:
    assert by_selector(selector) == expected


def test_names_and_selector_together_mean_the_intersection() -> None:
    annotations = {
        "kfed.io/clusters": "aws-us-east-1,gce-us-central1-a,gce-eu-west1-b",
        "kfed.io/cluster-selector": "provider=gcp",
    }
    assert chosen(annotations) == ["gce-eu-west1-b", "gce-us-central1-a"]
    assert str(placement_of(annotated(**annotations))) == (
        "clusters aws-us-east-1,gce-eu-west1-b,gce-us-central1-a and clusters matching provider=gcp"
    )


def legacy(requirements: list[dict[str, Any]]) -> list[str]:
    text = json.dumps(requirements)
    return chosen({"federation.alpha.kubernetes.io/cluster-selector": text})


def test_federation_v1_selector_annotation_is_accepted() -> None:
    assert legacy([{"key": "region", "operator": "In", "values": ["us-central1"]}]) == [
        "gce-us-central1-a",
        "gce-us-central1-b",
    ]
    assert legacy(
        [
            {"key": "provider", "operator": "NotIn", "values": ["aws", "openstack"]},
            {"key": "zone", "operator": "DoesNotExist"},
        ]
    ) == ["gce-eu-west1-b"]
    assert legacy([{"key": "gpu", "operator": "exists", "values": []}]) == ["gce-us-central1-a"]
    assert legacy([{"key": "tier", "operator": "Gt", "values": ["2"]}]) == ["gce-us-central1-b"]
    assert legacy([{"key": "tier", "operator": "lt", "values": ["2"]}]) == ["aws-us-east-1"]


def test_kfed_and_federation_v1_selectors_together_must_both_hold() -> None:
    annotations = {
        "kfed.io/cluster-selector": "provider=gcp",
        "federation.alpha.kubernetes.io/cluster-selector": json.dumps(
            [{"key": "region", "operator": "In", "values": ["us-central1"]}]
        ),
    }
    assert chosen(annotations) == ["gce-us-central1-a", "gce-us-central1-b"]


def test_selector_prints_back_in_kubectl_syntax() -> None:
    text = "a=1,b!=2,c in (x,y),d notin (z,w),e,!f,g>3,h<4"
    selector = parse_selector(text)
    assert str(selector) == "a=1,b!=2,c in (x,y),d notin (w,z),e,!f,g>3,h<4"
    assert parse_selector(str(selector)) == selector


def test_selector_keys_may_carry_a_dns_prefix() -> None:
    selector = parse_selector("topology.kubernetes.io/region=eu-west-1")
    assert selector.matches({"topology.kubernetes.io/region": "eu-west-1"})
    assert not selector.matches({"region": "eu-west-1"})


def test_integer_comparisons_do_not_match_labels_that_are_not_integers() -> None:
    assert not parse_selector("tier>1").matches({"tier": "gold"})
    assert not parse_selector("tier<1").matches({})


_names = st.from_regex(r"[a-z][a-z0-9]{0,5}", fullmatch=True)
_requirements = st.one_of(
    st.builds(
        Requirement,
        key=_names,
        operator=st.sampled_from(["In", "NotIn"]),
        values=st.lists(_names, min_size=1, max_size=3, unique=True).map(
            lambda v: tuple(sorted(v))
        ),
    ),
    st.builds(Requirement, key=_names, operator=st.sampled_from(["Exists", "DoesNotExist"])),
    st.builds(
        Requirement,
        key=_names,
        operator=st.sampled_from(["Gt", "Lt"]),
        values=st.integers(-99, 99).map(lambda n: (str(n),)),
    ),
)


@given(st.lists(_requirements, max_size=4))
def test_any_selector_survives_printing_and_parsing(requirements: list[Requirement]) -> None:
    selector = LabelSelector(requirements=tuple(requirements))
    assert parse_selector(str(selector)) == selector


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        (
            "region=us east1",
            "expected ',' or the end after a requirement, found 'east1' at column 11",
        ),
        ("zone in (a,b", "expected ',' or ')' in a list of values, found the end at column 13"),
        (
            "zone in ()",
            "expected at least one value in the parentheses of 'in', found ')' at column 10",
        ),
        ("zone in a", "expected '(' after 'in', found 'a' at column 9"),
        ("=us", "expected a label key, found '=' at column 1"),
        ("region=us,", "expected a label key, found the end at column 11"),
        ("tier>gold", "expected an integer, found 'gold' at column 6"),
        ("tier>", "expected an integer, found the end at column 6"),
        ("-bad=x", "expected a label key ([prefix/]name"),
        ("region=us_", "expected a label value"),
        ("region like us", "expected an operator (=, ==, !=, in, notin, >, <) after 'region'"),
    ],
)
def test_selector_syntax_errors_say_where_and_what(selector: str, message: str) -> None:
    with pytest.raises(PlacementError) as caught:
        by_selector(selector)
    text = str(caught.value)
    assert text.startswith("annotation kfed.io/cluster-selector: ")
    assert message in text
    assert f"of selector {selector!r}" in text
    assert "key in (a,b)" in text  # the forms a requirement may take


@pytest.mark.parametrize(
    ("names", "message"),
    [
        ("US_East", "'US_East' is not a cluster name: a cluster name must consist of lower case"),
        ("a,,b", "name 2 of 'a,,b' is empty"),
    ],
)
def test_bad_cluster_names_are_refused(names: str, message: str) -> None:
    with pytest.raises(PlacementError, match=r"^annotation kfed\.io/clusters: ") as caught:
        placement_of(annotated(**{"kfed.io/clusters": names}))
    assert message in str(caught.value)


def test_annotation_that_is_not_a_string_is_refused() -> None:
    manifest: dict[str, Any] = annotated()
    manifest["metadata"]["annotations"]["kfed.io/cluster-selector"] = ["region=us"]
    with pytest.raises(
        PlacementError, match=r"kfed\.io/cluster-selector: the value must be a string"
    ):
        placement_of(manifest)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[{'key': 1}]", "not JSON (Expecting property name enclosed in double quotes at line 1"),
        ('{"key": "a"}', "expected a JSON list of requirements, got dict"),
        ('["a"]', "requirement 0: expected an object with key, operator and values"),
        ('[{"key": "a", "operator": "Equals"}]', "requirement 0: 'operator' must be one of In,"),
        ('[{"key": "-a", "operator": "Exists"}]', "requirement 0: 'key' must be a label key"),
        ('[{"key": "a", "operator": "In"}]', "operator In needs at least one value"),
        ('[{"key": "a", "operator": "Exists", "values": ["x"]}]', "Exists takes no values"),
        ('[{"key": "a", "operator": "Gt", "values": ["x"]}]', "Gt needs exactly one integer value"),
        ('[{"key": "a", "operator": "In", "values": [1]}]', "'values' must be a list of label"),
    ],
)
def test_federation_v1_selector_errors_name_the_requirement(text: str, message: str) -> None:
    manifest = annotated(**{"federation.alpha.kubernetes.io/cluster-selector": text})
    with pytest.raises(PlacementError) as caught:
        placement_of(manifest)
    assert str(caught.value).startswith(
        "annotation federation.alpha.kubernetes.io/cluster-selector"
    )
    assert message in str(caught.value)


def test_legacy_selector_parses_a_list_directly() -> None:
    selector = legacy_selector([{"key": "a", "operator": "notin", "values": ["y", "x", "x"]}])
    assert selector == LabelSelector(
        requirements=(Requirement(key="a", operator="NotIn", values=("x", "y")),)
    )
    with pytest.raises(SelectorError):
        legacy_selector("a=b")


def test_placement_matches_single_clusters() -> None:
    placement = Placement(names=frozenset({"onprem-1"}), selector=parse_selector("provider"))
    assert placement.matches(FLEET[4])
    assert not placement.matches(FLEET[0])
