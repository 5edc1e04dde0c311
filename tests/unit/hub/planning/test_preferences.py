"""The replica preference annotations: what is accepted, the defaults, and errors that say what
is wrong and where."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kfed_hub.planning.preferences import (
    DEFAULT,
    DEPLOYMENT_PREFERENCES,
    REPLICA_SET_PREFERENCES,
    ClusterPreference,
    Preferences,
    PreferencesError,
    parse_preferences,
    preferences_of,
)

BLOG = {
    "rebalance": True,
    "clusters": {
        "gce-us-central1-a": {"minReplicas": 2, "maxReplicas": 4, "weight": 1},
        "gce-us-central1-b": {"minReplicas": 2, "maxReplicas": 4, "weight": 1},
    },
}


def manifest(kind: str, annotations: dict[str, Any] | None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": "nginx", "namespace": "default"}
    if annotations is not None:
        metadata["annotations"] = annotations
    return {"apiVersion": "extensions/v1beta1", "kind": kind, "metadata": metadata}


def test_blog_annotation_on_a_replicaset_parses_to_frozen_values() -> None:
    found = preferences_of(manifest("ReplicaSet", {REPLICA_SET_PREFERENCES: json.dumps(BLOG)}))
    entry = ClusterPreference(min_replicas=2, max_replicas=4, weight=1)
    assert found == Preferences(
        rebalance=True, clusters={"gce-us-central1-a": entry, "gce-us-central1-b": entry}
    )


def test_no_annotation_means_none_and_default_is_an_even_spread() -> None:
    assert preferences_of(manifest("ReplicaSet", None)) is None
    assert preferences_of(manifest("ReplicaSet", {"other": "x"})) is None
    assert preferences_of({"kind": "Deployment"}) is None
    assert DEFAULT.rebalance is False
    assert DEFAULT.clusters == {"*": ClusterPreference(weight=1)}


def test_deployment_reads_its_own_annotation_first_then_the_replicaset_one() -> None:
    own = json.dumps({"clusters": {"a": {"weight": 2}}})
    other = json.dumps({"clusters": {"b": {"weight": 3}}})
    both = manifest("Deployment", {DEPLOYMENT_PREFERENCES: own, REPLICA_SET_PREFERENCES: other})
    only_rs = manifest("Deployment", {REPLICA_SET_PREFERENCES: other})
    rs_with_both = manifest(
        "ReplicaSet", {DEPLOYMENT_PREFERENCES: own, REPLICA_SET_PREFERENCES: other}
    )
    assert set(_clusters(preferences_of(both))) == {"a"}
    assert set(_clusters(preferences_of(only_rs))) == {"b"}
    assert set(_clusters(preferences_of(rs_with_both))) == {"b"}


def _clusters(found: Preferences | None) -> dict[str, ClusterPreference]:
    assert found is not None
    return dict(found.clusters)


def test_defaults_of_an_entry_and_missing_or_empty_clusters() -> None:
    found = parse_preferences('{"clusters": {"*": {}, "a": {"maxReplicas": null}}}')
    assert found.rebalance is False
    assert found.clusters["*"] == ClusterPreference(min_replicas=0, max_replicas=None, weight=0)
    assert found.clusters["a"] == ClusterPreference()
    assert parse_preferences("{}") == DEFAULT
    assert parse_preferences('{"rebalance": true, "clusters": {}}') == Preferences(
        rebalance=True, clusters=DEFAULT.clusters
    )


def test_entry_for_prefers_the_cluster_then_star_then_none() -> None:
    found = parse_preferences('{"clusters": {"a": {"weight": 2}, "*": {"weight": 1}}}')
    assert found.entry_for("a") == ("a", ClusterPreference(weight=2))
    assert found.entry_for("b") == ("*", ClusterPreference(weight=1))
    assert parse_preferences('{"clusters": {"a": {}}}').entry_for("b") == ("none", None)


@pytest.mark.parametrize(
    ("text", "where", "what"),
    [
        ("{not json", REPLICA_SET_PREFERENCES, "not valid JSON"),
        ("[]", REPLICA_SET_PREFERENCES, "must be a JSON object, got an array"),
        ('{"rebalance": "yes"}', "field rebalance", "must be true or false"),
        ('{"clusters": []}', "field clusters", "must be a JSON object"),
        ('{"clusters": {"a": 3}}', "field clusters.a", "got the number 3"),
        ('{"balance": true}', "field balance", "is not a known field"),
        ('{"clusters": {"a": {"minReplica": 1}}}', "field clusters.a.minReplica", "not a known"),
        ('{"clusters": {"a": {"weight": -1}}}', "field clusters.a.weight", "not be negative"),
        ('{"clusters": {"a": {"minReplicas": -2}}}', "clusters.a.minReplicas", "not be negative"),
        ('{"clusters": {"a": {"maxReplicas": -2}}}', "clusters.a.maxReplicas", "not be negative"),
        ('{"clusters": {"a": {"weight": 1.5}}}', "field clusters.a.weight", "whole number"),
        ('{"clusters": {"a": {"weight": true}}}', "field clusters.a.weight", "got true"),
        ('{"clusters": {"a": {"weight": "2"}}}', "field clusters.a.weight", "the string '2'"),
        ('{"clusters": {"a": {"weight": 4294967296}}}', "clusters.a.weight", "at most"),
        ('{"clusters": {"": {}}}', "field clusters", "empty cluster name"),
        (
            '{"clusters": {"a": {"minReplicas": 5, "maxReplicas": 4}}}',
            "field clusters.a",
            "minReplicas 5 is above maxReplicas 4",
        ),
    ],
)
def test_unusable_annotation_says_what_and_where(text: str, where: str, what: str) -> None:
    with pytest.raises(PreferencesError) as caught:
        preferences_of(manifest("ReplicaSet", {REPLICA_SET_PREFERENCES: text}))
    message = str(caught.value)
    assert message.startswith(f"annotation {REPLICA_SET_PREFERENCES}")
    assert where in message
    assert what in message
    assert "spread evenly" in message  # and what to do


def test_error_names_the_deployment_annotation_when_that_one_is_wrong() -> None:
    with pytest.raises(PreferencesError, match=DEPLOYMENT_PREFERENCES):
        preferences_of(manifest("Deployment", {DEPLOYMENT_PREFERENCES: "{"}))


def test_annotation_that_is_not_a_string_is_refused() -> None:
    with pytest.raises(PreferencesError, match="must be a JSON string"):
        preferences_of(manifest("ReplicaSet", {REPLICA_SET_PREFERENCES: {"rebalance": True}}))


def test_min_equal_to_max_is_accepted() -> None:
    found = parse_preferences('{"clusters": {"a": {"minReplicas": 3, "maxReplicas": 3}}}')
    assert found.clusters["a"] == ClusterPreference(min_replicas=3, max_replicas=3)
