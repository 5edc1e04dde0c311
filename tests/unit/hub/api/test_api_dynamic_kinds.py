"""Kinds outside the built-in table: custom resources and other kinds of named groups are stored
and served as they are, a federated CustomResourceDefinition teaches their real plural and
scope, and discovery lists them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from kfed_core.keys import ResourceKey
from kfed_hub.store.memory import MemoryStore
from kfed_hub.store.protocol import NewEvent

Client = TestClient[web.Request, web.Application]
STABLE = "/apis/stable.example.com/v1"
CRONTABS = f"{STABLE}/namespaces/team/crontabs"
REGIONS = "/apis/infra.example.com/v1alpha1/regions"
CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"


async def send(api: Client, method: str, path: str, body: Any = None, **kw: Any) -> tuple[int, Any]:
    async with api.request(method, path, json=body, **kw) as response:
        return response.status, await response.json()


def crontab(name: str = "nightly", schedule: str = "0 3 * * *") -> dict[str, Any]:
    return {
        "apiVersion": "stable.example.com/v1",
        "kind": "CronTab",
        "metadata": {"name": name, "labels": {"app": "backup"}},
        "spec": {"cronSpec": schedule, "image": "backup:1"},
    }


def region(name: str = "emea") -> dict[str, Any]:
    return {
        "apiVersion": "infra.example.com/v1alpha1",
        "kind": "Region",
        "metadata": {"name": name},
        "spec": {"zones": 3},
    }


def moose_crd(scope: str = "Namespaced", **names: Any) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "moose.zoo.example.com"},
        "spec": {
            "group": "zoo.example.com",
            "scope": scope,
            "names": {
                "plural": "moose",
                "singular": "moose",
                "kind": "Moose",
                "shortNames": ["mo"],
                **names,
            },
            "versions": [
                {"name": "v1", "served": True, "storage": True},
                {"name": "v1beta1", "served": True, "storage": False},
                {"name": "v0", "served": False, "storage": False},
            ],
        },
    }


def moose(name: str = "bullwinkle", version: str = "v1") -> dict[str, Any]:
    return {"apiVersion": f"zoo.example.com/{version}", "kind": "Moose", "metadata": {"name": name}}


async def _namespace(api: Client, name: str) -> None:
    body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
    status, _ = await send(api, "POST", "/api/v1/namespaces", body)
    assert status == 201


async def test_a_namespaced_custom_resource_is_created_read_updated_and_deleted(
    api: Client, store: MemoryStore
) -> None:
    await _namespace(api, "team")
    status, created = await send(api, "POST", CRONTABS, crontab())
    assert status == 201, created
    assert created["kind"] == "CronTab" and created["apiVersion"] == "stable.example.com/v1"
    assert created["metadata"]["namespace"] == "team" and created["metadata"]["generation"] == 1
    assert [e["cluster"] for e in created["status"]["clusters"]] == ["east", "west"]
    stored = await store.get_object(
        ResourceKey(group="stable.example.com", kind="CronTab", namespace="team", name="nightly")
    )
    assert stored is not None and stored.manifest["spec"]["cronSpec"] == "0 3 * * *"
    assert "kfed.io/plural" not in str(stored.manifest)  # nothing is added to the object

    status, fetched = await send(api, "GET", f"{CRONTABS}/nightly")
    assert status == 200 and fetched["spec"]["image"] == "backup:1"
    status, listed = await send(api, "GET", CRONTABS, params={"labelSelector": "app=backup"})
    assert status == 200 and listed["kind"] == "CronTabList"
    assert [i["metadata"]["name"] for i in listed["items"]] == ["nightly"]
    _, everywhere = await send(api, "GET", f"{STABLE}/crontabs")  # all namespaces
    assert [i["metadata"]["namespace"] for i in everywhere["items"]] == ["team"]

    fetched["spec"]["cronSpec"] = "0 4 * * *"
    status, updated = await send(api, "PUT", f"{CRONTABS}/nightly", fetched)
    assert status == 200 and updated["metadata"]["generation"] == 2
    status, patched = await send(
        api,
        "PATCH",
        f"{CRONTABS}/nightly",
        {"spec": {"image": "backup:2"}},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert status == 200 and patched["spec"] == {"cronSpec": "0 4 * * *", "image": "backup:2"}

    status, _ = await send(api, "DELETE", f"{CRONTABS}/nightly")
    assert status == 200
    status, error = await send(api, "GET", f"{CRONTABS}/nightly")
    assert status == 404
    assert error["message"] == 'crontabs.stable.example.com "nightly" not found'


async def test_a_cluster_scoped_custom_resource_lives_outside_namespaces(api: Client) -> None:
    status, created = await send(api, "POST", REGIONS, region())
    assert status == 201, created
    assert "namespace" not in created["metadata"]
    status, _ = await send(api, "GET", f"{REGIONS}/emea")
    assert status == 200
    status, _ = await send(api, "GET", "/apis/infra.example.com/v1alpha1/namespaces/x/regions/emea")
    assert status == 404
    # The first create decided the scope: a namespaced create of that kind is told where to go.
    status, error = await send(
        api, "POST", "/apis/infra.example.com/v1alpha1/namespaces/default/regions", region("b")
    )
    assert status == 404
    assert (
        "Region (infra.example.com/v1alpha1) is cluster-scoped and served at " in error["message"]
    )
    assert f"{REGIONS}," in error["message"]


async def test_the_first_create_of_a_kind_is_checked_against_its_path(api: Client) -> None:
    status, error = await send(
        api, "POST", REGIONS, {**region(), "apiVersion": "infra.example.com/v2"}
    )
    assert status == 400 and "API version in the data (infra.example.com/v2)" in error["message"]
    status, error = await send(
        api, "POST", REGIONS, {k: v for k, v in region().items() if k != "kind"}
    )
    assert status == 400 and "has no kind" in error["message"]
    status, error = await send(api, "POST", REGIONS, {**region(), "kind": "Bad_Kind"})
    assert status == 400 and "not a valid kind name" in error["message"]
    status, error = await send(api, "POST", f"{REGIONS[:-1]}", region())  # "region"
    assert status == 404
    assert "derives from it, 'regions', not 'region'" in error["message"]
    assert f"send it to {REGIONS}," in error["message"]
    status, error = await send(api, "POST", REGIONS, {**region(), "metadata": {"name": "Bad_Name"}})
    assert status == 422 and "RFC 1123 subdomain" in error["message"]
    status, error = await send(api, "POST", REGIONS, ["not", "an", "object"])
    assert status == 400 and "must be a JSON object" in error["message"]
    huge = {**region(), "spec": {"blob": "x" * 70_000}}  # the conftest's body limit is 64 KiB
    status, error = await send(api, "POST", REGIONS, huge)
    assert status == 413 and error["reason"] == "RequestEntityTooLarge"
    status, error = await send(
        api,
        "POST",
        "/apis/apps/v1/namespaces/default/statefulsets",
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}},
    )
    assert status == 404 and "Deployment (apps/v1) is namespaced and served at" in error["message"]
    # A kind already known at the path: the usual admission (the kind must match the path).
    await send(api, "POST", REGIONS, region())
    status, error = await send(api, "POST", REGIONS, {**region("x"), "kind": "Zone"})
    assert status == 400 and "kind in the data (Zone)" in error["message"]


async def test_other_kinds_of_built_in_groups_are_served_too(api: Client) -> None:
    statefulset = {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "db"},
        "spec": {"replicas": 3},
    }
    path = "/apis/apps/v1/namespaces/default/statefulsets"
    status, created = await send(api, "POST", path, statefulset)
    assert status == 201, created
    _, apps = await send(api, "GET", "/apis/apps/v1")
    assert {r["name"] for r in apps["resources"]} == {"deployments", "replicasets", "statefulsets"}


async def test_the_core_group_and_kfed_io_get_no_dynamic_kinds(api: Client) -> None:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}}
    for path, body in (
        ("/api/v1/namespaces/default/pods", pod),
        ("/apis/kfed.io/v1alpha1/widgets", {**pod, "apiVersion": "kfed.io/v1alpha1"}),
    ):
        status, error = await send(api, "POST", path, body)
        assert (
            status == 404 and error["message"] == "the server could not find the requested resource"
        )
    status, error = await send(api, "POST", "/apis/kfed.io/v1alpha1/clusters", {})
    assert status == 405


async def test_discovery_lists_dynamic_kinds_while_they_have_objects(api: Client) -> None:
    await _namespace(api, "team")
    await send(api, "POST", CRONTABS, crontab())
    await send(api, "POST", REGIONS, region())
    _, groups = await send(api, "GET", "/apis")
    names = [g["name"] for g in groups["groups"]]
    assert names[-2:] == ["infra.example.com", "stable.example.com"]
    status, group = await send(api, "GET", "/apis/stable.example.com")
    assert status == 200 and group["preferredVersion"]["version"] == "v1"
    _, resources = await send(api, "GET", STABLE)
    (resource,) = resources["resources"]
    assert resource == {
        "name": "crontabs",
        "singularName": "crontab",
        "namespaced": True,
        "kind": "CronTab",
        "verbs": ["create", "delete", "get", "list", "patch", "update"],
    }
    _, infra = await send(api, "GET", "/apis/infra.example.com/v1alpha1")
    assert infra["resources"][0]["namespaced"] is False
    _, core = await send(api, "GET", "/api/v1")
    assert "crontabs" not in {r["name"] for r in core["resources"]}

    await send(api, "DELETE", f"{CRONTABS}/nightly")
    status, _ = await send(api, "GET", STABLE)
    assert status == 404  # no object and no CRD: the hub no longer knows the kind
    status, _ = await send(api, "GET", CRONTABS)
    assert status == 404


async def test_a_federated_crd_teaches_the_plural_short_names_and_versions(api: Client) -> None:
    path = "/apis/zoo.example.com/v1/namespaces/default"
    # Without the CRD the hub can only derive the plural, and "mooses" is not the real one.
    status, error = await send(api, "POST", f"{path}/moose", moose())
    assert status == 404 and "'mooses', not 'moose'" in error["message"]

    status, created = await send(api, "POST", CRDS, moose_crd())
    assert status == 201, created
    status, created = await send(api, "POST", f"{path}/moose", moose())
    assert status == 201, created
    status, _ = await send(api, "GET", f"{path}/moose/bullwinkle")
    assert status == 200
    status, error = await send(api, "POST", f"{path}/mooses", moose("other"))
    assert status == 404
    assert "served at /apis/zoo.example.com/v1/namespaces/{namespace}/moose," in error["message"]
    status, error = await send(
        api, "POST", "/apis/zoo.example.com/v2/namespaces/default/mooses", moose("x", "v2")
    )
    assert status == 404
    assert 'CustomResourceDefinition "moose.zoo.example.com" defines kind Moose' in error["message"]
    assert "version(s) v1, v1beta1" in error["message"]

    _, group = await send(api, "GET", "/apis/zoo.example.com")
    assert [v["version"] for v in group["versions"]] == ["v1", "v1beta1"]
    assert group["preferredVersion"]["version"] == "v1"
    _, resources = await send(api, "GET", "/apis/zoo.example.com/v1beta1")
    (resource,) = resources["resources"]
    assert (resource["name"], resource["kind"], resource["shortNames"]) == (
        "moose",
        "Moose",
        ["mo"],
    )
    _, ext = await send(api, "GET", "/apis/apiextensions.k8s.io/v1")
    assert ext["resources"][0]["shortNames"] == ["crd", "crds"]


async def test_a_cluster_scoped_crd_decides_the_scope(api: Client) -> None:
    await send(api, "POST", CRDS, moose_crd(scope="Cluster"))
    status, error = await send(
        api, "POST", "/apis/zoo.example.com/v1/namespaces/default/moose", moose()
    )
    assert (
        status == 404
        and "is cluster-scoped and served at /apis/zoo.example.com/v1/moose" in (error["message"])
    )
    status, created = await send(api, "POST", "/apis/zoo.example.com/v1/moose", moose())
    assert status == 201 and "namespace" not in created["metadata"]


async def test_deleting_a_crd_deletes_its_custom_resources(api: Client, store: MemoryStore) -> None:
    await send(api, "POST", CRDS, moose_crd())
    await send(api, "POST", "/apis/zoo.example.com/v1/namespaces/default/moose", moose("a"))
    await send(
        api,
        "POST",
        "/apis/zoo.example.com/v1beta1/namespaces/default/moose",
        {**moose("b", "v1beta1")},
    )
    await send(api, "POST", CRONTABS.replace("team", "default"), crontab())
    status, _ = await send(api, "DELETE", f"{CRDS}/moose.zoo.example.com")
    assert status == 200
    left = [str(o.key) for o in await store.list_objects()]
    assert left == ["stable.example.com/CronTab/default/nightly"]


async def test_crds_are_checked_where_the_hub_reads_them(api: Client) -> None:
    bad = moose_crd(scope="Everywhere")
    bad["metadata"]["name"] = "elk.zoo.example.com"
    bad["spec"]["names"]["kind"] = "Mo_ose"
    status, error = await send(api, "POST", CRDS, bad)
    assert status == 422 and error["reason"] == "Invalid"
    fields = {c["field"] for c in error["details"]["causes"]}
    assert fields == {"spec.scope", "spec.names.kind", "metadata.name"}
    assert 'must be spec.names.plural+"."+spec.group' in error["message"]
    own = moose_crd()
    own["spec"]["group"] = "kfed.io"
    own["metadata"]["name"] = "moose.kfed.io"
    status, error = await send(api, "POST", CRDS, own)
    assert status == 422 and "the kfed hub's own group" in error["message"]
    empty = {**moose_crd(), "spec": {}}
    status, error = await send(api, "POST", CRDS, empty)
    assert status == 422 and "spec.versions: Required value" in error["message"]


async def test_the_kinds_are_rebuilt_from_the_store_at_start(
    store: MemoryStore, restarted_api: Callable[[], Awaitable[Client]]
) -> None:
    """A new API application on a store with objects (as after a restart) serves their kinds,
    and follows objects written to the store by anyone after that."""
    crd_key = ResourceKey(
        group="apiextensions.k8s.io",
        kind="CustomResourceDefinition",
        namespace="",
        name="moose.zoo.example.com",
    )
    await store.create_object(crd_key, moose_crd())
    cron = {**crontab(), "metadata": {"name": "nightly", "namespace": "default"}}
    await store.create_object(
        ResourceKey(
            group="stable.example.com", kind="CronTab", namespace="default", name="nightly"
        ),
        cron,
    )
    api = await restarted_api()
    status, _ = await send(api, "GET", f"{STABLE}/namespaces/default/crontabs/nightly")
    assert status == 200
    _, resources = await send(api, "GET", "/apis/zoo.example.com/v1")
    assert resources["resources"][0]["name"] == "moose"
    await store.create_object(
        ResourceKey(group="infra.example.com", kind="Region", namespace="", name="emea"), region()
    )
    status, _ = await send(api, "GET", f"{REGIONS}/emea")
    assert status == 200


async def test_events_of_a_custom_resource_name_its_served_api_version(
    api: Client, store: MemoryStore
) -> None:
    await send(api, "POST", CRONTABS.replace("team", "default"), crontab())
    key = ResourceKey(
        group="stable.example.com", kind="CronTab", namespace="default", name="nightly"
    )
    failed = NewEvent(
        type="Warning",
        reason="ApplyFailed",
        message="kind CronTab is not served by cluster east",
        time=dt.datetime.now(dt.UTC),
        key=key,
        cluster="east",
    )
    await store.add_events([failed])
    selector = (
        "involvedObject.kind=CronTab,involvedObject.name=nightly,"
        "involvedObject.apiVersion=stable.example.com/v1"
    )
    status, events = await send(
        api,
        "GET",
        "/apis/kfed.io/v1alpha1/namespaces/default/events",
        params={"fieldSelector": selector},
    )
    assert status == 200
    (event,) = events["items"]
    assert event["involvedObject"]["apiVersion"] == "stable.example.com/v1"
