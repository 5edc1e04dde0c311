"""The reconnect part of the Sync benchmark: one agent holding many unchanged objects comes back.

Layer: ``bench`` (benchmark code). The hub's store is filled before the hub starts
(:func:`bench.sync_hub.prepopulate`, straight into SQLite: the API would take minutes and
measure nothing of interest here). One cluster joins through the API; a
:class:`~bench.sync_agents.LightAgent` (in this process: it is the only one) connects with an
empty Hello and receives everything; it disconnects, waits a moment, and reconnects with a Hello
carrying every ``{key → version}`` it holds. To know when it is in sync again, one object is
updated through the API right after Welcome: the agent is in sync when exactly that upsert
arrives, and every other upsert received after the reconnect is a re-apply (the goal is none).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.sync_agents import Credentials, LightAgent
from bench.sync_hub import Admin, HubProcess, join_clusters, prepopulate
from kfed_core.sync.agent_side import Plan

MERGE_PATCH = "application/merge-patch+json"
GRACE = 1.0  # seconds to keep listening after the probe, so a late re-apply is still counted


async def _poll(done: Callable[[], bool], what: str, within: float) -> None:
    deadline = time.monotonic() + within
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {within:g}s waiting for {what}")
        await asyncio.sleep(0.005)


async def run_reconnect(folder: Path, *, objects: int, seed: int) -> dict[str, Any]:
    """Measure the initial sync and the reconnect of one agent holding ``objects`` objects."""
    rng = random.Random(seed)
    value = "".join(rng.choice("0123456789abcdef") for _ in range(64))
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    fill_s = await prepopulate(folder / "hub", objects, value)
    hub = await asyncio.to_thread(HubProcess.start, folder)
    writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="api-writer")
    loop = asyncio.get_running_loop()
    agents: list[LightAgent] = []
    tasks: list[asyncio.Task[None]] = []
    admin: Admin | None = None
    try:
        rss_loaded = hub.rss_kib()
        admin = Admin(hub.config_path)
        joined, _ = await asyncio.to_thread(join_clusters, admin, ["bench-reconnect"], threads=1)
        creds: Credentials = joined[0]
        ca_pem = admin.config.ca_pem

        # 1. First connection, empty Hello: everything is sent.
        first = LightAgent(index=0, target=hub.sync_target, ca_pem=ca_pem, creds=creds)
        agents.append(first)
        started = time.monotonic()
        await first.open(known={})
        welcome_1 = time.monotonic() - started
        tasks.append(asyncio.create_task(first.serve()))
        await _poll(lambda: len(first.known) >= objects, "the initial sync", 300)
        initial_s = time.monotonic() - started
        initial = {
            "seconds": round(initial_s, 3),
            "connect_to_welcome_ms": round(welcome_1 * 1000, 1),
            "hello_bytes": first.hello_bytes,
            "bytes_received": first.bytes_received,
            "batches": first.batches_received,
            "upserts": first.upserts_received,
        }
        held = dict(first.known)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        tasks.clear()
        await first.close()
        # Let the hub notice the old stream ended and persist the results it got, so the
        # reconnect is measured against a hub at rest (as after any real outage).
        await asyncio.sleep(2.0)
        rss_synced = hub.rss_kib()

        # 2. Reconnect with everything it holds, then probe with one changed object.
        probe_key = f"core/ConfigMap/default/bench-obj-{rng.randrange(objects):05d}"
        probe_at: list[float] = []

        def on_batch(agent: LightAgent, at: float, size: int, plan: Plan) -> None:
            if any(str(u.key) == probe_key for u in plan.upserts):
                probe_at.append(at)

        second = LightAgent(
            index=0, target=hub.sync_target, ca_pem=ca_pem, creds=creds, on_batch=on_batch
        )
        agents.append(second)
        second.session.known.update(held)
        started_wall, started = time.time(), time.monotonic()
        await second.open()
        welcome_2 = time.monotonic() - started
        tasks.append(asyncio.create_task(second.serve()))
        tasks.append(asyncio.create_task(second.heartbeats()))
        name = probe_key.rsplit("/", 1)[1]

        def write_probe(admin: Admin = admin) -> float:
            at = time.time()
            admin.request(
                "PATCH",
                f"/api/v1/namespaces/default/configmaps/{name}",
                {"data": {"value": "probe"}},
                content_type=MERGE_PATCH,
            )
            return at

        probe_written = await loop.run_in_executor(writer, write_probe)
        await _poll(lambda: bool(probe_at), "the probe upsert", 60)
        await asyncio.sleep(GRACE)
        reapplies = second.upserts_received - 1
        return {
            "objects": objects,
            "prepopulated_via": "SqliteStore before the hub started",
            "prepopulate_seconds": round(fill_s, 2),
            "hub_rss_mib_loaded": round(rss_loaded / 1024, 1),
            "hub_rss_mib_after_initial_sync": round(rss_synced / 1024, 1),
            "initial_sync": initial,
            "reconnect": {
                "hello_bytes": second.hello_bytes,
                "bytes_received": second.bytes_received,
                "connect_to_welcome_ms": round(welcome_2 * 1000, 1),
                "connect_to_in_sync_ms": round((probe_at[0] - started_wall) * 1000, 1),
                "probe_write_to_receipt_ms": round((probe_at[0] - probe_written) * 1000, 1),
                "upserts_received": second.upserts_received,
                "reapplies": reapplies,
            },
        }
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for agent in agents:
            await agent.close()
        writer.shutdown(wait=True)
        if admin is not None:
            admin.close()
        with contextlib.suppress(Exception):
            await asyncio.to_thread(hub.stop)
