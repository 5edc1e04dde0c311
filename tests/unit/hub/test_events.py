"""EventRecorder: recording never blocks, merges repeats, stays bounded and flushes on cancel."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Sequence

import pytest

from kfed_core.keys import ResourceKey
from kfed_hub import events
from kfed_hub.events import EventRecorder
from kfed_hub.store.memory import MemoryStore
from kfed_hub.store.protocol import NewEvent

T0 = dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
RS = ResourceKey(group="apps", kind="ReplicaSet", namespace="default", name="nginx")


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now

    def tick(self, seconds: int) -> None:
        self.now += dt.timedelta(seconds=seconds)


class BrokenStore(MemoryStore):
    async def add_events(self, events: Sequence[NewEvent]) -> None:
        raise OSError("disk full")


async def wait_for(condition: Callable[[], bool]) -> None:
    deadline = asyncio.get_running_loop().time() + 2.0
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.005)


async def test_repeats_are_merged_before_they_reach_the_store() -> None:
    store, clock = MemoryStore(), Clock()
    recorder = EventRecorder(store, clock=clock)
    recorder.record(type="Warning", reason=events.APPLY_FAILED, message="Invalid", key=RS)
    clock.tick(5)
    recorder.record(type="Warning", reason=events.APPLY_FAILED, message="Invalid", key=RS)
    recorder.record(
        type="Normal", reason=events.CLUSTER_NOT_READY, message="silent", cluster="east"
    )
    assert recorder.pending == 2
    await recorder.flush()
    failed, not_ready = await store.list_events()
    assert (failed.count, failed.first_time, failed.last_time) == (2, T0, clock.now)
    assert (not_ready.key, not_ready.cluster, not_ready.count) == (None, "east", 1)
    assert recorder.pending == 0


async def test_the_buffer_is_bounded_dropping_the_oldest_and_counting() -> None:
    store, clock = MemoryStore(), Clock()
    recorder = EventRecorder(store, clock=clock, max_pending=3)
    for n in range(5):
        recorder.record(type="Normal", reason="Scheduled", message=f"plan {n}", key=RS)
    assert (recorder.pending, recorder.dropped) == (3, 2)
    await recorder.flush()
    assert [e.message for e in await store.list_events()] == ["plan 2", "plan 3", "plan 4"]


async def test_a_repeat_counts_as_recent_so_it_is_not_the_one_dropped() -> None:
    store = MemoryStore()
    recorder = EventRecorder(store, clock=Clock(), max_pending=2)
    recorder.record(type="Normal", reason="A", message="m")
    recorder.record(type="Normal", reason="B", message="m")
    recorder.record(type="Normal", reason="A", message="m")
    recorder.record(type="Normal", reason="C", message="m")
    await recorder.flush()
    assert sorted(e.reason for e in await store.list_events()) == ["A", "C"]


async def test_run_flushes_soon_after_a_record_and_once_more_when_cancelled() -> None:
    store = MemoryStore()
    recorder = EventRecorder(store, clock=Clock(), flush_interval=0.05)
    task = asyncio.create_task(recorder.run())
    recorder.record(type="Normal", reason="First", message="m")
    await wait_for(lambda: recorder.pending == 0)
    assert [e.reason for e in await store.list_events()] == ["First"]
    recorder.record(type="Normal", reason="Second", message="m")
    await asyncio.sleep(0)  # run() is now waiting out its interval
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert [e.reason for e in await store.list_events()] == ["First", "Second"]


async def test_a_failing_store_loses_the_batch_but_not_the_recorder() -> None:
    recorder = EventRecorder(BrokenStore(), clock=Clock())
    recorder.record(type="Normal", reason="A", message="m")
    await recorder.flush()
    assert (recorder.pending, recorder.dropped) == (0, 1)
    recorder.record(type="Normal", reason="B", message="m")
    assert recorder.pending == 1


def test_a_bad_type_or_reason_is_the_callers_bug() -> None:
    recorder = EventRecorder(MemoryStore(), clock=Clock())
    with pytest.raises(ValueError, match="not one of Normal, Warning"):
        recorder.record(type="Error", reason="X", message="m")
    with pytest.raises(ValueError, match="needs a reason"):
        recorder.record(type="Normal", reason="", message="m")
    assert recorder.pending == 0


async def test_long_messages_are_clipped_in_the_buffer() -> None:
    store = MemoryStore()
    recorder = EventRecorder(store, clock=Clock())
    recorder.record(type="Normal", reason="Long", message="y" * 5000)
    await recorder.flush()
    (only,) = await store.list_events()
    assert len(only.message) == 1024
