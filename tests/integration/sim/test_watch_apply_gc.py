"""Watches, server-side apply, deletion, garbage collection and CRDs, through real clients."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from kubernetes import client, dynamic, watch
from kubernetes.client.rest import ApiException

from kfed_local.sim.threaded import FleetThread, wait_for


def _absent(read: Any) -> bool:
    try:
        read()
    except ApiException as exc:
        return exc.status == 404
    return False


# -- watch ------------------------------------------------------------------------------------


def test_watch_without_resource_version_starts_with_added_events(
    east: client.ApiClient, ns: str
) -> None:
    core = client.CoreV1Api(east)
    core.create_namespaced_config_map(ns, {"metadata": {"name": "before"}})
    events = [
        (e["type"], e["object"].metadata.name)
        for e in watch.Watch().stream(core.list_namespaced_config_map, ns, timeout_seconds=1)
    ]
    assert ("ADDED", "before") in events


def test_watch_from_resource_version_sees_later_changes_only(
    east: client.ApiClient, ns: str
) -> None:
    core = client.CoreV1Api(east)
    core.create_namespaced_config_map(ns, {"metadata": {"name": "old"}})
    rv = core.list_namespaced_config_map(ns).metadata.resource_version
    core.create_namespaced_config_map(ns, {"metadata": {"name": "new"}})
    core.patch_namespaced_config_map("new", ns, {"data": {"k": "v"}})
    core.delete_namespaced_config_map("new", ns)
    events = [
        (e["type"], e["object"].metadata.name)
        for e in watch.Watch().stream(
            core.list_namespaced_config_map, ns, resource_version=rv, timeout_seconds=1
        )
    ]
    assert events == [("ADDED", "new"), ("MODIFIED", "new"), ("DELETED", "new")]


def test_watch_streams_live_changes_and_honours_timeout(east: client.ApiClient, ns: str) -> None:
    core = client.CoreV1Api(east)
    seen: list[tuple[str, str]] = []
    started = threading.Event()

    def follow() -> None:
        stream = watch.Watch().stream(
            core.list_namespaced_config_map,
            ns,
            timeout_seconds=2,
            resource_version=core.list_namespaced_config_map(ns).metadata.resource_version,
        )
        started.set()
        for event in stream:
            seen.append((event["type"], event["object"].metadata.name))

    reader = threading.Thread(target=follow)
    reader.start()
    started.wait(5)
    core.create_namespaced_config_map(ns, {"metadata": {"name": "live"}})
    reader.join(10)
    assert not reader.is_alive(), "the watch did not end at timeoutSeconds"
    assert ("ADDED", "live") in seen


def test_watch_with_label_selector_reports_objects_leaving_the_selection(
    east: client.ApiClient, raw_east: Any, ns: str
) -> None:
    core = client.CoreV1Api(east)
    core.create_namespaced_config_map(ns, {"metadata": {"name": "m", "labels": {"pick": "yes"}}})
    rv = core.list_namespaced_config_map(ns).metadata.resource_version
    core.patch_namespaced_config_map("m", ns, {"metadata": {"labels": {"pick": "no"}}})
    answer = raw_east(
        "GET",
        f"/api/v1/namespaces/{ns}/configmaps?watch=1&labelSelector=pick%3Dyes"
        f"&resourceVersion={rv}&timeoutSeconds=1",
    )
    events = [json.loads(line) for line in answer.text.splitlines()]
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("DELETED", "m")]


def test_watch_bookmarks_carry_the_current_resource_version(raw_east: Any, ns: str) -> None:
    answer = raw_east(
        "GET",
        f"/api/v1/namespaces/{ns}/configmaps?watch=1&allowWatchBookmarks=true"
        "&timeoutSeconds=2&resourceVersion=1",
    )
    bookmarks = [
        json.loads(line)
        for line in answer.text.splitlines()
        if json.loads(line)["type"] == "BOOKMARK"
    ]
    assert bookmarks, "no BOOKMARK within two bookmark intervals"
    assert int(bookmarks[-1]["object"]["metadata"]["resourceVersion"]) > 1


def test_send_initial_events_ends_with_an_annotated_bookmark(raw_east: Any, ns: str) -> None:
    raw_east("POST", f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "i"}})
    answer = raw_east(
        "GET",
        f"/api/v1/namespaces/{ns}/configmaps?watch=1&sendInitialEvents=true"
        "&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&timeoutSeconds=1",
    )
    events = [json.loads(line) for line in answer.text.splitlines()]
    names = [e["object"]["metadata"].get("name") for e in events if e["type"] == "ADDED"]
    assert "i" in names
    end = next(e for e in events if e["type"] == "BOOKMARK")
    assert end["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}


def test_watch_from_compacted_resource_version_is_410_expired(
    east: client.ApiClient, raw_east: Any, ns: str
) -> None:
    core = client.CoreV1Api(east)
    first = core.create_namespaced_config_map(ns, {"metadata": {"name": "c0"}})
    for i in range(250):  # the test fleet keeps 200 changes per resource
        core.patch_namespaced_config_map("c0", ns, {"data": {"i": str(i)}})
    answer = raw_east(
        "GET",
        f"/api/v1/namespaces/{ns}/configmaps?watch=1&timeoutSeconds=1"
        f"&resourceVersion={first.metadata.resource_version}",
    )
    events = [json.loads(line) for line in answer.text.splitlines()]
    assert events[0]["type"] == "ERROR"
    status = events[0]["object"]
    assert (status["code"], status["reason"]) == (410, "Expired")
    assert status["message"].startswith("too old resource version")


def test_python_watch_raises_gone_on_expired_resource_version(
    east: client.ApiClient, ns: str
) -> None:
    core = client.CoreV1Api(east)
    first = core.create_namespaced_config_map(ns, {"metadata": {"name": "g"}})
    for i in range(250):
        core.patch_namespaced_config_map("g", ns, {"data": {"i": str(i)}})
    with pytest.raises(ApiException) as caught:
        for _ in watch.Watch().stream(
            core.list_namespaced_config_map,
            ns,
            timeout_seconds=1,
            resource_version=first.metadata.resource_version,
        ):
            pass
    assert caught.value.status == 410


# -- server-side apply ------------------------------------------------------------------------


def _apply(
    dyn: dynamic.DynamicClient, body: dict[str, Any], manager: str, force: bool = False
) -> Any:
    resource = dyn.resources.get(api_version=body["apiVersion"], kind=body["kind"])
    return resource.server_side_apply(
        body=body,
        name=body["metadata"]["name"],
        namespace=body["metadata"].get("namespace"),
        field_manager=manager,
        force_conflicts=force,
    )


def _deployment(ns: str, **spec: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "replicas": 0,
        "selector": {"matchLabels": {"app": "a"}},
        "template": {
            "metadata": {"labels": {"app": "a"}},
            "spec": {"containers": [{"name": "c", "image": "nginx:1"}]},
        },
    }
    base.update(spec)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "ssa", "namespace": ns},
        "spec": base,
    }


def test_server_side_apply_creates_then_conflicts_then_forces(
    east: client.ApiClient, ns: str
) -> None:
    dyn = dynamic.DynamicClient(east)
    created = _apply(dyn, _deployment(ns), "kfed")
    managers = [(m["manager"], m["operation"]) for m in created.metadata.managedFields]
    assert ("kfed", "Apply") in managers
    with pytest.raises(ApiException) as caught:
        _apply(dyn, _deployment(ns, replicas=2), "someone-else")
    status = json.loads(caught.value.body)
    assert caught.value.status == 409
    assert status["message"] == 'Apply failed with 1 conflict: conflict with "kfed": .spec.replicas'
    forced = _apply(dyn, _deployment(ns, replicas=2), "someone-else", force=True)
    assert forced.spec.replicas == 2


def test_server_side_apply_removes_fields_dropped_from_the_config(
    east: client.ApiClient, ns: str
) -> None:
    dyn = dynamic.DynamicClient(east)
    body = _deployment(ns)
    body["metadata"]["labels"] = {"keep": "1", "drop": "1"}
    _apply(dyn, body, "kfed")
    body["metadata"]["labels"] = {"keep": "1"}
    again = _apply(dyn, body, "kfed")
    assert again.metadata.labels.to_dict() == {"keep": "1"}


def test_fields_co_owned_by_another_manager_survive_removal(
    east: client.ApiClient, ns: str
) -> None:
    dyn = dynamic.DynamicClient(east)
    body = _deployment(ns)
    body["metadata"]["labels"] = {"shared": "1"}
    _apply(dyn, body, "kfed")
    _apply(dyn, body, "other")
    body["metadata"]["labels"] = {}
    after = _apply(dyn, body, "kfed")
    assert after.metadata.labels.to_dict() == {"shared": "1"}


def test_reapplying_the_same_config_changes_nothing(east: client.ApiClient, ns: str) -> None:
    dyn = dynamic.DynamicClient(east)
    config = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "same", "namespace": ns},
        "data": {"k": "v"},
    }
    first = _apply(dyn, config, "kfed")
    second = _apply(dyn, config, "kfed")
    assert first.metadata.resourceVersion == second.metadata.resourceVersion


def test_apply_without_field_manager_is_bad_request(raw_east: Any, ns: str) -> None:
    answer = raw_east(
        "PATCH",
        f"/api/v1/namespaces/{ns}/configmaps/x",
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}},
        content_type="application/apply-patch+yaml",
    )
    assert answer.status_code == 400
    assert "fieldManager" in answer.json()["message"]


# -- deletion and garbage collection ----------------------------------------------------------


def test_finalizers_hold_deletion_until_removed(east: client.ApiClient, ns: str) -> None:
    core = client.CoreV1Api(east)
    core.create_namespaced_config_map(
        ns, {"metadata": {"name": "f", "finalizers": ["example.com/x"]}}
    )
    core.delete_namespaced_config_map("f", ns)
    held = core.read_namespaced_config_map("f", ns)
    assert held.metadata.deletion_timestamp is not None
    with pytest.raises(ApiException) as caught:
        core.patch_namespaced_config_map(
            "f", ns, {"metadata": {"finalizers": ["example.com/x", "example.com/y"]}}
        )
    assert caught.value.status == 422
    assert "no new finalizers can be added if the object is being deleted" in caught.value.body
    core.patch_namespaced_config_map("f", ns, {"metadata": {"finalizers": None}})
    assert _absent(lambda: core.read_namespaced_config_map("f", ns))


def test_delete_preconditions_are_checked(east: client.ApiClient, ns: str) -> None:
    core = client.CoreV1Api(east)
    core.create_namespaced_config_map(ns, {"metadata": {"name": "p"}})
    with pytest.raises(ApiException) as caught:
        core.delete_namespaced_config_map("p", ns, body={"preconditions": {"uid": "not-it"}})
    assert caught.value.status == 409
    assert (
        "Precondition failed: UID in precondition: not-it"
        in json.loads(caught.value.body)["message"]
    )


def _owner_and_child(core: client.CoreV1Api, ns: str) -> str:
    owner = core.create_namespaced_config_map(ns, {"metadata": {"name": "owner"}})
    core.create_namespaced_config_map(
        ns,
        {
            "metadata": {
                "name": "child",
                "ownerReferences": [
                    {
                        "apiVersion": "v1",
                        "kind": "ConfigMap",
                        "name": "owner",
                        "uid": owner.metadata.uid,
                        "blockOwnerDeletion": True,
                    }
                ],
            }
        },
    )
    return str(owner.metadata.uid)


def test_background_deletion_collects_dependents(east: client.ApiClient, ns: str) -> None:
    core = client.CoreV1Api(east)
    _owner_and_child(core, ns)
    core.delete_namespaced_config_map("owner", ns, propagation_policy="Background")
    wait_for(
        lambda: _absent(lambda: core.read_namespaced_config_map("child", ns)),
        what="garbage collection of the child",
    )


def test_orphan_deletion_keeps_dependents_without_the_reference(
    east: client.ApiClient, ns: str
) -> None:
    core = client.CoreV1Api(east)
    _owner_and_child(core, ns)
    core.delete_namespaced_config_map("owner", ns, propagation_policy="Orphan")
    wait_for(
        lambda: _absent(lambda: core.read_namespaced_config_map("owner", ns)), what="owner gone"
    )
    child = core.read_namespaced_config_map("child", ns)
    assert not child.metadata.owner_references


def test_foreground_deletion_removes_dependents_first(east: client.ApiClient, ns: str) -> None:
    core = client.CoreV1Api(east)
    _owner_and_child(core, ns)
    core.delete_namespaced_config_map("owner", ns, propagation_policy="Foreground")
    wait_for(
        lambda: _absent(lambda: core.read_namespaced_config_map("owner", ns)), what="owner gone"
    )
    assert _absent(lambda: core.read_namespaced_config_map("child", ns))


def test_dangling_owner_reference_is_collected(east: client.ApiClient, ns: str) -> None:
    core = client.CoreV1Api(east)
    core.create_namespaced_config_map(
        ns,
        {
            "metadata": {
                "name": "orphan",
                "ownerReferences": [
                    {
                        "apiVersion": "v1",
                        "kind": "ConfigMap",
                        "name": "ghost",
                        "uid": "00000000-0000-0000-0000-000000000000",
                    }
                ],
            }
        },
    )
    wait_for(
        lambda: _absent(lambda: core.read_namespaced_config_map("orphan", ns)),
        what="collection of an object whose owner never existed",
    )


# -- custom resources -------------------------------------------------------------------------

CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {
        "group": "example.com",
        "scope": "Namespaced",
        "names": {
            "plural": "widgets",
            "singular": "widget",
            "kind": "Widget",
            "shortNames": ["wd"],
        },
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {"type": "object", "properties": {"size": {"type": "integer"}}},
                            "status": {
                                "type": "object",
                                "x-kubernetes-preserve-unknown-fields": True,
                            },
                        },
                    }
                },
            }
        ],
    },
}


def test_creating_a_crd_serves_its_resource(
    east: client.ApiClient, sim: FleetThread, ns: str
) -> None:
    ext = client.ApiextensionsV1Api(east)
    ext.create_custom_resource_definition(CRD)
    wait_for(
        lambda: any(
            c.type == "Established" and c.status == "True"
            for c in (
                ext.read_custom_resource_definition(CRD["metadata"]["name"]).status.conditions or []
            )
        ),
        what="CRD Established",
    )
    custom = client.CustomObjectsApi(east)
    made = custom.create_namespaced_custom_object(
        "example.com",
        "v1",
        ns,
        "widgets",
        {
            "apiVersion": "example.com/v1",
            "kind": "Widget",
            "metadata": {"name": "w1"},
            "spec": {"size": 3},
        },
    )
    assert made["metadata"]["generation"] == 1
    dyn = dynamic.DynamicClient(east)
    widgets = dyn.resources.get(api_version="example.com/v1", kind="Widget")
    assert [w.metadata.name for w in widgets.get(namespace=ns).items] == ["w1"]
    with pytest.raises(ApiException) as caught:
        custom.create_namespaced_custom_object(
            "example.com",
            "v1",
            ns,
            "widgets",
            {
                "apiVersion": "example.com/v1",
                "kind": "Widget",
                "metadata": {"name": "w2"},
                "spec": {"size": "big"},
            },
        )
    assert caught.value.status in (400, 422)
    ext.delete_custom_resource_definition(CRD["metadata"]["name"])
    wait_for(
        lambda: _absent(lambda: ext.read_custom_resource_definition(CRD["metadata"]["name"])),
        what="CRD removal",
    )
    assert (
        sim.run(lambda fleet: fleet.cluster("east").registry.get("example.com", "v1", "widgets"))
        is None
    )


def test_dynamic_client_discovers_built_in_kinds(east: client.ApiClient) -> None:
    dyn = dynamic.DynamicClient(east)
    deployments = dyn.resources.get(api_version="apps/v1", kind="Deployment")
    assert deployments.namespaced and "deploy" in deployments.short_names
    nodes = dyn.resources.get(api_version="v1", kind="Node")
    assert len(nodes.get().items) == 2


def test_leases_support_leader_election_updates(east: client.ApiClient, ns: str) -> None:
    coordination = client.CoordinationV1Api(east)
    lease = coordination.create_namespaced_lease(
        ns,
        {
            "metadata": {"name": "agent"},
            "spec": {
                "holderIdentity": "pod-a",
                "leaseDurationSeconds": 15,
                "acquireTime": "2026-11-26T10:00:00.000000Z",
                "renewTime": "2026-11-26T10:00:00.000000Z",
            },
        },
    )
    lease.spec.holder_identity = "pod-b"
    taken = coordination.replace_namespaced_lease("agent", ns, lease)
    assert taken.spec.holder_identity == "pod-b"
    lease.spec.holder_identity = "pod-c"  # stale: pod-b's write moved the resourceVersion on
    with pytest.raises(ApiException) as caught:
        coordination.replace_namespaced_lease("agent", ns, lease)
    assert caught.value.status == 409
