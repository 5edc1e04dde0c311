"""Unit tests for ``kfed_agent.resources``: discovery documents, REST paths, Status errors."""

from __future__ import annotations

import json

import pytest

from kfed_agent.ports import ApiResource, KubeError
from kfed_agent.resources import (
    collection_path,
    error_from_answer,
    listable,
    object_path,
    parse_resource_list,
    preferred_group_versions,
    split_api_version,
    with_type,
)

VERBS = frozenset({"get", "list", "watch", "create", "delete", "patch", "update"})
CONFIGMAPS = ApiResource(
    group="", version="v1", kind="ConfigMap", plural="configmaps", namespaced=True, verbs=VERBS
)
DEPLOYMENTS = ApiResource(
    group="apps",
    version="v1",
    kind="Deployment",
    plural="deployments",
    namespaced=True,
    verbs=VERBS,
)
NAMESPACES = ApiResource(
    group="", version="v1", kind="Namespace", plural="namespaces", namespaced=False, verbs=VERBS
)


@pytest.mark.parametrize(
    ("text", "parts"), [("v1", ("", "v1")), ("apps/v1", ("apps", "v1")), ("a.b/v2", ("a.b", "v2"))]
)
def test_split_api_version(text: str, parts: tuple[str, str]) -> None:
    assert split_api_version(text) == parts


@pytest.mark.parametrize("text", ["", "apps/", "/v1", "a/b/v1"])
def test_split_api_version_refuses_malformed_versions(text: str) -> None:
    with pytest.raises(ValueError, match=r"\[group/\]version"):
        split_api_version(text)


def test_paths_follow_the_api_server_layout() -> None:
    assert collection_path(CONFIGMAPS) == "/api/v1/configmaps"
    assert collection_path(CONFIGMAPS, "prod") == "/api/v1/namespaces/prod/configmaps"
    assert (
        object_path(DEPLOYMENTS, "prod", "web") == "/apis/apps/v1/namespaces/prod/deployments/web"
    )
    assert object_path(NAMESPACES, "", "prod") == "/api/v1/namespaces/prod"
    assert object_path(CONFIGMAPS, "p", "a/b c") == "/api/v1/namespaces/p/configmaps/a%2Fb%20c"


@pytest.mark.parametrize(
    ("resource", "namespace", "name", "message"),
    [
        (CONFIGMAPS, "", "x", "namespaced, so metadata.namespace is required"),
        (NAMESPACES, "prod", "x", "cluster-scoped, so metadata.namespace must be empty"),
        (CONFIGMAPS, "prod", "", "metadata.name is required"),
    ],
)
def test_object_path_refuses_the_wrong_scope(
    resource: ApiResource, namespace: str, name: str, message: str
) -> None:
    with pytest.raises(KubeError, match=message) as caught:
        object_path(resource, namespace, name)
    assert (caught.value.status, caught.value.reason) == (422, "Invalid")


def test_parse_resource_list_leaves_subresources_out() -> None:
    document = {
        "kind": "APIResourceList",
        "groupVersion": "v1",
        "resources": [
            {"name": "pods", "kind": "Pod", "namespaced": True, "verbs": ["list", "get"]},
            {"name": "pods/status", "kind": "Pod", "namespaced": True, "verbs": ["get"]},
            {"name": "bindings", "kind": "Binding", "namespaced": True, "verbs": ["create"]},
        ],
    }
    resources = parse_resource_list(document, "", "v1")
    assert [(r.plural, r.kind, r.namespaced) for r in resources] == [
        ("pods", "Pod", True),
        ("bindings", "Binding", True),
    ]
    assert [r.plural for r in listable(resources)] == ["pods"]
    assert resources[0].api_version == "v1"


def test_preferred_group_versions_take_each_groups_preferred_version() -> None:
    core = {"versions": ["v1"]}
    groups = {
        "groups": [
            {
                "name": "autoscaling",
                "versions": [{"version": "v2"}, {"version": "v1"}],
                "preferredVersion": {"groupVersion": "autoscaling/v2", "version": "v2"},
            },
            {"name": "apps", "versions": [{"groupVersion": "apps/v1", "version": "v1"}]},
        ]
    }
    assert preferred_group_versions(core, groups) == [
        ("", "v1"),
        ("autoscaling", "v2"),
        ("apps", "v1"),
    ]


def test_with_type_fills_api_version_and_kind_from_the_list() -> None:
    page = {"kind": "DeploymentList", "apiVersion": "apps/v1"}
    assert with_type([{"metadata": {}}], page, DEPLOYMENTS) == [
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {}}
    ]


def test_error_from_answer_reads_the_status_body() -> None:
    status = {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "message": 'configmaps "x" already exists',
        "reason": "AlreadyExists",
        "details": {"name": "x", "kind": "configmaps"},
        "code": 409,
    }
    error = error_from_answer(409, json.dumps(status).encode(), action="create ConfigMap d/x")
    assert (error.status, error.reason) == (409, "AlreadyExists")
    assert str(error) == 'create ConfigMap d/x: configmaps "x" already exists'
    assert error.details["name"] == "x"


def test_error_from_answer_without_a_status_still_says_what_happened() -> None:
    error = error_from_answer(502, b"<html>bad gateway</html>", action="get ConfigMap d/x")
    assert (error.status, error.reason) == (502, "Unknown")
    assert "HTTP 502" in str(error) and "bad gateway" in str(error)
    assert error_from_answer(422, b"", action="x").reason == "Invalid"
