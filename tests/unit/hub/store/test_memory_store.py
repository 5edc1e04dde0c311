"""MemoryStore, the in-memory fake: what only the fake promises (the shared rules are checked in
``test_store_behaviour.py``)."""

from __future__ import annotations

import datetime as dt

from kfed_core.keys import ResourceKey
from kfed_hub.store.memory import MemoryStore
from kfed_hub.store.protocol import ClusterObjectState, ClusterRecord, Store

T0 = dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


def test_memory_store_satisfies_the_store_protocol() -> None:
    store: Store = MemoryStore()
    assert store is not None


async def test_memory_store_starts_empty_every_time() -> None:
    first = MemoryStore()
    key = ResourceKey(group="core", kind="ConfigMap", namespace="d", name="a")
    await first.create_object(key, {"metadata": {"name": "a"}})
    second = MemoryStore()
    assert await second.get_object(key) is None and await second.revision() == 0


async def test_records_handed_out_share_no_mutable_state_with_the_store() -> None:
    store = MemoryStore()
    labels = {"region": "eu"}
    await store.create_cluster(ClusterRecord(name="west", joined_at=T0, labels=labels))
    labels["region"] = "us"
    fetched = await store.get_cluster("west")
    assert fetched is not None
    assert isinstance(fetched.labels, dict)
    fetched.labels["region"] = "ap"
    again = await store.get_cluster("west")
    assert again is not None and again.labels == {"region": "eu"}

    key = ResourceKey(group="core", kind="ConfigMap", namespace="d", name="a")
    status = {"phase": "Active"}
    await store.put_object_states([ClusterObjectState(cluster="west", key=key, status=status)])
    status["phase"] = "Gone"
    (state,) = await store.object_states()
    assert state.status == {"phase": "Active"}
