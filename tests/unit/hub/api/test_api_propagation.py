"""The per-cluster status of served objects and the manifest sent to clusters."""

from __future__ import annotations

from typing import Any

from kfed_core.keys import ResourceKey, content_version
from kfed_hub.api.status import decorate, propagation
from kfed_hub.desired import desired_manifest, desired_version
from kfed_hub.store.protocol import ClusterObjectState, StoredObject

KEY = ResourceKey(group="core", kind="ConfigMap", namespace="default", name="x")
STORED: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {
        "name": "x",
        "namespace": "default",
        "uid": "u",
        "resourceVersion": "9",
        "generation": 2,
        "creationTimestamp": "2025-01-01T00:00:00Z",
        "managedFields": [],
        "labels": {"a": "b"},
    },
    "data": {"k": "v"},
    "status": {"clusters": []},
}


def state(
    cluster: str, version: str, outcome: str = "Applied", reason: str = ""
) -> ClusterObjectState:
    return ClusterObjectState(
        cluster=cluster, key=KEY, version=version, outcome=outcome, reason=reason
    )


def test_desired_manifest_drops_the_hubs_bookkeeping_only() -> None:
    desired = desired_manifest(STORED)
    assert desired == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "x", "namespace": "default", "labels": {"a": "b"}},
        "data": {"k": "v"},
    }
    assert STORED["metadata"]["uid"] == "u"  # the input is untouched
    assert desired_version(STORED) == content_version(desired)


def test_a_cluster_without_news_is_pending() -> None:
    entries, condition = propagation("v1", [state("a", "v1")], ["a", "b"])
    assert [(e["cluster"], e["current"], e["outcome"]) for e in entries] == [
        ("a", True, "Applied"),
        ("b", False, "Pending"),
    ]
    assert condition["status"] == "False" and condition["reason"] == "Pending"
    assert "waiting for b" in condition["message"]


def test_an_old_version_is_not_current() -> None:
    _, condition = propagation("v2", [state("a", "v1"), state("b", "v2")], ["a", "b"])
    assert condition["status"] == "False"


def test_failures_of_the_current_version_are_named() -> None:
    states = [state("a", "v1"), state("b", "v1", "Failed", "Invalid")]
    _, condition = propagation("v1", states, ["a", "b"])
    assert condition["reason"] == "ApplyFailed"
    assert condition["message"] == "failed in 1 of 2 clusters: b (Invalid)"


def test_propagated_when_every_joined_cluster_has_the_current_version() -> None:
    _, condition = propagation("v1", [state("a", "v1"), state("b", "v1")], ["a", "b"])
    assert condition == {
        "type": "Propagated",
        "status": "True",
        "reason": "Applied",
        "message": "applied in all 2 clusters",
    }


def test_no_clusters_is_not_propagated() -> None:
    _, condition = propagation("v1", [], [])
    assert condition["status"] == "False" and condition["reason"] == "NoClusters"


def test_decorate_keeps_other_conditions_and_sets_the_resource_version() -> None:
    manifest = {**STORED, "status": {"conditions": [{"type": "Other", "status": "True"}]}}
    served = decorate(StoredObject(key=KEY, manifest=manifest, revision=12), [], ["a"])
    assert served["metadata"]["resourceVersion"] == "12"
    assert [c["type"] for c in served["status"]["conditions"]] == ["Other", "Propagated"]
    assert manifest["status"] == {"conditions": [{"type": "Other", "status": "True"}]}
