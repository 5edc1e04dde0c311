"""Federated status: placement, replica sums, Available kept apart from Propagated, Service
addresses and the Scheduled condition."""

from __future__ import annotations

import dataclasses
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from kfed_core.keys import ResourceKey
from kfed_hub.api.fakes import FakeClusterDirectory, FakePlacements, cluster_view
from kfed_hub.api.status import decorate
from kfed_hub.desired import desired_version
from kfed_hub.ports import ClusterStatus, ObjectPlacement
from kfed_hub.store.memory import MemoryStore
from kfed_hub.store.protocol import ClusterObjectState, StoredObject

Client = TestClient[web.Request, web.Application]
RS_KEY = ResourceKey(group="apps", kind="ReplicaSet", namespace="default", name="nginx")
SVC_KEY = ResourceKey(group="core", kind="Service", namespace="default", name="nginx")
NINE = [f"c{n}" for n in range(1, 10)]


def replicaset(replicas: int = 9) -> StoredObject:
    manifest = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": "nginx", "namespace": "default", "generation": 3},
        "spec": {"replicas": replicas, "template": {"metadata": {"labels": {"app": "nginx"}}}},
    }
    return StoredObject(key=RS_KEY, manifest=manifest, revision=7)


VERSION = desired_version(replicaset().manifest)


def reported(
    cluster: str, n: int, *, key: ResourceKey = RS_KEY, **extra: Any
) -> ClusterObjectState:
    status = {
        "replicas": n,
        "fullyLabeledReplicas": n,
        "readyReplicas": n,
        "availableReplicas": n,
        "observedGeneration": 1,
        **extra,
    }
    return ClusterObjectState(
        cluster=cluster, key=key, version=VERSION, outcome="Applied", status=status
    )


def one_each(clusters: list[str]) -> ObjectPlacement:
    return ObjectPlacement(
        clusters=tuple(clusters),
        replicas=dict.fromkeys(clusters, 1),
        explanations=dict.fromkeys(clusters, "even spread: 9 replicas over 9 clusters"),
    )


def conditions(served: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["type"]: c for c in served["status"]["conditions"]}


def test_nine_replicas_one_per_cluster_are_summed_and_available() -> None:
    served = decorate(
        replicaset(),
        [reported(c, 1) for c in NINE],
        NINE,
        placement=one_each(NINE),
        scheduling=True,
    )
    status = served["status"]
    assert {k: status[k] for k in ("replicas", "readyReplicas", "availableReplicas")} == {
        "replicas": 9,
        "readyReplicas": 9,
        "availableReplicas": 9,
    }
    assert status["fullyLabeledReplicas"] == 9 and "observedGeneration" not in status
    assert [(e["cluster"], e["replicas"], e["placed"]) for e in status["clusters"][:2]] == [
        ("c1", 1, True),
        ("c2", 1, True),
    ]
    assert status["clusters"][0]["explanation"] == "even spread: 9 replicas over 9 clusters"
    found = conditions(served)
    assert list(found) == ["Scheduled", "Propagated", "Available"]
    assert found["Scheduled"]["message"] == "9 replicas in 9 clusters"
    assert found["Propagated"]["message"] == "applied in all 9 clusters"
    assert found["Available"] == {
        "type": "Available",
        "status": "True",
        "reason": "ReplicasAvailable",
        "message": "9/9 replicas available in 9 clusters",
    }


def test_applied_is_not_available_and_the_short_clusters_are_named() -> None:
    states = [reported(c, 1) for c in NINE[:7]] + [reported("c8", 0), reported("c9", 0)]
    served = decorate(replicaset(), states, NINE, placement=one_each(NINE), scheduling=True)
    found = conditions(served)
    assert found["Propagated"]["status"] == "True"
    assert found["Available"]["status"] == "False"
    assert found["Available"]["message"] == "7/9 replicas available; short in c8 (0/1), c9 (0/1)"


