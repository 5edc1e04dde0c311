"""A stopped simulated cluster leaves no connection open, not even one still in its TLS
handshake (which is not the HTTP server's yet), so nothing outlives the cluster."""

from __future__ import annotations

import asyncio
import gc
import socket
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


async def test_a_connection_accepted_as_the_api_server_stops_is_closed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The loop accepted it in the very turn the API server stopped (its transport not built
    yet): asyncio 3.11 would drop the socket unclosed; here the stop ends it like any other."""
    monkeypatch.setattr(cluster_module, "HANDSHAKE_TIMEOUT", 0.3)
    spec = ClusterSpec(name="east", region="us-east1", zones=("us-east1-b",), nodes=1)
    sim = SimCluster(spec, address="127.0.0.1", options=SimOptions())
    await sim.start()
    try:
        client = socket.create_connection((sim.address, sim.port), timeout=2)
        await asyncio.sleep(0)  # the selector reports the listener; accept() runs
        await asyncio.sleep(0)  # the task that builds the transport is queued, not run
        await sim.set_api_server_running(False)
        assert await asyncio.to_thread(client.recv, 1) == b""  # closed, not left open
        client.close()
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((sim.address, sim.port), timeout=2).close()
    finally:
        await sim.stop()
    gc.collect()
