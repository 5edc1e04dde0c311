"""Unit tests for ``kfed_agent.apply``: validation, preparation, ordering, known versions."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kfed_agent.apply import (
    ManifestError,
    apply_order,
    is_owned,
    known_versions,
    prepare,
    removal_order,
    validate,
)
from kfed_core.conventions import KEY_ANNOTATION, MANAGED_BY_LABEL, VERSION_ANNOTATION
from kfed_core.keys import ResourceKey


def configmap(name: str = "settings", namespace: str = "default", **extra: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace, **extra},
        "data": {"a": "1"},
    }


def owned(manifest: dict[str, Any], key: str, version: str) -> dict[str, Any]:
    return prepare(manifest, key=key, version=version)


def test_prepare_strips_status_and_server_metadata_and_stamps_ownership() -> None:
    live = configmap(
        uid="u-1",
        resourceVersion="42",
        creationTimestamp="2024-01-01T00:00:00Z",
        generation=3,
        managedFields=[{"manager": "kubectl"}],
        selfLink="/api/v1/namespaces/default/configmaps/settings",
        labels={"team": "infra"},
        annotations={"note": "keep"},
    )
    live["status"] = {"phase": "whatever"}
    original = copy.deepcopy(live)

    prepared = prepare(live, key="core/ConfigMap/default/settings", version="v-1")

    assert live == original, "prepare must not touch its input"
    meta = prepared["metadata"]
    assert "status" not in prepared
    for field in ("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields"):
        assert field not in meta
    assert "selfLink" not in meta
    assert meta["labels"] == {"team": "infra", MANAGED_BY_LABEL: "kfed"}
    assert meta["annotations"] == {
        "note": "keep",
        KEY_ANNOTATION: "core/ConfigMap/default/settings",
        VERSION_ANNOTATION: "v-1",
    }
    assert prepared["data"] == {"a": "1"}


def test_prepare_overrides_a_foreign_managed_by_label() -> None:
    manifest = configmap(labels={MANAGED_BY_LABEL: "helm"})
    prepared = prepare(manifest, key="core/ConfigMap/default/settings", version="v")
    assert prepared["metadata"]["labels"][MANAGED_BY_LABEL] == "kfed"


def test_validate_returns_the_key_of_a_good_manifest() -> None:
    key = validate(configmap(), key="core/ConfigMap/default/settings")
    assert key == ResourceKey(group="core", kind="ConfigMap", namespace="default", name="settings")


@pytest.mark.parametrize(
    ("manifest", "key", "reason"),
    [
        ("not a mapping", "core/ConfigMap/default/x", "not an object"),
        ({"kind": "ConfigMap", "metadata": {"name": "x"}}, "core/ConfigMap//x", "apiVersion"),
        ({"apiVersion": "a/b/c", "kind": "X", "metadata": {"name": "x"}}, "a/X//x", "[group/]"),
        ({"apiVersion": "v1", "metadata": {"name": "x"}}, "core/ConfigMap//x", "kind is missing"),
        ({"apiVersion": "v1", "kind": "ConfigMap"}, "core/ConfigMap//x", "metadata is missing"),
        (
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"namespace": "d"}},
            "core/ConfigMap/d/x",
            "metadata.name is missing",
        ),
        (
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "x-"}},
            "core/ConfigMap//x",
            "generateName is not supported",
        ),
        (configmap(labels={"n": 1}), "core/ConfigMap/default/settings", "labels must map"),
        (configmap(), "core/ConfigMap/default", "group/Kind/namespace/name"),
        (configmap(), "core/ConfigMap/default/other", "describes core/ConfigMap/default/settings"),
        (configmap(), "core/ConfigMap/default/other", "not the object of its key"),
    ],
)
def test_validate_says_why_a_manifest_cannot_be_applied(
    manifest: Any, key: str, reason: str
) -> None:
    with pytest.raises(ManifestError) as caught:
        validate(manifest, key=key)
    assert reason in str(caught.value)


def test_apply_order_puts_namespaces_then_crds_first_and_keeps_the_rest_stable() -> None:
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
    }
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "prod"}}
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}}
    first, second = configmap("b"), configmap("a")

    ordered = apply_order([first, crd, deployment, namespace, second])

    assert ordered == [namespace, crd, first, deployment, second]


def test_removal_order_removes_namespaces_last_and_crds_after_their_objects() -> None:
    keys = [
        "core/Namespace//prod",
        "apiextensions.k8s.io/CustomResourceDefinition//widgets.example.com",
        "core/ConfigMap/prod/b",
        "example.com/Widget/prod/w",
        "core/Namespace//dev",
    ]
    assert removal_order(keys) == [
        "core/ConfigMap/prod/b",
        "example.com/Widget/prod/w",
        "apiextensions.k8s.io/CustomResourceDefinition//widgets.example.com",
        "core/Namespace//prod",
        "core/Namespace//dev",
    ]


def test_known_versions_come_from_owned_objects_whose_key_is_their_own() -> None:
    good = owned(configmap("a"), "core/ConfigMap/default/a", "v-a")
    copied = owned(configmap("b"), "core/ConfigMap/default/a", "v-x")  # key of another object
    foreign = configmap("c", annotations={KEY_ANNOTATION: "core/ConfigMap/default/c"})
    unlabelled_version = owned(configmap("d"), "core/ConfigMap/default/d", "v-d")
    del unlabelled_version["metadata"]["annotations"][VERSION_ANNOTATION]
    namespace = owned(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "prod"}},
        "core/Namespace//prod",
        "v-ns",
    )

    legacy = owned(  # a translated legacy object keeps its federated key
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {"name": "nginx", "namespace": "default"},
        },
        "extensions/ReplicaSet/default/nginx",
        "v-rs",
    )

    versions = known_versions([good, copied, foreign, unlabelled_version, namespace, legacy])

    assert versions == {
        "core/ConfigMap/default/a": "v-a",
        "core/Namespace//prod": "v-ns",
        "extensions/ReplicaSet/default/nginx": "v-rs",
    }


def test_is_owned_reads_the_ownership_label() -> None:
    assert is_owned(owned(configmap(), "core/ConfigMap/default/settings", "v"))
    assert not is_owned(configmap(labels={MANAGED_BY_LABEL: "helm"}))
    assert not is_owned({"kind": "ConfigMap"})
