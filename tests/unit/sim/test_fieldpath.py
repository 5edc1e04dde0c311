"""Unit tests for ``kfed_local.sim.fieldpath``: path elements, field sets and ``fieldsV1``."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kfed_local.sim.errors import PatchError
from kfed_local.sim.fieldpath import FieldSet
from kfed_local.sim.fieldpath_elements import (
    FieldsV1Error,
    PathElement,
    go_json,
    json_equal,
    path_string,
)
from kfed_local.sim.schema import SchemaNode, schema_for_kind
from kfed_local.sim.typedmerge import get_at, with_value_at, without_path


def _schema(group: str, version: str, kind: str) -> SchemaNode:
    node = schema_for_kind(group, version, kind)
    assert node is not None
    return node


DEPLOYMENT = _schema("apps", "v1", "Deployment")
SERVICE = _schema("", "v1", "Service")
CONFIGMAP = _schema("", "v1", "ConfigMap")

# What kube-apiserver stores for ``kubectl create deployment`` style writes (an Update entry):
# "." markers on nodes that are members and have children, keys in SMD order.
REAL_UPDATE_FIELDS_V1: dict[str, Any] = {
    "f:metadata": {
        "f:annotations": {".": {}, "f:kubectl.kubernetes.io/last-applied-configuration": {}},
        "f:labels": {".": {}, "f:app": {}},
    },
    "f:spec": {
        "f:progressDeadlineSeconds": {},
        "f:replicas": {},
        "f:revisionHistoryLimit": {},
        "f:selector": {},
        "f:strategy": {
            "f:rollingUpdate": {".": {}, "f:maxSurge": {}, "f:maxUnavailable": {}},
            "f:type": {},
        },
        "f:template": {
            "f:metadata": {"f:labels": {".": {}, "f:app": {}}},
            "f:spec": {
                "f:containers": {
                    'k:{"name":"nginx"}': {
                        ".": {},
                        "f:env": {
                            ".": {},
                            'k:{"name":"MODE"}': {".": {}, "f:name": {}, "f:value": {}},
                        },
                        "f:image": {},
                        "f:imagePullPolicy": {},
                        "f:name": {},
                        "f:ports": {
                            ".": {},
                            'k:{"containerPort":80,"protocol":"TCP"}': {
                                ".": {},
                                "f:containerPort": {},
                                "f:protocol": {},
                            },
                        },
                        "f:resources": {},
                        "f:terminationMessagePath": {},
                        "f:terminationMessagePolicy": {},
                    }
                },
                "f:dnsPolicy": {},
                "f:restartPolicy": {},
                "f:schedulerName": {},
                "f:securityContext": {},
                "f:terminationGracePeriodSeconds": {},
            },
        },
    },
}


def nginx_config(**container: Any) -> dict[str, Any]:
    """The docs' ``nginx-deployment.yaml`` (with an env var), as kubectl sends it."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "nginx-deployment", "labels": {"app": "nginx"}},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "nginx"}},
            "template": {
                "metadata": {"labels": {"app": "nginx"}},
                "spec": {
                    "containers": [
                        {
                            "name": "nginx",
                            "image": "nginx:1.14.2",
                            "ports": [{"containerPort": 80}],
                            "env": [{"name": "MODE", "value": "prod"}],
                            **container,
                        }
                    ]
                },
            },
        },
    }


# -- path elements ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "encoded",
    [
        "f:spec",
        "f:kubectl.kubernetes.io/last-applied-configuration",
        'k:{"name":"nginx"}',
        'k:{"containerPort":80,"protocol":"TCP"}',
        'v:"foregroundDeletion"',
        "v:5",
        "i:3",
    ],
)
def test_path_element_round_trips_its_canonical_text(encoded: str) -> None:
    assert PathElement.parse(encoded).encode() == encoded


def test_key_element_sorts_key_fields_by_name() -> None:
    pe = PathElement.parse('k:{"protocol":"TCP","containerPort":80}')
    assert pe.encode() == 'k:{"containerPort":80,"protocol":"TCP"}'
    assert pe == PathElement.key({"containerPort": 80, "protocol": "TCP"})


