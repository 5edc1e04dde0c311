"""The simulated API server through the official client: verbs, metadata, errors, selectors."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from kubernetes import client
from kubernetes.client.rest import ApiException

from kfed_local.sim.threaded import wait_for


def status_of(exc: ApiException) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(exc.body)
    return body


def workload(name: str, replicas: int = 0) -> dict[str, Any]:
    """A Deployment or ReplicaSet body (they share the shape) with one nginx container."""
    return {
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"a": "b"}},
            "template": {
                "metadata": {"labels": {"a": "b"}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            },
        },
    }


def configmap(name: str, **data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


def test_create_returns_201_with_server_metadata(east: client.ApiClient, ns: str) -> None:
    core = client.CoreV1Api(east)
    _, code, _ = core.create_namespaced_config_map_with_http_info(ns, configmap("a", k="v"))
    assert code == 201
    created = core.read_namespaced_config_map("a", ns)
    meta = created.metadata
    assert meta.uid and meta.creation_timestamp and meta.namespace == ns
    assert int(meta.resource_version) > 0
    assert meta.managed_fields[0].manager == "OpenAPI-Generator"
    assert meta.managed_fields[0].operation == "Update"


def test_resource_versions_grow_monotonically_across_kinds(east: client.ApiClient, ns: str) -> None:
    core = client.CoreV1Api(east)
    first = int(core.create_namespaced_config_map(ns, configmap("a")).metadata.resource_version)
    second = int(
        core.create_namespaced_secret(
            ns, {"metadata": {"name": "s"}, "stringData": {"k": "v"}}
        ).metadata.resource_version
    )
    third = int(
        core.patch_namespaced_config_map("a", ns, {"data": {"x": "y"}}).metadata.resource_version
    )
    assert first < second < third


def test_create_twice_is_already_exists(east: client.ApiClient, ns: str) -> None:
    core = client.CoreV1Api(east)
    core.create_namespaced_config_map(ns, configmap("dup"))
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_config_map(ns, configmap("dup"))
    assert caught.value.status == 409
    status = status_of(caught.value)
    assert status["reason"] == "AlreadyExists"
    assert status["message"] == 'configmaps "dup" already exists'


def test_get_missing_is_not_found_status(east: client.ApiClient, ns: str) -> None:
    with pytest.raises(ApiException) as caught:
        client.AppsV1Api(east).read_namespaced_deployment("nope", ns)
    status = status_of(caught.value)
    assert (caught.value.status, status["reason"], status["kind"]) == (404, "NotFound", "Status")
    assert status["message"] == 'deployments.apps "nope" not found'
    assert status["details"] == {"name": "nope", "group": "apps", "kind": "deployments"}


def test_stale_update_is_conflict(east: client.ApiClient, ns: str) -> None:
    core = client.CoreV1Api(east)
    stale = core.create_namespaced_config_map(ns, configmap("c", k="1"))
    core.patch_namespaced_config_map("c", ns, {"data": {"k": "2"}})
    stale.data = {"k": "3"}
    with pytest.raises(ApiException) as caught:
        core.replace_namespaced_config_map("c", ns, stale)
    assert caught.value.status == 409
    assert "the object has been modified" in status_of(caught.value)["message"]
    assert core.read_namespaced_config_map("c", ns).data == {"k": "2"}


def test_update_with_current_resource_version_succeeds(east: client.ApiClient, ns: str) -> None:
    core = client.CoreV1Api(east)
    current = core.create_namespaced_config_map(ns, configmap("c", k="1"))
    current.data = {"k": "2"}
    updated = core.replace_namespaced_config_map("c", ns, current)
    assert updated.data == {"k": "2"}
    assert int(updated.metadata.resource_version) > int(current.metadata.resource_version)


def test_invalid_name_is_422_with_dns1123_message(east: client.ApiClient, ns: str) -> None:
    with pytest.raises(ApiException) as caught:
        client.CoreV1Api(east).create_namespaced_config_map(ns, configmap("Bad_Name"))
    status = status_of(caught.value)
    assert (caught.value.status, status["reason"]) == (422, "Invalid")
    assert status["message"].startswith(
        'ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value'
    )
    assert "RFC 1123 subdomain" in status["message"]
    assert status["details"]["causes"][0]["field"] == "metadata.name"


def test_missing_required_field_is_invalid(east: client.ApiClient, ns: str) -> None:
    body = {
        "metadata": {"name": "d"},
        "spec": {
            "selector": {"matchLabels": {"a": "b"}},
            "template": {
                "metadata": {"labels": {"a": "b"}},
                "spec": {"containers": [{"name": "c"}]},
            },
        },
    }
    with pytest.raises(ApiException) as caught:
        client.AppsV1Api(east).create_namespaced_deployment(ns, body)
    status = status_of(caught.value)
    assert status["reason"] == "Invalid"
    assert "spec.template.spec.containers[0].image: Required value" in status["message"]


def test_selector_must_match_template_labels(east: client.ApiClient, ns: str) -> None:
    body = {
        "metadata": {"name": "d"},
        "spec": {
            "selector": {"matchLabels": {"app": "x"}},
            "template": {
                "metadata": {"labels": {"app": "y"}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            },
        },
    }
    with pytest.raises(ApiException) as caught:
        client.AppsV1Api(east).create_namespaced_deployment(ns, body)
    assert "`selector` does not match template `labels`" in status_of(caught.value)["message"]


def test_create_in_missing_namespace_is_not_found(east: client.ApiClient) -> None:
    with pytest.raises(ApiException) as caught:
        client.CoreV1Api(east).create_namespaced_config_map("no-such-ns", configmap("a"))
    status = status_of(caught.value)
    assert (caught.value.status, status["message"]) == (404, 'namespaces "no-such-ns" not found')


def test_create_in_terminating_namespace_is_forbidden(east: client.ApiClient, ns: str) -> None:
    core = client.CoreV1Api(east)
    # A finalizer keeps a pod-less object around so the namespace stays Terminating.
    core.create_namespaced_config_map(
        ns, {"metadata": {"name": "held", "finalizers": ["x.io/hold"]}}
    )
    core.delete_namespace(ns)
    assert core.read_namespace(ns).status.phase == "Terminating"
    with pytest.raises(ApiException) as caught:
        core.create_namespaced_config_map(ns, configmap("late"))
    status = status_of(caught.value)
    assert (caught.value.status, status["reason"]) == (403, "Forbidden")
    assert (
        f"unable to create new content in namespace {ns} because it is being terminated"
        in status["message"]
    )
    assert status["details"]["causes"][0]["reason"] == "NamespaceTerminating"
    core.patch_namespaced_config_map("held", ns, {"metadata": {"finalizers": None}})
    wait_for(lambda: _gone(lambda: core.read_namespace(ns)), what="namespace removal")


def _gone(read: Any) -> bool:
    try:
        read()
    except ApiException as exc:
        return exc.status == 404
    return False


def test_deleting_a_namespace_removes_its_contents(east: client.ApiClient, ns: str) -> None:
    core = client.CoreV1Api(east)
    core.create_namespaced_config_map(ns, configmap("a"))
    core.create_namespaced_service(
        ns, {"metadata": {"name": "svc"}, "spec": {"ports": [{"port": 80}], "selector": {"a": "b"}}}
    )
    core.delete_namespace(ns)
    wait_for(lambda: _gone(lambda: core.read_namespace(ns)), what="namespace removal")
    assert core.list_namespaced_config_map(ns).items == []


def test_namespace_gets_default_service_account_and_root_ca(
    east: client.ApiClient, ns: str
) -> None:
    core = client.CoreV1Api(east)
    wait_for(
        lambda: _exists(lambda: core.read_namespaced_service_account("default", ns)),
        what="default service account",
    )
    root = wait_for(
        lambda: _read(lambda: core.read_namespaced_config_map("kube-root-ca.crt", ns)),
        what="root CA configmap",
    )
    assert root.data["ca.crt"].startswith("-----BEGIN CERTIFICATE-----")


def _exists(read: Any) -> bool:
    return _read(read) is not None


def _read(read: Any) -> Any:
    try:
        return read()
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def test_list_has_kind_api_version_and_resource_version(east: client.ApiClient, ns: str) -> None:
    core = client.CoreV1Api(east)
    core.create_namespaced_config_map(ns, configmap("a"))
    raw = core.list_namespaced_config_map(ns, _preload_content=False)
    body = json.loads(raw.data)
    assert body["kind"] == "ConfigMapList" and body["apiVersion"] == "v1"
    assert int(body["metadata"]["resourceVersion"]) > 0


def test_label_selectors_equality_and_set_based(east: client.ApiClient, ns: str) -> None:
    core = client.CoreV1Api(east)
    for name, labels in (("a", {"env": "prod", "tier": "web"}), ("b", {"env": "qa"}), ("c", {})):
        core.create_namespaced_config_map(ns, {"metadata": {"name": name, "labels": labels}})

    def names(selector: str) -> list[str]:
        return [
            i.metadata.name
            for i in core.list_namespaced_config_map(ns, label_selector=selector).items
            if i.metadata.name != "kube-root-ca.crt"
        ]

    assert names("env=prod") == ["a"]
    assert names("env!=prod") == ["b", "c"]
    assert names("env in (prod,qa)") == ["a", "b"]
    assert names("env notin (prod)") == ["b", "c"]
    assert names("tier") == ["a"]
    assert names("!tier,env") == ["b"]


def test_bad_label_selector_is_bad_request(east: client.ApiClient, ns: str) -> None:
    with pytest.raises(ApiException) as caught:
        client.CoreV1Api(east).list_namespaced_config_map(ns, label_selector="env in prod")
    assert caught.value.status == 400


def test_field_selectors_on_name_and_namespace(east: client.ApiClient, ns: str) -> None:
    core = client.CoreV1Api(east)
    for name in ("a", "b"):
        core.create_namespaced_config_map(ns, configmap(name))
    found = core.list_config_map_for_all_namespaces(
        field_selector=f"metadata.name=b,metadata.namespace={ns}"
    ).items
    assert [(i.metadata.namespace, i.metadata.name) for i in found] == [(ns, "b")]


def test_unsupported_field_selector_is_bad_request(east: client.ApiClient, ns: str) -> None:
    core = client.CoreV1Api(east)
    with pytest.raises(ApiException) as caught:
        core.list_namespaced_config_map(ns, field_selector="data.x=1")
    assert caught.value.status == 400
    assert status_of(caught.value)["message"] == (
        '"data.x" is not a known field selector: only "metadata.name", "metadata.namespace"'
    )
    with pytest.raises(ApiException) as caught:
        core.list_namespaced_pod(ns, field_selector="spec.nope=1")
    assert status_of(caught.value)["message"] == "field label not supported: spec.nope"


def test_pod_field_selectors_on_node_and_phase(east: client.ApiClient, ns: str) -> None:
    core = client.CoreV1Api(east)
    core.create_namespaced_pod(
        ns, {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
    )
    running = wait_for(
        lambda: core.list_namespaced_pod(ns, field_selector="status.phase=Running").items,
        what="running pod",
    )
    node = running[0].spec.node_name
    on_node = core.list_pod_for_all_namespaces(field_selector=f"spec.nodeName={node}").items
    assert ("p", ns) in {(p.metadata.name, p.metadata.namespace) for p in on_node}


def test_list_pages_with_limit_and_continue(east: client.ApiClient, ns: str) -> None:
    core = client.CoreV1Api(east)
    for i in range(5):
        core.create_namespaced_config_map(ns, configmap(f"p{i}"))
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        page = core.list_namespaced_config_map(
            ns, limit=2, _continue=token, label_selector="!nothing"
        )
        seen += [i.metadata.name for i in page.items]
        pages += 1
        token = page.metadata._continue
        if not token:
            break
    assert [n for n in seen if n.startswith("p")] == [f"p{i}" for i in range(5)]
    assert pages == 3


def test_generation_moves_on_spec_changes_only(east: client.ApiClient, ns: str) -> None:
    apps = client.AppsV1Api(east)
    body = workload("g")
    assert apps.create_namespaced_deployment(ns, body).metadata.generation == 1
    labelled = apps.patch_namespaced_deployment("g", ns, {"metadata": {"labels": {"x": "y"}}})
    assert labelled.metadata.generation == 1
    scaled = apps.patch_namespaced_deployment("g", ns, {"spec": {"replicas": 1}})
    assert scaled.metadata.generation == 2


def test_json_patch_merge_patch_and_strategic_merge_patch(
    east: client.ApiClient, raw_east: Any, ns: str
) -> None:
    core = client.CoreV1Api(east)
    apps = client.AppsV1Api(east)
    core.create_namespaced_config_map(ns, configmap("m", a="1", b="2"))
    merged = raw_east(
        "PATCH",
        f"/api/v1/namespaces/{ns}/configmaps/m",
        {"data": {"a": None, "c": "3"}},
        content_type="application/merge-patch+json",
    )
    assert merged.json()["data"] == {"b": "2", "c": "3"}
    patched = raw_east(
        "PATCH",
        f"/api/v1/namespaces/{ns}/configmaps/m",
        [{"op": "replace", "path": "/data/b", "value": "20"}],
        content_type="application/json-patch+json",
    )
    assert patched.status_code == 200 and patched.json()["data"] == {"b": "20", "c": "3"}
    deployment = {
        "metadata": {"name": "s"},
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": {"a": "b"}},
            "template": {
                "metadata": {"labels": {"a": "b"}},
                "spec": {
                    "containers": [
                        {"name": "one", "image": "nginx"},
                        {"name": "two", "image": "busybox"},
                    ]
                },
            },
        },
    }
    apps.create_namespaced_deployment(ns, deployment)
    # The Python client sends a dict patch as strategic merge patch: containers merge by name.
    out = apps.patch_namespaced_deployment(
        "s",
        ns,
        {
            "spec": {
                "template": {"spec": {"containers": [{"name": "two", "image": "busybox:1.36"}]}}
            }
        },
    )
    images = [(c.name, c.image) for c in out.spec.template.spec.containers]
    assert images == [("one", "nginx"), ("two", "busybox:1.36")]


def test_failed_json_patch_test_op_is_rejected(
    east: client.ApiClient, raw_east: Any, ns: str
) -> None:
    core = client.CoreV1Api(east)
    core.create_namespaced_config_map(ns, configmap("m", a="1"))
    answer = raw_east(
        "PATCH",
        f"/api/v1/namespaces/{ns}/configmaps/m",
        [{"op": "test", "path": "/data/a", "value": "2"}],
        content_type="application/json-patch+json",
    )
    assert answer.status_code == 422
    assert core.read_namespaced_config_map("m", ns).data == {"a": "1"}


def test_strategic_merge_patch_applies_and_an_unknown_patch_type_is_415(
    east: client.ApiClient, raw_east: Any, ns: str
) -> None:
    core = client.CoreV1Api(east)
    core.create_namespaced_config_map(ns, configmap("m", a="1"))
    answer = raw_east(
        "PATCH",
        f"/api/v1/namespaces/{ns}/configmaps/m",
        {"data": {"a": "2"}},
        content_type="application/strategic-merge-patch+json",
    )
    assert answer.status_code == 200
    answer = raw_east(
        "PATCH",
        f"/api/v1/namespaces/{ns}/configmaps/m",
        {"data": {"a": "2"}},
        content_type="text/plain",
    )
    assert answer.status_code == 415


def test_status_subresource_is_separate_from_spec(east: client.ApiClient, ns: str) -> None:
    apps = client.AppsV1Api(east)
    body = {**workload("st"), "status": {"replicas": 42}}
    created = apps.create_namespaced_replica_set(ns, body)
    assert (created.status.replicas or 0) != 42  # status is ignored on create
    ignored = apps.patch_namespaced_replica_set("st", ns, {"status": {"replicas": 7}})
    assert ignored.status.replicas != 7  # and on the main resource
    via_status = apps.patch_namespaced_replica_set_status(
        "st", ns, {"spec": {"replicas": 5}, "status": {"observedGeneration": 99}}
    )
    assert via_status.status.observed_generation == 99
    assert via_status.spec.replicas == 0  # the status endpoint ignores spec


def test_dry_run_changes_nothing(east: client.ApiClient, ns: str) -> None:
    core = client.CoreV1Api(east)
    made = core.create_namespaced_config_map(ns, configmap("d"), dry_run="All")
    assert made.metadata.name == "d"
    assert not _exists(lambda: core.read_namespaced_config_map("d", ns))


def test_unknown_fields_strict_is_bad_request_and_warn_drops_them(raw_east: Any, ns: str) -> None:
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "u"}, "dataa": {"x": "y"}}
    path = f"/api/v1/namespaces/{ns}/configmaps"
    strict = raw_east("POST", path + "?fieldValidation=Strict", body)
    assert strict.status_code == 400
    assert strict.json()["message"] == (
        'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: '
        'unknown field "dataa"'
    )
    warned = raw_east("POST", path, body)
    assert warned.status_code == 201
    assert warned.headers["Warning"] == '299 - "unknown field \\"dataa\\""'
    assert "dataa" not in raw_east("GET", path + "/u").json()


def test_wrong_type_is_bad_request(raw_east: Any, ns: str) -> None:
    body = {
        "metadata": {"name": "w"},
        "spec": {
            "replicas": "three",
            "selector": {"matchLabels": {"a": "b"}},
            "template": {
                "metadata": {"labels": {"a": "b"}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            },
        },
    }
    answer = raw_east("POST", f"/apis/apps/v1/namespaces/{ns}/deployments", body)
    assert answer.status_code == 400
    message = answer.json()["message"]
    assert message.startswith('Deployment in version "v1" cannot be handled as a Deployment:')
    assert "spec.replicas" in message


def test_oversized_body_is_413(raw_east: Any, ns: str) -> None:
    body = configmap("big", k="x" * (3 * 1024 * 1024 + 10))
    answer = raw_east("POST", f"/api/v1/namespaces/{ns}/configmaps", body)
    assert answer.status_code == 413
    assert answer.json()["reason"] == "RequestEntityTooLarge"


@pytest.mark.parametrize("data", [b"{not json", b"[1, 2]", b"\xff\xfe", b""])
def test_malformed_body_is_bad_request(raw_east: Any, ns: str, data: bytes) -> None:
    answer = raw_east("POST", f"/api/v1/namespaces/{ns}/configmaps", data=data)
    assert answer.status_code == 400
    assert answer.json()["reason"] == "BadRequest"


def test_malformed_yaml_body_is_bad_request(raw_east: Any, ns: str) -> None:
    answer = raw_east(
        "POST",
        f"/api/v1/namespaces/{ns}/configmaps",
        data=b"metadata: [unclosed",
        content_type="application/yaml",
    )
    assert answer.status_code == 400


def test_unknown_resource_path_is_not_found(raw_east: Any) -> None:
    answer = raw_east("GET", "/apis/extensions/v1beta1/namespaces/default/replicasets")
    assert answer.status_code == 404
    assert answer.json()["reason"] == "NotFound"


def test_requests_without_credentials_are_unauthorized(raw_east: Any) -> None:
    answer = requests.get(raw_east.url + "/api/v1/namespaces", verify=str(raw_east.ca), timeout=5)
    assert answer.status_code == 401
    assert answer.json()["reason"] == "Unauthorized"


def test_certificate_from_another_cluster_is_refused(
    sim: Any, raw_east: Any, tmp_path: Any
) -> None:
    # kube-apiserver answers 401; Python's TLS stack cannot ask for a client certificate without
    # verifying it, so the simulator refuses the handshake instead. Either way: no access.
    west = sim.fleet.cluster("west")
    (tmp_path / "c.crt").write_bytes(west.admin.cert_pem)
    (tmp_path / "c.key").write_bytes(west.admin.key_pem)
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(
            raw_east.url + "/api/v1/namespaces",
            verify=str(raw_east.ca),
            timeout=5,
            cert=(str(tmp_path / "c.crt"), str(tmp_path / "c.key")),
        )


def test_scale_subresource(east: client.ApiClient, ns: str) -> None:
    apps = client.AppsV1Api(east)
    body = {
        "metadata": {"name": "sc"},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"a": "sc"}},
            "template": {
                "metadata": {"labels": {"a": "sc"}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            },
        },
    }
    apps.create_namespaced_deployment(ns, body)
    scale = apps.read_namespaced_deployment_scale("sc", ns)
    assert scale.spec.replicas == 1 and scale.status.selector == "a=sc"
    apps.patch_namespaced_deployment_scale("sc", ns, {"spec": {"replicas": 3}})
    assert apps.read_namespaced_deployment("sc", ns).spec.replicas == 3
