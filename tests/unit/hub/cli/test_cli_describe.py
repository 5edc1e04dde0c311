"""``kfed describe``: sizes not secrets, the per-cluster tables, Service addresses, events."""

from __future__ import annotations

import datetime as dt
from typing import Any

from kfed_hub.cli.clusters import describe_cluster
from kfed_hub.cli.describe import describe, events_section

NOW = dt.datetime(2025, 6, 1, 12, 0, 0, tzinfo=dt.UTC)


def stamp(minutes: int) -> str:
    return (NOW - dt.timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def obj(kind: str, name: str, **fields: Any) -> dict[str, Any]:
    metadata = {"name": name, "namespace": "default", "creationTimestamp": stamp(5)}
    return {"apiVersion": "v1", "kind": kind, "metadata": metadata, **fields}


def event(reason: str, *, count: int = 1, cluster: str = "", **fields: Any) -> dict[str, Any]:
    source = {"component": "kfed-hub", **({"host": cluster} if cluster else {})}
    return {
        "type": "Normal",
        "reason": reason,
        "message": f"{reason} message",
        "count": count,
        "firstTimestamp": stamp(10),
        "lastTimestamp": stamp(2),
        "source": source,
        "involvedObject": {"kind": "ReplicaSet", "name": "nginx"},
        **fields,
    }


def test_describe_shows_sizes_not_secret_values() -> None:
    secret = obj(
        "Secret",
        "creds",
        data={"password": "aHVudGVyMg=="},
        status={
            "clusters": [{"cluster": "a", "version": "v1", "current": True, "outcome": "Applied"}],
            "conditions": [
                {"type": "Propagated", "status": "True", "reason": "Applied", "message": "ok"}
            ],
        },
    )
    secret["metadata"]["labels"] = {"app": "web"}
    text = describe(secret, NOW)
    assert "aHVudGVyMg==" not in text and "password: 7 bytes" in text
    assert "Labels:       app=web" in text
    assert "Propagated:   True (Applied) ok" in text
    assert "Clusters:" in text and "  a " in text
    assert text.endswith("Events:       <none>\n")


def test_a_replicaset_shows_planned_against_observed_replicas_and_why() -> None:
    entries = [
        {
            "cluster": "east",
            "placed": True,
            "version": "v1",
            "current": True,
            "outcome": "Applied",
            "replicas": 2,
            "explanation": "weight 2 of 3",
            "observed": {"replicas": 2, "readyReplicas": 2, "availableReplicas": 1},
        },
        {
            "cluster": "west",
            "placed": False,
            "version": "v0",
            "current": False,
            "outcome": "Applied",
            "replicas": 0,
            "explanation": "not selected: region=us",
            "observed": {"replicas": 1},
        },
    ]
    rs = obj(
        "ReplicaSet",
        "nginx",
        spec={"replicas": 2, "selector": {"matchLabels": {"app": "nginx"}}},
        status={"replicas": 2, "readyReplicas": 2, "availableReplicas": 1, "clusters": entries},
    )
    lines = describe(rs, NOW).splitlines()
    assert "Selector:     app=nginx" in lines
    assert "Replicas:     2 desired | 2 current | 2 ready | 1 available" in lines
    start = lines.index("Replicas per cluster:")
    assert [row.split(maxsplit=5) for row in lines[start + 1 : start + 4]] == [
        ["CLUSTER", "DESIRED", "CURRENT", "READY", "AVAILABLE", "WHY"],
        ["east", "2", "2", "2", "1", "weight 2 of 3"],
        ["west", "0", "1", "0", "0", "not selected: region=us"],
    ]
    clusters = lines[lines.index("Clusters:") + 1].split()
    assert clusters[:3] == ["CLUSTER", "PLACED", "VERSION"]  # a cluster it is not placed in


def test_a_service_lists_each_load_balancer_address_with_its_cluster() -> None:
    entries = [
        {"cluster": c, "placed": True, "observed": {"loadBalancer": {"ingress": [{"ip": ip}]}}}
        for c, ip in (("gce-asia-east1-a", "104.199.1.1"), ("gce-us-central1-a", "108.59.2.2"))
    ]
    service = obj(
        "Service",
        "nginx",
        spec={
            "type": "LoadBalancer",
            "selector": {"app": "nginx"},
            "ports": [{"name": "http", "port": 80, "protocol": "TCP"}],
        },
        status={"clusters": entries},
    )
    lines = describe(service, NOW).splitlines()
    assert "Type:         LoadBalancer" in lines and "Port:         http  80/TCP" in lines
    at = lines.index("LoadBalancer Ingress: 104.199.1.1 (gce-asia-east1-a)")
    assert lines[at + 1] == " " * 22 + "108.59.2.2 (gce-us-central1-a)"


def test_events_are_kubectls_section_with_repeats_and_the_cluster() -> None:
    lines = events_section(
        [event("ApplyFailed", count=3, cluster="east", type="Warning"), event("Scheduled")], NOW
    )
    assert lines[0] == "Events:"
    assert lines[1].split() == ["Type", "Reason", "Age", "From", "Message"]
    assert lines[2].split() == ["----", "------", "----", "----", "-------"]
    assert lines[3].split(maxsplit=4)[:2] == ["Warning", "ApplyFailed"]
    assert "2m (x3 over 10m)  kfed-hub, east  ApplyFailed message" in lines[3]
    assert lines[4].split(maxsplit=3)[2] == "10m"  # a single occurrence: its age


def test_a_clusters_describe_ends_with_its_events_naming_objects() -> None:
    cluster = {"metadata": {"name": "east", "creationTimestamp": stamp(60)}, "status": {}}
    cluster_event = event(
        "ClusterNotReady", involvedObject={"kind": "Cluster", "name": "east"}, cluster=""
    )
    text = describe_cluster(cluster, NOW, [cluster_event, event("ApplyFailed", cluster="east")])
    assert "  Normal  ClusterNotReady" in text
    assert "replicaset/nginx: ApplyFailed message" in text
    assert describe_cluster(cluster, NOW).endswith("Events:        <none>\n")
