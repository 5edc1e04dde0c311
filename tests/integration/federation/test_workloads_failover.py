"""Failover and return, capacity overflow, dependencies, placement, overrides, deletion with a
cluster offline, orphaning, and federated events."""

from __future__ import annotations

import json
import time
from typing import Any

from fedharness import Federation, eventually

RS_PATH = "/apis/apps/v1/namespaces/default/replicasets"


def replica_set(name: str, replicas: int, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": name, "annotations": extra.pop("annotations", {})},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [
                        {"name": "web", "image": "nginx:1.27", **extra.pop("container", {})}
                    ],
                    **extra.pop("pod", {}),
                },
            },
        },
    }
    return body


async def spread(fed: Federation, name: str) -> dict[str, int | None]:
    return {c: await fed.member_replicas(c, name) for c in ("east", "west", "north")}


async def test_failover_plans_replicas_away_and_the_cluster_gets_them_back(
    federation: Federation,
) -> None:
    fed = federation
    await fed.api("POST", RS_PATH, replica_set("web", 6))
    await eventually(lambda: _is(spread(fed, "web"), {"east": 2, "west": 2, "north": 2}))
    lost = time.monotonic()
    await fed.stop_agent("north")
    # north keeps its 2 (nothing is deleted there); east and west carry all 6
    await eventually(
        lambda: _is(spread(fed, "web"), {"east": 3, "west": 3, "north": 2}),
        what="failover onto east and west",
    )
    failover_seconds = time.monotonic() - lost
    assert failover_seconds < 10
    await fed.start_agent("north")
    await eventually(
        lambda: _is(spread(fed, "web"), {"east": 2, "west": 2, "north": 2}),
        within=20,
        what="north's share back after it returned",
    )
    events = await fed.api("GET", "/apis/kfed.io/v1alpha1/events")
    reasons = {e["reason"] for e in events["items"]}
    assert {"Scheduled", "FailedOver", "ClusterNotReady"} <= reasons


async def _is(current: Any, wanted: dict[str, int]) -> bool:
    return await current == wanted


async def test_a_cluster_whose_pods_do_not_fit_gets_fewer_and_the_rest_overflow(
    federation: Federation,
) -> None:
    fed = federation
    # each simulated node has 4 CPUs: 3 pods of 1.5 CPU fit nowhere but 2 per cluster
    big = replica_set("big", 6, container={"resources": {"requests": {"cpu": "1500m"}}})
    big["metadata"]["annotations"]["federation.kubernetes.io/replica-set-preferences"] = json.dumps(
        {"rebalance": True, "clusters": {"east": {"weight": 4}, "*": {"weight": 1}}}
    )
    await fed.api("POST", RS_PATH, big)

    async def overflowed() -> bool:
        now = await spread(fed, "big")
        return now["east"] == 2 and sum(n or 0 for n in now.values()) == 6

    await eventually(overflowed, within=20, what="east capped at 2, the rest overflowed")


async def test_config_used_by_a_workload_follows_it(federation: Federation) -> None:
    fed = federation
    config = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "site", "annotations": {"kfed.io/clusters": "east"}},
        "data": {"index.html": "hi"},
    }
    await fed.api("POST", "/api/v1/namespaces/default/configmaps", config)
    await eventually(lambda: fed.everywhere("ConfigMap", "default", "site", clusters=("east",)))
    assert await fed.member("west", "v1", "ConfigMap", "default", "site") is None
    uses = replica_set(
        "uses-site",
        1,
        annotations={"kfed.io/clusters": "west"},
        pod={"volumes": [{"name": "site", "configMap": {"name": "site"}}]},
    )
    await fed.api("POST", RS_PATH, uses)
    await eventually(
        lambda: fed.everywhere("ConfigMap", "default", "site", clusters=("east", "west")),
        what="the configmap to follow its workload to west",
    )
    assert await fed.member("north", "v1", "ConfigMap", "default", "site") is None


async def test_placement_by_cluster_labels_and_overrides(federation: Federation) -> None:
    fed = federation
    await fed.api(
        "PATCH", "/apis/kfed.io/v1alpha1/clusters/west", {"metadata": {"labels": {"tier": "gold"}}}
    )
    overrides = [
        {
            "clusterSelector": "region=us-west1",
            "path": "/spec/template/spec/containers/0/image",
            "value": "registry.us-west1.example/nginx:1.27",
        }
    ]
    gold = replica_set(
        "gold",
        2,
        annotations={
            "kfed.io/cluster-selector": "tier=gold",
            "kfed.io/overrides": json.dumps(overrides),
        },
    )
    await fed.api("POST", RS_PATH, gold)
    await eventually(lambda: _is(spread(fed, "gold"), {"east": None, "west": 2, "north": None}))
    member = await fed.member("west", "apps/v1", "ReplicaSet", "default", "gold")
    image = member["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == "registry.us-west1.example/nginx:1.27"
    assert "kfed.io/overrides" not in member["metadata"].get("annotations", {})


async def test_deleting_while_a_cluster_is_offline_removes_it_there_on_return(
    federation: Federation,
) -> None:
    fed = federation
    await fed.api("POST", RS_PATH, replica_set("gone", 3))
    await eventually(lambda: _is(spread(fed, "gone"), {"east": 1, "west": 1, "north": 1}))
    await fed.stop_agent("north")
    await fed.api("DELETE", f"{RS_PATH}/gone")
    await eventually(lambda: _is(spread(fed, "gone"), {"east": None, "west": None, "north": 1}))
    await fed.start_agent("north")
    await eventually(
        lambda: _is(spread(fed, "gone"), {"east": None, "west": None, "north": None}),
        what="north to prune it when it returned",
    )


async def test_orphaning_deletion_leaves_member_objects_unmanaged(federation: Federation) -> None:
    fed = federation
    await fed.put_configmap("keep-me", {"a": "1"})
    await eventually(lambda: fed.everywhere("ConfigMap", "default", "keep-me"))
    await fed.api(
        "DELETE", "/api/v1/namespaces/default/configmaps/keep-me?propagationPolicy=Orphan"
    )

    def released(obj: Any) -> bool:
        labels = (obj or {}).get("metadata", {}).get("labels") or {}
        return obj is not None and "app.kubernetes.io/managed-by" not in labels

    await eventually(
        lambda: fed.everywhere("ConfigMap", "default", "keep-me", released),
        what="members to keep the configmap without kfed's marks",
    )