def test_a_cluster_that_is_not_ready_is_shown_but_not_summed() -> None:
    placement = ObjectPlacement(
        clusters=("a", "b"),
        replicas={"a": 3, "b": 3},
        explanations={"a": "failover from c", "b": "failover from c"},
    )
    states = [reported("a", 3), reported("b", 3), reported("c", 3)]
    served = decorate(
        replicaset(6), states, ["a", "b", "c"], placement=placement, scheduling=True, ready={"a"}
    )
    status = served["status"]
    assert [(e["cluster"], e["placed"], e["replicas"]) for e in status["clusters"]] == [
        ("a", True, 3),
        ("b", True, 3),
        ("c", False, 0),
    ]
    assert status["availableReplicas"] == 3  # only a is Ready: b and c are last known
    assert conditions(served)["Available"]["message"] == (
        "3/6 replicas available; short in b (not Ready)"
    )


def test_problems_and_unplaced_replicas_make_scheduled_false() -> None:
    placement = ObjectPlacement(
        clusters=("a",),
        replicas={"a": 5},
        problems=("replica-set-preferences: clusters.b.weight must be a number; even spread",),
        unplaced=4,
    )
    served = decorate(
        replicaset(9), [reported("a", 5)], ["a"], placement=placement, scheduling=True
    )
    found = conditions(served)
    assert found["Scheduled"]["status"] == "False"
    assert found["Scheduled"]["reason"] == "PlacementProblem"
    assert found["Scheduled"]["message"].endswith(
        "; 4 of 9 replicas could not be placed in any cluster"
    )
    assert found["Available"]["message"] == (
        "5/9 replicas available; 4 could not be placed in any cluster"
    )
    capacity = ObjectPlacement(clusters=("a",), replicas={"a": 5}, unplaced=4)
    found = conditions(decorate(replicaset(9), [], ["a"], placement=capacity, scheduling=True))
    assert (found["Scheduled"]["reason"], found["Scheduled"]["message"]) == (
        "Unschedulable",
        "4 of 9 replicas could not be placed in any cluster",
    )


def test_an_object_not_yet_placed_or_placed_nowhere_says_so() -> None:
    found = conditions(decorate(replicaset(), [], ["a"], placement=None, scheduling=True))
    assert found["Scheduled"]["reason"] == "Pending"
    assert found["Propagated"]["reason"] == "NoClusters"
    assert "placed in no member cluster" in found["Propagated"]["message"]
    nowhere = ObjectPlacement(clusters=())
    found = conditions(decorate(replicaset(), [], ["a"], placement=nowhere, scheduling=True))
    assert found["Scheduled"]["message"] == "its placement selects no member cluster"


def test_without_placements_every_cluster_runs_the_whole_replica_count() -> None:
    served = decorate(replicaset(2), [reported("a", 2), reported("b", 1)], ["a", "b"])
    assert "Scheduled" not in conditions(served)
    assert [e["replicas"] for e in served["status"]["clusters"]] == [2, 2]
    assert served["status"]["availableReplicas"] == 3
    assert conditions(served)["Available"]["message"] == "3/4 replicas available; short in b (1/2)"


def test_a_cluster_that_removed_the_object_is_no_longer_listed() -> None:
    removed = ClusterObjectState(cluster="old", key=RS_KEY, version=VERSION, outcome="Removed")
    served = decorate(
        replicaset(1), [removed], ["a", "old"], placement=one_each(["a"]), scheduling=True
    )
    assert [e["cluster"] for e in served["status"]["clusters"]] == ["a"]


