"""Dependencies: the ConfigMaps, Secrets and ServiceAccount a workload's pods refer to."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kfed_core.keys import ResourceKey
from kfed_hub.planning.dependencies import pod_spec_of, references

EXAMPLES = Path(__file__).resolve().parents[4] / "examples" / "federation-2016"


def key(kind: str, name: str, namespace: str = "prod") -> ResourceKey:
    return ResourceKey(group="core", kind=kind, namespace=namespace, name=name)


def configmap(name: str, namespace: str = "prod") -> ResourceKey:
    return key("ConfigMap", name, namespace)


def secret(name: str, namespace: str = "prod") -> ResourceKey:
    return key("Secret", name, namespace)


def container(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "image": "busybox", **fields}


EVERY_REFERENCE: dict[str, Any] = {
    "serviceAccountName": "builder",
    "imagePullSecrets": [{"name": "registry"}],
    "volumes": [
        {"name": "a", "configMap": {"name": "cm-volume", "optional": True}},
        {"name": "b", "secret": {"secretName": "secret-volume"}},
        {
            "name": "c",
            "projected": {
                "sources": [
                    {"configMap": {"name": "cm-projected"}},
                    {"secret": {"name": "secret-projected", "optional": True}},
                    {"downwardAPI": {"items": []}},
                    {"serviceAccountToken": {"path": "token"}},
                ]
            },
        },
        {"name": "d", "emptyDir": {}},
        {"name": "e", "csi": {"driver": "x", "nodePublishSecretRef": {"name": "secret-csi"}}},
        {"name": "f", "cephfs": {"monitors": ["m"], "secretRef": {"name": "secret-ceph"}}},
        {"name": "g", "azureFile": {"secretName": "secret-azure", "shareName": "s"}},
    ],
    "initContainers": [
        container(
            "init",
            env=[
                {"name": "A", "valueFrom": {"configMapKeyRef": {"name": "cm-env", "key": "a"}}},
                {"name": "B", "value": "plain"},
                {"name": "C", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            ],
        )
    ],
    "containers": [
        container(
            "main",
            env=[
                {
                    "name": "D",
                    "valueFrom": {
                        "secretKeyRef": {"name": "secret-env", "key": "d", "optional": True}
                    },
                }
            ],
            envFrom=[
                {"configMapRef": {"name": "cm-envfrom"}, "prefix": "X_"},
                {"secretRef": {"name": "secret-envfrom", "optional": True}},
            ],
        )
    ],
    "ephemeralContainers": [
        container("debug", envFrom=[{"configMapRef": {"name": "cm-ephemeral"}}]),
    ],
}

EXPECTED = frozenset(
    {
        key("ServiceAccount", "builder"),
        secret("registry"),
        configmap("cm-volume"),
        secret("secret-volume"),
        configmap("cm-projected"),
        secret("secret-projected"),
        secret("secret-csi"),
        secret("secret-ceph"),
        secret("secret-azure"),
        configmap("cm-env"),
        secret("secret-env"),
        configmap("cm-envfrom"),
        secret("secret-envfrom"),
        configmap("cm-ephemeral"),
    }
)


def with_template(kind: str, pod: dict[str, Any], api_version: str = "apps/v1") -> dict[str, Any]:
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": "w", "namespace": "prod"},
        "spec": {"template": {"metadata": {"labels": {"app": "w"}}, "spec": pod}},
    }


def test_seed_replicaset_depends_on_its_zone_fetch_configmap() -> None:
    manifest = yaml.safe_load((EXAMPLES / "replicasets" / "nginx-rs.yaml").read_text())
    assert references(manifest) == {configmap("zone-fetch", "default")}


@pytest.mark.parametrize(
    ("kind", "api_version"),
    [
        ("Deployment", "apps/v1"),
        ("ReplicaSet", "extensions/v1beta1"),
        ("DaemonSet", "apps/v1"),
        ("StatefulSet", "apps/v1"),
        ("Job", "batch/v1"),
        ("ReplicationController", "v1"),
    ],
)
def test_every_kind_of_reference_in_a_pod_template_counts(kind: str, api_version: str) -> None:
    assert references(with_template(kind, EVERY_REFERENCE, api_version)) == EXPECTED


def test_cronjob_pods_are_found_in_the_job_template() -> None:
    cronjob = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "nightly", "namespace": "prod"},
        "spec": {
            "schedule": "0 3 * * *",
            "jobTemplate": {"spec": {"template": {"spec": EVERY_REFERENCE}}},
        },
    }
    assert references(cronjob) == EXPECTED


def test_bare_pod_refers_in_its_own_spec() -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "prod"}}
    pod["spec"] = EVERY_REFERENCE
    assert references(pod) == EXPECTED
    assert pod_spec_of(pod) is EVERY_REFERENCE


def test_references_are_in_the_workload_namespace_or_default() -> None:
    manifest = with_template("Deployment", {"serviceAccountName": "builder", "containers": []})
    del manifest["metadata"]["namespace"]
    assert references(manifest) == {key("ServiceAccount", "builder", "default")}


@pytest.mark.parametrize(
    ("pod", "expected"),
    [
        ({"serviceAccount": "legacy"}, {key("ServiceAccount", "legacy")}),
        ({"serviceAccountName": "new", "serviceAccount": "old"}, {key("ServiceAccount", "new")}),
        ({"serviceAccountName": "default"}, set()),
        ({"serviceAccount": "default"}, set()),
        ({"serviceAccountName": ""}, set()),
    ],
)
def test_service_account_counts_unless_it_is_the_default(
    pod: dict[str, Any], expected: set[ResourceKey]
) -> None:
    assert references(with_template("Deployment", pod)) == expected


def test_kinds_that_run_no_pods_have_no_dependencies() -> None:
    for relative in ("services/nginx.yaml", "configmaps/zonefetch.yaml", "ingress/ingress.yaml"):
        manifest = yaml.safe_load((EXAMPLES / relative).read_text())
        assert references(manifest) == frozenset()
        assert pod_spec_of(manifest) is None


def test_malformed_or_nameless_references_are_skipped() -> None:
    pod = {
        "volumes": [
            "not-a-volume",
            {"name": "a", "configMap": {}},
            {"name": "b", "secret": {"secretName": 7}},
            {"name": "c", "projected": {"sources": "nope"}},
        ],
        "containers": [{"name": "x", "env": [{"name": "A", "valueFrom": None}], "envFrom": None}],
        "imagePullSecrets": [{}],
    }
    assert references(with_template("Deployment", pod)) == frozenset()
    assert references({"kind": "Deployment", "metadata": None, "spec": None}) == frozenset()
