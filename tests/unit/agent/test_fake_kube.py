"""Unit tests for ``kfed_agent.fake_kube``: the in-memory KubeApi behaves like an API server."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from kfed_agent.fake_kube import FakeKubeApi
from kfed_agent.ports import KubeApi, KubeError, KubeUnreachable, UnknownKind, WatchEvent

OWNED = "app.kubernetes.io/managed-by=kfed"


def configmap(name: str = "settings", namespace: str = "default", **data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/managed-by": "kfed"},
        },
        "data": dict(data),
    }


async def next_event(events: AsyncIterator[WatchEvent]) -> tuple[str, str]:
    kind, obj = await asyncio.wait_for(anext(events), timeout=2)
    return kind, obj["metadata"]["name"]


def test_fake_satisfies_the_kube_api_protocol() -> None:
    api: KubeApi = FakeKubeApi()  # mypy checks the structure
    assert api is not None


async def test_apply_creates_then_a_repeated_apply_writes_nothing() -> None:
    kube = FakeKubeApi()
    first = await kube.apply(configmap(a="1"), field_manager="kfed")
    again = await kube.apply(configmap(a="1"), field_manager="kfed")
    changed = await kube.apply(configmap(a="2"), field_manager="kfed")

    assert first["metadata"]["resourceVersion"] == again["metadata"]["resourceVersion"]
    assert int(changed["metadata"]["resourceVersion"]) > int(first["metadata"]["resourceVersion"])
    assert changed["metadata"]["uid"] == first["metadata"]["uid"]
    assert kube.calls.count(("apply", "core/ConfigMap/default/settings")) == 3


async def test_apply_removes_fields_the_manager_stopped_applying_but_keeps_others() -> None:
    kube = FakeKubeApi()
    with_binary = configmap(a="1")
    with_binary["binaryData"] = {"b": "AA=="}
    await kube.apply(with_binary, field_manager="kfed")
    other = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "default", "labels": {"team": "x"}},
    }
    await kube.apply(other, field_manager="someone")

    await kube.apply(configmap(a="1"), field_manager="kfed")

    stored = await kube.get("v1", "ConfigMap", "default", "settings")
    assert stored is not None
    assert "binaryData" not in stored
    assert stored["data"] == {"a": "1"}
    assert stored["metadata"]["labels"] == {"app.kubernetes.io/managed-by": "kfed", "team": "x"}


async def test_namespaced_objects_need_their_namespace_and_scope_is_checked() -> None:
    kube = FakeKubeApi()
    with pytest.raises(KubeError) as missing:
        await kube.apply(configmap(namespace="nowhere"), field_manager="kfed")
    assert (missing.value.status, missing.value.reason) == (404, "NotFound")

    namespace = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "x", "namespace": "d"},
    }
    with pytest.raises(KubeError, match="cluster-scoped") as scoped:
        await kube.apply(namespace, field_manager="kfed")
    assert scoped.value.reason == "Invalid"


async def test_replace_with_a_stale_resource_version_is_a_conflict() -> None:
    kube = FakeKubeApi()
    created = await kube.create(configmap(a="1"))
    created["data"] = {"a": "2"}
    updated = await kube.replace(created)
    created["data"] = {"a": "3"}

    with pytest.raises(KubeError) as stale:
        await kube.replace(created)

    assert (stale.value.status, stale.value.reason) == (409, "Conflict")
    assert updated["data"] == {"a": "2"}


async def test_create_twice_is_already_exists_and_replace_of_nothing_is_not_found() -> None:
    kube = FakeKubeApi()
    await kube.create(configmap())
    with pytest.raises(KubeError) as twice:
        await kube.create(configmap())
    assert twice.value.reason == "AlreadyExists"
    with pytest.raises(KubeError) as absent:
        await kube.replace(configmap("other"))
    assert absent.value.reason == "NotFound"


async def test_delete_reports_whether_something_was_deleted_and_namespaces_cascade() -> None:
    kube = FakeKubeApi()
    await kube.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "prod"}})
    await kube.apply(configmap(namespace="prod"), field_manager="kfed")

    assert await kube.delete("v1", "Namespace", "", "prod") is True
    assert await kube.get("v1", "ConfigMap", "prod", "settings") is None
    assert await kube.delete("v1", "ConfigMap", "prod", "settings") is False
    assert await kube.delete("example.com/v1", "Widget", "prod", "w") is False


async def test_a_crd_serves_its_kind_until_it_is_deleted() -> None:
    kube = FakeKubeApi()
    widget = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w", "namespace": "default"},
    }
    with pytest.raises(UnknownKind, match="not served by this cluster"):
        await kube.apply(widget, field_manager="kfed")
    crd: dict[str, Any] = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "names": {"kind": "Widget", "plural": "widgets"},
            "scope": "Namespaced",
            "versions": [{"name": "v1", "served": True, "storage": True}],
        },
    }
    await kube.apply(crd, field_manager="kfed")
    await kube.apply(widget, field_manager="kfed")
    assert (await kube.resource_for("example.com/v1", "Widget")).plural == "widgets"

    await kube.delete(
        "apiextensions.k8s.io/v1", "CustomResourceDefinition", "", crd["metadata"]["name"]
    )

    with pytest.raises(UnknownKind):
        await kube.get("example.com/v1", "Widget", "default", "w")


async def test_list_managed_selects_by_label_over_every_kind() -> None:
    kube = FakeKubeApi()
    await kube.apply(configmap("a"), field_manager="kfed")
    namespace = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "prod", "labels": {"app.kubernetes.io/managed-by": "kfed"}},
    }
    await kube.apply(namespace, field_manager="kfed")
    await kube.create(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b", "namespace": "default"}}
    )

    found = await kube.list_managed(OWNED)

    assert sorted(obj["metadata"]["name"] for obj in found) == ["a", "prod"]
    assert await kube.list_managed("app.kubernetes.io/managed-by!=kfed") != []


async def test_watch_sees_changes_and_objects_leaving_its_selection() -> None:
    kube = FakeKubeApi()
    await kube.apply(configmap("a"), field_manager="kfed")
    events = kube.watch("v1", "ConfigMap", label_selector=OWNED)
    try:
        assert await next_event(events) == ("ADDED", "a")
        await kube.apply(configmap("a", x="1"), field_manager="kfed")
        assert await next_event(events) == ("MODIFIED", "a")
        unlabelled = await kube.get("v1", "ConfigMap", "default", "a")
        assert unlabelled is not None
        unlabelled["metadata"]["labels"] = {}
        await kube.replace(unlabelled)
        assert await next_event(events) == ("DELETED", "a")
    finally:
        await events.aclose()


async def test_watch_from_a_resource_version_replays_what_came_after() -> None:
    kube = FakeKubeApi()
    first = await kube.apply(configmap("a"), field_manager="kfed")
    await kube.apply(configmap("b"), field_manager="kfed")
    events = kube.watch("v1", "ConfigMap", resource_version=first["metadata"]["resourceVersion"])
    try:
        assert await next_event(events) == ("ADDED", "b")
    finally:
        await events.aclose()


async def test_fail_next_injects_one_error_for_the_matching_call() -> None:
    kube = FakeKubeApi()
    boom = KubeError("boom", status=500, reason="InternalError")
    kube.fail_next("ConfigMap", "a", boom, verb="apply")

    await kube.apply(configmap("b"), field_manager="kfed")
    with pytest.raises(KubeError, match="boom"):
        await kube.apply(configmap("a"), field_manager="kfed")
    await kube.apply(configmap("a"), field_manager="kfed")


async def test_unreachable_api_fails_every_call_and_ends_watches() -> None:
    kube = FakeKubeApi()
    events = kube.watch("v1", "ConfigMap")
    waiting = asyncio.create_task(anext(events))
    await asyncio.sleep(0)

    kube.set_reachable(False)

    with pytest.raises(KubeUnreachable):
        await asyncio.wait_for(waiting, timeout=2)
    with pytest.raises(KubeUnreachable):
        await kube.server_version()
    with pytest.raises(KubeUnreachable):
        await kube.list_managed(OWNED)
    kube.set_reachable(True)
    assert await kube.server_version() == "v1.37.0+fake"


async def test_close_ends_open_watches() -> None:
    kube = FakeKubeApi()
    events = kube.watch("v1", "ConfigMap")

    async def drain() -> list[WatchEvent]:
        return [event async for event in events]

    task = asyncio.create_task(drain())
    await asyncio.sleep(0)
    await kube.close()
    assert await asyncio.wait_for(task, timeout=2) == []
    with contextlib.suppress(StopAsyncIteration):
        await anext(events)
