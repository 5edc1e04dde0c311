"""How the CLI prints: kubectl ages and tables, YAML, the per-cluster view, describe."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import yaml

from kfed_hub.cli import printing

NOW = dt.datetime(2025, 6, 1, 12, 0, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (-5, "<invalid>"),
        (-1, "0s"),
        (5, "5s"),
        (119, "119s"),
        (180, "3m"),
        (200, "3m20s"),
        (25 * 60, "25m"),
        (3 * 3600, "3h"),
        (5 * 3600 + 600, "5h10m"),
        (30 * 3600, "30h"),
        (4 * 86400, "4d"),
        (4 * 86400 + 7200, "4d2h"),
        (200 * 86400, "200d"),
        (3 * 365 * 86400 + 86400, "3y1d"),
        (10 * 365 * 86400, "10y"),
    ],
)
def test_ages_read_like_kubectl(seconds: int, shown: str) -> None:
    assert printing.human_age(dt.timedelta(seconds=seconds)) == shown


def test_tables_pad_columns_by_three_spaces() -> None:
    table = printing.render_table(["NAME", "AGE"], [["a", "5s"], ["longer-name", "2h"]])
    assert table == "NAME          AGE\na             5s\nlonger-name   2h\n"


def obj(kind: str, name: str, **fields: Any) -> dict[str, Any]:
    created = (NOW - dt.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    metadata = {"name": name, "namespace": "default", "creationTimestamp": created}
    return {"apiVersion": "v1", "kind": kind, "metadata": metadata, **fields}


def test_kind_specific_columns() -> None:
    configmaps = printing.object_table("ConfigMap", [obj("ConfigMap", "c", data={"a": "1"})], NOW)
    assert configmaps.splitlines() == ["NAME   DATA   AGE", "c      1      5m"]
    secrets = printing.object_table("Secret", [obj("Secret", "s", type="Opaque")], NOW)
    assert secrets.splitlines()[0].split() == ["NAME", "TYPE", "DATA", "AGE"]
    namespaces = printing.object_table("Namespace", [obj("Namespace", "n")], NOW)
    assert namespaces.splitlines()[1].split() == ["n", "Active", "5m"]
    services = printing.object_table("Service", [obj("Service", "web")], NOW, with_namespace=True)
    assert services.splitlines()[0].split() == ["NAMESPACE", "NAME", "AGE"]


def cluster(name: str, phase: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "creationTimestamp": "2025-06-01T10:00:00Z"},
        "status": {"phase": phase, "region": "us-central1", "zones": ["us-central1-a"]},
    }


def test_cluster_tables_match_the_blog_and_widen() -> None:
    clusters = [cluster("gce-us-central1-a", "Ready"), cluster("aws-1", "Offline")]
    assert printing.cluster_table(clusters, NOW, wide=False).splitlines() == [
        "NAME                STATUS    AGE",
        "gce-us-central1-a   Ready     120m",
        "aws-1               Offline   120m",
    ]
    wide = printing.cluster_table(clusters, NOW, wide=True).splitlines()
    assert wide[0].split() == ["NAME", "STATUS", "AGE", "REGION", "ZONE", "VERSION"]
    assert wide[1].split()[3:] == ["us-central1", "us-central1-a", "<none>"]


def test_per_cluster_view_has_one_section_per_cluster() -> None:
    entries = [
        {"cluster": "a", "version": "v1", "current": True, "outcome": "Applied"},
        {
            "cluster": "b",
            "version": "v0",
            "current": False,
            "outcome": "Failed",
            "reason": "Invalid",
        },
    ]
    view = printing.per_cluster_view(
        [cluster("a", "Ready"), cluster("b", "Ready"), cluster("c", "Offline")],
        [obj("ConfigMap", "c1", status={"clusters": entries})],
    )
    sections = view.split("\n\n")
    assert [s.splitlines()[0] for s in sections] == [
        "CLUSTER a (Ready)",
        "CLUSTER b (Ready)",
        "CLUSTER c (Offline)",
    ]
    assert sections[0].splitlines()[2].split() == ["c1", "v1", "yes", "Applied"]
    assert sections[1].splitlines()[2].split() == ["c1", "v0", "no", "Failed", "Invalid"]
    # Not placed in c and not reported by it: c does not have it, as kubectl there would say.
    assert sections[2].splitlines()[1:] == ["No resources found."]


def test_yaml_shows_scripts_as_blocks_and_round_trips() -> None:
    document = {"data": {"script.sh": "#!/bin/sh\necho hi\n"}, "kind": "ConfigMap"}
    text = printing.to_yaml(document)
    assert "script.sh: |" in text
    assert yaml.safe_load(text) == document


def test_workload_columns_are_kubectls() -> None:
    rs = obj(
        "ReplicaSet",
        "nginx",
        spec={"replicas": 9},
        status={"replicas": 9, "readyReplicas": 8, "availableReplicas": 8},
    )
    assert printing.object_table("ReplicaSet", [rs], NOW).splitlines() == [
        "NAME    DESIRED   CURRENT   READY   AGE",
        "nginx   9         9         8       5m",
    ]
    deploy = obj("Deployment", "web", spec={}, status={"readyReplicas": 1, "updatedReplicas": 1})
    table = printing.object_table("Deployment", [deploy], NOW).splitlines()
    assert table[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert table[1].split() == ["web", "1/1", "1", "0", "5m"]


def test_show_labels_adds_kubectls_labels_column() -> None:
    labelled = cluster("east", "Ready")
    labelled["metadata"]["labels"] = {"tier": "gold", "provider": "gce"}
    table = printing.cluster_table(
        [labelled, cluster("west", "Ready")], NOW, wide=False, show_labels=True
    )
    assert [row.split()[-1] for row in table.splitlines()] == [
        "LABELS",
        "provider=gce,tier=gold",
        "<none>",
    ]
    configmaps = printing.object_table("ConfigMap", [obj("ConfigMap", "c")], NOW, show_labels=True)
    assert configmaps.splitlines()[0].split()[-1] == "LABELS"


def test_ingresses_show_class_hosts_the_global_address_and_ports() -> None:
    status = {"loadBalancer": {"ingress": [{"ip": "127.0.0.201", "ports": [{"port": 8080}]}]}}
    federated = obj("Ingress", "nginx", spec={"defaultBackend": {}}, status=status)
    named = obj(
        "Ingress",
        "shop",
        spec={"ingressClassName": "gcp", "rules": [{"host": "a.example"}], "tls": [{}]},
    )
    table = printing.object_table("Ingress", [federated, named], NOW)
    assert [line.split() for line in table.splitlines()] == [
        ["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"],
        ["nginx", "<none>", "*", "127.0.0.201", "80", "5m"],
        ["shop", "gcp", "a.example", "80,", "443", "5m"],
    ]
