"""``/apis/kfed.io/v1alpha1/[namespaces/{ns}/]events``: federated events as Kubernetes Events."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from kfed_core.keys import ResourceKey
from kfed_hub.api.events import event_object, parse_field_selector
from kfed_hub.store.memory import MemoryStore
from kfed_hub.store.protocol import FederatedEvent, NewEvent

Client = TestClient[web.Request, web.Application]
EVENTS = "/apis/kfed.io/v1alpha1/events"
T0 = dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
RS = ResourceKey(group="apps", kind="ReplicaSet", namespace="default", name="nginx")
LEGACY_RS = ResourceKey(group="extensions", kind="ReplicaSet", namespace="default", name="nginx")
CM = ResourceKey(group="core", kind="ConfigMap", namespace="shop", name="settings")


def new(
    reason: str, *, key: ResourceKey | None = RS, cluster: str = "", seconds: int = 0
) -> NewEvent:
    return NewEvent(
        type="Warning" if reason.endswith("Failed") else "Normal",
        reason=reason,
        message=f"{reason} happened",
        time=T0 + dt.timedelta(seconds=seconds),
        key=key,
        cluster=cluster,
    )


async def fill(store: MemoryStore) -> None:
    await store.add_events(
        [
            new("Scheduled", seconds=1),
            new("ApplyFailed", cluster="east", seconds=2),
            new("ApplyFailed", cluster="east", seconds=3),
            new("ClusterNotReady", key=None, cluster="east", seconds=4),
            new("Propagated", key=CM, cluster="west", seconds=5),
            new("Scheduled", key=LEGACY_RS, seconds=6),
        ]
    )


async def get(api: Client, path: str, **query: str) -> tuple[int, Any]:
    async with api.get(path, params=query) as response:
        return response.status, await response.json()


def reasons(listed: Any) -> list[str]:
    return [item["reason"] for item in listed["items"]]


def test_an_object_event_names_the_object_and_its_cluster() -> None:
    event = FederatedEvent(
        id=26,
        type="Warning",
        reason="ApplyFailed",
        message="Invalid: spec.template",
        key=RS,
        cluster="east",
        count=3,
        first_time=T0,
        last_time=T0 + dt.timedelta(minutes=5),
    )
    served = event_object(event)
    assert served["involvedObject"] == {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "namespace": "default",
        "name": "nginx",
    }
    assert served["metadata"]["name"] == "nginx.1a" and served["metadata"]["namespace"] == "default"
    assert served["related"] == {
        "apiVersion": "kfed.io/v1alpha1",
        "kind": "Cluster",
        "name": "east",
    }
    assert served["source"] == {"component": "kfed-hub", "host": "east"}
    assert (served["count"], served["firstTimestamp"], served["lastTimestamp"]) == (
        3,
        "2025-01-02T03:04:05Z",
        "2025-01-02T03:09:05Z",
    )


def test_a_cluster_event_involves_the_cluster_in_the_default_namespace() -> None:
    event = FederatedEvent(
        id=1,
        type="Normal",
        reason="ClusterNotReady",
        message="3 heartbeats missed",
        key=None,
        cluster="east",
        count=1,
        first_time=T0,
        last_time=T0,
    )
    served = event_object(event)
    assert served["involvedObject"] == {
        "apiVersion": "kfed.io/v1alpha1",
        "kind": "Cluster",
        "name": "east",
    }
    assert served["metadata"]["namespace"] == "default"
    assert "related" not in served and served["source"] == {"component": "kfed-hub"}


def test_legacy_kinds_keep_their_api_version() -> None:
    event = FederatedEvent(
        id=1,
        type="Normal",
        reason="Scheduled",
        message="m",
        key=LEGACY_RS,
        cluster="",
        count=1,
        first_time=T0,
        last_time=T0,
    )
    assert event_object(event)["involvedObject"]["apiVersion"] == "extensions/v1beta1"


async def test_events_are_listed_newest_last_in_every_namespace(
    api: Client, store: MemoryStore
) -> None:
    await fill(store)
    status, listed = await get(api, EVENTS)
    assert status == 200 and listed["kind"] == "EventList"
    assert reasons(listed) == [
        "Scheduled",
        "ApplyFailed",
        "ClusterNotReady",
        "Propagated",
        "Scheduled",
    ]
    assert listed["items"][1]["count"] == 2


async def test_a_namespace_holds_its_objects_events_and_default_the_clusters(
    api: Client, store: MemoryStore
) -> None:
    await fill(store)
    _, shop = await get(api, "/apis/kfed.io/v1alpha1/namespaces/shop/events")
    assert reasons(shop) == ["Propagated"]
    _, default = await get(api, EVENTS, namespace="default")
    assert reasons(default) == ["Scheduled", "ApplyFailed", "ClusterNotReady", "Scheduled"]


async def test_field_selectors_pick_one_object_or_one_cluster(
    api: Client, store: MemoryStore
) -> None:
    await fill(store)
    _, nginx = await get(
        api,
        EVENTS,
        fieldSelector="involvedObject.kind=ReplicaSet,involvedObject.name=nginx,"
        "involvedObject.apiVersion=apps/v1,involvedObject.namespace=default",
    )
    assert reasons(nginx) == ["Scheduled", "ApplyFailed"]
    _, cluster = await get(
        api, EVENTS, fieldSelector="involvedObject.kind=Cluster,involvedObject.name=east"
    )
    assert reasons(cluster) == ["ClusterNotReady"]
    _, east = await get(api, EVENTS, cluster="east")
    assert reasons(east) == ["ApplyFailed", "ClusterNotReady"]
    _, warnings = await get(api, EVENTS, fieldSelector="type!=Normal")
    assert reasons(warnings) == ["ApplyFailed"]
    _, newest = await get(api, EVENTS, limit="2")
    assert reasons(newest) == ["Propagated", "Scheduled"]


async def test_bad_queries_are_400_saying_what_is_accepted(api: Client) -> None:
    status, error = await get(api, EVENTS, fieldSelector="spec.nodeName=a")
    assert status == 400 and error["reason"] == "BadRequest"
    assert '"spec.nodeName" is not a known field selector' in error["message"]
    status, error = await get(api, EVENTS, fieldSelector="involvedObject.kind")
    assert status == 400 and "is not field=value" in error["message"]
    status, error = await get(api, EVENTS, limit="lots")
    assert status == 400 and "from 1 to 10000" in error["message"]


async def test_events_are_read_only(api: Client) -> None:
    async with api.post(EVENTS, json={}) as response:
        assert response.status == 405
    assert parse_field_selector("") == []


async def test_discovery_lists_events_and_the_label_verb_of_clusters(api: Client) -> None:
    _, document = await get(api, "/apis/kfed.io/v1alpha1")
    by_name = {r["name"]: r for r in document["resources"]}
    assert by_name["events"]["namespaced"] and by_name["events"]["shortNames"] == ["ev"]
    assert "patch" in by_name["clusters"]["verbs"]