@pytest.mark.parametrize("encoded", ["spec", "x:spec", 'k:{"name":', "k:[1]", "k:{}", "i:-1"])
def test_malformed_path_element_is_refused(encoded: str) -> None:
    with pytest.raises(FieldsV1Error):
        PathElement.parse(encoded)


def test_human_path_uses_kube_apiserver_conflict_notation() -> None:
    path = (
        PathElement.field("spec"),
        PathElement.field("containers"),
        PathElement.key({"name": "nginx"}),
        PathElement.field("ports"),
        PathElement.key({"containerPort": 80, "protocol": "TCP"}),
        PathElement.field("finalizers"),
        PathElement.value("a"),
        PathElement.index(2),
    )
    assert path_string(path) == (
        '.spec.containers[name="nginx"].ports[containerPort=80,protocol="TCP"].finalizers[="a"][2]'
    )


def test_go_json_escapes_html_characters_like_go() -> None:
    assert go_json({"b": "<a&b>", "a": 1}) == '{"a":1,"b":"\\u003ca\\u0026b\\u003e"}'
    assert PathElement.parse('v:"\\u003cx\\u003e"').decoded() == "<x>"


def test_json_equal_tells_booleans_from_numbers() -> None:
    assert not json_equal(True, 1)
    assert not json_equal({"a": [1]}, {"a": [True]})
    assert json_equal(1, 1.0)
    assert json_equal({"a": [1, {"b": None}]}, {"a": [1, {"b": None}]})


# -- fieldsV1 ---------------------------------------------------------------------------------


def test_real_update_entry_round_trips_exactly_with_key_order() -> None:
    fields = FieldSet.from_fields_v1(REAL_UPDATE_FIELDS_V1)
    assert json.dumps(fields.to_fields_v1()) == json.dumps(REAL_UPDATE_FIELDS_V1)


def test_dot_marker_makes_the_node_itself_a_member() -> None:
    fields = FieldSet.from_fields_v1(REAL_UPDATE_FIELDS_V1)
    assert ("f:metadata", "f:labels") in fields
    assert ("f:metadata", "f:labels", "f:app") in fields
    assert ("f:spec",) not in fields  # only reached through, not owned
    assert ("f:spec", "f:template", "f:spec", "f:containers", 'k:{"name":"nginx"}') in fields
    assert ("f:spec", "f:selector") in fields


def test_fields_v1_orders_fields_before_keys_before_values() -> None:
    fields = FieldSet.of(
        ("f:list", "v:2"),
        ("f:list", 'v:"a"'),
        ("f:list", 'k:{"name":"x"}'),
        ("f:list", "f:b"),
        ("f:list", "f:a"),
        ("f:list", "i:0"),
    )
    assert list(fields.to_fields_v1()["f:list"]) == [
        "f:a",
        "f:b",
        'k:{"name":"x"}',
        "v:2",
        'v:"a"',
        "i:0",
    ]


@pytest.mark.parametrize("doc", [{"f:a": 1}, {"f:a": {"bad": {}}}, {"f:a": []}])
def test_malformed_fields_v1_is_refused(doc: dict[str, Any]) -> None:
    with pytest.raises(FieldsV1Error):
        FieldSet.from_fields_v1(doc)


# -- from_object ------------------------------------------------------------------------------


def test_from_object_of_deployment_matches_what_apply_records() -> None:
    fields = FieldSet.from_object(nginx_config(), DEPLOYMENT)
    assert fields.to_fields_v1() == {
        "f:apiVersion": {},
        "f:kind": {},
        "f:metadata": {"f:labels": {"f:app": {}}, "f:name": {}},
        "f:spec": {
            "f:replicas": {},
            "f:selector": {},
            "f:template": {
                "f:metadata": {"f:labels": {"f:app": {}}},
                "f:spec": {
                    "f:containers": {
                        'k:{"name":"nginx"}': {
                            ".": {},
                            "f:env": {'k:{"name":"MODE"}': {".": {}, "f:name": {}, "f:value": {}}},
                            "f:image": {},
                            "f:name": {},
                            "f:ports": {
                                'k:{"containerPort":80,"protocol":"TCP"}': {
                                    ".": {},
                                    "f:containerPort": {},
                                }
                            },
                        }
                    }
                },
            },
        },
    }