def test_a_service_lists_every_placed_clusters_load_balancer_address() -> None:
    service = StoredObject(
        key=SVC_KEY,
        manifest={"apiVersion": "v1", "kind": "Service", "metadata": {"name": "nginx"}},
        revision=1,
    )
    version = desired_version(service.manifest)

    def balanced(cluster: str, ip: str) -> ClusterObjectState:
        status = {"loadBalancer": {"ingress": [{"ip": ip}]}}
        return ClusterObjectState(
            cluster=cluster, key=SVC_KEY, version=version, outcome="Applied", status=status
        )

    states = [balanced("a", "10.0.0.1"), balanced("b", "10.0.0.2"), balanced("gone", "10.0.0.9")]
    placement = ObjectPlacement(clusters=("a", "b"))
    served = decorate(service, states, ["a", "b"], placement=placement, scheduling=True)
    assert served["status"]["loadBalancer"] == {"ingress": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}]}
    assert conditions(served)["Scheduled"]["message"] == "placed in 2 clusters"
    assert "Available" not in conditions(served)
    empty = decorate(service, [], ["a"])
    assert empty["status"]["loadBalancer"] == {}


# -- over HTTPS, with the placements seam ------------------------------------------------------


async def test_the_api_serves_the_reconcilers_placement(
    placed_api: Client,
    placements: FakePlacements,
    clusters: FakeClusterDirectory,
    store: MemoryStore,
) -> None:
    api = placed_api
    clusters.add(cluster_view("north", status=ClusterStatus.OFFLINE))
    path = "/apis/apps/v1/namespaces/default/replicasets"
    body = {"metadata": {"name": "nginx"}, "spec": {"replicas": 3}}
    async with api.post(path, json=body) as answer:
        created = await answer.json()
    assert conditions(created)["Scheduled"]["reason"] == "Pending"
    placements.placed[RS_KEY] = ObjectPlacement(
        clusters=("east", "west"), replicas={"east": 2, "west": 1}
    )
    version = desired_version(created)
    await store.put_object_states(
        [
            ClusterObjectState(
                cluster=c,
                key=RS_KEY,
                version=version,
                outcome="Applied",
                status={"availableReplicas": n},
            )
            for c, n in (("east", 2), ("west", 1), ("north", 3))
        ]
    )
    async with api.get(f"{path}/nginx") as answer:
        served = await answer.json()
    assert [(e["cluster"], e["placed"], e["replicas"]) for e in served["status"]["clusters"]] == [
        ("east", True, 2),
        ("north", False, 0),
        ("west", True, 1),
    ]
    assert served["status"]["availableReplicas"] == 3  # north is Offline: not summed
    assert conditions(served)["Available"]["message"] == "3/3 replicas available in 2 clusters"
    async with api.get(path) as answer:
        (listed,) = (await answer.json())["items"]
    assert conditions(listed)["Scheduled"]["message"] == "3 replicas in 2 clusters"
    assert conditions(listed)["Propagated"]["status"] == "True"
    # Each member gets its own manifest (its replicas): the reconciler's version is the current.
    placements.placed[RS_KEY] = dataclasses.replace(
        placements.placed[RS_KEY], versions={"east": "east-manifest"}
    )
    async with api.get(f"{path}/nginx") as answer:
        served = await answer.json()
    east = served["status"]["clusters"][0]
    assert (east["cluster"], east["current"]) == ("east", False)
    assert conditions(served)["Propagated"]["message"] == (
        "applied in 1 of 2 clusters; waiting for east"
    )


def test_per_cluster_versions_decide_what_is_current() -> None:
    states = [
        ClusterObjectState(cluster="a", key=RS_KEY, version="va", outcome="Applied"),
        ClusterObjectState(cluster="b", key=RS_KEY, version="vb", outcome="Failed", reason="X"),
    ]
    placement = ObjectPlacement(clusters=("a", "b"), replicas={"a": 5, "b": 4})
    served = decorate(
        replicaset(),
        states,
        ["a", "b"],
        placement=placement,
        scheduling=True,
        versions={"a": "va", "b": "vb"},
    )
    assert [e["current"] for e in served["status"]["clusters"]] == [True, False]
    assert conditions(served)["Propagated"]["message"] == "failed in 1 of 2 clusters: b (X)"
