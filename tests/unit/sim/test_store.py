"""The object store: resourceVersions, history, watch fan-out and 410 for compacted history."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kfed_local.sim.store import Change, ObjectStore, TooOldResourceVersion, visible_event


def obj(name: str, **labels: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "ns", "labels": labels}}


def test_every_write_gets_a_higher_resource_version() -> None:
    store = ObjectStore()
    first = store.put("/configmaps", obj("a"))
    second = store.put("/secrets", obj("b"))
    gone = store.remove("/configmaps", "ns", "a")
    assert gone is not None
    assert first.rv < second.rv < gone.rv == store.resource_version
    assert gone.obj["metadata"]["resourceVersion"] == str(gone.rv)


def test_items_are_sorted_and_filtered_by_namespace() -> None:
    store = ObjectStore()
    for name, namespace in (("b", "x"), ("a", "y"), ("a", "x")):
        store.put("/configmaps", {"metadata": {"name": name, "namespace": namespace}})
    assert [
        (e.obj["metadata"]["namespace"], e.obj["metadata"]["name"])
        for e in store.items("/configmaps")
    ] == [("x", "a"), ("x", "b"), ("y", "a")]
    assert len(store.items("/configmaps", "x")) == 2


async def test_watch_replays_changes_after_a_version_and_then_follows() -> None:
    store = ObjectStore()
    start = store.put("/configmaps", obj("a")).rv
    store.put("/configmaps", obj("b"))
    watcher, backlog = store.watch(
        "/configmaps", namespace=None, accepts=lambda o: True, since=start
    )
    assert [c.obj["metadata"]["name"] for c in backlog] == ["b"]
    store.put("/configmaps", obj("c"))
    change = await asyncio.wait_for(watcher.queue.get(), 1)
    assert change is not None and change.obj["metadata"]["name"] == "c"


def test_watch_from_compacted_history_is_refused() -> None:
    store = ObjectStore(history=3)
    first = store.put("/configmaps", obj("a")).rv
    for i in range(5):
        store.put("/configmaps", obj(f"n{i}"))
    with pytest.raises(TooOldResourceVersion) as caught:
        store.watch("/configmaps", namespace=None, accepts=lambda o: True, since=first)
    assert "too old resource version" in str(caught.value)
    store.watch(
        "/configmaps", namespace=None, accepts=lambda o: True, since=store.resource_version - 1
    )


def test_selector_watch_sees_objects_enter_and_leave_the_selection() -> None:
    store = ObjectStore()
    changes: list[Change] = []
    store.subscribe(changes.append)
    store.put("/configmaps", obj("a", pick="no"))
    store.put("/configmaps", obj("a", pick="yes"))
    store.put("/configmaps", obj("a", pick="no"))

    def accepts(o: dict[str, Any]) -> bool:
        return bool(o["metadata"]["labels"].get("pick") == "yes")

    seen = [visible_event(c, accepts) for c in changes]
    assert [s[0] if s else None for s in seen] == [None, "ADDED", "DELETED"]


async def test_a_watcher_that_falls_behind_is_closed_not_buffered_forever() -> None:
    store = ObjectStore()
    watcher, _ = store.watch("/configmaps", namespace=None, accepts=lambda o: True, since=None)
    for i in range(watcher.queue.maxsize + 10):
        store.put("/configmaps", obj(f"c{i}"))
    assert watcher.overflowed
    drained = [watcher.queue.get_nowait() for _ in range(watcher.queue.qsize())]
    assert drained[-1] is None  # the reader sees the end of the watch
