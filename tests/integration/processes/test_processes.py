"""The real processes: ``kfed hub serve``, ``kfed token create``, ``kfed join``, ``kfed-agent``
and ``kfed get clusters``; then SIGKILL of the hub mid-update and of the leading agent."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config
from prochelpers import PID_IN_IDENTITY, Processes, processes, wait_until

from kfed_hub.client import HubClient, HubError
from kfed_local.sim.cluster import SimOptions
from kfed_local.sim.config import ClusterSpec
from kfed_local.sim.threaded import FleetThread

NAMES = ("east", "west", "north")


@pytest.fixture
def fleet() -> Iterator[FleetThread]:
    specs = [
        ClusterSpec(name="east", region="us-east1", zones=("us-east1-b",), nodes=1),
        ClusterSpec(name="west", region="us-west1", zones=("us-west1-a",), nodes=1),
        ClusterSpec(name="north", region="europe-north1", zones=("europe-north1-a",), nodes=1),
    ]
    with FleetThread(specs, options=SimOptions(bookmark_interval=0.5)) as running:
        yield running


@pytest.fixture
def procs(tmp_path: Path, fleet: FleetThread) -> Iterator[Processes]:
    with processes(tmp_path, fleet.kubeconfig_path) as running:
        running.start_hub()
        for name in NAMES:
            running.join(name)
            running.start_agent(name)
        wait_until(
            lambda: running.cluster_table() == dict.fromkeys(NAMES, "Ready"),
            what="three Ready clusters",
        )
        yield running


class _Core:
    """Reads from a member cluster with the official client."""

    def __init__(self, fleet: FleetThread, name: str) -> None:
        self.api = config.new_client_from_config(str(fleet.kubeconfig_path), context=name)
        self.core = client.CoreV1Api(self.api)

    def configmap(self, name: str) -> dict[str, str] | None:
        try:
            found = self.core.read_namespaced_config_map(name, "default")
        except client.ApiException as exc:
            if exc.status == 404:
                return None
            raise
        return dict(found.data or {})

    def close(self) -> None:
        self.api.close()


def test_three_clusters_joined_through_tokens_show_ready(procs: Processes) -> None:
    table = procs.kfed("get", "clusters").stdout.splitlines()
    assert table[0].split() == ["NAME", "STATUS", "AGE"]
    assert sorted(line.split()[0] for line in table[1:]) == sorted(NAMES)
    wide = procs.kfed("get", "clusters", "-o", "wide").stdout
    assert "REGION" in wide and "us-east1" in wide and "europe-north1" in wide


def test_the_seed_configmap_is_applied_and_shown_per_cluster(procs: Processes) -> None:
    seed = Path(__file__).resolve().parents[3] / "examples" / "federation-2016" / "configmaps"
    assert procs.kfed("apply", "-f", str(seed)).stdout.strip() == "configmap/zone-fetch created"
    assert "unchanged" in procs.kfed("apply", "-f", str(seed)).stdout

    def every_cluster_current() -> str | None:
        shown = procs.kfed("get", "configmaps", "zone-fetch", "--clusters").stdout
        rows = [line.split() for line in shown.splitlines() if line.startswith("zone-fetch")]
        return shown if len(rows) == 3 and all(row[2] == "yes" for row in rows) else None

    shown = wait_until(every_cluster_current, what="zone-fetch current in every cluster")
    assert all(f"CLUSTER {name}" in shown for name in NAMES)
    described = procs.kfed("describe", "configmap", "zone-fetch").stdout
    assert "Propagated:" in described and "True" in described
    assert procs.kfed("delete", "configmap", "zone-fetch").stdout.strip() == (
        'configmap "zone-fetch" deleted'
    )


def test_a_used_token_cannot_join_again(procs: Processes) -> None:
    created = procs.kfed("token", "create").stdout
    line = next(row for row in created.splitlines() if row.strip().startswith("kfed join"))
    token = line.split("--token", 1)[1].split()[0]
    ca_hash = line.split("--ca-hash", 1)[1].split()[0]
    hub = f"127.0.0.1:{procs.api_port}"

    def join(name: str) -> tuple[int, str]:
        done = procs.kfed(
            "join",
            name,
            "--hub",
            hub,
            "--token",
            token,
            "--ca-hash",
            ca_hash,
            "--kubeconfig",
            str(procs.kubeconfig),
            "--context",
            "east",
            "--out",
            str(procs.tmp / f"extra-{name}"),
            check=False,
        )
        return done.returncode, done.stdout + done.stderr

    assert join("extra")[0] == 0
    code, output = join("another")
    assert code == 1
    assert "used" in output, output


def test_hub_sigkill_in_the_middle_of_updates_loses_nothing(
    procs: Processes, fleet: FleetThread
) -> None:
    acknowledged: list[str] = []
    stop = threading.Event()

    def writer() -> None:
        with HubClient.from_config(str(procs.tmp / "kfedconfig")) as hub:
            n = 0
            while not stop.is_set():
                name = f"item-{n}"
                body = {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": name},
                    "data": {"n": str(n)},
                }
                try:
                    hub.request("POST", "/api/v1/namespaces/default/configmaps", body)
                except HubError:
                    return
                acknowledged.append(name)
                n += 1

    thread = threading.Thread(target=writer)
    thread.start()
    wait_until(lambda: len(acknowledged) >= 30, what="30 acknowledged writes")
    procs.kill_hub()
    stop.set()
    thread.join(timeout=30)
    assert acknowledged
    procs.start_hub()
    listed = procs.kfed("get", "configmaps", "-o", "json").stdout
    for name in acknowledged:
        assert f'"{name}"' in listed, f"{name} was acknowledged but lost"
    readers = {name: _Core(fleet, name) for name in NAMES}
    try:
        for name, reader in readers.items():
            wait_until(
                lambda r=reader: all(r.configmap(n) is not None for n in acknowledged),
                within=30,
                what=f"every acknowledged configmap in {name}",
            )
    finally:
        for reader in readers.values():
            reader.close()
    wait_until(
        lambda: procs.cluster_table() == dict.fromkeys(NAMES, "Ready"),
        what="agents back after the hub restart",
    )


def test_agent_sigkill_the_standby_takes_over(procs: Processes, fleet: FleetThread) -> None:
    procs.start_agent("east", tag="b")
    east = _Core(fleet, "east")
    try:
        coordination = client.CoordinationV1Api(east.api)

        def holder_pid() -> int | None:
            lease = coordination.read_namespaced_lease("kfed-agent", "kfed-system")
            match = PID_IN_IDENTITY.search(lease.spec.holder_identity or "")
            return int(match.group(1)) if match else None

        leader = wait_until(holder_pid, what="a leader for east")
        pids = {p.pid: key for key, p in procs.agents.items() if key.startswith("east/")}
        assert leader in pids, f"leader {leader} is not one of {pids}"
        os.kill(leader, signal.SIGKILL)
        procs.agents[pids[leader]].wait()
        del procs.agents[pids[leader]]
        standby = next(pid for pid in pids if pid != leader)
        wait_until(lambda: holder_pid() == standby, within=15, what="the standby to lead")
        with HubClient.from_config(str(procs.tmp / "kfedconfig")) as hub:
            hub.request(
                "POST",
                "/api/v1/namespaces/default/configmaps",
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": "after-failover"},
                    "data": {"ok": "yes"},
                },
            )
        wait_until(
            lambda: east.configmap("after-failover") == {"ok": "yes"},
            within=15,
            what="the new leader to apply",
        )
    finally:
        east.close()


def test_a_hub_restart_moves_no_replicas(procs: Processes, fleet: FleetThread) -> None:
    readers = {name: client.AppsV1Api(_Core(fleet, name).api) for name in NAMES}

    def spread() -> dict[str, int]:
        found = {}
        for name, apps in readers.items():
            try:
                found[name] = apps.read_namespaced_replica_set("web", "default").spec.replicas
            except client.ApiException:
                found[name] = -1
        return found

    try:
        with HubClient.from_config(str(procs.tmp / "kfedconfig")) as hub:
            hub.request(
                "POST",
                "/apis/apps/v1/namespaces/default/replicasets",
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "metadata": {"name": "web"},
                    "spec": {
                        "replicas": 6,
                        "selector": {"matchLabels": {"app": "web"}},
                        "template": {
                            "metadata": {"labels": {"app": "web"}},
                            "spec": {"containers": [{"name": "w", "image": "nginx"}]},
                        },
                    },
                },
            )
        even = dict.fromkeys(NAMES, 2)
        wait_until(lambda: spread() == even, what="2 replicas in each cluster")
        procs.kill_hub()
        procs.start_hub()
        wait_until(
            lambda: procs.cluster_table() == dict.fromkeys(NAMES, "Ready"),
            what="agents back after the hub restart",
        )
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:  # watch for any swing while the hub settles
            assert spread() == even
            time.sleep(0.1)
    finally:
        for apps in readers.values():
            apps.api_client.close()
