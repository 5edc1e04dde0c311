"""The agent's RBAC covers exactly what the agent does.

The agent runs against an in-memory cluster (FakeKubeApi) behind a recorder: it elects itself
leader (making kfed-system and the Lease), renews and releases the Lease, and a Sync session
applies two objects of every federated built-in kind, watches them, writes a member Ingress's
global address, reports health, deletes one of each and releases (``--cascade=orphan``) the
other. Each KubeApi call becomes the RBAC requests RealKubeApi sends for it (the table below);
the ClusterRole and Role in deploy/agent/base must grant every one, and grant nothing else.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import AsyncGenerator, Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from kfed_agent import syncer
from kfed_agent.fake_kube import FakeKubeApi
from kfed_agent.lease import LeaderElector
from kfed_agent.link import Endpoint
from kfed_agent.metrics import AgentMetrics
from kfed_agent.ports import ApiResource, Manifest, WatchEvent
from kfed_agent.syncer import Session, SyncSettings
from kfed_core import rpc
from kfed_core.conventions import AGENT_LEASE_NAME, AGENT_NAMESPACE, GLOBAL_ADDRESS_ANNOTATION
from kfed_core.sync.hub_side import APPLIED, REMOVED, Batch, DesiredEntry

BASE = Path(__file__).resolve().parents[3] / "deploy" / "agent" / "base"
Request = tuple[str, str, str, str, str]  # group, resource, verb, namespace, name
_NONCES = itertools.count(1)

# KubeApi call -> the RBAC verbs of the HTTP requests RealKubeApi makes for it.
VERBS = {
    "apply": ("patch", "create"),  # server-side apply: PATCH, which creates a missing object
    "get": ("get",),
    "create": ("create",),
    "replace": ("update",),
    "replace_status": ("update",),  # PUT .../status
    "delete": ("delete",),
    "watch": ("list", "watch"),  # lists first, then watches from that resourceVersion
    "list": ("list",),
}


class RecordingKube(FakeKubeApi):
    """FakeKubeApi that records the RBAC request of every call, and marks a new CRD
    Established as an API server does."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.requests: set[Request] = set()

    def _record(
        self, call: str, api_version: str, kind: str, namespace: str = "", name: str = ""
    ) -> None:
        resource: ApiResource = self._resource(api_version, kind)
        plural = resource.plural + ("/status" if call == "replace_status" else "")
        for verb in VERBS[call]:
            # A create names no object: RBAC cannot see the name.
            named = "" if verb in ("create", "list", "watch") else name
            self.requests.add((resource.group, plural, verb, namespace, named))

    def _record_manifest(self, call: str, manifest: Mapping[str, Any]) -> None:
        meta = manifest.get("metadata") or {}
        self._record(
            call,
            str(manifest["apiVersion"]),
            str(manifest["kind"]),
            str(meta.get("namespace") or ""),
            str(meta.get("name") or ""),
        )

    async def apply(
        self, manifest: Mapping[str, Any], *, field_manager: str, force: bool = True
    ) -> Manifest:
        self._record_manifest("apply", manifest)
        live = await super().apply(manifest, field_manager=field_manager, force=force)
        if live["kind"] == "CustomResourceDefinition":
            established = {"conditions": [{"type": "Established", "status": "True"}]}
            live = await super().replace_status({**live, "status": established})
        return live

    async def get(self, api_version: str, kind: str, namespace: str, name: str) -> Manifest | None:
        self._record("get", api_version, kind, namespace, name)
        return await super().get(api_version, kind, namespace, name)

    async def create(self, manifest: Mapping[str, Any]) -> Manifest:
        self._record_manifest("create", manifest)
        return await super().create(manifest)

    async def replace(self, manifest: Mapping[str, Any]) -> Manifest:
        self._record_manifest("replace", manifest)
        return await super().replace(manifest)

    async def replace_status(self, manifest: Mapping[str, Any]) -> Manifest:
        self._record_manifest("replace_status", manifest)
        return await super().replace_status(manifest)

    async def delete(self, api_version: str, kind: str, namespace: str, name: str) -> bool:
        self._record("delete", api_version, kind, namespace, name)
        return await super().delete(api_version, kind, namespace, name)

    async def list_managed(self, label_selector: str) -> list[Manifest]:
        # RealKubeApi lists every kind; a kind the agent may not list is skipped (403), which
        # is right, as the agent could not have applied anything of it either.
        found = await super().list_managed(label_selector)
        for obj in found:
            self._record("list", str(obj["apiVersion"]), str(obj["kind"]))
        return found

    async def list_nodes(self) -> list[Manifest]:
        self._record("list", "v1", "Node")
        return await super().list_nodes()

    async def list_pods(self) -> list[Manifest]:
        self._record("list", "v1", "Pod")
        return await super().list_pods()

    async def watch(
        self,
        api_version: str,
        kind: str,
        *,
        label_selector: str = "",
        resource_version: str | None = None,
    ) -> AsyncGenerator[WatchEvent, None]:
        self._record("watch", api_version, kind)
        events = super().watch(
            api_version, kind, label_selector=label_selector, resource_version=resource_version
        )
        try:
            async for event in events:
                yield event
        finally:
            await events.aclose()


