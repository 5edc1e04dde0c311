"""DELETE with a propagation policy: Orphan leaves the member clusters' copies (a tombstone)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from kfed_core.keys import ResourceKey
from kfed_hub.api.deletion import DeleteOptions, delete_options
from kfed_hub.api.errors import ApiError
from kfed_hub.store.memory import MemoryStore
from kfed_hub.store.protocol import ObjectChange

Client = TestClient[web.Request, web.Application]
CM = "/api/v1/namespaces/default/configmaps"
CM_KEY = ResourceKey(group="core", kind="ConfigMap", namespace="default", name="x")


async def create_configmap(api: Client, name: str = "x", namespace: str = "default") -> None:
    body = {"metadata": {"name": name}, "data": {"a": "b"}}
    async with api.post(f"/api/v1/namespaces/{namespace}/configmaps", json=body) as answer:
        assert answer.status == 201, await answer.text()


async def delete(api: Client, path: str, body: Any = None, **query: str) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body)
    headers = {"Content-Type": "application/json"} if body is not None else {}
    async with api.delete(path, data=data, headers=headers, params=query) as answer:
        return answer.status, await answer.json()


def test_delete_options_read_the_query_and_the_body() -> None:
    assert delete_options(None, {}) == DeleteOptions()
    assert delete_options(None, {"propagationPolicy": "Orphan"}).orphan
    assert delete_options({"propagationPolicy": "Orphan"}, {}).orphan
    assert delete_options({"orphanDependents": True}, {}).orphan
    assert not delete_options(None, {"propagationPolicy": "Foreground"}).orphan
    assert not delete_options(
        {"propagationPolicy": "Background"}, {"propagationPolicy": "Orphan"}
    ).orphan
    options = delete_options({"preconditions": {"resourceVersion": "4"}}, {})
    assert options.expected_revision == 4


def test_an_unknown_policy_or_two_policies_are_invalid() -> None:
    with pytest.raises(ApiError) as caught:
        delete_options(None, {"propagationPolicy": "Sideways"})
    assert caught.value.code == 422
    assert caught.value.message == (
        'DeleteOptions "" is invalid: propagationPolicy: Unsupported value: "Sideways": '
        'supported values: "Foreground", "Background", "Orphan"'
    )
    with pytest.raises(ApiError, match="cannot be both set"):
        delete_options({"propagationPolicy": "Orphan", "orphanDependents": False}, {})


async def test_an_orphaning_delete_removes_the_object_and_records_a_tombstone(
    api: Client, store: MemoryStore
) -> None:
    seen: list[ObjectChange] = []
    store.add_listener(seen.append)
    await create_configmap(api)
    status, deleted = await delete(api, f"{CM}/x", propagationPolicy="Orphan")
    assert status == 200 and deleted["metadata"]["name"] == "x"
    assert await store.get_object(CM_KEY) is None
    assert await store.orphans() == frozenset({CM_KEY})
    assert seen[-1].orphaned and seen[-1].after is None


async def test_kubectls_delete_options_body_orphans_too(api: Client, store: MemoryStore) -> None:
    await create_configmap(api)
    body = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Orphan"}
    status, _ = await delete(api, f"{CM}/x", body)
    assert status == 200 and await store.orphans() == frozenset({CM_KEY})


async def test_a_background_delete_leaves_no_tombstone(api: Client, store: MemoryStore) -> None:
    await create_configmap(api)
    status, _ = await delete(api, f"{CM}/x", propagationPolicy="Background")
    assert status == 200 and await store.orphans() == frozenset()


async def test_orphaning_a_namespace_orphans_what_is_in_it(api: Client, store: MemoryStore) -> None:
    async with api.post("/api/v1/namespaces", json={"metadata": {"name": "shop"}}) as answer:
        assert answer.status == 201
    await create_configmap(api, "settings", "shop")
    status, _ = await delete(api, "/api/v1/namespaces/shop", propagationPolicy="Orphan")
    assert status == 200
    assert {str(k) for k in await store.orphans()} == {
        "core/Namespace//shop",
        "core/ConfigMap/shop/settings",
    }


async def test_a_bad_policy_deletes_nothing(api: Client, store: MemoryStore) -> None:
    await create_configmap(api)
    status, error = await delete(api, f"{CM}/x", propagationPolicy="Sideways")
    assert status == 422 and error["reason"] == "Invalid"
    assert await store.get_object(CM_KEY) is not None
