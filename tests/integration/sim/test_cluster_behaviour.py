"""Cluster behaviour: controllers, scheduling, load balancer traffic and faults."""

from __future__ import annotations

import socket
from typing import Any

import pytest
import requests
import urllib3
from kubernetes import client
from kubernetes.client.rest import ApiException

from kfed_local.sim.faults import FleetError
from kfed_local.sim.threaded import FleetThread, wait_for


def deployment(name: str, replicas: int, image: str = "nginx:1.25", **pod: Any) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "web", "image": image, "ports": [{"containerPort": 80}]}
    container.update(pod.pop("container", {}))
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [container], **pod},
            },
        },
    }


def ready_replicas(apps: client.AppsV1Api, ns: str, name: str) -> int:
    return apps.read_namespaced_deployment(name, ns).status.ready_replicas or 0


def test_deployment_makes_a_replicaset_and_ready_pods(east: client.ApiClient, ns: str) -> None:
    apps, core = client.AppsV1Api(east), client.CoreV1Api(east)
    apps.create_namespaced_deployment(ns, deployment("web", 3))
    wait_for(lambda: ready_replicas(apps, ns, "web") == 3, what="3 ready replicas")
    status = apps.read_namespaced_deployment("web", ns).status
    assert (status.replicas, status.updated_replicas, status.available_replicas) == (3, 3, 3)
    assert status.observed_generation == 1
    conditions = {c.type: (c.status, c.reason) for c in status.conditions}
    assert conditions["Available"] == ("True", "MinimumReplicasAvailable")
    assert conditions["Progressing"] == ("True", "NewReplicaSetAvailable")
    replicasets = apps.list_namespaced_replica_set(ns).items
    assert len(replicasets) == 1
    rs = replicasets[0]
    assert rs.metadata.owner_references[0].kind == "Deployment"
    pod_hash = rs.metadata.labels["pod-template-hash"]
    assert rs.metadata.name == f"web-{pod_hash}"
    pods = core.list_namespaced_pod(ns).items
    assert len(pods) == 3
    for pod in pods:
        assert pod.status.phase == "Running"
        assert pod.metadata.name.startswith(f"web-{pod_hash}-")
        assert pod.spec.node_name and pod.status.pod_ip
        assert [c.ready for c in pod.status.container_statuses] == [True]


def test_rolling_update_replaces_every_pod(east: client.ApiClient, ns: str) -> None:
    apps, core = client.AppsV1Api(east), client.CoreV1Api(east)
    apps.create_namespaced_deployment(ns, deployment("roll", 4))
    wait_for(lambda: ready_replicas(apps, ns, "roll") == 4, what="first rollout")
    apps.patch_namespaced_deployment(
        "roll",
        ns,
        {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}},
    )

    def rolled_out() -> bool:
        d = apps.read_namespaced_deployment("roll", ns)
        s = d.status
        return bool(
            s.observed_generation == d.metadata.generation == 2
            and s.updated_replicas == 4
            and s.replicas == 4
            and s.available_replicas == 4
        )

    wait_for(rolled_out, what="second rollout")
    images = {
        p.spec.containers[0].image
        for p in core.list_namespaced_pod(ns).items
        if not p.metadata.deletion_timestamp
    }
    assert images == {"nginx:1.27"}
    revisions = sorted(
        int(rs.metadata.annotations["deployment.kubernetes.io/revision"])
        for rs in apps.list_namespaced_replica_set(ns).items
    )
    assert revisions == [1, 2]


def test_replicaset_replaces_deleted_pods_and_scales_down(east: client.ApiClient, ns: str) -> None:
    apps, core = client.AppsV1Api(east), client.CoreV1Api(east)
    rs = deployment("rs", 2)
    rs["kind"] = "ReplicaSet"
    apps.create_namespaced_replica_set(ns, rs)
    wait_for(
        lambda: (apps.read_namespaced_replica_set("rs", ns).status.ready_replicas or 0) == 2,
        what="2 ready",
    )
    victim = core.list_namespaced_pod(ns).items[0].metadata.name
    core.delete_namespaced_pod(victim, ns)
    wait_for(
        lambda: (
            len(
                [
                    p
                    for p in core.list_namespaced_pod(ns).items
                    if p.metadata.name != victim and p.status.phase == "Running"
                ]
            )
            == 2
        ),
        what="replacement pod",
    )
    apps.patch_namespaced_replica_set("rs", ns, {"spec": {"replicas": 0}})
    wait_for(lambda: core.list_namespaced_pod(ns).items == [], what="scale to zero")
    events = {e.reason for e in core.list_namespaced_event(ns).items}
    assert {"SuccessfulCreate", "SuccessfulDelete", "Scheduled"} <= events


