"""A stopped simulated cluster leaves no connection open, not even one still in its TLS
handshake (which is not the HTTP server's yet), so nothing outlives the cluster."""

from __future__ import annotations

import asyncio
import gc
import time

import pytest

from kfed_local.sim import cluster as cluster_module
from kfed_local.sim.cluster import SimCluster, SimOptions
from kfed_local.sim.config import ClusterSpec


async def test_a_connection_stuck_in_its_handshake_is_closed_when_the_cluster_stops(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(cluster_module, "HANDSHAKE_TIMEOUT", 0.3)
    spec = ClusterSpec(name="east", region="us-east1", zones=("us-east1-b",), nodes=1)
    sim = SimCluster(spec, address="127.0.0.1", options=SimOptions())
    await sim.start()
    # A client that connects and never starts TLS, as one caught mid-handshake by the stop.
    reader, writer = await asyncio.open_connection(sim.address, sim.port)
    await asyncio.sleep(0.05)  # let the server accept it
    started = time.monotonic()
    await sim.stop()
    took = time.monotonic() - started
    # Closed by the time stop() returned (not some time later, when the loop may be gone).
    assert await asyncio.wait_for(reader.read(), 0.1) == b""
    writer.close()
    await writer.wait_closed()
    gc.collect()  # an unclosed server transport would be reported here (warnings are errors)
    assert took < 0.3 + 1.0, f"the stop waited {took:.2f} s"
