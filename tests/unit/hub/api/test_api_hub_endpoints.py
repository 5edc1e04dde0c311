"""The hub's own endpoints: clusters, bootstrap tokens, joins, discovery, metrics, health."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from kfed_hub.api.fakes import FakeBootstrap, FakeClusterDirectory, cluster_view
from kfed_hub.ports import Capacity, ClusterStatus

Client = TestClient[web.Request, web.Application]
CLUSTERS = "/apis/kfed.io/v1alpha1/clusters"
TOKENS = "/apis/kfed.io/v1alpha1/bootstraptokens"
CSR = "-----BEGIN CERTIFICATE REQUEST-----\nfake\n-----END CERTIFICATE REQUEST-----\n"


async def send(api: Client, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    async with api.request(method, path, json=body) as response:
        return response.status, await response.json()


async def test_clusters_are_listed_as_kubernetes_objects(
    api: Client, clusters: FakeClusterDirectory
) -> None:
    clusters.add(
        dataclasses.replace(
            cluster_view("north"),
            status=ClusterStatus.NOT_READY,
            region="europe-west1",
            zones=("europe-west1-b",),
            kubernetes_version="v1.31.0",
            nodes_ready=2,
            nodes_total=3,
            allocatable=Capacity(cpu_millis=3500, memory_bytes=16 * 2**30, pods=110),
            message="1 of 3 nodes not Ready",
        )
    )
    status, listed = await send(api, "GET", CLUSTERS)
    assert status == 200 and listed["kind"] == "ClusterList"
    assert [c["metadata"]["name"] for c in listed["items"]] == ["east", "north", "west"]
    status, north = await send(api, "GET", f"{CLUSTERS}/north")
    assert north["kind"] == "Cluster" and north["apiVersion"] == "kfed.io/v1alpha1"
    assert north["status"]["phase"] == "NotReady"
    assert north["status"]["zones"] == ["europe-west1-b"]
    assert north["status"]["nodes"] == {"ready": 2, "total": 3}
    allocatable = north["status"]["capacity"]["allocatable"]
    assert allocatable == {"cpu": "3500m", "memory": "16Gi", "pods": "110"}


async def test_removing_a_cluster_goes_through_the_directory(
    api: Client, clusters: FakeClusterDirectory
) -> None:
    status, removed = await send(api, "DELETE", f"{CLUSTERS}/east")
    assert status == 200 and removed["metadata"]["name"] == "east"
    assert clusters.removed == ["east"]
    status, error = await send(api, "DELETE", f"{CLUSTERS}/east")
    assert status == 404 and error["message"] == 'clusters.kfed.io "east" not found'
    status, _ = await send(api, "GET", f"{CLUSTERS}/east")
    assert status == 404


async def test_token_creation_parses_the_ttl(api: Client, bootstrap: FakeBootstrap) -> None:
    before = dt.datetime.now(dt.UTC)
    status, issued = await send(api, "POST", TOKENS, {"ttl": "1h30m", "description": "lab"})
    assert status == 201
    assert (
        issued["joinCommand"].startswith("kfed join") and issued["token"] in issued["joinCommand"]
    )
    expires = dt.datetime.fromisoformat(issued["expiresAt"].replace("Z", "+00:00"))
    assert dt.timedelta(minutes=89) < expires - before < dt.timedelta(minutes=91)
    assert bootstrap.descriptions == ["lab"]
    for bad in ("soon", "0s", "-1h", "1d"):
        status, error = await send(api, "POST", TOKENS, {"ttl": bad})
        assert status == 400 and "ttl" in error["message"], bad


async def test_join_maps_refusals_to_status_codes(api: Client) -> None:
    _, issued = await send(api, "POST", TOKENS, {"ttl": "10m"})
    join = {"name": "south", "token": issued["token"], "csr": CSR}
    status, granted = await send(api, "POST", "/kfed/v1/join", join)
    assert status == 201 and granted["cluster"] == "south"
    assert granted["syncAddress"] == "127.0.0.1:7444"
    status, error = await send(api, "POST", "/kfed/v1/join", join)
    assert status == 401 and error["message"] == "the token was already used"
    _, fresh = await send(api, "POST", TOKENS, {})
    status, error = await send(api, "POST", "/kfed/v1/join", {**join, "token": fresh["token"]})
    assert status == 409 and "already joined" in error["message"]
    status, error = await send(
        api, "POST", "/kfed/v1/join", {**join, "name": "x", "token": fresh["token"], "csr": "no"}
    )
    assert status == 422 and error["reason"] == "Invalid"
    status, error = await send(api, "POST", "/kfed/v1/join", {"name": "x"})
    assert status == 422 and "token" in error["message"]


async def test_cluster_info_has_the_ca_and_its_hash(api: Client) -> None:
    status, info = await send(api, "GET", "/kfed/v1/cluster-info")
    assert status == 200
    assert info["ca"].startswith("-----BEGIN CERTIFICATE-----")
    assert info["caHash"].startswith("sha256:")
    assert info["syncAddress"] and info["apiAddress"]


async def test_discovery_lists_the_served_kinds(api: Client) -> None:
    _, core = await send(api, "GET", "/api/v1")
    by_name = {r["name"]: r for r in core["resources"]}
    assert by_name["configmaps"]["shortNames"] == ["cm"]
    assert by_name["namespaces"]["namespaced"] is False
    assert set(by_name) == {"namespaces", "configmaps", "secrets", "serviceaccounts", "services"}
    _, groups = await send(api, "GET", "/apis")
    names = [g["name"] for g in groups["groups"]]
    assert names == ["apps", "networking.k8s.io", "apiextensions.k8s.io", "extensions", "kfed.io"]
    _, legacy = await send(api, "GET", "/apis/extensions/v1beta1")
    assert {r["kind"] for r in legacy["resources"]} == {"Deployment", "ReplicaSet", "Ingress"}
    status, _ = await send(api, "GET", "/apis/example.com/v1")
    assert status == 404
    _, versions = await send(api, "GET", "/api")
    assert versions["versions"] == ["v1"]


async def test_metrics_count_requests(api: Client) -> None:
    await send(api, "GET", "/api/v1/namespaces/default/configmaps")
    async with api.get("/metrics") as response:
        assert response.status == 200
        text = await response.text()
    assert 'kfed_hub_api_requests_total{code="200",method="GET"}' in text


async def test_health_endpoints_answer_ok(api: Client) -> None:
    for path in ("/healthz", "/readyz"):
        async with api.get(path) as response:
            assert response.status == 200 and await response.text() == "ok"
