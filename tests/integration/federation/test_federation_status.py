"""Observed status flows back, failures carry their reason, and reconnects re-apply nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import yaml
from fedharness import Federation, eventually

SEED = Path(__file__).resolve().parents[3] / "examples" / "federation-2016"


def _seed(path: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((SEED / path).read_text())
    return loaded


async def _cluster_states(fed: Federation, path: str) -> dict[str, dict[str, Any]]:
    obj = await fed.api("GET", path)
    return {entry["cluster"]: entry for entry in obj["status"].get("clusters", [])}


async def test_the_seed_service_reports_every_clusters_load_balancer(
    federation: Federation,
) -> None:
    fed = federation
    await fed.api("POST", "/api/v1/namespaces/default/services", _seed("services/nginx.yaml"))
    path = "/api/v1/namespaces/default/services/nginx"

    async def addresses() -> dict[str, str]:
        states = await _cluster_states(fed, path)
        found = {}
        for cluster, entry in states.items():
            ingress = ((entry.get("observed") or {}).get("loadBalancer") or {}).get("ingress")
            if ingress:
                found[cluster] = ingress[0].get("ip") or ingress[0].get("hostname")
        return found if len(found) == 3 else {}

    found = await eventually(addresses, what="a load balancer address from every cluster")
    assert len(set(found.values())) == 3  # each cluster has its own address


async def test_deployment_status_is_observed(federation: Federation) -> None:
    fed = federation
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]},
            },
        },
    }
    await fed.api("POST", "/apis/apps/v1/namespaces/default/deployments", deployment)
    path = "/apis/apps/v1/namespaces/default/deployments/web"

    async def ready() -> bool:
        obj = await fed.api("GET", path)
        states = {e["cluster"]: e for e in obj["status"]["clusters"]}
        observed = sum((s.get("observed") or {}).get("readyReplicas") or 0 for s in states.values())
        return obj["status"].get("readyReplicas") == 2 and observed == 2 and len(states) == 3

    await eventually(ready, what="2 ready replicas, spread over the clusters, summed")


async def test_an_object_a_member_cannot_apply_fails_with_its_reason(
    federation: Federation,
) -> None:
    fed = federation
    # The hub checks names and kinds; the members validate the pod template (an invalid
    # container name), as a real API server does.
    bad = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": "bad"},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "bad"}},
            "template": {
                "metadata": {"labels": {"app": "bad"}},
                "spec": {"containers": [{"name": "Not_A_Name", "image": "nginx"}]},
            },
        },
    }
    await fed.api("POST", "/apis/apps/v1/namespaces/default/replicasets", bad)
    path = "/apis/apps/v1/namespaces/default/replicasets/bad"

    async def failed_everywhere() -> dict[str, dict[str, Any]]:
        states = await _cluster_states(fed, path)
        return (
            states
            if len(states) == 3 and all(s["outcome"] == "Failed" for s in states.values())
            else {}
        )

    states = await eventually(failed_everywhere, what="a Failed result from every cluster")
    assert all("Not_A_Name" in s["message"] for s in states.values())
    obj = await fed.api("GET", path)
    conditions = {c["type"]: c for c in obj["status"]["conditions"]}
    assert conditions["Propagated"]["status"] == "False"
    assert conditions["Propagated"]["reason"] == "ApplyFailed"
    # The failure is not retried in a hot loop: one failed result per cluster.
    await asyncio.sleep(0.5)
    errors = fed.hub.metrics.apply_errors.labels("east", "Invalid")._value.get()
    assert errors == 1


async def test_a_reconnecting_agent_reapplies_nothing_unchanged(federation: Federation) -> None:
    fed = federation
    for n in range(20):
        await fed.put_configmap(f"steady-{n}", {"n": str(n)})
    await eventually(lambda: fed.everywhere("ConfigMap", "default", "steady-19"))
    before = await fed.member("west", "v1", "ConfigMap", "default", "steady-0")
    await fed.stop_agent("west")
    agent = await fed.start_agent("west")
    await eventually(lambda: _connected(agent), what="west reconnected")
    await fed.put_configmap("marker", {"after": "reconnect"})
    await eventually(lambda: fed.everywhere("ConfigMap", "default", "marker", clusters=("west",)))
    # The object is in the cluster a moment before the agent counts its apply. Batches are
    # applied in order, so re-applied steady objects would be counted before the marker.
    await eventually(lambda: _applied_any(agent), what="west's apply of the marker counted")
    assert agent.metrics.applies._value.get() == 1  # only the marker
    after = await fed.member("west", "v1", "ConfigMap", "default", "steady-0")
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]


async def _applied_any(agent: Any) -> bool:
    return bool(agent.metrics.applies._value.get())


async def _connected(agent: Any) -> bool:
    return bool(agent.metrics.connected._value.get())


async def test_a_rejoined_cluster_that_holds_the_objects_counts_as_propagated(
    federation: Federation,
) -> None:
    fed = federation
    await fed.put_configmap("kept", {"a": "1"})
    await eventually(lambda: fed.everywhere("ConfigMap", "default", "kept"))
    await fed.api("DELETE", "/apis/kfed.io/v1alpha1/clusters/west")
    await eventually(lambda: _task_done(fed, "west/agent"), what="west's agent to stop")
    fed.agents.pop("west/agent")
    (fed.tmp / "agent-west").rename(fed.tmp / "agent-west-removed")
    await fed.join("west")
    agent = await fed.start_agent("west")
    path = "/api/v1/namespaces/default/configmaps/kept"

    async def propagated() -> bool:
        obj = await fed.api("GET", path)
        conditions = {c["type"]: c for c in obj["status"]["conditions"]}
        return conditions["Propagated"]["status"] == "True"

    await eventually(propagated, what="Propagated=True again after west rejoined")
    assert agent.metrics.applies._value.get() == 0  # it already held the object


async def _task_done(fed: Federation, name: str) -> bool:
    return fed.agents[name].done()
