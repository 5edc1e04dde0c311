"""Unit tests for ``kfed_agent.report``: quantities, cluster health and capacity, object status."""

from __future__ import annotations

from typing import Any

from kfed_agent.report import (
    Capacity,
    cluster_health,
    observed_status,
    pod_request,
)


def node(
    name: str,
    *,
    region: str = "us-east1",
    zone: str = "us-east1-b",
    ready: str = "True",
    unschedulable: bool = False,
    cpu: str = "4",
    memory: str = "8Gi",
    pods: str = "110",
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "topology.kubernetes.io/region": region,
                "topology.kubernetes.io/zone": zone,
            },
        },
        "spec": {"unschedulable": True} if unschedulable else {},
        "status": {
            "allocatable": {"cpu": cpu, "memory": memory, "pods": pods},
            "conditions": [
                {"type": "MemoryPressure", "status": "False"},
                {"type": "Ready", "status": ready},
            ],
        },
    }


def container(cpu: str | None = None, memory: str | None = None, **extra: Any) -> dict[str, Any]:
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v is not None}
    return {"name": "c", "resources": {"requests": requests}, **extra}


def pod(
    node_name: str | None,
    *containers: dict[str, Any],
    phase: str = "Running",
    init: list[dict[str, Any]] | None = None,
    conditions: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": list(containers)}
    if node_name:
        spec["nodeName"] = node_name
    if init:
        spec["initContainers"] = init
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": "default"},
        "spec": spec,
        "status": {"phase": phase, "conditions": conditions or []},
    }


def test_pod_request_takes_the_bigger_of_app_containers_and_the_largest_init_container() -> None:
    small_init = pod(
        "n", container("100m", "64Mi"), container("200m", "64Mi"), init=[container("250m", "1Gi")]
    )
    assert pod_request(small_init) == (300, 2**30)


def test_pod_request_adds_sidecars_and_overhead() -> None:
    sidecar = container("100m", "100Mi", restartPolicy="Always")
    spec_pod = pod("n", container("500m", "200Mi"), init=[sidecar, container("550m", "10Mi")])
    spec_pod["spec"]["overhead"] = {"cpu": "10m", "memory": "1Mi"}
    # app: 500m + sidecar 100m = 600m; init step: 550m + sidecar 100m = 650m; plus overhead.
    assert pod_request(spec_pod) == (660, (300 + 1) * 2**20)


def test_cluster_health_counts_nodes_region_zones_and_capacity_of_usable_nodes() -> None:
    nodes = [
        node("a", zone="us-east1-c"),
        node("b", zone="us-east1-b"),
        node("c", region="us-west1", zone="us-west1-a", ready="False"),
        node("d", zone="us-east1-b", unschedulable=True),
    ]
    pods = [
        pod("a", container("500m", "1Gi")),
        pod("b", container("250m")),
        pod("b", container("1", "1Gi"), phase="Succeeded"),  # finished: frees its room
        pod("c", container("2", "2Gi")),  # on a NotReady node
        pod("d", container("1", "1Gi")),  # on a cordoned node
    ]

    health = cluster_health(nodes=nodes, pods=pods, kubernetes_version="v1.37.0")

    assert health.kubernetes_version == "v1.37.0"
    assert health.region == "us-east1"
    assert health.zones == ("us-east1-b", "us-east1-c", "us-west1-a")
    assert health.nodes_total == 4
    assert health.nodes_ready == 3
    assert health.allocatable == Capacity(cpu_millis=8000, memory_bytes=16 * 2**30, pods=220)
    assert health.requested == Capacity(cpu_millis=750, memory_bytes=2**30, pods=2)
    assert health.unschedulable_pods == 0


def test_cluster_health_counts_unschedulable_pods() -> None:
    pending = pod(
        None,
        container("64"),
        phase="Pending",
        conditions=[{"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}],
    )
    waiting = pod(None, container("1"), phase="Pending", conditions=[])
    health = cluster_health(nodes=[node("a")], pods=[pending, waiting], kubernetes_version="v")
    assert health.unschedulable_pods == 1
    assert health.requested == Capacity()


def test_cluster_health_region_tie_goes_to_the_first_name_and_empty_cluster_is_zero() -> None:
    tie = [node("a", region="r2", zone="z2"), node("b", region="r1", zone="z1")]
    assert cluster_health(nodes=tie, pods=[], kubernetes_version="v").region == "r1"

    empty = cluster_health(nodes=[], pods=[], kubernetes_version="v")
    assert (empty.region, empty.zones, empty.nodes_total, empty.allocatable) == (
        "",
        (),
        0,
        Capacity(),
    )


def test_cluster_health_ignores_unreadable_quantities() -> None:
    broken = node("a", cpu="lots")
    health = cluster_health(nodes=[broken], pods=[], kubernetes_version="v")
    assert health.allocatable == Capacity(cpu_millis=0, memory_bytes=8 * 2**30, pods=110)


def test_observed_status_is_the_status_copy_except_for_secrets_and_configmaps() -> None:
    deployment: dict[str, Any] = {
        "kind": "Deployment",
        "status": {"replicas": 3, "conditions": [{"a": 1}]},
    }
    status = observed_status(deployment)
    assert status == {"replicas": 3, "conditions": [{"a": 1}]}
    assert status is not None
    status["conditions"].append({"b": 2})
    assert deployment["status"]["conditions"] == [{"a": 1}], "a copy, not the live object"

    assert observed_status({"kind": "Secret", "status": {"x": 1}}) is None
    assert observed_status({"kind": "ConfigMap", "status": {"x": 1}}) is None
    assert observed_status({"kind": "Service"}) is None