def test_from_object_owns_atomic_list_and_empty_struct_as_leaves() -> None:
    config = nginx_config(args=["-g", "daemon off;"], securityContext={}, stdin=None)
    containers = FieldSet.from_object(config, DEPLOYMENT).to_fields_v1()["f:spec"]["f:template"][
        "f:spec"
    ]["f:containers"]['k:{"name":"nginx"}']
    assert containers["f:args"] == {}
    assert containers["f:securityContext"] == {}
    assert containers["f:stdin"] == {}


def test_from_object_names_set_items_by_value() -> None:
    config = {"metadata": {"name": "x", "finalizers": ["a.io/x", "b.io/y"]}}
    fields = FieldSet.from_object(config, DEPLOYMENT)
    assert fields.to_fields_v1()["f:metadata"]["f:finalizers"] == {
        'v:"a.io/x"': {},
        'v:"b.io/y"': {},
    }


def test_from_object_without_schema_treats_maps_as_granular_and_lists_as_atomic() -> None:
    obj = {"spec": {"size": {"min": 1}, "items": [{"a": 1}]}}
    assert FieldSet.from_object(obj, None).to_fields_v1() == {
        "f:spec": {
            ".": {},
            "f:items": {},
            "f:size": {".": {}, "f:min": {}},
        }
    }


def test_from_object_uses_default_of_a_missing_key_field() -> None:
    config = {"spec": {"ports": [{"port": 443, "targetPort": 8443}]}}
    fields = FieldSet.from_object(config, SERVICE)
    assert ("f:spec", "f:ports", 'k:{"port":443,"protocol":"TCP"}', "f:targetPort") in fields


def test_from_object_refuses_map_list_item_without_its_key() -> None:
    config = nginx_config()
    config["spec"]["template"]["spec"]["containers"].append({"image": "busybox"})
    with pytest.raises(PatchError) as info:
        FieldSet.from_object(config, DEPLOYMENT)
    assert str(info.value) == (
        ".spec.template.spec.containers: element 1: associative list with keys has an element "
        'that omits key field "name" (and doesn\'t have default value)'
    )


def test_from_object_refuses_duplicate_keys_unless_allowed() -> None:
    config = nginx_config(env=[{"name": "A", "value": "1"}, {"name": "A", "value": "2"}])
    with pytest.raises(PatchError, match=r'containers\[name="nginx"\]\.env: duplicate entries'):
        FieldSet.from_object(config, DEPLOYMENT)
    fields = FieldSet.from_object(config, DEPLOYMENT, allow_duplicates=True)
    env = ("f:spec", "f:template", "f:spec", "f:containers", 'k:{"name":"nginx"}', "f:env")
    assert (*env, 'k:{"name":"A"}') in fields


# -- algebra ----------------------------------------------------------------------------------

A = ("f:spec", "f:replicas")
B = ("f:spec", "f:template", "f:spec", "f:containers", 'k:{"name":"x"}')
C = ("f:spec", "f:template", "f:spec", "f:containers", 'k:{"name":"x"}', "f:image")
D = ("f:metadata", "f:labels", "f:app")


def test_set_operations_follow_set_semantics() -> None:
    left, right = FieldSet.of(A, B, C), FieldSet.of(C, D)
    assert left.union(right) == FieldSet.of(A, B, C, D)
    assert left.intersection(right) == FieldSet.of(C)
    assert left.difference(right) == FieldSet.of(A, B)
    assert left.difference(left).is_empty
    assert len(left.union(right)) == 4


def test_difference_keeps_descendants_but_recursive_difference_drops_them() -> None:
    fields = FieldSet.of(B, C)
    assert fields.difference(FieldSet.of(B)) == FieldSet.of(C)
    assert fields.recursive_difference(FieldSet.of(B)).is_empty
    assert FieldSet.of(A, D).recursive_difference(FieldSet.of(("f:spec",))) == FieldSet.of(D)