class FakeHub:
    """The hub's end of the Sync stream, in memory."""

    def __init__(self) -> None:
        self.endpoint = Endpoint(address="fake-hub", ca_pem=b"", cert_pem=b"", key_pem=b"")
        self.inbox: asyncio.Queue[rpc.HubMessage | None] = asyncio.Queue()
        self.results: asyncio.Queue[rpc.BatchResult] = asyncio.Queue()

    async def send(self, message: rpc.AgentMessage) -> None:
        if message.WhichOneof("body") == "result":
            self.results.put_nowait(message.result)

    async def receive(self) -> rpc.HubMessage | None:
        return await self.inbox.get()

    async def close(self) -> None:
        return None

    async def batch(
        self, upserts: list[dict[str, Any]], removals: list[str], orphans: frozenset[str]
    ) -> list[str]:
        entries = tuple(
            DesiredEntry(key=key_of(m), version="v1", manifest=json.dumps(m).encode())
            for m in upserts
        )
        batch = Batch(nonce=f"n{next(_NONCES)}", upserts=entries, removals=tuple(removals))
        self.inbox.put_nowait(rpc.batch_message(batch, orphaned=lambda key: key in orphans))
        result = await asyncio.wait_for(self.results.get(), 5)
        return [r.outcome for r in rpc.results_of(result)]


def key_of(manifest: dict[str, Any]) -> str:
    group = str(manifest["apiVersion"]).rpartition("/")[0] or "core"
    meta = manifest["metadata"]
    return f"{group}/{manifest['kind']}/{meta.get('namespace', '')}/{meta['name']}"


def federated(name: str) -> list[dict[str, Any]]:
    """One object of every federated built-in kind (plus a CRD), named ``name``."""
    ns = {"name": name, "namespace": "shop"}
    labels = {"app": name}
    pod = {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "c", "image": "i"}]}}
    workload = {"replicas": 1, "selector": {"matchLabels": labels}, "template": pod}
    backend = {"service": {"name": name, "port": {"number": 80}}}
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": f"ns-{name}"}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": ns, "data": {"a": "1"}},
        {"apiVersion": "v1", "kind": "Secret", "metadata": ns, "data": {"a": "MQ=="}},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": ns},
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": ns,
            "spec": {"selector": labels, "ports": [{"port": 80}]},
        },
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": ns, "spec": workload},
        {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": ns, "spec": workload},
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {**ns, "annotations": {GLOBAL_ADDRESS_ANNOTATION: "203.0.113.7"}},
            "spec": {"defaultBackend": backend},
        },
        {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{name}s.example.com"},
            "spec": {
                "group": "example.com",
                "scope": "Namespaced",
                "names": {"plural": f"{name}s", "kind": name.capitalize()},
                "versions": [{"name": "v1", "served": True, "storage": True}],
            },
        },
    ]


async def eventually(check: Callable[[], Any], *, within: float = 3.0, what: str = "") -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def agent_requests(monkeypatch: pytest.MonkeyPatch) -> set[Request]:
    kube = RecordingKube(namespaces=("default", "shop"))  # no kfed-system yet
    elector = LeaderElector(kube, identity="agent-a", renew_period=1.0, retry_period=0.5)
    await elector.acquire()  # creates kfed-system and the Lease
    await elector.acquire()  # holding it already: a renewal
    hub = FakeHub()

    async def open_link(endpoint: Endpoint) -> FakeHub:
        return hub

    monkeypatch.setattr(syncer, "open_link", open_link)
    session = Session(
        kube=kube,
        endpoint=hub.endpoint,
        metrics=AgentMetrics.create(),
        settings=SyncSettings(health_interval=0.02, status_interval=0.005),
        agent_version="test",
        on_welcome=lambda: None,
    )
    hub.inbox.put_nowait(rpc.HubMessage(welcome=rpc.Welcome(cluster="east")))
    task = asyncio.create_task(session.run())
    try:
        kept, gone = federated("kept"), federated("gone")
        assert await hub.batch(kept + gone, [], frozenset()) == [APPLIED] * 18
        watched = {m["kind"] for m in kept}
        await eventually(
            lambda: len({(r[0], r[1]) for r in kube.requests if r[2] == "watch"}) == len(watched),
            what="a watch of every kind",
        )
        orphans = frozenset(key_of(m) for m in kept)
        removals = [key_of(m) for m in kept + gone]
        assert await hub.batch([], removals, orphans) == [REMOVED] * 18
    finally:
        hub.inbox.put_nowait(None)
        await asyncio.wait_for(task, 5)
    await elector.release()
    return kube.requests


