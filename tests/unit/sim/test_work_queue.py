"""The simulated controllers' work queue: ordering, de-duplication, delays, and stopping."""

from __future__ import annotations

import asyncio
import time

from kfed_local.sim.controllers.base import WorkQueue


async def test_keys_come_out_once_in_order_and_delayed_keys_wait() -> None:
    queue = WorkQueue(time.monotonic)
    queue.add_after("later", 0.05)
    queue.add("a")
    queue.add("b")
    queue.add("a")  # already waiting: not queued twice
    assert len(queue) == 3
    assert [await queue.get(), await queue.get()] == ["a", "b"]
    started = time.monotonic()
    assert await queue.get() == "later"
    assert time.monotonic() - started >= 0.04
    assert len(queue) == 0


async def test_a_cancel_that_races_a_new_key_stops_the_reader() -> None:
    """A controller stops when its ``get`` is cancelled, even if a key arrived in the same turn
    (3.11's ``wait_for`` returned the key instead, and the controller never stopped)."""
    for turns in range(4):
        queue = WorkQueue(time.monotonic)
        queue.add_after("someday", 3600)  # so get() waits with a timeout
        task = asyncio.create_task(queue.get())
        await asyncio.sleep(0)  # now waiting
        queue.add("key")
        for _ in range(turns):
            await asyncio.sleep(0)
        accepted = task.cancel()
        await asyncio.wait({task}, timeout=2)
        assert task.done()
        if accepted:  # the cancel reached a get still running: it must end it
            assert task.cancelled(), f"get() swallowed a cancel {turns} turns after a key"