def test_pod_that_fits_nowhere_is_unschedulable(east: client.ApiClient, ns: str) -> None:
    core = client.CoreV1Api(east)
    core.create_namespaced_pod(
        ns,
        {
            "metadata": {"name": "huge"},
            "spec": {
                "containers": [
                    {"name": "c", "image": "nginx", "resources": {"requests": {"cpu": "64"}}}
                ]
            },
        },
    )

    def unschedulable() -> Any:
        pod = core.read_namespaced_pod("huge", ns)
        return next(
            (
                c
                for c in pod.status.conditions or []
                if c.type == "PodScheduled" and c.status == "False"
            ),
            None,
        )

    condition = wait_for(unschedulable, what="PodScheduled=False")
    assert condition.reason == "Unschedulable"
    assert condition.message.startswith("0/2 nodes are available: 2 Insufficient cpu.")
    pod = core.read_namespaced_pod("huge", ns)
    assert pod.status.phase == "Pending" and pod.spec.node_name is None
    reasons = [e.reason for e in core.list_namespaced_event(ns).items]
    assert "FailedScheduling" in reasons


def test_scheduler_fills_nodes_by_requests_against_allocatable(
    east: client.ApiClient, ns: str
) -> None:
    apps, core = client.AppsV1Api(east), client.CoreV1Api(east)
    # east has 2 nodes of 2 cpu each: 5 pods of 700m fit 2 per node; the fifth stays pending.
    apps.create_namespaced_deployment(
        ns, deployment("cpu", 5, container={"resources": {"requests": {"cpu": "700m"}}})
    )
    wait_for(lambda: ready_replicas(apps, ns, "cpu") == 4, what="4 running")
    pods = core.list_namespaced_pod(ns).items
    per_node: dict[str, int] = {}
    for pod in pods:
        if pod.spec.node_name:
            per_node[pod.spec.node_name] = per_node.get(pod.spec.node_name, 0) + 1
    assert sorted(per_node.values()) == [2, 2]
    pending = [p for p in pods if not p.spec.node_name]
    assert len(pending) == 1
    apps.patch_namespaced_deployment("cpu", ns, {"spec": {"replicas": 0}})
    wait_for(lambda: core.list_namespaced_pod(ns).items == [], what="scale down")


def test_nodes_report_topology_and_allocatable(east: client.ApiClient) -> None:
    nodes = client.CoreV1Api(east).list_node().items
    assert {n.metadata.labels["topology.kubernetes.io/zone"] for n in nodes} == {
        "us-east1-b",
        "us-east1-c",
    }
    for node in nodes:
        assert node.metadata.labels["topology.kubernetes.io/region"] == "us-east1"
        assert node.status.allocatable["cpu"] == "2"
        assert node.status.allocatable["memory"] == "4Gi"
        ready = next(c for c in node.status.conditions if c.type == "Ready")
        assert ready.status == "True"


# -- services, endpoints and traffic ----------------------------------------------------------


def lb_service(name: str, port: int) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {
            "type": "LoadBalancer",
            "selector": {"app": name},
            "ports": [{"name": "http", "port": port, "targetPort": 80}],
        },
    }


def free_port(address: str) -> int:
    with socket.socket() as probe:
        probe.bind((address, 0))
        port: int = probe.getsockname()[1]
    return port


def test_load_balancer_serves_ready_pods_in_turn(
    sim: FleetThread, east: client.ApiClient, ns: str
) -> None:
    apps, core = client.AppsV1Api(east), client.CoreV1Api(east)
    cluster = sim.fleet.cluster("east")  # type: ignore[union-attr]
    port = free_port(cluster.address)
    core.create_namespaced_service(ns, lb_service("lb", port))
    apps.create_namespaced_deployment(ns, deployment("lb", 2))
    wait_for(lambda: ready_replicas(apps, ns, "lb") == 2, what="2 ready")
    service = wait_for(
        lambda: core.read_namespaced_service("lb", ns).status.load_balancer.ingress,
        what="LB address",
    )
    assert service[0].ip == cluster.address
    endpoints = wait_for(lambda: core.read_namespaced_endpoints("lb", ns).subsets, what="endpoints")
    assert len(endpoints[0].addresses) == 2
    url = f"http://{cluster.address}:{port}/"
    answers = wait_for(lambda: _get(url), what="listener")
    pods = {answers.headers["X-Kfed-Pod"]}
    for _ in range(3):
        pods.add(requests.get(url, timeout=5).headers["X-Kfed-Pod"])
    assert len(pods) == 2
    zone = answers.headers["X-Kfed-Zone"]
    assert f"You are being served from {zone}" in answers.text
    assert answers.headers["X-Kfed-Cluster"] == "east"
    apps.patch_namespaced_deployment("lb", ns, {"spec": {"replicas": 0}})
    wait_for(lambda: _refused(url), what="listener closed with no ready pod")


