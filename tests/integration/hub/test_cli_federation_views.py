"""The CLI of issue 4 end to end over real TLS: cluster labels, events, the per-cluster views of
the blog's ReplicaSet and Service, describe, and orphaning deletes.

The reconciler and the agents are stood in for: the test writes the placements (``FakePlacements``),
the per-cluster states the agents would report (including the ``kfedPods`` list) and events.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hubharness import EXAMPLES, ZONEFETCH, Hub, kfed

from kfed_core.keys import ResourceKey
from kfed_hub.desired import desired_version
from kfed_hub.ports import ObjectPlacement
from kfed_hub.store.protocol import ClusterObjectState, NewEvent

RS = ResourceKey(group="extensions", kind="ReplicaSet", namespace="default", name="nginx")
SVC = ResourceKey(group="core", kind="Service", namespace="default", name="nginx")
CM = ResourceKey(group="core", kind="ConfigMap", namespace="default", name="zone-fetch")


def ago(seconds: int) -> dt.datetime:
    return dt.datetime.now(dt.UTC) - dt.timedelta(seconds=seconds)


def pod(name: str, *, phase: str = "Running", reason: str = "") -> dict[str, object]:
    return {
        "name": name,
        "namespace": "default",
        "phase": phase,
        "ready": "2/2" if phase == "Running" else "0/2",
        "restarts": 0,
        "node": "node-1",
        "creationTimestamp": ago(25).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "reason": reason,
    }


async def test_labelling_clusters_like_kubectl(
    placed_hub: Hub, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = await kfed(capsys, "label", "cluster", "east", "provider=gce", "tier=gold")
    assert (code, out) == (0, "cluster/east labeled\n")
    assert placed_hub.clusters.views["east"].labels == {"provider": "gce", "tier": "gold"}
    code, out, err = await kfed(capsys, "label", "cluster", "east", "tier=silver")
    assert code == 1 and out == ""
    assert err == "error: 'tier' already has a value (gold), and --overwrite is false\n"
    code, out, _ = await kfed(capsys, "label", "cluster", "east", "tier=silver", "--overwrite")
    assert (code, out) == (0, "cluster/east labeled\n")
    code, out, _ = await kfed(capsys, "label", "cluster", "east", "tier-", "nope-")
    assert (code, out) == (0, 'label "nope" not found.\ncluster/east unlabeled\n')
    code, out, _ = await kfed(capsys, "label", "cluster", "east", "provider=gce")
    assert (code, out) == (0, "cluster/east not labeled\n")
    code, _, err = await kfed(capsys, "label", "cluster", "east", "bad/key/x=1")
    assert code == 1 and err.startswith('Error from server (Invalid): Cluster "east" is invalid')
    code, _, err = await kfed(capsys, "label", "cluster", "nowhere", "a=b")
    assert (
        code == 1 and err == 'Error from server (NotFound): clusters.kfed.io "nowhere" not found\n'
    )

    code, out, _ = await kfed(capsys, "get", "clusters", "--show-labels")
    assert [line.split()[-1] for line in out.splitlines()] == ["LABELS", "provider=gce", "<none>"]
    code, out, _ = await kfed(capsys, "get", "clusters", "-l", "provider=gce")
    assert [line.split()[0] for line in out.splitlines()] == ["NAME", "east"]

    # Federated objects are labelled the same way (kubectl's label command).
    await kfed(capsys, "apply", "-f", str(ZONEFETCH))
    code, out, _ = await kfed(capsys, "label", "cm", "zone-fetch", "team=web")
    assert (code, out) == (0, "configmap/zone-fetch labeled\n")
    code, out, _ = await kfed(capsys, "get", "cm", "--show-labels")
    assert out.splitlines()[1].split()[-1] == "team=web"


async def test_the_blogs_replicaset_per_cluster_with_pods_and_events(
    placed_hub: Hub, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = await kfed(
        capsys, "apply", "-f", str(EXAMPLES / "replicasets" / "nginx-rs.yaml")
    )
    assert code == 0, err
    assert placed_hub.placements is not None
    placed_hub.placements.placed[RS] = ObjectPlacement(
        clusters=("east", "west"),
        replicas={"east": 5, "west": 4},
        explanations={"east": "even spread: 9 over 2 (+1 by name)", "west": "even spread"},
    )
    stored = await placed_hub.store.get_object(RS)
    assert stored is not None
    version = desired_version(stored.manifest)
    running = {"replicas": 5, "fullyLabeledReplicas": 5, "readyReplicas": 5, "availableReplicas": 5}
    await placed_hub.store.put_object_states(
        [
            ClusterObjectState(
                cluster="east",
                key=RS,
                version=version,
                outcome="Applied",
                status=running | {"kfedPods": [pod("nginx-ph8zx"), pod("nginx-sbi5b")]},
            ),
            ClusterObjectState(
                cluster="west",
                key=RS,
                version=version,
                outcome="Applied",
                status={
                    "replicas": 4,
                    "readyReplicas": 3,
                    "availableReplicas": 3,
                    "kfedPods": [pod("nginx-zzzzz", phase="Pending", reason="Unschedulable")],
                },
            ),
        ]
    )
    await placed_hub.store.add_events(
        [
            NewEvent(
                type="Normal",
                reason="Scheduled",
                message="9 replicas: east 5, west 4",
                time=ago(60),
                key=RS,
            ),
            NewEvent(
                type="Warning",
                reason="ClusterNotReady",
                message="3 heartbeats missed",
                time=ago(30),
                cluster="west",
            ),
        ]
    )

    code, out, _ = await kfed(capsys, "get", "rs")
    assert out.splitlines()[1].split()[:4] == ["nginx", "9", "9", "8"]
    code, out, _ = await kfed(capsys, "get", "rs", "--clusters")
    sections = out.split("\n\n")
    assert sections[0].splitlines()[:2] == [
        "CLUSTER east (Ready)",
        "NAME    DESIRED   CURRENT   READY   AGE",
    ]
    assert sections[0].splitlines()[2].split()[:4] == ["nginx", "5", "5", "5"]
    assert sections[1].splitlines()[2].split()[:4] == ["nginx", "4", "4", "3"]
    code, out, _ = await kfed(capsys, "get", "pods", "--clusters")
    assert [line.split()[:3] for line in out.splitlines() if line.startswith("nginx-")] == [
        ["nginx-ph8zx", "2/2", "Running"],
        ["nginx-sbi5b", "2/2", "Running"],
        ["nginx-zzzzz", "0/2", "Unschedulable"],
    ]
    code, _, err = await kfed(capsys, "get", "pods")
    assert code == 1 and "kfed get pods --clusters" in err

    code, out, _ = await kfed(capsys, "describe", "rs", "nginx")
    assert "Replicas:     9 desired | 9 current | 8 ready | 8 available" in out
    assert "Scheduled:    True (Scheduled) 9 replicas in 2 clusters" in out
    assert (
        "Available:    False (ReplicasUnavailable) 8/9 replicas available; short in west (3/4)"
        in out
    )
    table = out[out.index("Replicas per cluster:") :].splitlines()
    assert table[2].split(maxsplit=5) == [
        "east",
        "5",
        "5",
        "5",
        "5",
        "even spread: 9 over 2 (+1 by name)",
    ]
    events = out[out.index("Events:") :].splitlines()
    kind, reason, age, source, message = events[3].split(maxsplit=4)
    assert (kind, reason, source, message) == (
        "Normal",
        "Scheduled",
        "kfed-hub",
        "9 replicas: east 5, west 4",
    )
    assert age in ("60s", "61s", "62s")  # recorded a minute before

    code, out, _ = await kfed(capsys, "get", "events")
    assert out.splitlines()[0].split() == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert [line.split()[3] for line in out.splitlines()[1:]] == [
        "replicaset/nginx",
        "cluster/west",
    ]
    code, out, _ = await kfed(capsys, "get", "events", "-A", "-o", "yaml")
    assert "involvedObject:" in out and "kind: EventList" not in out
    code, out, _ = await kfed(capsys, "describe", "cluster", "west")
    assert "Warning  ClusterNotReady" in out and "3 heartbeats missed" in out


async def test_describe_service_lists_every_clusters_address(
    placed_hub: Hub, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = await kfed(capsys, "apply", "-f", str(EXAMPLES / "services" / "nginx.yaml"))
    assert code == 0, err
    assert placed_hub.placements is not None
    placed_hub.placements.placed[SVC] = ObjectPlacement(clusters=("east", "west"))
    stored = await placed_hub.store.get_object(SVC)
    assert stored is not None
    await placed_hub.store.put_object_states(
        [
            ClusterObjectState(
                cluster=cluster,
                key=SVC,
                version=desired_version(stored.manifest),
                outcome="Applied",
                status={"loadBalancer": {"ingress": [{"ip": ip}]}},
            )
            for cluster, ip in (("east", "104.199.1.1"), ("west", "108.59.2.2"))
        ]
    )
    code, out, _ = await kfed(capsys, "describe", "services", "nginx")
    lines = out.splitlines()
    at = lines.index("LoadBalancer Ingress: 104.199.1.1 (east)")
    assert lines[at + 1].strip() == "108.59.2.2 (west)"
    code, out, _ = await kfed(capsys, "get", "svc", "nginx", "-o", "json")
    assert '"ip": "108.59.2.2"' in out


async def test_orphaning_deletes_say_so_and_leave_tombstones(
    placed_hub: Hub, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    await kfed(capsys, "apply", "-f", str(ZONEFETCH))
    code, out, _ = await kfed(capsys, "delete", "cm", "zone-fetch", "--cascade=orphan")
    assert (code, out) == (
        0,
        'configmap "zone-fetch" deleted (orphaned: left in member clusters)\n',
    )
    assert await placed_hub.store.orphans() == frozenset({CM})
    await kfed(capsys, "apply", "-f", str(ZONEFETCH))
    assert await placed_hub.store.orphans() == frozenset()  # created again: kfed's again
    code, out, _ = await kfed(capsys, "delete", "-f", str(ZONEFETCH), "--cascade", "orphan")
    assert out == 'configmap "zone-fetch" deleted (orphaned: left in member clusters)\n'
    await kfed(capsys, "apply", "-f", str(ZONEFETCH))
    code, out, _ = await kfed(capsys, "delete", "cm", "zone-fetch")
    assert (code, out) == (0, 'configmap "zone-fetch" deleted\n')
    assert await placed_hub.store.orphans() == frozenset()
    code, _, err = await kfed(capsys, "delete", "cm", "x", "--cascade=sometimes")
    assert code == 1 and err.startswith("error: invalid cascade value (sometimes).")
