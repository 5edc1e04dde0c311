"""RealKubeApi against a simulated cluster served over real HTTPS (``kfed_local.sim``)."""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest
from kubernetes import client, config

from kfed_agent.apply import OWNED_SELECTOR, known_versions, prepare
from kfed_agent.kube import RealKubeApi
from kfed_agent.ports import KubeError, KubeUnreachable, UnknownKind
from kfed_local.sim.cluster import SimOptions
from kfed_local.sim.config import ClusterSpec, NodeCapacity
from kfed_local.sim.fleet import SimFleet

FAST = SimOptions(eviction_timeout=1.0, bookmark_interval=0.5, history=200)


def spec() -> ClusterSpec:
    return ClusterSpec(
        name="east",
        region="us-east1",
        zones=("us-east1-b", "us-east1-c"),
        nodes=2,
        pod_start_delay=0.05,
        capacity=NodeCapacity(cpu="2", memory="4Gi", pods=20),
    )


@pytest.fixture
async def fleet():
    async with SimFleet([spec()], options=FAST) as running:
        yield running


@pytest.fixture
async def kubeconfig(fleet, tmp_path):
    return str(fleet.write_kubeconfig(tmp_path / "kubeconfig"))


@pytest.fixture
async def kube(kubeconfig):
    api = await asyncio.to_thread(RealKubeApi.from_kubeconfig, kubeconfig, "east")
    yield api
    await api.close()


def configmap(name="settings", namespace="default", **data):
    manifest = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": data,
    }
    return prepare(manifest, key=f"core/ConfigMap/{namespace}/{name}", version="v1-" + name)


async def eventually(condition, *, within=5.0, what=""):
    deadline = time.monotonic() + within
    while True:
        value = await condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what} (last value {value!r})")
        await asyncio.sleep(0.05)


async def test_server_version_is_the_git_version(kube):
    assert (await kube.server_version()).startswith("v1.")


async def test_apply_is_server_side_as_kfed_and_idempotent(kube):
    first = await kube.apply(configmap(a="1", b="2"), field_manager="kfed")
    again = await kube.apply(configmap(a="1", b="2"), field_manager="kfed")
    changed = await kube.apply(configmap(a="3"), field_manager="kfed")

    managers = {(m["manager"], m["operation"]) for m in first["metadata"]["managedFields"]}
    assert ("kfed", "Apply") in managers
    assert again["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]
    assert changed["data"] == {"a": "3"}, "SSA removes the field kfed stopped applying"
    assert changed["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "kfed"


async def test_get_replace_and_a_stale_resource_version(kube):
    assert await kube.get("v1", "ConfigMap", "default", "absent") is None
    created = await kube.create(configmap(a="1"))
    fresh = dict(created, data={"a": "2"})
    replaced = await kube.replace(fresh)
    stale = dict(created, data={"a": "3"})

    with pytest.raises(KubeError) as caught:
        await kube.replace(stale)

    assert replaced["data"] == {"a": "2"}
    assert (caught.value.status, caught.value.reason) == (409, "Conflict")
    assert "replace ConfigMap default/settings" in str(caught.value)
    with pytest.raises(KubeError) as exists:
        await kube.create(configmap(a="1"))
    assert exists.value.reason == "AlreadyExists"


async def test_delete_says_whether_there_was_something_to_delete(kube):
    await kube.apply(configmap(), field_manager="kfed")
    assert await kube.delete("v1", "ConfigMap", "default", "settings") is True
    assert await kube.delete("v1", "ConfigMap", "default", "settings") is False
    assert await kube.delete("example.com/v1", "Widget", "default", "w") is False


async def test_list_managed_finds_labelled_objects_of_every_kind(kube):
    namespace = prepare(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "prod"}},
        key="core/Namespace//prod",
        version="v-ns",
    )
    secret = prepare(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "token", "namespace": "prod"},
            "stringData": {"t": "s3cr3t"},
        },
        key="core/Secret/prod/token",
        version="v-secret",
    )
    deployment = prepare(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "prod"},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "web", "image": "nginx"}]},
                },
            },
        },
        key="apps/Deployment/prod/web",
        version="v-web",
    )
    for manifest in (namespace, configmap(namespace="prod"), secret, deployment):
        await kube.apply(manifest, field_manager="kfed")
    await kube.create(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "mine", "namespace": "prod"}}
    )

    found = await kube.list_managed(OWNED_SELECTOR)

    assert {(o["apiVersion"], o["kind"], o["metadata"]["name"]) for o in found} == {
        ("v1", "Namespace", "prod"),
        ("v1", "ConfigMap", "settings"),
        ("v1", "Secret", "token"),
        ("apps/v1", "Deployment", "web"),
    }
    assert known_versions(found) == {
        "core/Namespace//prod": "v-ns",
        "core/ConfigMap/prod/settings": "v1-settings",
        "core/Secret/prod/token": "v-secret",
        "apps/Deployment/prod/web": "v-web",
    }


