"""The Sync benchmark's baseline: a minimal gRPC fan-out server with no kfed logic,
``python -m bench.raw_fanout SPEC.json``.

Layer: ``bench`` (benchmark code). One grpc aio server, the same mutual TLS as the hub
(:func:`kfed_core.tls.grpc_server_credentials` with the hub's own serving certificate and CA, so
the very same client certificates connect) and the same server options, serving one generic
stream-stream method of raw bytes (:data:`bench.sync_agents.RAW_METHOD`). Each stream answers
the client's hello, then, like the hub's stream task, sleeps on its own event and writes the
current message when woken; acks and heartbeats are read and dropped.

Control on stdin, one command a line: ``fire SEQ SIZE`` wakes every stream to send a message of
``SIZE`` bytes starting with ``SEQ`` (8 bytes, big-endian); ``stop`` (or EOF) ends the server.
Events on stdout as JSON lines: ``{"event": "listening", "port"}``, ``{"event": "streams",
"count"}`` whenever the number of open streams reaches the spec's ``expect`` (and at stop).

The spec (JSON): ``cert_pem``, ``key_pem``, ``ca_pem``, ``expect``.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import grpc
from grpc import aio

from bench.sync_agents import RAW_METHOD
from kfed_core import rpc, tls

WELCOME = b"welcome"


def emit(event: str, **fields: Any) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


class FanOut:
    """The open streams and the message they should send next."""

    def __init__(self, expect: int) -> None:
        self.expect = expect
        self.streams: set[asyncio.Event] = set()
        self.message = b""

    def fire(self, seq: int, size: int) -> None:
        head = seq.to_bytes(8, "big")
        self.message = head + b"x" * max(0, size - len(head))
        for wake in self.streams:
            wake.set()

    async def handle(
        self, request_iterator: Any, context: aio.ServicerContext[bytes, bytes]
    ) -> None:
        hello: object = await context.read()  # EOF when the client gave up
        if not isinstance(hello, bytes):
            return
        wake = asyncio.Event()
        self.streams.add(wake)
        if len(self.streams) == self.expect:
            emit("streams", count=len(self.streams))
        reader = asyncio.create_task(self._drain(context))
        reader.add_done_callback(lambda _: wake.set())
        try:
            await context.write(WELCOME)
            while True:
                await wake.wait()
                wake.clear()
                if reader.done():
                    return
                await context.write(self.message)
        finally:
            self.streams.discard(wake)
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)

    @staticmethod
    async def _drain(context: aio.ServicerContext[bytes, bytes]) -> None:
        while True:
            message: object = await context.read()
            if not isinstance(message, bytes):
                return


async def serve(spec: dict[str, Any]) -> None:
    fan = FanOut(int(spec["expect"]))
    server = aio.server(options=rpc.SERVER_OPTIONS)
    service, method = RAW_METHOD.strip("/").split("/")
    handler = grpc.method_handlers_generic_handler(
        service,
        {
            method: grpc.stream_stream_rpc_method_handler(
                fan.handle, request_deserializer=None, response_serializer=None
            )
        },
    )
    server.add_generic_rpc_handlers((handler,))
    credentials = tls.grpc_server_credentials(
        cert_pem=spec["cert_pem"].encode(),
        key_pem=spec["key_pem"].encode(),
        ca_pem=spec["ca_pem"].encode(),
    )
    port = server.add_secure_port("127.0.0.1:0", credentials)
    await server.start()
    emit("listening", port=port)
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    try:
        while line := await stdin.readline():
            words = line.decode().split()
            if words[:1] == ["fire"]:
                fan.fire(int(words[1]), int(words[2]))
            elif words[:1] == ["stop"]:
                break
    finally:
        emit("streams", count=len(fan.streams))
        await server.stop(grace=0.5)


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    asyncio.run(serve(spec))


if __name__ == "__main__":
    main()