def _get(url: str) -> requests.Response | None:
    try:
        return requests.get(url, timeout=5)
    except requests.ConnectionError:
        return None


def _refused(url: str) -> bool:
    try:
        requests.get(url, timeout=5)
    except requests.ConnectionError:
        return True
    return False


def test_endpoint_slices_follow_pods(east: client.ApiClient, ns: str) -> None:
    apps, core = client.AppsV1Api(east), client.CoreV1Api(east)
    core.create_namespaced_service(
        ns, {"metadata": {"name": "s"}, "spec": {"selector": {"app": "s"}, "ports": [{"port": 80}]}}
    )
    apps.create_namespaced_deployment(ns, deployment("s", 2))
    discovery = client.DiscoveryV1Api(east)

    def ready_endpoints() -> int:
        slices = discovery.list_namespaced_endpoint_slice(
            ns, label_selector="kubernetes.io/service-name=s"
        ).items
        return sum(1 for s in slices for e in s.endpoints or [] if e.conditions.ready)

    wait_for(lambda: ready_endpoints() == 2, what="2 ready endpoints in the slice")


def test_ingress_gets_the_cluster_address(
    sim: FleetThread, east: client.ApiClient, ns: str
) -> None:
    networking = client.NetworkingV1Api(east)
    networking.create_namespaced_ingress(
        ns,
        {
            "metadata": {"name": "i"},
            "spec": {"defaultBackend": {"service": {"name": "s", "port": {"number": 80}}}},
        },
    )
    address = sim.fleet.cluster("east").address  # type: ignore[union-attr]
    wait_for(
        lambda: (
            (networking.read_namespaced_ingress("i", ns).status.load_balancer.ingress or [None])[0]
            is not None
        ),
        what="ingress address",
    )
    assert networking.read_namespaced_ingress("i", ns).status.load_balancer.ingress[0].ip == address


# -- faults -----------------------------------------------------------------------------------


def test_zone_down_evicts_and_reschedules_pods(fault_sim: FleetThread) -> None:
    from kubernetes import config

    api = config.new_client_from_config(str(fault_sim.kubeconfig_path), context="f1")
    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    apps.create_namespaced_deployment("default", deployment("z", 4))
    wait_for(lambda: ready_replicas(apps, "default", "z") == 4, what="4 ready")
    from kfed_local.sim.faults import FaultTarget

    fault_sim.call(lambda f: f.fault(FaultTarget(scope="zone", name="europe-west1-b"), True))
    down_node = next(
        n.metadata.name
        for n in core.list_node().items
        if n.metadata.labels["topology.kubernetes.io/zone"] == "europe-west1-b"
    )
    node = wait_for(lambda: _not_ready(core, down_node), what="node NotReady")
    taints = {(t.key, t.effect) for t in node.spec.taints}
    assert ("node.kubernetes.io/unreachable", "NoExecute") in taints

    def all_on_healthy_node() -> bool:
        pods = [
            p
            for p in core.list_namespaced_pod("default").items
            if not p.metadata.deletion_timestamp
        ]
        return len(pods) == 4 and all(
            p.spec.node_name != down_node and p.status.phase == "Running" for p in pods
        )

    wait_for(all_on_healthy_node, timeout=15, what="pods rescheduled to the healthy zone")
    stuck = [p for p in core.list_namespaced_pod("default").items if p.metadata.deletion_timestamp]
    assert all(p.spec.node_name == down_node for p in stuck)  # Terminating until the node returns
    fault_sim.call(lambda f: f.fault(FaultTarget(scope="zone", name="europe-west1-b"), False))
    wait_for(
        lambda: (
            not [
                p
                for p in core.list_namespaced_pod("default").items
                if p.metadata.deletion_timestamp
            ]
        ),
        what="terminating pods finalized",
    )


def _not_ready(core: client.CoreV1Api, name: str) -> Any:
    node = core.read_node(name)
    ready = next(c for c in node.status.conditions if c.type == "Ready")
    return node if ready.status == "Unknown" else None


