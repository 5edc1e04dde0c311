"""Unit tests for ``kfed_local.sim.apply``: server-side apply and managedFields bookkeeping."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kfed_local.sim.apply import (
    NO_RESET,
    ApplyConflictError,
    Conflict,
    server_side_apply,
    update_managed_fields,
)
from kfed_local.sim.errors import ApiError, PatchError
from kfed_local.sim.fieldpath import FieldSet
from kfed_local.sim.managedfields import (
    ManagedEntry,
    ManagerKey,
    decode_managed_fields,
    encode_managed_fields,
    strip_untracked,
)
from kfed_local.sim.schema import SchemaNode, schema_for_kind, schema_from_openapi_v3

T0, T1, T2, T3 = (f"2024-05-0{day}T10:00:00Z" for day in (1, 2, 3, 4))


def _schema(group: str, version: str, kind: str) -> SchemaNode:
    node = schema_for_kind(group, version, kind)
    assert node is not None
    return node


DEPLOYMENT = _schema("apps", "v1", "Deployment")
CONFIGMAP = _schema("", "v1", "ConfigMap")

CONTAINERS = ("f:spec", "f:template", "f:spec", "f:containers")


def deployment(*containers: dict[str, Any], replicas: int | None = 3) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "selector": {"matchLabels": {"app": "nginx"}},
        "template": {
            "metadata": {"labels": {"app": "nginx"}},
            "spec": {"containers": [dict(c) for c in containers]},
        },
    }
    if replicas is not None:
        spec["replicas"] = replicas
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "nginx-deployment", "namespace": "default"},
        "spec": spec,
    }


NGINX = {"name": "nginx", "image": "nginx:1.14.2", "ports": [{"containerPort": 80}]}


def apply(
    live: dict[str, Any] | None,
    config: dict[str, Any],
    manager: str = "kfed",
    *,
    force: bool = False,
    now: str = T0,
    schema: SchemaNode | None = DEPLOYMENT,
    **kwargs: Any,
) -> dict[str, Any]:
    api_version = config["apiVersion"]
    return server_side_apply(
        live,
        config,
        manager=manager,
        force=force,
        schema=schema,
        api_version=api_version,
        now=now,
        **kwargs,
    )


def update(
    old: dict[str, Any] | None,
    new: dict[str, Any],
    manager: str,
    *,
    now: str = T1,
    schema: SchemaNode | None = DEPLOYMENT,
    **kwargs: Any,
) -> dict[str, Any]:
    """``new`` with the managedFields an Update write by ``manager`` gives it."""
    out = copy.deepcopy(new)
    out["metadata"]["managedFields"] = update_managed_fields(
        old, new, manager=manager, schema=schema, api_version=new["apiVersion"], now=now, **kwargs
    )
    return out


def owned(obj: dict[str, Any], manager: str, operation: str = "Apply", **kw: str) -> FieldSet:
    for key, entry in decode_managed_fields(obj).items():
        wanted = all(getattr(key, name) == value for name, value in kw.items())
        if key.manager == manager and key.operation == operation and wanted:
            return entry.fields
    return FieldSet()


def containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = obj["spec"]["template"]["spec"]["containers"]
    return result


def scaled(obj: dict[str, Any], replicas: int, manager: str = "kubectl-scale") -> dict[str, Any]:
    new = copy.deepcopy(obj)
    new["spec"]["replicas"] = replicas
    return update(obj, new, manager)


# -- create and re-apply ----------------------------------------------------------------------


def test_apply_create_records_one_apply_entry_like_kube_apiserver() -> None:
    obj = apply(None, deployment(NGINX))
    assert obj["spec"]["replicas"] == 3
    assert obj["metadata"]["managedFields"] == [
        {
            "manager": "kfed",
            "operation": "Apply",
            "apiVersion": "apps/v1",
            "time": T0,
            "fieldsType": "FieldsV1",
            "fieldsV1": {
                "f:spec": {
                    "f:replicas": {},
                    "f:selector": {},
                    "f:template": {
                        "f:metadata": {"f:labels": {"f:app": {}}},
                        "f:spec": {
                            "f:containers": {
                                'k:{"name":"nginx"}': {
                                    ".": {},
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
                }
            },
        }
    ]


def test_reapplying_the_same_config_is_a_noop_keeping_the_time() -> None:
    first = apply(None, deployment(NGINX))
    again = apply(first, deployment(NGINX), now=T3)
    assert again == first


def test_apply_never_mutates_its_inputs() -> None:
    live = apply(None, deployment(NGINX))
    config = deployment({"name": "nginx", "image": "nginx:2"})
    live_before, config_before = copy.deepcopy(live), copy.deepcopy(config)
    result = apply(live, config, now=T1)
    assert live == live_before
    assert config == config_before
    containers(result)[0]["image"] = "mutated"
    assert containers(live)[0]["image"] == "nginx:1.14.2"


def test_changing_a_value_updates_the_time_of_the_applier() -> None:
    live = apply(None, deployment(NGINX))
    result = apply(live, deployment(NGINX, replicas=5), now=T1)
    assert result["spec"]["replicas"] == 5
    assert result["metadata"]["managedFields"][0]["time"] == T1


def test_managed_fields_never_record_identity_or_system_fields() -> None:
    config = deployment(NGINX)
    config["metadata"]["labels"] = {"app": "nginx"}
    config["metadata"]["resourceVersion"] = "12"
    fields = owned(apply(None, config), "kfed")
    assert ("f:metadata", "f:labels", "f:app") in fields
    for path in (("f:apiVersion",), ("f:kind",), ("f:metadata", "f:name")):
        assert path not in fields
    assert ("f:metadata", "f:namespace") not in fields
    assert ("f:metadata", "f:resourceVersion") not in fields


# -- conflicts --------------------------------------------------------------------------------


def test_changing_a_field_another_manager_owns_is_a_conflict() -> None:
    live = scaled(apply(None, deployment(NGINX)), 5, manager="kubectl-client-side-apply")
    with pytest.raises(ApplyConflictError) as info:
        apply(live, deployment(NGINX, replicas=3), now=T2)
    error = info.value
    assert str(error) == (
        'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: '
        ".spec.replicas"
    )
    assert error.conflicts == (
        Conflict(manager="kubectl-client-side-apply", path=".spec.replicas", api_version="apps/v1"),
    )
    assert isinstance(error, ApiError)
    assert error.status()["code"] == 409
    assert error.status()["reason"] == "Conflict"
    assert error.details == {
        "causes": [
            {
                "reason": "FieldManagerConflict",
                "message": 'conflict with "kubectl-client-side-apply" using apps/v1',
                "field": ".spec.replicas",
            }
        ]
    }


def test_several_conflicts_are_listed_per_manager_in_sorted_order() -> None:
    live = apply(None, deployment(NGINX))
    changed = copy.deepcopy(live)
    containers(changed)[0]["image"] = "nginx:edited"
    live = update(live, changed, "kubectl-edit")
    live = scaled(live, 7, manager="hpa-controller")
    live = apply(live, deployment(replicas=7), "other-applier", now=T2)
    config = deployment({**NGINX, "image": "nginx:3"}, replicas=9)
    with pytest.raises(ApplyConflictError) as info:
        apply(live, config, "newcomer", now=T3)
    assert str(info.value) == (
        "Apply failed with 3 conflicts: "
        'conflicts with "hpa-controller" using apps/v1:\n'
        "- .spec.replicas\n"
        'conflicts with "kubectl-edit" using apps/v1:\n'
        '- .spec.template.spec.containers[name="nginx"].image\n'
        'conflicts with "other-applier":\n'
        "- .spec.replicas"
    )


def test_applying_the_same_value_shares_ownership() -> None:
    live = apply(None, deployment(NGINX))
    shared = apply(live, deployment(replicas=3), "second", now=T1)
    assert ("f:spec", "f:replicas") in owned(shared, "kfed")
    assert ("f:spec", "f:replicas") in owned(shared, "second")
    assert shared["spec"] == live["spec"]


def test_shared_field_changed_by_either_owner_conflicts() -> None:
    live = apply(apply(None, deployment(NGINX)), deployment(replicas=3), "second", now=T1)
    with pytest.raises(ApplyConflictError, match=r'conflict with "second": \.spec\.replicas'):
        apply(live, deployment(NGINX, replicas=4), now=T2)


def test_force_takes_over_the_conflicting_fields() -> None:
    live = scaled(apply(None, deployment(NGINX)), 5)
    result = apply(live, deployment(NGINX, replicas=2), force=True, now=T2)
    assert result["spec"]["replicas"] == 2
    assert ("f:spec", "f:replicas") in owned(result, "kfed")
    # The scaler owned nothing else: its entry disappears with its last field.
    assert owned(result, "kubectl-scale", "Update").is_empty
    assert [e["manager"] for e in result["metadata"]["managedFields"]] == ["kfed"]


def test_applier_conflicts_with_its_own_update_entry() -> None:
    live = scaled(apply(None, deployment(NGINX)), 5, manager="kfed")
    with pytest.raises(ApplyConflictError, match='conflict with "kfed" using apps/v1'):
        apply(live, deployment(NGINX, replicas=3), now=T2)


# -- removal ----------------------------------------------------------------------------------


def test_dropping_a_field_from_the_config_removes_it() -> None:
    live = apply(None, deployment(NGINX))
    result = apply(live, deployment(NGINX, replicas=None), now=T1)
    assert "replicas" not in result["spec"]
    assert ("f:spec", "f:replicas") not in owned(result, "kfed")
    assert result["metadata"]["managedFields"][0]["time"] == T1


def test_dropping_a_field_another_manager_also_owns_keeps_it() -> None:
    live = apply(apply(None, deployment(NGINX)), deployment(replicas=3), "second", now=T1)
    result = apply(live, deployment(NGINX, replicas=None), now=T2)
    assert result["spec"]["replicas"] == 3
    assert ("f:spec", "f:replicas") not in owned(result, "kfed")
    assert ("f:spec", "f:replicas") in owned(result, "second")


def test_dropping_a_field_an_updater_changed_keeps_it() -> None:
    live = scaled(apply(None, deployment(NGINX)), 5)
    result = apply(live, deployment(NGINX, replicas=None), now=T2)
    assert result["spec"]["replicas"] == 5


def test_dropping_a_container_removes_the_item_and_its_fields() -> None:
    sidecar = {"name": "sidecar", "image": "busybox"}
    live = apply(None, deployment(NGINX, sidecar))
    result = apply(live, deployment(NGINX), now=T1)
    assert [c["name"] for c in containers(result)] == ["nginx"]
    assert not owned(result, "kfed").has_under((*CONTAINERS, 'k:{"name":"sidecar"}'))


def test_dropping_a_container_removes_it_even_if_an_updater_set_a_field_inside() -> None:
    sidecar = {"name": "sidecar", "image": "busybox"}
    live = apply(None, deployment(NGINX, sidecar))
    edited = copy.deepcopy(live)
    containers(edited)[1]["image"] = "busybox:2"
    live = update(live, edited, "kubectl-set")
    result = apply(live, deployment(NGINX), force=True, now=T2)
    # SMD: the item itself is owned by nobody else, so it goes, with the updater's field.
    assert [c["name"] for c in containers(result)] == ["nginx"]
    assert owned(result, "kubectl-set", "Update").is_empty


def test_dropping_the_only_label_removes_the_emptied_map() -> None:
    config = deployment(NGINX)
    config["metadata"]["labels"] = {"team": "a"}
    live = apply(None, config)
    result = apply(live, deployment(NGINX), now=T1)
    assert "labels" not in result["metadata"]
    assert result["metadata"]["name"] == "nginx-deployment"


def test_dropping_a_struct_removes_unowned_fields_below_it() -> None:
    config = deployment(NGINX)
    config["spec"]["strategy"] = {"type": "RollingUpdate"}
    live = apply(None, config)
    live["spec"]["strategy"]["rollingUpdate"] = {"maxSurge": "25%"}  # defaulted, owned by nobody
    result = apply(live, deployment(NGINX), now=T1)
    assert "strategy" not in result["spec"]


def test_fields_never_applied_by_the_manager_are_not_removed() -> None:
    live = apply(None, deployment(NGINX))
    live["spec"]["revisionHistoryLimit"] = 10  # defaulted by the server, owned by nobody
    result = apply(live, deployment(NGINX, replicas=None), now=T1)
    assert result["spec"]["revisionHistoryLimit"] == 10


# -- merging lists ----------------------------------------------------------------------------


def test_two_appliers_own_different_containers() -> None:
    live = apply(None, deployment(NGINX))
    sidecar = {"name": "sidecar", "image": "envoy"}
    both = apply(live, deployment(sidecar, replicas=None), "mesh-injector", now=T1)
    assert [c["name"] for c in containers(both)] == ["nginx", "sidecar"]
    assert owned(both, "mesh-injector").has_under((*CONTAINERS, 'k:{"name":"sidecar"}'))
    assert not owned(both, "mesh-injector").has_under((*CONTAINERS, 'k:{"name":"nginx"}'))
    # Each can drop its own container without touching the other's.
    alone = apply(both, deployment(replicas=None), "mesh-injector", now=T2)
    assert [c["name"] for c in containers(alone)] == ["nginx"]
    assert not owned(alone, "mesh-injector").has_under(CONTAINERS)
    assert ("f:spec", "f:selector") in owned(alone, "mesh-injector")  # still shared


@pytest.mark.parametrize(
    ("live_names", "config_names", "expected"),
    [
        (["a", "b"], ["c", "a"], ["c", "a", "b"]),
        (["a", "b", "c"], ["c", "a"], ["b", "c", "a"]),
        (["a", "b"], ["b", "a"], ["b", "a"]),
        (["a"], ["a", "z"], ["a", "z"]),
    ],
)
def test_map_list_items_merge_in_structured_merge_diff_order(
    live_names: list[str], config_names: list[str], expected: list[str]
) -> None:
    live = apply(None, deployment(*({"name": n, "image": "i"} for n in live_names)), "owner")
    config = deployment(*({"name": n, "image": "i"} for n in config_names), replicas=None)
    result = apply(live, config, "other", now=T1)
    assert [c["name"] for c in containers(result)] == expected


def test_set_lists_union_and_each_applier_removes_only_its_own_items() -> None:
    def with_finalizers(*names: str) -> dict[str, Any]:
        config = deployment(NGINX)
        config["metadata"]["finalizers"] = list(names)
        return config

    live = apply(None, with_finalizers("a.io/one"))
    both = apply(live, {**with_finalizers("b.io/two"), "spec": {}}, "other", now=T1)
    assert both["metadata"]["finalizers"] == ["a.io/one", "b.io/two"]
    assert ("f:metadata", "f:finalizers", 'v:"b.io/two"') in owned(both, "other")
    result = apply(both, deployment(NGINX), now=T2)
    assert result["metadata"]["finalizers"] == ["b.io/two"]


def test_atomic_lists_are_replaced_whole() -> None:
    live = apply(None, deployment({**NGINX, "args": ["-a", "-b"]}))
    result = apply(live, deployment({**NGINX, "args": ["-c"]}), now=T1)
    assert containers(result)[0]["args"] == ["-c"]


def test_atomic_map_replaced_and_owned_whole() -> None:
    live = apply(None, deployment(NGINX))
    config = deployment(NGINX)
    config["spec"]["selector"] = {"matchExpressions": [{"key": "app", "operator": "Exists"}]}
    result = apply(live, config, now=T1)
    assert result["spec"]["selector"] == config["spec"]["selector"]
    assert ("f:spec", "f:selector") in owned(result, "kfed")
    assert not owned(result, "kfed").has_under(("f:spec", "f:selector", "f:matchExpressions"))


def test_null_in_config_unsets_the_field_but_owns_it() -> None:
    live = apply(None, deployment(NGINX))
    config = deployment(NGINX)
    config["spec"]["replicas"] = None
    result = apply(live, config, now=T1)
    assert "replicas" not in result["spec"]
    assert ("f:spec", "f:replicas") in owned(result, "kfed")


def test_apply_without_schema_merges_maps_and_replaces_lists() -> None:
    crd_config = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w"},
        "spec": {"size": {"min": 1, "max": 3}, "zones": ["a", "b"]},
    }
    live = apply(None, crd_config, schema=None, reset=NO_RESET)
    other = {**crd_config, "spec": {"size": {"max": 3}, "color": "red"}}
    result = apply(live, other, "painter", schema=None, reset=NO_RESET, now=T1)
    assert result["spec"] == {"size": {"min": 1, "max": 3}, "zones": ["a", "b"], "color": "red"}
    assert ("f:spec", "f:size", "f:max") in owned(result, "painter")
    assert ("f:spec", "f:zones") in owned(result, "kfed")


def test_configmap_example_from_the_docs() -> None:
    config = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "test-cm", "namespace": "default", "labels": {"test-label": "test"}},
        "data": {"key": "some value"},
    }
    obj = apply(None, config, "kubectl", schema=CONFIGMAP)
    [entry] = obj["metadata"]["managedFields"]
    assert entry["fieldsV1"] == {
        "f:data": {"f:key": {}},
        "f:metadata": {"f:labels": {"f:test-label": {}}},
    }
    assert (entry["manager"], entry["operation"], entry["apiVersion"]) == ("kubectl", "Apply", "v1")


WIDGET = schema_from_openapi_v3(
    {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {
                    "rules": {
                        "type": "array",
                        "x-kubernetes-list-type": "map",
                        "x-kubernetes-list-map-keys": ["host", "port"],
                        "items": {
                            "type": "object",
                            "properties": {
                                "host": {"type": "string"},
                                "port": {"type": "integer", "default": 443},
                                "backend": {"type": "string"},
                            },
                        },
                    },
                    "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                },
            }
        },
    }
)


def test_crd_schema_list_map_keys_and_defaults_name_items() -> None:
    def widget(*rules: dict[str, Any]) -> dict[str, Any]:
        return {
            "apiVersion": "example.com/v1",
            "kind": "Widget",
            "metadata": {"name": "w", "labels": {"a": "b"}},
            "spec": {"rules": list(rules), "extra": {"free": {"form": 1}}},
        }

    live = apply(None, widget({"host": "a", "backend": "x"}), schema=WIDGET, reset=NO_RESET)
    fields = owned(live, "kfed")
    assert ("f:spec", "f:rules", 'k:{"host":"a","port":443}', "f:backend") in fields
    assert ("f:spec", "f:extra", "f:free") in fields  # unknown keys are members themselves
    assert ("f:metadata", "f:labels", "f:a") in fields
    other = widget({"host": "b", "port": 80, "backend": "y"})
    both = apply(live, other, "second", schema=WIDGET, reset=NO_RESET, now=T1)
    assert [r["host"] for r in both["spec"]["rules"]] == ["a", "b"]


def test_undecodable_live_managed_fields_count_as_unmanaged() -> None:
    live = deployment(NGINX)
    live["metadata"]["managedFields"] = [{"manager": "x", "operation": "Bogus"}]
    result = apply(live, deployment(NGINX))
    assert {e["manager"] for e in result["metadata"]["managedFields"]} == {
        "kfed",
        "before-first-apply",
    }


# -- status and subresources ------------------------------------------------------------------


def test_main_resource_apply_ignores_status() -> None:
    config = deployment(NGINX)
    config["status"] = {"replicas": 99}
    live = apply(None, config)
    live["status"] = {"replicas": 1}
    result = apply(live, config, now=T1)
    assert result["status"] == {"replicas": 1}
    assert not owned(result, "kfed").has_under(("f:status",))


def test_status_subresource_apply_owns_only_status() -> None:
    live = apply(None, deployment(NGINX))
    config = deployment(replicas=99)
    config["metadata"]["labels"] = {"sneaky": "x"}
    config["status"] = {"readyReplicas": 2}
    result = apply(live, config, "controller", subresource="status", now=T1)
    assert result["spec"] == live["spec"]
    assert "labels" not in result["metadata"]
    assert result["status"] == {"readyReplicas": 2}
    entry = next(e for e in result["metadata"]["managedFields"] if e["manager"] == "controller")
    assert entry["subresource"] == "status"
    assert entry["fieldsV1"] == {"f:status": {"f:readyReplicas": {}}}


def test_status_applier_identity_includes_the_subresource() -> None:
    status_config = deployment(replicas=None)
    status_config["status"] = {"readyReplicas": 1}
    live = apply(None, deployment(NGINX))
    live = apply(live, status_config, "kfed", subresource="status", now=T1)
    keys = set(decode_managed_fields(live))
    assert keys == {ManagerKey.for_apply("kfed"), ManagerKey.for_apply("kfed", "status")}


# -- validation -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda c: c.pop("kind"), "Object 'Kind' is missing"),
        (
            lambda c: c.update(apiVersion="apps/v1beta1"),
            "Incorrect version specified in apply patch. Specified patch version: apps/v1beta1, "
            "expected: apps/v1",
        ),
        (lambda c: c["metadata"].pop("name"), "metadata.name: Required value"),
        (
            lambda c: c["metadata"].update(managedFields=[]),
            "metadata.managedFields must be nil",
        ),
    ],
)
def test_invalid_apply_patches_are_refused(mutate: Any, message: str) -> None:
    config = deployment(NGINX)
    mutate(config)
    with pytest.raises(PatchError, match=message):
        server_side_apply(
            None, config, manager="kfed", force=False, schema=DEPLOYMENT,
            api_version="apps/v1", now=T0,
        )  # fmt: skip


def test_config_item_without_its_key_names_the_field() -> None:
    with pytest.raises(PatchError) as info:
        apply(None, deployment({"image": "nginx"}))
    assert str(info.value) == (
        "failed to create typed patch object (default/nginx-deployment; apps/v1, "
        "Kind=Deployment): .spec.template.spec.containers: element 0: associative list with "
        'keys has an element that omits key field "name" (and doesn\'t have default value)'
    )


# -- before-first-apply and update bookkeeping ------------------------------------------------


def test_first_apply_to_an_unmanaged_object_records_before_first_apply() -> None:
    live = deployment(NGINX, replicas=1)
    with pytest.raises(ApplyConflictError, match='"before-first-apply" using apps/v1'):
        apply(live, deployment(NGINX, replicas=3))
    result = apply(live, deployment(NGINX, replicas=1))
    assert ("f:spec", "f:replicas") in owned(result, "before-first-apply", "Update")
    assert ("f:spec", "f:replicas") in owned(result, "kfed")


def test_update_on_create_gives_every_field_to_the_writer() -> None:
    obj = update(None, deployment(NGINX), "kubectl-create", now=T0)
    [entry] = obj["metadata"]["managedFields"]
    assert entry["manager"] == "kubectl-create"
    assert entry["operation"] == "Update"
    assert entry["time"] == T0
    fields = owned(obj, "kubectl-create", "Update")
    assert (*CONTAINERS, 'k:{"name":"nginx"}', "f:image") in fields
    assert (*CONTAINERS, 'k:{"name":"nginx"}') in fields  # a new item is owned itself
    assert ("f:metadata", "f:name") not in fields


def test_update_takes_changed_fields_from_other_managers() -> None:
    live = apply(None, deployment(NGINX))
    edited = copy.deepcopy(live)
    containers(edited)[0]["image"] = "nginx:2"
    result = update(live, edited, "kubectl-edit")
    image = (*CONTAINERS, 'k:{"name":"nginx"}', "f:image")
    assert image in owned(result, "kubectl-edit", "Update")
    assert image not in owned(result, "kfed")
    assert ("f:spec", "f:replicas") in owned(result, "kfed")


def test_update_removes_deleted_fields_from_every_set() -> None:
    live = apply(None, deployment(NGINX))
    edited = copy.deepcopy(live)
    del edited["spec"]["replicas"]
    result = update(live, edited, "kubectl-edit")
    assert ("f:spec", "f:replicas") not in owned(result, "kfed")
    assert owned(result, "kubectl-edit", "Update").is_empty


def test_update_that_changes_nothing_keeps_times_and_entries() -> None:
    live = apply(None, deployment(NGINX))
    assert update(live, copy.deepcopy(live), "kubectl-edit", now=T3) == live


def test_update_entries_are_per_api_version() -> None:
    live = scaled(apply(None, deployment(NGINX)), 4)
    new = copy.deepcopy(live)
    new["apiVersion"] = "apps/v1beta2"
    new["spec"]["replicas"] = 6
    result = update(live, new, "kubectl-scale", now=T2)
    versions = sorted(
        e["apiVersion"] for e in result["metadata"]["managedFields"] if e["operation"] == "Update"
    )
    assert versions == ["apps/v1beta2"]  # the v1 entry lost its only field


def test_update_with_single_empty_entry_resets_managed_fields() -> None:
    live = apply(None, deployment(NGINX))
    new = copy.deepcopy(live)
    new["metadata"]["managedFields"] = [{}]
    assert update(live, new, "kubectl-edit")["metadata"]["managedFields"] == []
    new["spec"]["replicas"] = 8
    reset = update(live, new, "kubectl-edit")["metadata"]["managedFields"]
    assert [(e["manager"], e["fieldsV1"]) for e in reset] == [
        ("kubectl-edit", {"f:spec": {"f:replicas": {}}})
    ]


def test_update_with_empty_list_keeps_existing_managed_fields() -> None:
    live = apply(None, deployment(NGINX))
    new = copy.deepcopy(live)
    new["metadata"]["managedFields"] = []
    assert (
        update(live, new, "kubectl-edit")["metadata"]["managedFields"]
        == (live["metadata"]["managedFields"])
    )


def test_update_starts_from_managed_fields_the_client_sends() -> None:
    live = apply(None, deployment(NGINX))
    new = copy.deepcopy(live)
    handed = {"manager": "handover", "operation": "Apply", "apiVersion": "apps/v1"}
    new["metadata"]["managedFields"] = [
        {**handed, "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}}}}
    ]
    result = update(live, new, "kubectl-edit")
    assert [e["manager"] for e in result["metadata"]["managedFields"]] == ["handover"]


def test_subresource_update_ignores_client_managed_fields_and_owns_status_only() -> None:
    live = apply(None, deployment(NGINX))
    new = copy.deepcopy(live)
    new["metadata"]["managedFields"] = [{}]
    new["status"] = {"replicas": 3}
    result = update(live, new, "kube-controller-manager", subresource="status")
    fields = owned(result, "kube-controller-manager", "Update", subresource="status")
    assert fields == FieldSet.of(("f:status",), ("f:status", "f:replicas"))
    assert not owned(result, "kfed").is_empty


def test_more_than_ten_update_managers_fold_into_ancient_changes() -> None:
    obj = apply(None, deployment(NGINX))
    for n in range(12):
        new = copy.deepcopy(obj)
        new["metadata"].setdefault("labels", {})[f"l{n}"] = "x"
        obj = update(obj, new, f"writer-{n:02d}", now=f"2024-06-{n + 1:02d}T00:00:00Z")
    managers = [e["manager"] for e in obj["metadata"]["managedFields"]]
    assert len([m for m in managers if m != "kfed"]) == 10
    assert "ancient-changes" in managers
    assert "writer-00" not in managers
    assert "writer-11" in managers


def test_entries_are_ordered_apply_first_then_by_time() -> None:
    fields = FieldSet.of(("f:spec", "f:replicas"))
    managed = {
        ManagerKey.for_update("b", "v1"): ManagedEntry(fields=fields, api_version="v1", time=T1),
        ManagerKey.for_update("a", "v1"): ManagedEntry(fields=fields, api_version="v1", time=T2),
        ManagerKey.for_apply("z"): ManagedEntry(fields=fields, api_version="v1", time=T3),
        ManagerKey.for_update("empty", "v1"): ManagedEntry(fields=FieldSet(), api_version="v1"),
    }
    assert [e["manager"] for e in encode_managed_fields(managed)] == ["z", "b", "a"]


# -- properties -------------------------------------------------------------------------------

_NAMES = st.sampled_from(["app", "web", "db", "cache", "side"])
_VALUES = st.sampled_from(["a", "b", "c"])
_CONTAINER = st.fixed_dictionaries(
    {"image": _VALUES},
    optional={
        "args": st.lists(_VALUES, min_size=1, max_size=2),
        "env": st.dictionaries(_NAMES, _VALUES, min_size=1, max_size=2).map(
            lambda env: [{"name": k, "value": v} for k, v in env.items()]
        ),
    },
)


@st.composite
def _configs(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(_NAMES, min_size=1, max_size=3, unique=True))
    config = deployment(
        *({"name": n, **draw(_CONTAINER)} for n in names),
        replicas=draw(st.none() | st.integers(0, 3)),
    )
    labels = draw(st.dictionaries(_NAMES, _VALUES, max_size=2))
    if labels:
        config["metadata"]["labels"] = labels
    return config


def _without_times(obj: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(obj)
    for entry in out["metadata"].get("managedFields", []):
        entry.pop("time", None)
    return out


@settings(max_examples=60, deadline=None)
@given(_configs())
def test_applying_the_same_config_twice_is_idempotent(config: dict[str, Any]) -> None:
    first = apply(None, config)
    assert apply(first, config, now=T3) == first


@settings(max_examples=60, deadline=None)
@given(_configs())
def test_after_apply_the_manager_owns_exactly_the_config_fields(config: dict[str, Any]) -> None:
    result = apply(None, config)
    expected = strip_untracked(FieldSet.from_object(config, DEPLOYMENT))
    assert owned(result, "kfed") == expected


@settings(max_examples=60, deadline=None)
@given(_configs(), _configs())
def test_sole_applier_converges_to_its_latest_config(
    first: dict[str, Any], second: dict[str, Any]
) -> None:
    converged = apply(apply(None, first), second, now=T1)
    fresh = apply(None, second, now=T1)
    assert _without_times(converged) == _without_times(fresh)


@settings(max_examples=40, deadline=None)
@given(_configs(), st.integers(4, 9))
def test_forced_apply_reclaims_every_field_of_its_config(config: dict[str, Any], n: int) -> None:
    live = apply(None, config)
    edited = copy.deepcopy(live)
    edited["spec"]["replicas"] = n
    for container in containers(edited):
        container["image"] = "edited"
    live = update(live, edited, "kubectl-edit")
    result = apply(live, config, force=True, now=T2)
    expected = strip_untracked(FieldSet.from_object(config, DEPLOYMENT))
    assert owned(result, "kfed") == expected
    assert [c["image"] for c in containers(result)] == [c["image"] for c in containers(config)]
