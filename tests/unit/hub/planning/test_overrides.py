"""Overrides: per-cluster JSON patches and path/value rules, their errors, annotation stripping."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from kfed_hub.planning.facts import ClusterFacts
from kfed_hub.planning.overrides import (
    Override,
    OverrideError,
    PatchOp,
    apply_overrides,
    overrides_of,
    strip_kfed_annotations,
)

EXAMPLES = Path(__file__).resolve().parents[4] / "examples" / "federation-2016"
IMAGE = "/spec/template/spec/containers/0/image"
ECR = "123456789012.dkr.ecr.us-east-1.amazonaws.com/nginx"

AWS = ClusterFacts(name="aws-us-east-1", labels={"provider": "aws", "region": "us-east-1"})
GCE_A = ClusterFacts(name="gce-us-central1-a", labels={"provider": "gcp", "region": "us-central1"})
GCE_B = ClusterFacts(
    name="gce-us-central1-b", labels={"provider": "gcp", "region": "us-central1"}, ready=False
)


def seed_rs() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(
        (EXAMPLES / "replicasets" / "nginx-rs.yaml").read_text()
    )
    return loaded


def with_overrides(rules: Any, manifest: dict[str, Any] | None = None) -> dict[str, Any]:
    manifest = manifest or seed_rs()
    text = rules if isinstance(rules, str) else json.dumps(rules)
    manifest["metadata"].setdefault("annotations", {})["kfed.io/overrides"] = text
    return manifest


def image_of(manifest: dict[str, Any], index: int = 0) -> str:
    image: str = manifest["spec"]["template"]["spec"]["containers"][index]["image"]
    return image


def test_object_without_overrides_has_no_rules() -> None:
    assert overrides_of(seed_rs()) == []
    assert overrides_of({"kind": "ConfigMap", "metadata": None}) == []


def test_image_registry_per_cloud_changes_only_the_selected_clusters() -> None:
    manifest = with_overrides([{"clusterSelector": "provider=aws", "path": IMAGE, "value": ECR}])
    before = copy.deepcopy(manifest)
    rules = overrides_of(manifest)
    assert rules == [
        Override(
            index=0,
            selector=rules[0].selector,
            ops=(PatchOp(op="replace", path=IMAGE, value=ECR, add_if_missing=True),),
        )
    ]
    aws = apply_overrides(manifest, AWS, rules)
    gce = apply_overrides(manifest, GCE_A, rules)
    assert image_of(aws) == ECR
    assert image_of(gce) == "nginx"
    assert image_of(aws, 1) == "busybox"
    assert manifest == before  # never mutated
    assert gce is not manifest
    gce["spec"]["replicas"] = 1
    assert manifest["spec"]["replicas"] == 9  # a deep copy, even where no rule applied


def test_path_value_adds_a_field_that_is_missing() -> None:
    manifest = with_overrides(
        [
            {"path": "/metadata/labels/cloud", "value": "any"},
            {"path": "/spec/template/spec/containers/0/imagePullPolicy", "value": "Always"},
            {"path": "/spec/template/spec/containers/-", "value": {"name": "s", "image": "s"}},
        ]
    )
    result = apply_overrides(manifest, AWS, overrides_of(manifest))
    assert result["metadata"]["labels"] == {"app": "nginx", "type": "demo", "cloud": "any"}
    assert result["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] == "Always"
    assert [c["name"] for c in result["spec"]["template"]["spec"]["containers"]] == [
        "frontend",
        "zone-fetcher",
        "s",
    ]


def test_json_patch_operations_apply_in_order_across_rules() -> None:
    containers = "/spec/template/spec/containers"
    manifest = with_overrides(
        [
            {
                "clusters": ["gce-us-central1-a"],
                "patch": [
                    {"op": "test", "path": f"{containers}/1/name", "value": "zone-fetcher"},
                    {"op": "remove", "path": f"{containers}/1"},
                    {"op": "add", "path": "/metadata/labels/zone", "value": "a"},
                    {"op": "copy", "from": "/metadata/labels/zone", "path": "/metadata/labels/z"},
                    {"op": "move", "from": "/metadata/labels/type", "path": "/metadata/labels/t"},
                ],
            },
            # The second rule sees what the first one did.
            {"patch": [{"op": "replace", "path": "/metadata/labels/z", "value": "b"}]},
        ]
    )
    rules = overrides_of(manifest)
    gce = apply_overrides(manifest, GCE_A, rules)
    assert gce["metadata"]["labels"] == {"app": "nginx", "zone": "a", "z": "b", "t": "demo"}
    assert [c["name"] for c in gce["spec"]["template"]["spec"]["containers"]] == ["frontend"]
    with pytest.raises(OverrideError, match="rule 1, op 0 \\(replace /metadata/labels/z\\)"):
        apply_overrides(manifest, AWS, rules)  # rule 0 did not add "z" there


def test_rule_targets_names_and_selector_together_as_an_intersection() -> None:
    manifest = with_overrides(
        [
            {
                "clusters": ["aws-us-east-1", "gce-us-central1-b"],
                "clusterSelector": "region=us-central1",
                "path": "/spec/replicas",
                "value": 2,
            }
        ]
    )
    rules = overrides_of(manifest)
    assert [c.name for c in (AWS, GCE_A, GCE_B) if rules[0].applies_to(c)] == [GCE_B.name]
    # Readiness is not the overrides' business: a NotReady cluster's copy is still overridden.
    assert apply_overrides(manifest, GCE_B, rules)["spec"]["replicas"] == 2
    assert apply_overrides(manifest, AWS, rules)["spec"]["replicas"] == 9


def test_rules_are_read_from_yaml_too() -> None:
    text = (
        "- clusterSelector: provider in (aws)\n"
        f"  path: {IMAGE}\n"
        f"  value: {ECR}\n"
        "- clusters: [gce-us-central1-a]\n"
        "  patch:\n"
        "  - {op: replace, path: /spec/replicas, value: 3}\n"
    )
    rules = overrides_of(with_overrides(text))
    assert len(rules) == 2
    assert rules[0].ops[0].value == ECR
    assert rules[1].clusters == frozenset({"gce-us-central1-a"})
    assert apply_overrides(seed_rs(), GCE_A, rules)["spec"]["replicas"] == 3


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ('[{"path": ', "annotation kfed.io/overrides: not JSON: Expecting value: line 1 column 11"),
        ("a: [b", "annotation kfed.io/overrides: not YAML:"),
        ({"path": IMAGE}, "expected a list of rules, got dict"),
        (["x"], "rule 0: expected an object, got str"),
        (
            [{"clusterselector": "a=b", "path": IMAGE, "value": 1}],
            "rule 0: unknown field(s) clusterselector; a rule has clusters, clusterSelector",
        ),
        ([{"path": IMAGE}], "rule 0: 'path' needs a 'value' (to delete a field, use a patch"),
        ([{"value": 1}], "rule 0: give either 'patch' (a list of operations) or 'path' + 'value'"),
        ([{"path": IMAGE, "value": 1, "patch": []}], "give either 'patch'"),
        ([{"patch": []}], "rule 0: 'patch' must be a non-empty list of operations"),
        ([{"clusters": "aws-us-east-1", "path": IMAGE, "value": 1}], "must be a list of cluster"),
        (
            [{"clusters": ["AWS"], "path": IMAGE, "value": 1}],
            "'AWS' in 'clusters' is not a cluster",
        ),
        (
            [{"clusterSelector": "provider==", "path": IMAGE, "value": 1}, {"x": 1}],
            "rule 1: unknown field(s) x",
        ),
        (
            [{"clusterSelector": "provider in aws", "path": IMAGE, "value": 1}],
            "rule 0: 'clusterSelector': expected '(' after 'in', found 'aws' at column 13",
        ),
        ([{"path": "spec/replicas", "value": 1}], "rule 0 'path': 'spec/replicas' is not a JSON"),
        ([{"path": "/a~2b", "value": 1}], "'/a~2b' is not a JSON pointer"),
        ([{"path": "/metadata/name", "value": "x"}], "would change the object's identity"),
        ([{"patch": [{"op": "upsert", "path": "/a"}]}], "rule 0, op 0: 'op' must be one of add,"),
        (
            [{"patch": [{"op": "test", "path": "/a", "value": 1}, {"op": "add", "path": "/b"}]}],
            "rule 0, op 1: a 'add' operation needs a 'value'",
        ),
        ([{"patch": [{"op": "copy", "path": "/a"}]}], "op 0: a 'copy' operation needs a 'from'"),
        (
            [{"patch": [{"op": "move", "from": "/metadata/namespace", "path": "/x"}]}],
            "op 0 'from': '/metadata/namespace' would change the object's identity",
        ),
        ([{"patch": [{"op": "replace", "path": "", "value": {}}]}], "'' would change the object"),
        ([{"patch": [{"op": "remove", "path": "/metadata"}]}], "'/metadata' would change the"),
        (
            "- path: /a\n  value: 2024-01-01\n",
            "rule 0: 'value' must be plain JSON (Object of type date is not JSON serializable)",
        ),
    ],
)
def test_unreadable_rules_are_refused_saying_where_and_what(rules: Any, message: str) -> None:
    with pytest.raises(OverrideError) as caught:
        overrides_of(with_overrides(rules))
    assert str(caught.value).startswith("annotation kfed.io/overrides")
    assert message in str(caught.value)


def test_identity_paths_may_be_tested_and_copied_from() -> None:
    rules = overrides_of(
        with_overrides(
            [
                {
                    "patch": [
                        {"op": "test", "path": "/metadata/name", "value": "nginx"},
                        {"op": "copy", "from": "/metadata/name", "path": "/metadata/labels/n"},
                    ]
                }
            ]
        )
    )
    assert apply_overrides(seed_rs(), AWS, rules)["metadata"]["labels"]["n"] == "nginx"


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            {"clusterSelector": "provider=aws", "patch": [{"op": "remove", "path": "/spec/x"}]},
            "rule 0, op 0 (remove /spec/x): cannot apply to cluster 'aws-us-east-1': /spec has "
            "no member 'x'; fix the path, or narrow the rule's clusters or clusterSelector",
        ),
        (
            {"patch": [{"op": "test", "path": "/spec/replicas", "value": 3}]},
            "rule 0, op 0 (test /spec/replicas): cannot apply to cluster 'aws-us-east-1': the "
            "value at /spec/replicas is not the tested value",
        ),
        (
            {"path": "/spec/strategy/type", "value": "Recreate"},
            "rule 0, path/value: cannot apply to cluster 'aws-us-east-1': /spec has no member "
            "'strategy'",
        ),
        (
            {"path": "/spec/replicas/count", "value": 3},
            "rule 0, path/value: cannot apply to cluster 'aws-us-east-1': /spec/replicas is a "
            "number, not an object or list",
        ),
        (
            {"patch": [{"op": "add", "path": "/spec/template/spec/containers/7", "value": {}}]},
            "rule 0, op 0 (add /spec/template/spec/containers/7): cannot apply to cluster "
            "'aws-us-east-1': /spec/template/spec/containers has no item '7' (it has 2)",
        ),
    ],
)
def test_patch_that_fails_for_a_cluster_names_rule_cluster_and_op(
    rule: dict[str, Any], message: str
) -> None:
    manifest = with_overrides([rule])
    rules = overrides_of(manifest)
    with pytest.raises(OverrideError) as caught:
        apply_overrides(manifest, AWS, rules)
    assert str(caught.value).startswith("annotation kfed.io/overrides, ")
    assert message in str(caught.value)


@pytest.mark.parametrize(
    "op",
    [
        {"op": "test", "path": "/data/password", "value": "guess"},
        {"op": "replace", "path": "/data/token", "value": "x"},
        {"op": "add", "path": "/data/password/x", "value": "x"},
        {"op": "move", "from": "/data/password", "path": "/data/password/inner"},
    ],
)
def test_patch_failures_never_quote_the_object(op: dict[str, Any]) -> None:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": "db",
            "annotations": {"kfed.io/overrides": json.dumps([{"patch": [op]}])},
        },
        "data": {"password": "c2VjcmV0LXZhbHVl"},
    }
    with pytest.raises(OverrideError) as caught:
        apply_overrides(secret, AWS, overrides_of(secret))
    assert "c2VjcmV0LXZhbHVl" not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_strip_removes_kfed_planning_annotations_and_keeps_federation_ones() -> None:
    manifest = with_overrides(
        [{"path": IMAGE, "value": ECR}],
        yaml.safe_load((EXAMPLES / "replicasets" / "nginx-us-preferences.yaml").read_text()),
    )
    manifest["metadata"]["annotations"]["kfed.io/clusters"] = "aws-us-east-1"
    manifest["metadata"]["annotations"]["kfed.io/cluster-selector"] = "provider=aws"
    manifest["metadata"]["annotations"]["federation.alpha.kubernetes.io/cluster-selector"] = "[]"
    before = copy.deepcopy(manifest)
    stripped = strip_kfed_annotations(manifest)
    assert sorted(stripped["metadata"]["annotations"]) == [
        "federation.alpha.kubernetes.io/cluster-selector",
        "federation.kubernetes.io/replica-set-preferences",
    ]
    assert manifest == before
    assert stripped["spec"] == manifest["spec"] and stripped["spec"] is not manifest["spec"]


def test_strip_drops_an_annotations_map_left_empty() -> None:
    manifest = with_overrides([{"path": IMAGE, "value": ECR}])
    stripped = strip_kfed_annotations(manifest)
    assert "annotations" not in stripped["metadata"]
    assert stripped == seed_rs()
    assert strip_kfed_annotations({"kind": "Namespace"}) == {"kind": "Namespace"}