def test_cluster_down_serves_no_traffic_and_api_is_unreachable(fault_sim: FleetThread) -> None:
    from kubernetes import config

    from kfed_local.sim.faults import FaultTarget

    api = config.new_client_from_config(str(fault_sim.kubeconfig_path), context="f1")
    api.configuration.retries = 0
    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    cluster = fault_sim.fleet.cluster("f1")  # type: ignore[union-attr]
    port = free_port(cluster.address)
    core.create_namespaced_service("default", lb_service("d", port))
    apps.create_namespaced_deployment("default", deployment("d", 2))
    url = f"http://{cluster.address}:{port}/"
    wait_for(lambda: _get(url), what="traffic")
    fault_sim.call(lambda f: f.fault(FaultTarget(scope="cluster", name="f1"), True))
    assert _refused(url)
    with pytest.raises(urllib3.exceptions.HTTPError):  # a read timeout on a blackholed API
        core.list_namespace(_request_timeout=1)
    fault_sim.call(lambda f: f.fault(FaultTarget(scope="cluster", name="f1"), False))
    wait_for(lambda: _get(url), what="traffic back")
    assert core.list_namespace().items


def test_api_server_stop_refuses_connections_and_keeps_state(fault_sim: FleetThread) -> None:
    from kubernetes import config

    api = config.new_client_from_config(str(fault_sim.kubeconfig_path), context="f1")
    core = client.CoreV1Api(api)
    core.create_namespaced_config_map("default", {"metadata": {"name": "kept"}})
    cluster = fault_sim.fleet.cluster("f1")  # type: ignore[union-attr]
    fault_sim.call(lambda f: cluster.set_api_server_running(False))
    with socket.socket() as probe:
        probe.settimeout(2)
        assert probe.connect_ex((cluster.address, cluster.port)) != 0  # refused
    fault_sim.call(lambda f: cluster.set_api_server_running(True))
    assert core.read_namespaced_config_map("kept", "default").metadata.name == "kept"


def test_unreachable_cluster_accepts_connections_but_never_answers(fault_sim: FleetThread) -> None:
    cluster = fault_sim.fleet.cluster("f1")  # type: ignore[union-attr]
    fault_sim.call(lambda f: cluster.set_unreachable(True))
    with socket.create_connection((cluster.address, cluster.port), timeout=2) as conn:
        conn.settimeout(0.5)
        conn.sendall(b"\x16\x03\x01\x00\x05hello")
        with pytest.raises(TimeoutError):
            conn.recv(1)
    fault_sim.call(lambda f: cluster.set_unreachable(False))


def test_fault_on_unknown_target_names_the_known_ones(fault_sim: FleetThread) -> None:
    from kfed_local.sim.faults import FaultTarget, FleetError

    with pytest.raises(FleetError, match="regions: europe-west1"):
        fault_sim.call(lambda f: f.fault(FaultTarget(scope="region", name="mars-1"), True))


def test_deleting_a_deployment_cascades_to_pods(east: client.ApiClient, ns: str) -> None:
    apps, core = client.AppsV1Api(east), client.CoreV1Api(east)
    apps.create_namespaced_deployment(ns, deployment("gone", 2))
    wait_for(lambda: ready_replicas(apps, ns, "gone") == 2, what="2 ready")
    apps.delete_namespaced_deployment("gone", ns)
    wait_for(
        lambda: (
            core.list_namespaced_pod(ns).items == []
            and apps.list_namespaced_replica_set(ns).items == []
        ),
        what="cascade",
    )
    with pytest.raises(ApiException):
        apps.read_namespaced_deployment("gone", ns)


def test_single_node_down_moves_its_pods_to_the_other_node(fault_sim: FleetThread) -> None:
    from kubernetes import config

    from kfed_local.sim.faults import FaultTarget

    api = config.new_client_from_config(str(fault_sim.kubeconfig_path), context="f1")
    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    apps.create_namespaced_deployment("default", deployment("n", 2))
    wait_for(lambda: ready_replicas(apps, "default", "n") == 2, what="2 ready")
    victim = core.list_namespaced_pod("default").items[0].spec.node_name
    fault_sim.call(lambda f: f.fault(FaultTarget(scope="node", name=victim), True))

    def moved() -> bool:
        pods = [
            p
            for p in core.list_namespaced_pod("default").items
            if not p.metadata.deletion_timestamp
        ]
        return len(pods) == 2 and all(
            p.spec.node_name != victim and p.status.phase == "Running" for p in pods
        )

    wait_for(moved, timeout=15, what="pods off the down node")
    with pytest.raises(FleetError, match="no node named 'nope'"):
        fault_sim.call(lambda f: f.fault(FaultTarget(scope="node", name="nope"), True))
