"""The federated-object API: every verb, conflicts, namespaces and the per-cluster status."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web
from aiohttp.test_utils import TestClient

from kfed_hub.desired import desired_version
from kfed_hub.store.memory import MemoryStore
from kfed_hub.store.protocol import ClusterObjectState

Client = TestClient[web.Request, web.Application]
CM = "/api/v1/namespaces/default/configmaps"
EXAMPLES = Path(__file__).resolve().parents[4] / "examples" / "federation-2016"


def configmap(name: str = "settings", **data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "labels": {"app": "web"}},
        "data": data or {"mode": "fast"},
    }


async def send(api: Client, method: str, path: str, body: Any = None, **kw: Any) -> tuple[int, Any]:
    async with api.request(method, path, json=body, **kw) as response:
        return response.status, await response.json()


async def test_create_fills_uid_timestamp_generation_and_resource_version(api: Client) -> None:
    status, created = await send(api, "POST", CM, configmap())
    assert status == 201
    metadata = created["metadata"]
    assert metadata["uid"] and metadata["creationTimestamp"].endswith("Z")
    assert metadata["generation"] == 1
    assert metadata["namespace"] == "default"
    assert int(metadata["resourceVersion"]) > 0
    status, fetched = await send(api, "GET", f"{CM}/settings")
    assert status == 200
    assert fetched["data"] == {"mode": "fast"}
    assert fetched["metadata"]["uid"] == metadata["uid"]


async def test_served_objects_list_every_joined_cluster_and_a_pending_condition(
    api: Client,
) -> None:
    _, created = await send(api, "POST", CM, configmap())
    entries = created["status"]["clusters"]
    assert [e["cluster"] for e in entries] == ["east", "west"]
    assert all(e["outcome"] == "Pending" and not e["current"] for e in entries)
    (condition,) = created["status"]["conditions"]
    assert condition["type"] == "Propagated" and condition["status"] == "False"
    assert condition["reason"] == "Pending"


async def test_propagated_is_true_once_every_cluster_applied_the_current_version(
    api: Client, store: MemoryStore
) -> None:
    await send(api, "POST", CM, configmap())
    stored = await store.list_objects(kind="ConfigMap")
    version = desired_version(stored[0].manifest)
    states = [
        ClusterObjectState(cluster=c, key=stored[0].key, version=version, outcome="Applied")
        for c in ("east", "west")
    ]
    await store.put_object_states(states)
    _, fetched = await send(api, "GET", f"{CM}/settings")
    assert fetched["status"]["conditions"][0]["status"] == "True"
    assert all(e["current"] for e in fetched["status"]["clusters"])
    # A change of content makes every cluster stale again.
    fetched["data"] = {"mode": "slow"}
    _, updated = await send(api, "PUT", f"{CM}/settings", fetched)
    assert updated["status"]["conditions"][0]["status"] == "False"
    assert not any(e["current"] for e in updated["status"]["clusters"])


async def test_list_filters_by_label_selector(api: Client) -> None:
    await send(api, "POST", CM, configmap("a"))
    other = configmap("b")
    other["metadata"]["labels"] = {"app": "db"}
    await send(api, "POST", CM, other)
    status, listed = await send(api, "GET", CM, params={"labelSelector": "app=db"})
    assert status == 200 and listed["kind"] == "ConfigMapList"
    assert [i["metadata"]["name"] for i in listed["items"]] == ["b"]
    _, everything = await send(api, "GET", "/api/v1/configmaps")
    assert [i["metadata"]["name"] for i in everything["items"]] == ["a", "b"]
    status, bad = await send(api, "GET", CM, params={"labelSelector": "app=(x"})
    assert status == 400 and "unable to parse requirement" in bad["message"]


async def test_create_twice_is_already_exists(api: Client) -> None:
    await send(api, "POST", CM, configmap())
    status, error = await send(api, "POST", CM, configmap())
    assert status == 409
    assert error["reason"] == "AlreadyExists"
    assert error["message"] == 'configmaps "settings" already exists'


async def test_update_with_a_stale_resource_version_is_a_conflict(api: Client) -> None:
    _, created = await send(api, "POST", CM, configmap())
    stale = created["metadata"]["resourceVersion"]
    created["data"] = {"mode": "slow"}
    status, updated = await send(api, "PUT", f"{CM}/settings", created)
    assert status == 200 and updated["metadata"]["generation"] == 2
    updated["metadata"]["resourceVersion"] = stale
    status, error = await send(api, "PUT", f"{CM}/settings", updated)
    assert status == 409 and error["reason"] == "Conflict"
    assert "the object has been modified" in error["message"]


async def test_generation_moves_only_when_content_changes(api: Client) -> None:
    _, created = await send(api, "POST", CM, configmap())
    created["metadata"]["labels"] = {"app": "other"}
    del created["metadata"]["resourceVersion"]
    _, relabelled = await send(api, "PUT", f"{CM}/settings", created)
    assert relabelled["metadata"]["generation"] == 1
    assert relabelled["metadata"]["labels"] == {"app": "other"}


async def test_update_of_a_missing_object_is_not_found(api: Client) -> None:
    status, error = await send(api, "PUT", f"{CM}/nothing", configmap("nothing"))
    assert status == 404 and error["message"] == 'configmaps "nothing" not found'


async def test_merge_patch_changes_only_what_it_names(api: Client) -> None:
    await send(api, "POST", CM, configmap(mode="fast", size="big"))
    headers = {"Content-Type": "application/merge-patch+json"}
    async with api.patch(
        f"{CM}/settings", data=b'{"data": {"size": null, "colour": "blue"}}', headers=headers
    ) as response:
        assert response.status == 200
        patched = await response.json()
    assert patched["data"] == {"mode": "fast", "colour": "blue"}
    assert patched["metadata"]["generation"] == 2
    json_patch = {"Content-Type": "application/json-patch+json"}
    async with api.patch(f"{CM}/settings", data=b"[]", headers=json_patch) as response:
        assert response.status == 415
        assert "application/merge-patch+json" in (await response.json())["message"]


async def test_delete_answers_the_object_and_removes_it(api: Client) -> None:
    await send(api, "POST", CM, configmap())
    status, deleted = await send(api, "DELETE", f"{CM}/settings")
    assert status == 200 and deleted["metadata"]["name"] == "settings"
    status, error = await send(api, "GET", f"{CM}/settings")
    assert status == 404 and error["reason"] == "NotFound"
    status, _ = await send(api, "DELETE", f"{CM}/settings")
    assert status == 404


async def test_objects_need_their_namespace_unless_it_is_default(api: Client) -> None:
    path = "/api/v1/namespaces/team/configmaps"
    status, error = await send(api, "POST", path, configmap())
    assert status == 404 and error["message"] == 'namespaces "team" not found'
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}}
    status, created = await send(api, "POST", "/api/v1/namespaces", namespace)
    assert status == 201 and created["status"]["phase"] == "Active"
    status, _ = await send(api, "POST", path, configmap())
    assert status == 201


async def test_deleting_a_namespace_deletes_the_objects_in_it(
    api: Client, store: MemoryStore
) -> None:
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}}
    await send(api, "POST", "/api/v1/namespaces", namespace)
    await send(api, "POST", "/api/v1/namespaces/team/configmaps", configmap())
    await send(api, "POST", CM, configmap("kept"))
    status, _ = await send(api, "DELETE", "/api/v1/namespaces/team")
    assert status == 200
    assert [o.key.name for o in await store.list_objects()] == ["kept"]
    status, error = await send(api, "DELETE", "/api/v1/namespaces/default")
    assert status == 403 and "may not be deleted" in error["message"]


@pytest.mark.parametrize(
    "path",
    sorted(str(p.relative_to(EXAMPLES)) for p in EXAMPLES.glob("*/*.yaml")),
)
async def test_the_2016_walkthrough_manifests_are_accepted_unchanged(
    api: Client, path: str
) -> None:
    manifest = yaml.safe_load((EXAMPLES / path).read_text())
    group_version, plural = manifest["apiVersion"], manifest["kind"].lower() + "s"
    plural = "ingresses" if plural == "ingresss" else plural
    base = f"/apis/{group_version}" if "/" in group_version else f"/api/{group_version}"
    status, created = await send(api, "POST", f"{base}/namespaces/default/{plural}", manifest)
    assert status == 201, created
    for field in ("spec", "data"):
        if field in manifest:
            assert created[field] == manifest[field]
