"""``kfed get rs|pods --clusters`` and ``kfed get events``: kubectl's tables, per cluster."""

from __future__ import annotations

import datetime as dt
from typing import Any

from kfed_hub.cli.events import event_table, object_of
from kfed_hub.cli.percluster import pods_view, workload_view

NOW = dt.datetime(2025, 6, 1, 12, 0, 0, tzinfo=dt.UTC)


def stamp(seconds: int) -> str:
    return (NOW - dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def cluster(name: str, phase: str = "Ready") -> dict[str, Any]:
    return {"metadata": {"name": name}, "status": {"phase": phase}}


def pod(name: str, **fields: Any) -> dict[str, Any]:
    base = {
        "name": name,
        "namespace": "default",
        "phase": "Running",
        "ready": "1/1",
        "restarts": 0,
        "node": "node-1",
        "creationTimestamp": stamp(25),
        "reason": "",
    }
    return base | fields


def replicaset(name: str, entries: list[dict[str, Any]], replicas: int = 9) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": name, "namespace": "default", "creationTimestamp": stamp(42)},
        "spec": {"replicas": replicas},
        "status": {"clusters": entries},
    }


def entry(
    cluster: str, planned: int, observed: dict[str, Any] | None, **more: Any
) -> dict[str, Any]:
    return {
        "cluster": cluster,
        "placed": True,
        "replicas": planned,
        "observed": observed,
        "outcome": "Applied",
    } | more


def test_each_cluster_gets_kubectls_replicaset_table_like_the_blog() -> None:
    ready = {"replicas": 1, "readyReplicas": 1, "availableReplicas": 1}
    rs = replicaset("nginx", [entry("a", 1, ready), entry("b", 1, ready)])
    failing = replicaset(
        "nginx-us", [entry("b", 1, None, outcome="Failed", reason="NotFound")], replicas=1
    )
    view = workload_view(
        "ReplicaSet",
        [cluster("a"), cluster("b"), cluster("c", "Offline")],
        [rs, failing],
        NOW,
        namespace="default",
    )
    sections = view.split("\n\n")
    assert sections[0].splitlines() == [
        "CLUSTER a (Ready)",
        "NAME    DESIRED   CURRENT   READY   AGE",
        "nginx   1         1         1       42s",
    ]
    assert sections[1].splitlines()[-1] == "not running here: nginx-us (Failed: NotFound)"
    assert sections[2].splitlines() == [
        "CLUSTER c (Offline)",
        "No resources found in default namespace.",
    ]


def test_deployments_per_cluster_show_ready_over_planned() -> None:
    observed = {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}
    deploy = replicaset("web", [entry("a", 3, observed)])
    deploy["kind"] = "Deployment"
    view = workload_view("Deployment", [cluster("a")], [deploy], NOW, namespace=None)
    assert view.splitlines()[1].split() == [
        "NAMESPACE",
        "NAME",
        "READY",
        "UP-TO-DATE",
        "AVAILABLE",
        "AGE",
    ]
    assert view.splitlines()[2].split() == ["default", "web", "2/3", "3", "2", "42s"]


def test_pods_per_cluster_come_from_the_agents_kfed_pods() -> None:
    rs = replicaset(
        "nginx",
        [
            entry("a", 1, {"kfedPods": [pod("nginx-ph8zx", ready="2/2")]}),
            entry(
                "b",
                2,
                {
                    "kfedPods": [
                        pod("nginx-sbi5b", restarts=3),
                        pod("nginx-aaaaa", phase="Pending", ready="0/1", reason="Unschedulable"),
                    ]
                },
            ),
        ],
    )
    view = pods_view([cluster("a"), cluster("b"), cluster("c")], [rs], NOW, namespace="default")
    sections = view.split("\n\n")
    assert sections[0].splitlines() == [
        "CLUSTER a (Ready)",
        "NAME          READY   STATUS    RESTARTS   AGE",
        "nginx-ph8zx   2/2     Running   0          25s",
    ]
    assert [row.split()[:4] for row in sections[1].splitlines()[2:]] == [
        ["nginx-aaaaa", "0/1", "Unschedulable", "0"],
        ["nginx-sbi5b", "1/1", "Running", "3"],
    ]
    assert sections[2].splitlines()[1] == "No resources found in default namespace."
    wide = pods_view([cluster("a")], [rs], NOW, namespace="default", wide=True)
    assert wide.splitlines()[1].split()[-1] == "NODE" and wide.splitlines()[2].endswith("node-1")


def test_the_events_table_is_kubectls() -> None:
    events: list[dict[str, Any]] = [
        {
            "metadata": {"namespace": "default"},
            "involvedObject": {"kind": "ReplicaSet", "name": "nginx"},
            "type": "Warning",
            "reason": "ApplyFailed",
            "message": "east:\n  Invalid",
            "count": 2,
            "firstTimestamp": stamp(300),
            "lastTimestamp": stamp(40),
            "source": {"component": "kfed-hub", "host": "east"},
        },
        {
            "metadata": {"namespace": "default"},
            "involvedObject": {"kind": "Cluster", "name": "east"},
            "type": "Normal",
            "reason": "ClusterReady",
            "message": "ready",
            "lastTimestamp": stamp(5),
            "source": {"component": "kfed-hub"},
        },
    ]
    assert event_table(events, NOW).splitlines() == [
        "LAST SEEN   TYPE      REASON         OBJECT             MESSAGE",
        "40s         Warning   ApplyFailed    replicaset/nginx   east: Invalid",
        "5s          Normal    ClusterReady   cluster/east       ready",
    ]
    every = event_table(events, NOW, with_namespace=True).splitlines()
    assert every[0].split()[:3] == ["NAMESPACE", "LAST", "SEEN"]
    wide = event_table(events, NOW, wide=True).splitlines()
    assert "kfed-hub, east" in wide[1] and wide[1].split()[-2:] == ["5m", "2"]
    assert object_of({"involvedObject": {"kind": "Cluster"}}) == "cluster"
