"""Three simulated clusters joined through tokens: Ready, propagation, pruning, drift, offline."""

from __future__ import annotations

import asyncio
import base64

from fedharness import Federation, eventually


def _data(expected: dict[str, str]):  # type: ignore[no-untyped-def]
    return lambda obj: obj is not None and obj.get("data") == expected


async def test_joined_clusters_are_ready_with_region_and_version(federation: Federation) -> None:
    listed = await federation.api("GET", "/apis/kfed.io/v1alpha1/clusters")
    by_name = {c["metadata"]["name"]: c for c in listed["items"]}
    assert sorted(by_name) == ["east", "north", "west"]
    assert by_name["east"]["status"]["phase"] == "Ready"
    assert by_name["east"]["status"]["region"] == "us-east1"
    assert by_name["west"]["status"]["kubernetesVersion"].startswith("v1.")


async def test_namespace_configmap_and_secret_reach_every_cluster(federation: Federation) -> None:
    fed = federation
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}
    await fed.api("POST", "/api/v1/namespaces", namespace)
    await fed.put_configmap("settings", {"color": "blue"}, ns="shop")
    secret_value = base64.b64encode(b"hunter2").decode()
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds"}}
    await fed.api(
        "POST", "/api/v1/namespaces/shop/secrets", {**secret, "data": {"password": secret_value}}
    )
    await eventually(lambda: fed.everywhere("Namespace", "", "shop"), what="namespace")
    await eventually(
        lambda: fed.everywhere("ConfigMap", "shop", "settings", _data({"color": "blue"})),
        what="configmap everywhere",
    )
    await eventually(
        lambda: fed.everywhere("Secret", "shop", "creds", _data({"password": secret_value})),
        what="secret everywhere",
    )
    member = await fed.member("east", "v1", "ConfigMap", "shop", "settings")
    assert member["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "kfed"
    assert member["metadata"]["annotations"]["kfed.io/key"] == "core/ConfigMap/shop/settings"
    assert any(m["manager"] == "kfed" for m in member["metadata"]["managedFields"])

    async def propagated() -> bool:
        obj = await fed.api("GET", "/api/v1/namespaces/shop/configmaps/settings")
        conditions = {c["type"]: c["status"] for c in obj["status"].get("conditions", [])}
        return conditions.get("Propagated") == "True"

    await eventually(propagated, what="Propagated=True on the federated configmap")


async def test_update_and_delete_propagate(federation: Federation) -> None:
    fed = federation
    await fed.put_configmap("flags", {"a": "1"})
    await eventually(lambda: fed.everywhere("ConfigMap", "default", "flags"))
    await fed.put_configmap("flags", {"a": "2"})
    await eventually(
        lambda: fed.everywhere("ConfigMap", "default", "flags", _data({"a": "2"})),
        what="update everywhere",
    )
    await fed.api("DELETE", "/api/v1/namespaces/default/configmaps/flags")
    await eventually(
        lambda: fed.everywhere("ConfigMap", "default", "flags", lambda obj: obj is None),
        what="configmap pruned everywhere",
    )


async def test_member_drift_is_repaired(federation: Federation) -> None:
    fed = federation
    await fed.put_configmap("pinned", {"k": "v"})
    await eventually(lambda: fed.everywhere("ConfigMap", "default", "pinned"))
    kube = fed.kubes["west"]
    live = await kube.get("v1", "ConfigMap", "default", "pinned")
    live["data"] = {"k": "tampered"}
    await kube.replace(live)
    await eventually(
        lambda: fed.everywhere("ConfigMap", "default", "pinned", _data({"k": "v"})),
        what="edited member object repaired",
    )
    await kube.delete("v1", "ConfigMap", "default", "pinned")
    await eventually(
        lambda: fed.everywhere("ConfigMap", "default", "pinned", _data({"k": "v"})),
        what="deleted member object re-created",
    )


async def test_offline_cluster_converges_when_its_agent_returns(federation: Federation) -> None:
    """The blog's promise: secrets kept consistent even if some clusters are offline."""
    fed = federation
    await fed.put_configmap("old", {"x": "1"})
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "token"}}
    await fed.api(
        "POST", "/api/v1/namespaces/default/secrets", {**secret, "stringData": {"v": "1"}}
    )
    await eventually(lambda: fed.everywhere("Secret", "default", "token"))
    await eventually(lambda: fed.everywhere("ConfigMap", "default", "old"))
    await fed.stop_agent("north")
    await eventually(lambda: _status_is(fed, "north", ("NotReady", "Offline")), what="NotReady")
    current = await fed.api("GET", "/api/v1/namespaces/default/secrets/token")
    current.pop("stringData", None)
    current["data"] = {"v": base64.b64encode(b"2").decode()}
    await fed.api("PUT", "/api/v1/namespaces/default/secrets/token", current)
    await fed.api("DELETE", "/api/v1/namespaces/default/configmaps/old")
    await asyncio.sleep(0.3)
    stale = await fed.member("north", "v1", "Secret", "default", "token")
    assert base64.b64decode(stale["data"]["v"]) == b"1"  # north really was offline
    await fed.start_agent("north")

    async def converged() -> bool:
        secret = await fed.member("north", "v1", "Secret", "default", "token")
        old = await fed.member("north", "v1", "ConfigMap", "default", "old")
        return old is None and base64.b64decode(secret["data"]["v"]) == b"2"

    await eventually(converged, what="north converged after returning")
    await eventually(lambda: _status_is(fed, "north", ("Ready",)), what="north Ready again")


async def _status_is(fed: Federation, name: str, wanted: tuple[str, ...]) -> bool:
    return (await fed.cluster_statuses()).get(name) in wanted
