"""Listening sockets of the simulated clusters, opened and closed without losing a connection.

Layer: I/O helpers under :mod:`kfed_local.sim.cluster` and :mod:`kfed_local.sim.traffic`.

Simulated clusters open and close listeners all the time (faults come and go while clients keep
connecting), which exposes two gaps of asyncio's servers on Python 3.11:

* A connection accepted just before ``Server.close()`` is lost. asyncio accepts a socket in one
  loop turn and builds its transport in a task one turn later; if the server closed in between,
  building the transport fails (``Server._attach`` asserts the server is open), the error is
  dropped outside debug mode, and the accepted socket is left to the garbage collector: an
  "unclosed transport" ResourceWarning at some later, unrelated moment.
  :func:`stop_accepting` closes a server so that this cannot happen.
* ``Server.wait_closed()`` returns at once after ``close()`` (fixed in 3.12), and a server knows
  nothing of its connections' protocols. :func:`drain_connections` waits for them itself.

:class:`BlackHole` is the partition fault: listeners that accept connections and never answer.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

HANDSHAKE_TIMEOUT = 5.0
"""Seconds a client may take for its TLS handshake with a simulated API server (loopback
handshakes take milliseconds; asyncio's default is 60 s), and seconds the server waits for a
client's reply to its TLS close (asyncio's default is 30 s). Both bound how long a connection
can outlive a stopped server."""


async def stop_accepting(server: asyncio.Server) -> None:
    """Close ``server``'s listening sockets without dropping a connection already accepted.

    First the accept callbacks stop (``remove_reader`` also cancels one already queued for this
    loop turn), then the loop gets two turns to build the transports of what it accepted (each
    one counts as the server's open connection from then on), then the server closes. Those
    connections are their protocols' to end, like any other.
    """
    loop = asyncio.get_running_loop()
    for sock in server.sockets:
        loop.remove_reader(sock.fileno())
    for _ in range(2):
        await asyncio.sleep(0)
    server.close()


async def drain_connections(
    listener: asyncio.AbstractServer, handlers: web.Server, *, within: float
) -> None:
    """After a stop, wait (at most ``within`` seconds) until no connection of ``listener`` is
    open, aborting any that the HTTP server ``handlers`` has registered meanwhile.

    A TLS connection still in its handshake when the server stopped is not aiohttp's yet, so
    aborting aiohttp's connections does not reach it; left alone it would outlive the server. It
    either completes its handshake, and is aborted here, or hits the handshake timeout, and
    asyncio aborts it. asyncio keeps the count of a server's open connections privately
    (``_active_count``, in 3.11 to 3.13); where it is missing this returns at once.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while getattr(listener, "_active_count", 0) and loop.time() < deadline:
        for handler in list(handlers.connections):
            if handler.transport is not None:
                handler.transport.abort()
        await asyncio.sleep(0.01)


class _Held(asyncio.Protocol):
    """One connection into a black hole: read and never answered."""

    def __init__(self, hole: BlackHole) -> None:
        self.hole = hole
        self.transport: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self.hole.closed:
            # Accepted just before the hole closed: its transport was built after the close.
            transport.close()
            return
        self.transport = transport
        self.hole.held.add(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.transport is not None:
            self.hole.held.discard(self.transport)


class BlackHole:
    """Listeners that accept connections and never answer, as behind a network partition.

    One instance lives for one fault: :meth:`listen` on each address the fault covers, then
    :meth:`close` once, which closes the listeners and every connection they hold, including
    one accepted at the very moment of the close.
    """

    def __init__(self) -> None:
        self.held: set[asyncio.BaseTransport] = set()
        self.closed = False
        self._servers: list[asyncio.Server] = []

    async def listen(self, host: str, port: int) -> int:
        """Swallow connections to ``host:port`` (``OSError`` if it cannot listen there); returns
        the port (the one chosen for port 0)."""
        if self.closed:
            raise RuntimeError("this black hole is closed; open a new one")
        server = await asyncio.get_running_loop().create_server(
            lambda: _Held(self), host, port, reuse_address=True
        )
        self._servers.append(server)
        bound: int = server.sockets[0].getsockname()[1]
        return bound

    async def close(self) -> None:
        """Stop listening and close every held connection (the peers see them closed)."""
        self.closed = True
        servers, self._servers = self._servers, []
        for server in servers:
            await stop_accepting(server)
        for transport in list(self.held):
            transport.close()
        self.held.clear()