async def test_watch_sees_a_change_made_by_another_client(kube, kubeconfig):
    await kube.apply(configmap(a="1"), field_manager="kfed")
    other = config.new_client_from_config(kubeconfig, context="east", persist_config=False)
    core = client.CoreV1Api(other)
    seen = []

    async def follow():
        async for kind, obj in kube.watch("v1", "ConfigMap", label_selector=OWNED_SELECTOR):
            seen.append((kind, obj["metadata"]["name"], obj.get("data")))

    task = asyncio.create_task(follow())
    try:
        await eventually(lambda: _ready(seen, 1), what="the initial ADDED event")
        await asyncio.to_thread(
            core.patch_namespaced_config_map, "settings", "default", {"data": {"a": "drifted"}}
        )
        await eventually(lambda: _ready(seen, 2), what="the MODIFIED event")
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await asyncio.to_thread(other.close)

    assert seen[0] == ("ADDED", "settings", {"a": "1"})
    assert seen[1] == ("MODIFIED", "settings", {"a": "drifted"})
    assert task.cancelled()


async def _ready(items, count):
    return len(items) >= count


async def test_watch_relists_when_its_resource_version_is_too_old(tmp_path):
    async with SimFleet([spec()], options=SimOptions(history=5, bookmark_interval=0.5)) as fleet:
        path = str(fleet.write_kubeconfig(tmp_path / "kubeconfig"))
        kube = await asyncio.to_thread(RealKubeApi.from_kubeconfig, path, "east")
        try:
            old = await kube.apply(configmap(a="0"), field_manager="kfed")
            for i in range(10):
                await kube.apply(configmap(a=str(i + 1)), field_manager="kfed")
            events = kube.watch(
                "v1", "ConfigMap", resource_version=old["metadata"]["resourceVersion"]
            )
            async with contextlib.aclosing(events):
                kind, obj = await asyncio.wait_for(anext(events), timeout=5)
            assert (kind, obj["data"]) == ("ADDED", {"a": "10"})
        finally:
            await kube.close()


async def test_close_ends_an_open_watch(kube):
    events = kube.watch("v1", "ConfigMap")
    task = asyncio.create_task(anext(events, None))

    async def stream_open():
        return bool(kube._http._streams)

    await eventually(stream_open, what="the watch stream to open")

    await kube.close()

    assert await asyncio.wait_for(task, timeout=2) is None


async def test_unknown_kind_is_a_clear_error_until_its_crd_is_served(kube):
    widget = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w", "namespace": "default"},
        "spec": {"size": 1},
    }
    with pytest.raises(
        UnknownKind, match=r"kind Widget \(example.com/v1\) is not served by this cluster"
    ):
        await kube.apply(widget, field_manager="kfed")
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "names": {"kind": "Widget", "plural": "widgets", "singular": "widget"},
            "scope": "Namespaced",
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "x-kubernetes-preserve-unknown-fields": True,
                        }
                    },
                }
            ],
        },
    }
    await kube.apply(crd, field_manager="kfed")

    async def served():
        try:
            return await kube.resource_for("example.com/v1", "Widget")
        except UnknownKind:
            return None

    await eventually(served, what="the CRD's kind to be served")
    applied = await kube.apply(widget, field_manager="kfed")
    assert applied["spec"] == {"size": 1}


async def test_scope_mistakes_are_refused_before_the_call(kube):
    with pytest.raises(KubeError, match=r"namespaced, so metadata\.namespace is required"):
        await kube.get("v1", "ConfigMap", "", "x")


async def test_api_server_down_is_kube_unreachable_with_the_address(fleet, kube):
    cluster = fleet.cluster("east")
    await kube.resource_for("v1", "ConfigMap")  # discovery cached: the error names the get
    await cluster.set_api_server_running(False)
    try:
        with pytest.raises(KubeUnreachable) as caught:
            await kube.get("v1", "ConfigMap", "default", "settings")
        assert caught.value.status == 0 and caught.value.reason == "Unreachable"
        assert cluster.url in str(caught.value)
        assert "get ConfigMap default/settings" in str(caught.value)
    finally:
        await cluster.set_api_server_running(True)
    assert await kube.get("v1", "ConfigMap", "default", "settings") is None


async def test_a_watch_raises_when_the_api_server_goes_down(fleet, kube):
    await kube.apply(configmap(), field_manager="kfed")
    events = kube.watch("v1", "ConfigMap", label_selector=OWNED_SELECTOR)
    async with contextlib.aclosing(events):
        assert (await asyncio.wait_for(anext(events), timeout=5))[0] == "ADDED"
        await fleet.cluster("east").set_api_server_running(False)
        with pytest.raises(KubeUnreachable):
            await asyncio.wait_for(anext(events), timeout=5)
    await fleet.cluster("east").set_api_server_running(True)


async def test_nodes_and_pods_are_listed_across_namespaces(kube):
    nodes = await kube.list_nodes()
    assert sorted(n["metadata"]["name"] for n in nodes) == ["east-node-1", "east-node-2"]
    assert all(n["kind"] == "Node" for n in nodes)
    assert isinstance(await kube.list_pods(), list)