def granted() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(cluster-wide rules, rules in kfed-system) of deploy/agent/base's RBAC, with the
    aggregated ClusterRole resolved as Kubernetes does (by its label selector)."""
    objects = [d for d in yaml.safe_load_all((BASE / "rbac.yaml").read_text()) if d]
    by_kind = {(o["kind"], o["metadata"]["name"]): o for o in objects}
    binding = by_kind[("ClusterRoleBinding", "kfed-agent")]
    subject = {"kind": "ServiceAccount", "name": "kfed-agent", "namespace": AGENT_NAMESPACE}
    assert binding["subjects"] == [subject]
    role = by_kind[("ClusterRole", binding["roleRef"]["name"])]
    selectors = [s["matchLabels"] for s in role["aggregationRule"]["clusterRoleSelectors"]]
    cluster_rules = [
        rule
        for o in objects
        if o["kind"] == "ClusterRole"
        and any(s.items() <= (o["metadata"].get("labels") or {}).items() for s in selectors)
        for rule in o.get("rules", [])
    ]
    role_binding = next(o for o in objects if o["kind"] == "RoleBinding")
    assert role_binding["subjects"] == [subject]
    lease_role = by_kind[("Role", role_binding["roleRef"]["name"])]
    assert lease_role["metadata"]["namespace"] == AGENT_NAMESPACE
    return cluster_rules, lease_role["rules"]


def allows(rule: dict[str, Any], request: Request) -> bool:
    group, resource, verb, _, name = request
    names = rule.get("resourceNames")
    return (
        group in rule["apiGroups"]
        and resource in rule["resources"]
        and verb in rule["verbs"]
        and (not names or name in names)
    )


async def test_rbac_grants_every_request_the_agent_makes(monkeypatch: pytest.MonkeyPatch) -> None:
    requests = await agent_requests(monkeypatch)
    cluster_rules, lease_rules = granted()
    denied = [
        r
        for r in sorted(requests)
        if not any(allows(rule, r) for rule in cluster_rules)
        and not (r[3] == AGENT_NAMESPACE and any(allows(rule, r) for rule in lease_rules))
    ]
    assert denied == []
    leases = {r for r in requests if r[1] == "leases"}
    assert leases == {
        ("coordination.k8s.io", "leases", "create", AGENT_NAMESPACE, ""),
        ("coordination.k8s.io", "leases", "get", AGENT_NAMESPACE, AGENT_LEASE_NAME),
        ("coordination.k8s.io", "leases", "update", AGENT_NAMESPACE, AGENT_LEASE_NAME),
    }


async def test_rbac_grants_nothing_the_agent_does_not_do(monkeypatch: pytest.MonkeyPatch) -> None:
    used = {(r[0], r[1], r[2]) for r in await agent_requests(monkeypatch)}
    cluster_rules, lease_rules = granted()
    unused = [
        (group, resource, verb)
        for rule in cluster_rules + lease_rules
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
        if (group, resource, verb) not in used
    ]
    assert unused == []
    assert all("*" not in str(rule) for rule in cluster_rules + lease_rules)


def test_the_rbac_rules_name_no_wildcard_and_no_escalation() -> None:
    cluster_rules, lease_rules = granted()
    verbs = {v for rule in cluster_rules + lease_rules for v in rule["verbs"]}
    assert verbs <= {"create", "delete", "get", "list", "patch", "update", "watch"}
    resources = {r for rule in cluster_rules for r in rule["resources"]}
    assert not resources & {"clusterroles", "clusterrolebindings", "roles", "rolebindings"}
    assert not resources & {"pods/exec", "nodes/proxy", "serviceaccounts/token"}
