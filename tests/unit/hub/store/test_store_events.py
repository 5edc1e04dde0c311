"""Federated events and orphan tombstones, checked against every Store implementation."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kfed_core.keys import ResourceKey
from kfed_hub.store.codec import MAX_EVENT_MESSAGE
from kfed_hub.store.memory import MemoryStore
from kfed_hub.store.protocol import NewEvent, ObjectChange, Store, StoreError
from kfed_hub.store.sealing import SecretSealer
from kfed_hub.store.sqlite import SqliteStore

T0 = dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
RS = ResourceKey(group="apps", kind="ReplicaSet", namespace="default", name="nginx")
CM = ResourceKey(group="core", kind="ConfigMap", namespace="shop", name="settings")
NS = ResourceKey(group="core", kind="Namespace", namespace="", name="shop")


def at(seconds: int) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def event(
    reason: str = "Scheduled",
    *,
    seconds: int = 0,
    key: ResourceKey | None = RS,
    cluster: str = "",
    message: str = "placed",
    type: str = "Normal",
) -> NewEvent:
    return NewEvent(
        type=type, reason=reason, message=message, time=at(seconds), key=key, cluster=cluster
    )


@pytest.fixture(params=["memory", "sqlite"])
async def small(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """A store that keeps at most three events."""
    opened: Store
    if request.param == "memory":
        opened = MemoryStore(clock=lambda: T0, max_events=3)
    else:
        sealer = SecretSealer.load_or_create(tmp_path / "store.key")
        opened = await SqliteStore.open(
            tmp_path / "hub.db", sealer=sealer, clock=lambda: T0, max_events=3
        )
    try:
        yield opened
    finally:
        await opened.close()


async def test_the_same_occurrence_aggregates_into_one_event_with_a_count(store: Store) -> None:
    await store.add_events([event(seconds=0), event(seconds=5)])
    await store.add_events([event(seconds=9)])
    (only,) = await store.list_events()
    assert (only.count, only.first_time, only.last_time) == (3, at(0), at(9))
    assert (only.type, only.reason, only.message, only.key, only.cluster) == (
        "Normal",
        "Scheduled",
        "placed",
        RS,
        "",
    )


async def test_a_different_message_cluster_or_type_is_another_event(store: Store) -> None:
    await store.add_events(
        [
            event(),
            event(message="placed again"),
            event(cluster="east"),
            event(type="Warning"),
            event(key=None, cluster="east", reason="ClusterNotReady"),
        ]
    )
    listed = await store.list_events()
    assert len(listed) == 5 and all(e.count == 1 for e in listed)
    assert len({e.id for e in listed}) == 5


async def test_events_are_listed_newest_last_and_limited_to_the_newest(store: Store) -> None:
    await store.add_events([event("A", seconds=3), event("B", seconds=1), event("C", seconds=2)])
    await store.add_events([event("B", seconds=4)])  # B happened again: now the newest
    assert [e.reason for e in await store.list_events()] == ["C", "A", "B"]
    assert [e.reason for e in await store.list_events(limit=2)] == ["A", "B"]
    assert await store.list_events(limit=0) == []


async def test_filters_by_key_cluster_namespace_kind_and_name(store: Store) -> None:
    await store.add_events(
        [
            event("OnRs", cluster="east"),
            event("OnCm", key=CM, cluster="west"),
            event("OnNs", key=NS),
            event("OnCluster", key=None, cluster="east"),
        ]
    )

    async def reasons(**filters: object) -> list[str]:
        return sorted(e.reason for e in await store.list_events(**filters))  # type: ignore[arg-type]

    assert await reasons(key=RS) == ["OnRs"]
    assert await reasons(cluster="east") == ["OnCluster", "OnRs"]
    assert await reasons(namespace="shop") == ["OnCm"]
    # Kubernetes files events of clusters and cluster-scoped objects under "default".
    assert await reasons(namespace="default") == ["OnCluster", "OnNs", "OnRs"]
    assert await reasons(kind="ReplicaSet", name="nginx") == ["OnRs"]
    assert await reasons(name="shop") == ["OnNs"]
    assert await reasons(kind="ConfigMap", namespace="default") == []


async def test_retention_drops_the_oldest_in_the_same_write(small: Store) -> None:
    await small.add_events([event("A", seconds=1), event("B", seconds=2), event("C", seconds=3)])
    await small.add_events([event("A", seconds=10)])  # A is recent again: B is now the oldest
    await small.add_events([event("D", seconds=4)])
    assert [e.reason for e in await small.list_events()] == ["C", "D", "A"]
    await small.add_events([event(str(n), seconds=20 + n) for n in range(5)])
    assert [e.reason for e in await small.list_events()] == ["2", "3", "4"]


async def test_a_bad_event_is_refused_and_nothing_of_its_batch_is_written(store: Store) -> None:
    with pytest.raises(StoreError, match="event type 'Info' is not one of Normal, Warning"):
        await store.add_events([event("Good"), event("Bad", type="Info")])
    naive = NewEvent(type="Normal", reason="X", message="m", time=dt.datetime(2025, 1, 1))
    with pytest.raises(StoreError, match="timezone-aware"):
        await store.add_events([naive])
    with pytest.raises(StoreError, match="needs a reason"):
        await store.add_events([event("")])
    assert await store.list_events() == []


async def test_long_messages_are_clipped_and_times_read_back_in_utc(store: Store) -> None:
    plus_two = dt.timezone(dt.timedelta(hours=2))
    long = "x" * (MAX_EVENT_MESSAGE + 50)
    await store.add_events(
        [NewEvent(type="Warning", reason="Long", message=long, time=at(0).astimezone(plus_two))]
    )
    await store.add_events([NewEvent(type="Warning", reason="Long", message=long, time=at(1))])
    (only,) = await store.list_events()
    assert len(only.message) == MAX_EVENT_MESSAGE and only.message.endswith("...")
    assert only.count == 2 and only.first_time == at(0) and only.last_time.tzinfo == dt.UTC


# -- orphan tombstones -----------------------------------------------------------------------


async def test_an_orphaning_delete_leaves_a_tombstone_and_says_so(store: Store) -> None:
    seen: list[ObjectChange] = []
    store.add_listener(seen.append)
    await store.create_object(CM, {"metadata": {"name": "settings"}})
    await store.create_object(RS, {"metadata": {"name": "nginx"}})
    await store.delete_object(CM, orphan=True)
    await store.delete_object(RS)
    assert await store.orphans() == frozenset({CM})
    assert [(c.key, c.after is None, c.orphaned) for c in seen[2:]] == [
        (CM, True, True),
        (RS, True, False),
    ]


async def test_creating_the_key_again_or_forgetting_clears_the_tombstone(store: Store) -> None:
    for key in (CM, RS):
        await store.create_object(key, {"metadata": {}})
        await store.delete_object(key, orphan=True)
    await store.create_object(CM, {"metadata": {}})
    assert await store.orphans() == frozenset({RS})
    await store.forget_orphans([RS, NS])  # an unknown key is ignored
    assert await store.orphans() == frozenset()


async def test_an_orphaning_delete_that_fails_its_precondition_leaves_no_tombstone(
    store: Store,
) -> None:
    stored = await store.create_object(CM, {"metadata": {}})
    with pytest.raises(StoreError):
        await store.delete_object(CM, expected_revision=stored.revision + 7, orphan=True)
    assert await store.orphans() == frozenset()
    assert await store.get_object(CM) is not None
