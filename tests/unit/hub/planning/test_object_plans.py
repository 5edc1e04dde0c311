"""One object's plan: translation, placement, scheduling with a lost cluster, followers,
overrides, and problems reported instead of raised."""

from __future__ import annotations

import json
from typing import Any

from kfed_core.keys import ResourceKey
from kfed_hub.planning.facts import ClusterFacts
from kfed_hub.planning.objects import Context, Observed, plan_object

CLUSTERS = [
    ClusterFacts(name="east", labels={"region": "us-east1", "provider": "gce"}),
    ClusterFacts(name="west", labels={"region": "us-west1", "provider": "aws"}),
    ClusterFacts(name="north", labels={"region": "europe-north1", "provider": "gce"}),
]
KEY = ResourceKey(group="apps", kind="ReplicaSet", namespace="default", name="web")


def replica_set(replicas: int, annotations: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": "web", "namespace": "default", "annotations": annotations or {}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx"}]},
            },
        },
    }


def replicas_of(plan: Any) -> dict[str, int]:
    return {c: m["spec"]["replicas"] for c, m in plan.manifests.items()}


def test_replicas_spread_evenly_and_each_cluster_gets_its_count() -> None:
    plan = plan_object(replica_set(6), key=KEY, context=Context(clusters=CLUSTERS))
    assert replicas_of(plan) == {"east": 2, "west": 2, "north": 2}
    assert plan.placement.clusters == ("east", "north", "west")


def test_a_lost_cluster_keeps_its_replicas_while_the_others_carry_the_total() -> None:
    lost = [*CLUSTERS[:2], ClusterFacts(name="north", labels={}, ready=False)]
    context = Context(clusters=lost, assigned={"east": 2, "west": 2, "north": 2})
    plan = plan_object(replica_set(6), key=KEY, context=context)
    assert replicas_of(plan) == {"east": 3, "west": 3, "north": 2}
    assert plan.placement.explanations["north"].startswith("not Ready")


def test_the_returning_cluster_gets_its_share_back() -> None:
    context = Context(clusters=CLUSTERS, assigned={"east": 3, "west": 3, "north": 2})
    plan = plan_object(replica_set(6), key=KEY, context=context)
    assert replicas_of(plan) == {"east": 2, "west": 2, "north": 2}


def test_pods_that_do_not_fit_overflow_to_other_clusters() -> None:
    observed = {"east": Observed(replicas=2, ready_replicas=1, unschedulable=1)}
    context = Context(
        clusters=CLUSTERS, observed=observed, assigned={"east": 2, "west": 2, "north": 2}
    )
    plan = plan_object(replica_set(6), key=KEY, context=context)
    counts = replicas_of(plan)
    assert counts["east"] == 1 and sum(counts.values()) == 6


def test_legacy_replica_set_is_translated_and_placed_by_label() -> None:
    legacy = replica_set(2, {"kfed.io/cluster-selector": "provider=gce"})
    legacy["apiVersion"] = "extensions/v1beta1"
    del legacy["spec"]["selector"]
    plan = plan_object(legacy, key=KEY, context=Context(clusters=CLUSTERS))
    assert sorted(plan.manifests) == ["east", "north"]
    member = plan.manifests["east"]
    assert member["apiVersion"] == "apps/v1"
    assert member["spec"]["selector"] == {"matchLabels": {"app": "web"}}
    assert "kfed.io/cluster-selector" not in member["metadata"].get("annotations", {})


def test_overrides_change_only_the_matching_clusters() -> None:
    rule = [
        {
            "clusterSelector": "provider=aws",
            "path": "/spec/template/spec/containers/0/image",
            "value": "ecr.example/nginx",
        }
    ]
    manifest = replica_set(3, {"kfed.io/overrides": json.dumps(rule)})
    plan = plan_object(manifest, key=KEY, context=Context(clusters=CLUSTERS))
    images = {
        c: m["spec"]["template"]["spec"]["containers"][0]["image"]
        for c, m in plan.manifests.items()
    }
    assert images == {"east": "nginx", "west": "ecr.example/nginx", "north": "nginx"}


def test_an_object_follows_the_workloads_that_use_it() -> None:
    config = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "site",
            "namespace": "default",
            "annotations": {"kfed.io/clusters": "east"},
        },
    }
    key = ResourceKey.of(config)
    plan = plan_object(
        config, key=key, context=Context(clusters=CLUSTERS, followers=frozenset({"west"}))
    )
    assert sorted(plan.manifests) == ["east", "west"]
    assert plan.placement.explanations["west"] == "follows a workload that uses it"


def test_bad_preferences_and_placement_are_problems_not_errors() -> None:
    bad = replica_set(
        3,
        {
            "federation.kubernetes.io/replica-set-preferences": "{not json",
            "kfed.io/clusters": "east,mars",
        },
    )
    plan = plan_object(bad, key=KEY, context=Context(clusters=CLUSTERS))
    assert replicas_of(plan) == {"east": 3}
    text = " ".join(plan.placement.problems)
    assert "mars" in text and "replica-set-preferences" in text


def test_workload_dependencies_are_reported() -> None:
    manifest = replica_set(1)
    manifest["spec"]["template"]["spec"]["volumes"] = [{"name": "c", "configMap": {"name": "site"}}]
    plan = plan_object(manifest, key=KEY, context=Context(clusters=CLUSTERS))
    assert ResourceKey(group="core", kind="ConfigMap", namespace="default", name="site") in (
        plan.dependencies
    )


def test_a_broken_placement_annotation_keeps_the_previous_placement() -> None:
    broken = replica_set(2, {"kfed.io/cluster-selector": "region in (unclosed"})
    context = Context(clusters=CLUSTERS, previous_clusters=("east", "west"))
    plan = plan_object(broken, key=KEY, context=context)
    assert sorted(plan.manifests) == ["east", "west"]
    assert "keeping the previous placement" in plan.placement.problems[0]


def test_remembered_capacity_keeps_replicas_from_swinging_back() -> None:
    context = Context(clusters=CLUSTERS, capacity={"east": 1})
    preferences = json.dumps(
        {"rebalance": True, "clusters": {"east": {"weight": 4}, "*": {"weight": 1}}}
    )
    manifest = replica_set(6, {"federation.kubernetes.io/replica-set-preferences": preferences})
    plan = plan_object(manifest, key=KEY, context=context)
    counts = replicas_of(plan)
    assert counts["east"] == 1 and sum(counts.values()) == 6