def test_leaves_are_members_with_nothing_below() -> None:
    assert list(FieldSet.of(A, B, C).leaves()) == [
        tuple(PathElement.parse(p) for p in A),
        tuple(PathElement.parse(p) for p in C),
    ]


def test_paths_iterate_members_of_a_level_before_its_children() -> None:
    fields = FieldSet.of(C, B, A, ("f:spec",))
    assert [path_string(p) for p in fields.paths()] == [
        ".spec",
        ".spec.replicas",
        '.spec.template.spec.containers[name="x"]',
        '.spec.template.spec.containers[name="x"].image',
    ]


def test_field_sets_are_hashable_values() -> None:
    assert hash(FieldSet.of(A, C)) == hash(FieldSet.of(C, A))
    assert {FieldSet.of(A), FieldSet.of(A)} == {FieldSet.of(A)}
    assert FieldSet.of(A) != FieldSet.of(D)


def test_has_under_sees_members_and_their_ancestors() -> None:
    fields = FieldSet.of(C)
    assert fields.has_under(("f:spec",))
    assert fields.has_under(B)
    assert not fields.has_under(A)


_ELEMENTS = st.sampled_from(
    ["f:a", "f:b", "f:spec", 'k:{"name":"x"}', 'k:{"name":"y"}', 'v:"s"', "v:3", "i:0"]
)
_PATHS = st.lists(_ELEMENTS, min_size=1, max_size=4).map(tuple)
_PATH_SETS = st.sets(_PATHS, max_size=12)


def _as_set(paths: set[tuple[str, ...]]) -> set[tuple[PathElement, ...]]:
    return {tuple(PathElement.parse(p) for p in path) for path in paths}


@settings(max_examples=200, deadline=None)
@given(_PATH_SETS)
def test_fields_v1_round_trip_preserves_every_set(paths: set[tuple[str, ...]]) -> None:
    fields = FieldSet.from_paths(paths)
    assert FieldSet.from_fields_v1(fields.to_fields_v1()) == fields
    assert set(fields.paths()) == _as_set(paths)


@settings(max_examples=200, deadline=None)
@given(_PATH_SETS, _PATH_SETS)
def test_set_algebra_agrees_with_python_sets(
    left: set[tuple[str, ...]], right: set[tuple[str, ...]]
) -> None:
    a, b = FieldSet.from_paths(left), FieldSet.from_paths(right)
    assert set(a.union(b).paths()) == _as_set(left | right)
    assert set(a.intersection(b).paths()) == _as_set(left & right)
    assert set(a.difference(b).paths()) == _as_set(left - right)
    for path in left:
        assert path in a
        assert (path in b) == (path in right)


# -- values at a path -------------------------------------------------------------------------


def test_value_helpers_find_keyed_items_and_never_mutate() -> None:
    config = nginx_config()
    containers = ("f:spec", "f:template", "f:spec", "f:containers")
    image = (*containers, 'k:{"name":"nginx"}', "f:image")
    assert get_at(config, image) == "nginx:1.14.2"
    assert get_at(config, (*containers, 'k:{"name":"other"}'), None) is None
    with pytest.raises(KeyError):
        get_at(config, ("f:spec", "f:paused"))

    changed = with_value_at(config, image, "nginx:1.25")
    assert get_at(changed, image) == "nginx:1.25"
    assert get_at(config, image) == "nginx:1.14.2"
    added = with_value_at(config, (*containers, 'k:{"name":"side"}', "f:image"), "busybox")
    assert get_at(added, containers)[-1] == {"name": "side", "image": "busybox"}

    removed = without_path(config, (*containers, 'k:{"name":"nginx"}'))
    assert get_at(removed, containers) == []
    assert len(get_at(config, containers)) == 1
    labels = without_path(config, ("f:metadata", "f:labels", "f:app"))
    assert labels["metadata"]["labels"] == {}
    assert without_path(config, ("f:metadata", "f:finalizers", 'v:"x"')) == config
