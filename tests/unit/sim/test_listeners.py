"""Closing a listener loses no connection: one the loop accepted in the very turn of the close
becomes its protocol's (asyncio 3.11 would drop its socket unclosed), and a black hole closes
every connection it holds, also one whose protocol starts after the close."""

from __future__ import annotations

import asyncio
import gc
import socket
import sys

import pytest

from kfed_local.sim.listeners import BlackHole, stop_accepting


async def _accepted_not_built(port: int) -> socket.socket:
    """A client the loop has accepted but whose transport it has not built yet: the moment
    where a plain ``Server.close()`` loses the connection."""
    client = socket.create_connection(("127.0.0.1", port), timeout=2)
    await asyncio.sleep(0)  # next turn: the selector reports the listener, accept() runs
    await asyncio.sleep(0)  # the turn after: the task building the transport is queued
    return client


async def _peer_closed(client: socket.socket) -> bytes:
    try:
        return await asyncio.to_thread(client.recv, 1)
    finally:
        client.close()


class _Recorder(asyncio.Protocol):
    def __init__(self, made: list[asyncio.BaseTransport]) -> None:
        self.made = made

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.made.append(transport)


async def test_a_connection_accepted_as_the_server_closes_reaches_its_protocol() -> None:
    made: list[asyncio.BaseTransport] = []
    server = await asyncio.get_running_loop().create_server(lambda: _Recorder(made), "127.0.0.1", 0)
    client = await _accepted_not_built(server.sockets[0].getsockname()[1])
    await stop_accepting(server)
    assert not server.is_serving()
    for _ in range(10):  # connection_made is called soon after the transport is built
        if made:
            break
        await asyncio.sleep(0)
    assert len(made) == 1, "the accepted connection never reached its protocol"
    made[0].close()
    assert await _peer_closed(client) == b""
    await asyncio.sleep(0)
    gc.collect()  # a lost socket would be reported here (warnings are errors)


async def test_a_black_hole_closes_a_connection_accepted_as_it_closes() -> None:
    hole = BlackHole()
    port = await hole.listen("127.0.0.1", 0)
    client = await _accepted_not_built(port)
    await hole.close()
    assert await _peer_closed(client) == b""
    assert not hole.held
    gc.collect()


async def test_a_black_hole_holds_connections_unanswered_until_it_closes() -> None:
    hole = BlackHole()
    port = await hole.listen("127.0.0.1", 0)
    client = socket.create_connection(("127.0.0.1", port), timeout=0.2)
    client.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    with pytest.raises(TimeoutError):
        await asyncio.to_thread(client.recv, 1)  # accepted, never answered
    assert len(hole.held) == 1
    client.settimeout(2)
    await hole.close()
    assert await _peer_closed(client) == b""
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    with pytest.raises(RuntimeError, match="closed"):
        await hole.listen("127.0.0.1", 0)


@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="shows asyncio 3.11's behaviour")
async def test_the_old_close_loses_the_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    """The failure the helpers exist for, shown on a plain ``Server.close()``: the accepted
    socket never reaches a protocol (so nothing would ever close it but the collector)."""
    made: list[asyncio.BaseTransport] = []
    server = await asyncio.get_running_loop().create_server(lambda: _Recorder(made), "127.0.0.1", 0)
    client = await _accepted_not_built(server.sockets[0].getsockname()[1])
    lost: list[str] = []
    monkeypatch.setattr(
        "sys.unraisablehook", lambda unraisable: lost.append(str(unraisable.exc_value))
    )
    server.close()
    for _ in range(10):
        await asyncio.sleep(0)
    gc.collect()
    client.close()
    assert not made
    assert any("unclosed" in text for text in lost), lost
