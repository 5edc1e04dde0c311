"""Unit tests for ``kfed_local.sim.strategic``: JSON merge patch and strategic merge patch."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kfed_local.sim.errors import PatchError
from kfed_local.sim.schema import SchemaNode, schema_for_kind, schema_from_openapi_v3
from kfed_local.sim.strategic import json_merge_patch, strategic_merge_patch


def _schema(group: str, version: str, kind: str) -> SchemaNode:
    node = schema_for_kind(group, version, kind)
    assert node is not None
    return node


DEPLOYMENT = _schema("apps", "v1", "Deployment")
POD = _schema("", "v1", "Pod")
SERVICE = _schema("", "v1", "Service")
CRD = _schema("apiextensions.k8s.io", "v1", "CustomResourceDefinition")


def _pod(*containers: dict[str, Any], **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": "default"},
        "spec": {"containers": [dict(c) for c in containers], **spec},
    }


def _deployment(*containers: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
            },
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [dict(c) for c in containers]},
            },
        },
    }


def _containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    spec = obj["spec"]["template"]["spec"] if obj["kind"] == "Deployment" else obj["spec"]
    containers: list[dict[str, Any]] = spec["containers"]
    return containers


def _names(items: list[dict[str, Any]], key: str = "name") -> list[Any]:
    return [item[key] for item in items]


def _pod_patch(spec: dict[str, Any]) -> dict[str, Any]:
    return {"spec": spec}


def _template_patch(spec: dict[str, Any]) -> dict[str, Any]:
    return {"spec": {"template": {"spec": spec}}}


# -- JSON merge patch ---------------------------------------------------------------------------

# RFC 7386, Appendix A: (original, patch, result).
RFC_7386_EXAMPLES: list[tuple[Any, Any, Any]] = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize(("original", "patch", "expected"), RFC_7386_EXAMPLES)
def test_json_merge_patch_matches_rfc_7386_appendix(
    original: Any, patch: Any, expected: Any
) -> None:
    assert json_merge_patch(original, patch) == expected


def test_json_merge_patch_keeps_key_order_and_copies_values() -> None:
    original = {"a": {"x": [1]}, "b": 1, "c": 2}
    patch = {"b": 5, "d": {"y": [2]}}
    result = json_merge_patch(original, patch)
    assert list(result) == ["a", "b", "c", "d"]
    result["a"]["x"].append(9)
    result["d"]["y"].append(9)
    assert original == {"a": {"x": [1]}, "b": 1, "c": 2}
    assert patch == {"b": 5, "d": {"y": [2]}}


_KEYS = st.text(alphabet="abc", min_size=1, max_size=2)
_SCALARS = st.none() | st.booleans() | st.integers(-3, 3) | st.text(alphabet="xyz", max_size=3)
JSON_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=4),
    max_leaves=16,
)
JSON_OBJECTS = st.dictionaries(_KEYS, JSON_VALUES, max_size=4)


@given(original=JSON_VALUES, patch=JSON_VALUES)
def test_json_merge_patch_follows_the_rfc_rules(original: Any, patch: Any) -> None:
    result = json_merge_patch(original, patch)
    if not isinstance(patch, dict):
        assert result == patch
        return
    assert isinstance(result, dict)
    base = original if isinstance(original, dict) else {}
    for key, value in patch.items():
        if value is None:
            assert key not in result
        else:
            assert result[key] == json_merge_patch(base.get(key), value)
    for key, value in base.items():
        if key not in patch:
            assert result[key] == value


@given(original=JSON_VALUES, patch=JSON_VALUES)
def test_json_merge_patch_is_idempotent_and_pure(original: Any, patch: Any) -> None:
    before = (copy.deepcopy(original), copy.deepcopy(patch))
    once = json_merge_patch(original, patch)
    assert json_merge_patch(once, patch) == once
    assert (original, patch) == before


# -- maps, nulls and plain lists ------------------------------------------------------------------


def test_maps_merge_recursively_and_null_deletes_a_key() -> None:
    dep = _deployment({"name": "a", "image": "x"})
    patch = {"metadata": {"labels": {"tier": "front", "app": None}, "annotations": {"k": "v"}}}
    result = strategic_merge_patch(dep, patch, DEPLOYMENT)
    assert result["metadata"]["labels"] == {"tier": "front"}
    assert result["metadata"]["annotations"] == {"k": "v"}
    assert result["metadata"]["name"] == "web"
    assert result["spec"] == dep["spec"]


def test_list_without_merge_strategy_is_replaced_wholesale() -> None:
    pod = _pod(
        {"name": "a", "image": "x", "args": ["--one", "--two"]},
        tolerations=[{"key": "k1", "operator": "Exists"}],
    )
    patch = _pod_patch(
        {
            "containers": [{"name": "a", "args": ["--three"]}],
            "tolerations": [{"key": "k2", "operator": "Exists"}],
        }
    )
    result = strategic_merge_patch(pod, patch, POD)
    assert result["spec"]["containers"] == [{"name": "a", "image": "x", "args": ["--three"]}]
    assert result["spec"]["tolerations"] == [{"key": "k2", "operator": "Exists"}]


def test_empty_merge_list_in_patch_changes_nothing_but_null_removes_it() -> None:
    pod = _pod({"name": "a", "image": "x"})
    pod["metadata"]["finalizers"] = ["f1"]
    assert strategic_merge_patch(pod, {"metadata": {"finalizers": []}}, POD) == pod
    result = strategic_merge_patch(pod, {"metadata": {"finalizers": None}}, POD)
    assert "finalizers" not in result["metadata"]


def test_new_subtree_drops_nulls_and_directives() -> None:
    pod = _pod({"name": "a", "image": "x"})
    patch = _pod_patch(
        {
            "securityContext": {"runAsUser": 1000, "runAsGroup": None},
            "volumes": [{"name": "v", "emptyDir": {}}, {"name": "gone", "$patch": "delete"}],
        }
    )
    result = strategic_merge_patch(pod, patch, POD)
    assert result["spec"]["securityContext"] == {"runAsUser": 1000}
    assert result["spec"]["volumes"] == [{"name": "v", "emptyDir": {}}]


def test_type_mismatch_is_replaced_by_the_patch_value() -> None:
    obj = {"spec": {"thing": ["a"], "other": {"x": 1}}}
    result = strategic_merge_patch(obj, {"spec": {"thing": {"k": "v"}, "other": "s"}}, None)
    assert result == {"spec": {"thing": {"k": "v"}, "other": "s"}}


def test_directive_on_a_non_map_value_is_an_error() -> None:
    obj = {"spec": {"thing": "scalar"}}
    with pytest.raises(PatchError, match=r"spec\.thing: cannot apply \$patch to a string value"):
        strategic_merge_patch(obj, {"spec": {"thing": {"$patch": "replace", "a": 1}}}, None)


# -- merge lists of maps --------------------------------------------------------------------------


def test_containers_merge_by_name() -> None:
    dep = _deployment({"name": "a", "image": "x", "env": [{"name": "E", "value": "1"}]})
    patch = _template_patch({"containers": [{"name": "a", "image": "nginx:1.25"}]})
    result = strategic_merge_patch(dep, patch, DEPLOYMENT)
    assert _containers(result) == [
        {"name": "a", "image": "nginx:1.25", "env": [{"name": "E", "value": "1"}]}
    ]


def test_new_merge_list_item_goes_before_live_only_items_like_kube_apiserver() -> None:
    # kube-apiserver interleaves by live order; an item new to the list comes first.
    pod = _pod({"name": "a", "image": "x"}, {"name": "b", "image": "y"})
    result = strategic_merge_patch(pod, _pod_patch({"containers": [{"name": "c"}]}), POD)
    assert _names(_containers(result)) == ["c", "a", "b"]


def test_patch_items_keep_patch_order_around_live_only_items() -> None:
    pod = _pod({"name": "a"}, {"name": "b"}, {"name": "c"})
    patch = _pod_patch({"containers": [{"name": "c", "image": "z"}, {"name": "a", "image": "w"}]})
    result = strategic_merge_patch(pod, patch, POD)
    assert _names(_containers(result)) == ["b", "c", "a"]
    assert _containers(result)[1] == {"name": "c", "image": "z"}


def test_patch_items_with_the_same_key_merge_into_one_item() -> None:
    pod = _pod({"name": "a", "image": "x"})
    patch = _pod_patch({"containers": [{"name": "n", "image": "1"}, {"name": "n", "tty": True}]})
    result = strategic_merge_patch(pod, patch, POD)
    assert _containers(result) == [
        {"name": "n", "image": "1", "tty": True},
        pod["spec"]["containers"][0],
    ]


def test_container_ports_merge_by_container_port() -> None:
    pod = _pod({"name": "a", "ports": [{"containerPort": 80, "name": "http"}]})
    patch = _pod_patch(
        {"containers": [{"name": "a", "ports": [{"containerPort": 80, "protocol": "TCP"}]}]}
    )
    result = strategic_merge_patch(pod, patch, POD)
    assert _containers(result)[0]["ports"] == [
        {"containerPort": 80, "name": "http", "protocol": "TCP"}
    ]


def test_env_merges_by_name_and_delete_directive_removes_one_variable() -> None:
    pod = _pod({"name": "a", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]})
    patch = _pod_patch(
        {
            "containers": [
                {
                    "name": "a",
                    "env": [{"name": "B", "value": "3"}, {"name": "A", "$patch": "delete"}],
                }
            ]
        }
    )
    result = strategic_merge_patch(pod, patch, POD)
    assert _containers(result)[0]["env"] == [{"name": "B", "value": "3"}]


def test_volume_mounts_merge_by_mount_path() -> None:
    pod = _pod({"name": "a", "volumeMounts": [{"name": "v", "mountPath": "/data"}]})
    patch = _pod_patch(
        {
            "containers": [
                {
                    "name": "a",
                    "volumeMounts": [
                        {"name": "w", "mountPath": "/data", "readOnly": True},
                        {"name": "v", "mountPath": "/cache"},
                    ],
                }
            ]
        }
    )
    mounts = _containers(strategic_merge_patch(pod, patch, POD))[0]["volumeMounts"]
    assert mounts == [
        {"name": "w", "mountPath": "/data", "readOnly": True},
        {"name": "v", "mountPath": "/cache"},
    ]


def test_volumes_merge_by_name_and_retain_keys_switches_the_source() -> None:
    pod = _pod(
        {"name": "a"}, volumes=[{"name": "v", "emptyDir": {}}, {"name": "w", "emptyDir": {}}]
    )
    patch = _pod_patch(
        {
            "volumes": [
                {"name": "v", "$retainKeys": ["configMap", "name"], "configMap": {"name": "c"}}
            ]
        }
    )
    result = strategic_merge_patch(pod, patch, POD)
    assert result["spec"]["volumes"] == [
        {"name": "v", "configMap": {"name": "c"}},
        {"name": "w", "emptyDir": {}},
    ]


def test_service_ports_merge_by_port() -> None:
    svc = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "s"},
        "spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443, "targetPort": 8443}]},
    }
    patch = {"spec": {"ports": [{"port": 443, "targetPort": "https"}]}}
    result = strategic_merge_patch(svc, patch, SERVICE)
    assert result["spec"]["ports"] == [
        {"port": 80, "targetPort": 8080},
        {"port": 443, "targetPort": "https"},
    ]


def test_owner_references_merge_by_uid_and_delete_by_uid() -> None:
    owner = {"apiVersion": "v1", "kind": "ConfigMap", "name": "o", "uid": "u1"}
    pod = _pod({"name": "a"})
    pod["metadata"]["ownerReferences"] = [owner, {**owner, "name": "p", "uid": "u2"}]
    patch = {
        "metadata": {
            "ownerReferences": [
                {"uid": "u1", "controller": True},
                {"uid": "u2", "$patch": "delete"},
            ]
        }
    }
    result = strategic_merge_patch(pod, patch, POD)
    assert result["metadata"]["ownerReferences"] == [{**owner, "controller": True}]


def test_merge_item_without_merge_key_is_rejected_like_kube_apiserver() -> None:
    dep = _deployment({"name": "a", "image": "x"})
    patch = _template_patch({"containers": [{"image": "nginx"}]})
    with pytest.raises(PatchError) as caught:
        strategic_merge_patch(dep, patch, DEPLOYMENT)
    assert str(caught.value) == "map: map[image:nginx] does not contain declared merge key: name"


def test_delete_directive_without_merge_key_is_rejected() -> None:
    pod = _pod({"name": "a"})
    with pytest.raises(PatchError, match="does not contain declared merge key: name"):
        strategic_merge_patch(pod, _pod_patch({"containers": [{"$patch": "delete"}]}), POD)


def test_merge_key_values_compare_with_go_types() -> None:
    pod = _pod({"name": "a", "ports": [{"containerPort": 80}]})
    patch = _pod_patch({"containers": [{"name": "a", "ports": [{"containerPort": "80"}]}]})
    ports = _containers(strategic_merge_patch(pod, patch, POD))[0]["ports"]
    assert ports == [{"containerPort": "80"}, {"containerPort": 80}]


def test_replace_directive_in_a_list_replaces_the_whole_list() -> None:
    pod = _pod({"name": "a", "image": "x"}, {"name": "b", "image": "y"})
    patch = _pod_patch({"containers": [{"name": "c", "image": "z"}, {"$patch": "replace"}]})
    result = strategic_merge_patch(pod, patch, POD)
    assert _containers(result) == [{"name": "c", "image": "z"}]


def test_merge_directive_in_a_list_is_rejected() -> None:
    pod = _pod({"name": "a"})
    with pytest.raises(PatchError, match="merging lists cannot yet be specified in the patch"):
        strategic_merge_patch(pod, _pod_patch({"containers": [{"$patch": "merge"}]}), POD)


def test_mixed_element_types_are_rejected() -> None:
    pod = _pod({"name": "a"})
    pod["metadata"]["finalizers"] = ["a"]
    with pytest.raises(PatchError) as caught:
        strategic_merge_patch(pod, {"metadata": {"finalizers": [{"$patch": "delete"}]}}, POD)
    assert str(caught.value) == ("list element types are not identical: [[a] [map[$patch:delete]]]")


# -- merge lists of primitives -----------------------------------------------------------------


def test_finalizers_merge_as_a_set_without_duplicates() -> None:
    pod = _pod({"name": "a"})
    pod["metadata"]["finalizers"] = ["x", "y"]
    result = strategic_merge_patch(pod, {"metadata": {"finalizers": ["y", "z"]}}, POD)
    assert result["metadata"]["finalizers"] == ["x", "y", "z"]
    result = strategic_merge_patch(pod, {"metadata": {"finalizers": ["z", "x", "x"]}}, POD)
    assert result["metadata"]["finalizers"] == ["z", "x", "y"]


def test_delete_from_primitive_list_removes_values() -> None:
    pod = _pod({"name": "a"})
    pod["metadata"]["finalizers"] = ["a", "b", "c", "b"]
    patch = {"metadata": {"$deleteFromPrimitiveList/finalizers": ["b", "missing"]}}
    result = strategic_merge_patch(pod, patch, POD)
    assert result["metadata"]["finalizers"] == ["a", "c"]


def test_delete_from_primitive_list_on_absent_list_is_a_no_op() -> None:
    pod = _pod({"name": "a"})
    patch = {"metadata": {"$deleteFromPrimitiveList/finalizers": ["b"]}}
    assert strategic_merge_patch(pod, patch, POD) == pod


def test_delete_from_primitive_list_applies_after_additions() -> None:
    pod = _pod({"name": "a"})
    pod["metadata"]["finalizers"] = ["a", "b"]
    patch = {"metadata": {"finalizers": ["c"], "$deleteFromPrimitiveList/finalizers": ["a"]}}
    assert strategic_merge_patch(pod, patch, POD)["metadata"]["finalizers"] == ["c", "b"]


# -- map directives ------------------------------------------------------------------------------


def test_deployment_strategy_switch_with_retain_keys() -> None:
    dep = _deployment({"name": "a"})
    patch = {
        "spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": None}}
    }
    result = strategic_merge_patch(dep, patch, DEPLOYMENT)
    assert result["spec"]["strategy"] == {"type": "Recreate"}


def test_retain_keys_drops_unlisted_keys_even_without_null() -> None:
    dep = _deployment({"name": "a"})
    patch = {"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}
    assert strategic_merge_patch(dep, patch, DEPLOYMENT)["spec"]["strategy"] == {"type": "Recreate"}


def test_retain_keys_must_list_every_patched_key() -> None:
    dep = _deployment({"name": "a"})
    patch = {"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": {"maxSurge": 1}}}}
    with pytest.raises(PatchError, match="invalid patch format of retainKeys"):
        strategic_merge_patch(dep, patch, DEPLOYMENT)


def test_replace_directive_in_a_map_replaces_the_map() -> None:
    dep = _deployment({"name": "a"})
    patch = {"metadata": {"labels": {"$patch": "replace", "new": "1", "gone": None}}}
    result = strategic_merge_patch(dep, patch, DEPLOYMENT)
    assert result["metadata"]["labels"] == {"new": "1"}


def test_delete_directive_in_a_map_deletes_it() -> None:
    dep = _deployment({"name": "a"})
    patch = {"spec": {"strategy": {"rollingUpdate": {"$patch": "delete"}}}}
    result = strategic_merge_patch(dep, patch, DEPLOYMENT)
    assert result["spec"]["strategy"] == {"type": "RollingUpdate"}


def test_delete_directive_at_the_top_empties_the_object() -> None:
    assert strategic_merge_patch(_pod({"name": "a"}), {"$patch": "delete"}, POD) == {}


def test_merge_directive_in_a_map_is_rejected_like_kube_apiserver() -> None:
    with pytest.raises(PatchError, match=r"unknown patch type: merge in map: map\[\$patch:merge"):
        strategic_merge_patch(_pod({"name": "a"}), {"metadata": {"$patch": "merge"}}, POD)


def test_unknown_directive_is_rejected() -> None:
    with pytest.raises(PatchError, match=r"metadata: unknown strategic merge patch directive"):
        strategic_merge_patch(_pod({"name": "a"}), {"metadata": {"$replace": True}}, POD)


@pytest.mark.parametrize(
    "key", ["$setElementOrder", "$setElementOrderX/a", "$deleteFromPrimitiveList"]
)
def test_malformed_list_directive_keys_are_rejected(key: str) -> None:
    with pytest.raises(PatchError, match="invalid patch format of"):
        strategic_merge_patch(_pod({"name": "a"}), {"metadata": {key: []}}, POD)


def test_declared_dollar_fields_are_data_not_directives() -> None:
    crd = {
        "spec": {"versions": [{"name": "v1", "schema": {"openAPIV3Schema": {"type": "object"}}}]}
    }
    patch = {"spec": {"versions": [{"name": "v1", "schema": {"openAPIV3Schema": {"$ref": "#/x"}}}]}}
    result = strategic_merge_patch(crd, patch, CRD)
    assert result["spec"]["versions"][0]["schema"]["openAPIV3Schema"] == {"$ref": "#/x"}


# -- schemaless and preserved-unknown subtrees -------------------------------------------------


def test_without_schema_lists_replace_but_map_directives_apply() -> None:
    obj = {"spec": {"items": [{"name": "a"}], "conf": {"a": 1, "b": 2}, "keep": 1}}
    patch = {
        "spec": {"items": [{"name": "b"}], "conf": {"$patch": "replace", "c": 3}, "$custom": 1}
    }
    result = strategic_merge_patch(obj, patch, None)
    assert result == {"spec": {"items": [{"name": "b"}], "conf": {"c": 3}, "keep": 1, "$custom": 1}}


def test_preserved_unknown_subtree_replaces_lists() -> None:
    schema = schema_from_openapi_v3(
        {
            "type": "object",
            "properties": {
                "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
            },
        }
    )
    obj = {"spec": {"containers": [{"name": "a"}], "x": {"y": 1}}}
    patch = {"spec": {"containers": [{"name": "b"}], "x": {"z": 2}}}
    result = strategic_merge_patch(obj, patch, schema)
    assert result == {"spec": {"containers": [{"name": "b"}], "x": {"y": 1, "z": 2}}}


# -- $setElementOrder --------------------------------------------------------------------------


def test_kubectl_client_side_apply_patch_updates_one_container_and_keeps_order() -> None:
    dep = _deployment({"name": "a", "image": "nginx:1.24"}, {"name": "b", "image": "busybox"})
    applied = json.dumps({"kind": "Deployment", "metadata": {"name": "web"}}) + "\n"
    patch = {
        "metadata": {"annotations": {"kubectl.kubernetes.io/last-applied-configuration": applied}},
        "spec": {
            "template": {
                "spec": {
                    "$setElementOrder/containers": [{"name": "a"}, {"name": "b"}],
                    "containers": [{"image": "nginx:1.25", "name": "a"}],
                }
            }
        },
    }
    result = strategic_merge_patch(dep, patch, DEPLOYMENT)
    assert _containers(result) == [
        {"name": "a", "image": "nginx:1.25"},
        {"name": "b", "image": "busybox"},
    ]
    assert result["metadata"]["annotations"] == {
        "kubectl.kubernetes.io/last-applied-configuration": applied
    }


def test_kubectl_apply_adding_a_container_at_the_end_keeps_it_at_the_end() -> None:
    dep = _deployment({"name": "a"}, {"name": "b"})
    patch = _template_patch(
        {
            "$setElementOrder/containers": [{"name": "a"}, {"name": "b"}, {"name": "c"}],
            "containers": [{"name": "c", "image": "z"}],
        }
    )
    assert _names(_containers(strategic_merge_patch(dep, patch, DEPLOYMENT))) == ["a", "b", "c"]


def test_kubectl_apply_removing_a_container() -> None:
    dep = _deployment({"name": "a"}, {"name": "b"})
    patch = _template_patch(
        {
            "$setElementOrder/containers": [{"name": "b"}],
            "containers": [{"$patch": "delete", "name": "a"}],
        }
    )
    assert _containers(strategic_merge_patch(dep, patch, DEPLOYMENT)) == [{"name": "b"}]


def test_set_element_order_reverses_the_list() -> None:
    pod = _pod({"name": "a", "image": "x"}, {"name": "b", "image": "y"}, {"name": "c"})
    patch = _pod_patch(
        {"$setElementOrder/containers": [{"name": "c"}, {"name": "b"}, {"name": "a"}]}
    )
    result = strategic_merge_patch(pod, patch, POD)
    assert _containers(result) == [
        {"name": "c"},
        {"name": "b", "image": "y"},
        {"name": "a", "image": "x"},
    ]


def test_set_element_order_never_adds_or_removes_items() -> None:
    pod = _pod({"name": "a"}, {"name": "b"}, {"name": "c"})
    patch = _pod_patch(
        {"$setElementOrder/containers": [{"name": "c"}, {"name": "ghost"}, {"name": "a"}]}
    )
    result = strategic_merge_patch(pod, patch, POD)
    # b is not named: it keeps its live place relative to the ordered items around it.
    assert _names(_containers(result)) == ["b", "c", "a"]


def test_set_element_order_for_an_absent_list_does_not_create_it() -> None:
    pod = _pod({"name": "a"})
    patch = {"metadata": {"$setElementOrder/finalizers": ["x"]}}
    assert strategic_merge_patch(pod, patch, POD) == pod


def test_set_element_order_orders_primitive_lists() -> None:
    pod = _pod({"name": "a"})
    pod["metadata"]["finalizers"] = ["a", "b", "c"]
    patch = {"metadata": {"$setElementOrder/finalizers": ["c", "a", "d"], "finalizers": ["d"]}}
    result = strategic_merge_patch(pod, patch, POD)
    assert result["metadata"]["finalizers"] == ["b", "c", "a", "d"]


def test_set_element_order_must_agree_with_the_patch_list_order() -> None:
    pod = _pod({"name": "a"}, {"name": "b"})
    patch = _pod_patch(
        {
            "$setElementOrder/containers": [{"name": "a"}, {"name": "b"}],
            "containers": [{"name": "b", "image": "y"}, {"name": "a", "image": "x"}],
        }
    )
    with pytest.raises(PatchError, match=r"(?s)the order in patch list:.*doesn't match"):
        strategic_merge_patch(pod, patch, POD)


def test_set_element_order_items_need_the_merge_key() -> None:
    pod = _pod({"name": "a"})
    patch = _pod_patch({"$setElementOrder/containers": [{"image": "a"}]})
    with pytest.raises(
        PatchError, match=r"map: map\[image:a\] does not contain declared merge key"
    ):
        strategic_merge_patch(pod, patch, POD)


# -- properties ----------------------------------------------------------------------------------

_NAMES = st.sampled_from(["a", "b", "c", "d"])
_NO_REQUIRED_KEYS: dict[str, st.SearchStrategy[Any]] = {}
_ENV = st.fixed_dictionaries({"name": _NAMES}, optional={"value": st.sampled_from(["1", "2"])})
_CONTAINER_OPTIONAL: dict[str, st.SearchStrategy[Any]] = {
    "image": st.sampled_from(["x", "y"]),
    "env": st.lists(_ENV, max_size=3, unique_by=lambda e: str(e["name"])),
    "args": st.lists(st.sampled_from(["-a", "-b"]), max_size=2),
}
_CONTAINER = st.fixed_dictionaries({"name": _NAMES}, optional=_CONTAINER_OPTIONAL)
PODS = st.builds(
    lambda containers, finalizers, labels: {
        "metadata": {"name": "p", "finalizers": finalizers, "labels": labels},
        "spec": {"containers": containers},
    },
    st.lists(_CONTAINER, max_size=3, unique_by=lambda c: str(c["name"])),
    st.lists(_NAMES, max_size=3, unique=True),
    st.dictionaries(_NAMES, st.sampled_from(["1", "2"]), max_size=2),
)
_PATCH_CONTAINER = _CONTAINER | st.fixed_dictionaries(
    {"name": _NAMES, "$patch": st.sampled_from(["delete", "replace"])}
)
POD_PATCHES = st.fixed_dictionaries(
    _NO_REQUIRED_KEYS,
    optional={
        "metadata": st.fixed_dictionaries(
            _NO_REQUIRED_KEYS,
            optional={
                "finalizers": st.none() | st.lists(_NAMES, max_size=3),
                "$deleteFromPrimitiveList/finalizers": st.lists(_NAMES, max_size=2),
                "labels": st.dictionaries(_NAMES, st.none() | st.just("3"), max_size=2),
            },
        ),
        "spec": st.fixed_dictionaries(
            _NO_REQUIRED_KEYS,
            optional={
                "containers": st.lists(_PATCH_CONTAINER, max_size=3),
                "$setElementOrder/containers": st.lists(
                    st.builds(lambda n: {"name": n}, _NAMES), max_size=4
                ),
            },
        ),
    },
)


@given(original=JSON_OBJECTS)
def test_empty_patch_returns_an_equal_object_without_schema(original: dict[str, Any]) -> None:
    assert strategic_merge_patch(original, {}, None) == original


@given(original=PODS)
def test_empty_patch_returns_an_equal_pod(original: dict[str, Any]) -> None:
    result = strategic_merge_patch(original, {}, POD)
    assert result == original
    assert result is not original


@settings(max_examples=200)
@given(original=PODS, patch=POD_PATCHES)
def test_strategic_patch_never_mutates_or_aliases_its_inputs(
    original: dict[str, Any], patch: dict[str, Any]
) -> None:
    before = (copy.deepcopy(original), copy.deepcopy(patch))
    try:
        result = strategic_merge_patch(original, patch, POD)
    except PatchError:
        assert (original, patch) == before
        return
    assert (original, patch) == before
    json.dumps(result)  # plain JSON values only
    for container in result.get("spec", {}).get("containers", []):
        container["mutated"] = True
    assert (original, patch) == before


# Directive-free patches whose arrays hold no objects: no nulls hide inside replaced arrays.
_DIRECTIVE_FREE_PATCHES = st.dictionaries(
    _KEYS,
    st.recursive(
        _SCALARS | st.lists(_SCALARS, max_size=3),
        lambda inner: st.dictionaries(_KEYS, inner, max_size=4),
        max_leaves=12,
    ),
    max_size=4,
)


@given(original=JSON_OBJECTS, patch=_DIRECTIVE_FREE_PATCHES)
def test_without_schema_strategic_patch_agrees_with_json_merge_patch(
    original: dict[str, Any], patch: dict[str, Any]
) -> None:
    assert strategic_merge_patch(original, patch, None) == json_merge_patch(original, patch)
