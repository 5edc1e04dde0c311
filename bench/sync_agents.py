"""Lightweight agents for the Sync benchmark: one member cluster each, speaking the real Sync
protocol over real mutual TLS, applying into memory; and the raw-gRPC client of the baseline.

Layer: ``bench`` (benchmark code; never imported by kfed). A :class:`LightAgent` does what
``kfed_agent.syncer`` does on the wire — Hello with ``{key → version}``, wait for Welcome, answer
every DeltaBatch with a BatchResult (APPLIED for each upsert, REMOVED for each removal, the
sans-I/O :class:`~kfed_core.sync.agent_side.AgentSession` checking the batch first), heartbeats
at the Welcome's interval — but keeps the objects in a dict instead of a Kubernetes cluster, so a
thousand of them fit in two processes. :class:`RawClient` holds one plain gRPC stream of bytes.

Both take their receipt time (``time.time()``) right after the message is read off the stream,
before any decoding of their own, and hand it to a callback; they must not print or block.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from grpc import aio

from kfed_core import rpc, tls
from kfed_core.sync.agent_side import AgentSession, Plan
from kfed_core.sync.hub_side import APPLIED, REMOVED, ResultItem

RAW_METHOD = "/kfedbench.Raw/Fan"
"""The single stream-stream method of the baseline server (bytes in, bytes out)."""
RAW_HELLO = b"hello"
RAW_ACK = b"ack"
AGENT_VERSION = "bench-light-agent"


@dataclass(frozen=True, slots=True, kw_only=True)
class Credentials:
    """A joined cluster's name and mTLS material (PEM)."""

    name: str
    cert_pem: bytes
    key_pem: bytes


def open_channel(target: str, ca_pem: bytes, creds: Credentials) -> aio.Channel:
    """A channel over mutual TLS, built as the agent builds it (:mod:`kfed_agent.link`)."""
    credentials = tls.grpc_channel_credentials(
        ca_pem=ca_pem, cert_pem=creds.cert_pem, key_pem=creds.key_pem
    )
    return aio.secure_channel(target, credentials, options=rpc.CHANNEL_OPTIONS)


BatchCallback = Callable[["LightAgent", float, int, Plan], None]
"""Called with the agent, the receipt time, the message's size and the checked batch."""
AnswerCallback = Callable[["LightAgent", float, Plan], None]
"""Called with the agent, the time the result was written and the batch it answered."""


async def _hang_up(call: aio.Call | None, channel: aio.Channel | None) -> None:
    """Cancel a stream and close its channel (either may be absent)."""
    if call is not None:
        call.cancel()
    if channel is not None:
        with contextlib.suppress(Exception):
            await channel.close()


class LightAgent:
    """One member cluster's agent, applying into memory. ``open`` it, then ``serve`` it."""

    def __init__(
        self,
        *,
        index: int,
        target: str,
        ca_pem: bytes,
        creds: Credentials,
        on_batch: BatchCallback | None = None,
        on_answer: AnswerCallback | None = None,
    ) -> None:
        self.index = index
        self.target = target
        self.ca_pem = ca_pem
        self.creds = creds
        self.on_batch = on_batch
        self.on_answer = on_answer
        self.session = AgentSession()
        self.memory: dict[str, dict[str, Any]] = {}
        self.heartbeat_interval = 2.0
        self.hello_bytes = 0
        self.bytes_received = 0
        self.upserts_received = 0
        self.batches_received = 0
        self._channel: aio.Channel | None = None
        self._call: aio.StreamStreamCall[rpc.AgentMessage, rpc.HubMessage] | None = None
        # gRPC allows one send in flight per call; heartbeats and results come from two tasks.
        self._writing = asyncio.Lock()

    @property
    def known(self) -> Mapping[str, str]:
        return self.session.known

    async def open(self, *, known: Mapping[str, str] | None = None) -> rpc.Welcome:
        """Dial, send Hello (with ``known``, or what this agent holds) and wait for Welcome."""
        self._channel = open_channel(self.target, self.ca_pem, self.creds)
        self._call = call = rpc.sync_stub(self._channel).Sync()
        hello = rpc.Hello(
            agent_version=AGENT_VERSION,
            known=dict(self.session.hello() if known is None else known),
            health=rpc.ClusterHealth(
                kubernetes_version="v1.31.0",
                region="bench-region",
                zones=["bench-zone-a"],
                nodes_total=1,
                nodes_ready=1,
                allocatable=rpc.Resources(cpu_millis=4000, memory_bytes=8 << 30, pods=110),
            ),
        )
        message = rpc.AgentMessage(hello=hello)
        self.hello_bytes = message.ByteSize()
        await call.write(message)
        first = await call.read()
        if first is aio.EOF or not isinstance(first, rpc.HubMessage):
            raise ConnectionError(f"{self.creds.name}: the hub ended the stream before Welcome")
        if first.WhichOneof("body") != "welcome":
            raise ConnectionError(f"{self.creds.name}: the hub's first message is not Welcome")
        self.bytes_received += first.ByteSize()
        self.heartbeat_interval = max(first.welcome.heartbeat_interval_ms / 1000, 0.1)
        return first.welcome

    async def serve(self) -> None:
        """Answer batches until the hub ends the stream (returns) or the task is cancelled."""
        call = self._call
        assert call is not None, "open() first"
        while True:
            message = await call.read()
            received = time.time()
            if message is aio.EOF or not isinstance(message, rpc.HubMessage):
                return
            size = message.ByteSize()
            self.bytes_received += size
            body = message.WhichOneof("body")
            if body == "goodbye":
                return
            if body != "batch":
                continue
            batch = message.batch
            self.batches_received += 1
            self.upserts_received += len(batch.upserts)
            plan = self.session.plan(
                batch.nonce, rpc.upserts_of(batch), [r.key for r in batch.removals]
            )
            if self.on_batch is not None:
                self.on_batch(self, received, size, plan)
            results = self._apply(plan)
            async with self._writing:
                await call.write(rpc.result_message(plan.nonce, results))
            if self.on_answer is not None:
                self.on_answer(self, time.time(), plan)

    def _apply(self, plan: Plan) -> list[ResultItem]:
        """Apply into memory: every checked upsert is applied, every removal removed."""
        results = list(plan.rejected)
        for upsert in plan.upserts:
            key = str(upsert.key)
            self.memory[key] = upsert.manifest
            results.append(ResultItem(key=key, version=upsert.version, outcome=APPLIED))
        for removal in plan.removals:
            key = str(removal)
            self.memory.pop(key, None)
            results.append(ResultItem(key=key, version="", outcome=REMOVED))
        self.session.record(results)
        return results

    async def heartbeats(self, phase: float = 0.0) -> None:
        """Send a Heartbeat every interval (after ``phase`` seconds, to spread a fleet's)."""
        call = self._call
        assert call is not None, "open() first"
        await asyncio.sleep(phase)
        while True:
            beat = rpc.Heartbeat(sent_unix_ms=int(time.time() * 1000))
            async with self._writing:
                await call.write(rpc.AgentMessage(heartbeat=beat))
            await asyncio.sleep(self.heartbeat_interval)

    async def close(self) -> None:
        await _hang_up(self._call, self._channel)
        self._call, self._channel = None, None


RawCallback = Callable[["RawClient", float, bytes], None]
"""Called with the client, the receipt time and the message."""


class RawClient:
    """One stream to the baseline server: Hello, then an ack for every message received."""

    def __init__(
        self,
        *,
        index: int,
        target: str,
        ca_pem: bytes,
        creds: Credentials,
        on_message: RawCallback | None = None,
        on_answer: Callable[[RawClient, float, bytes], None] | None = None,
    ) -> None:
        self.index = index
        self.target = target
        self.ca_pem = ca_pem
        self.creds = creds
        self.on_message = on_message
        self.on_answer = on_answer
        self.heartbeat_interval = 2.0
        self._channel: aio.Channel | None = None
        self._call: aio.StreamStreamCall[bytes, bytes] | None = None
        self._writing = asyncio.Lock()  # one send in flight per call, as in LightAgent

    async def open(self) -> None:
        self._channel = open_channel(self.target, self.ca_pem, self.creds)
        fan: aio.StreamStreamMultiCallable[bytes, bytes] = self._channel.stream_stream(
            RAW_METHOD, request_serializer=None, response_deserializer=None
        )
        self._call = call = fan()
        await call.write(RAW_HELLO)
        first = await call.read()
        if not isinstance(first, bytes):
            raise ConnectionError(f"{self.creds.name}: the raw server ended the stream")

    async def serve(self) -> None:
        call = self._call
        assert call is not None, "open() first"
        while True:
            message = await call.read()
            received = time.time()
            if not isinstance(message, bytes):
                return
            if self.on_message is not None:
                self.on_message(self, received, message)
            async with self._writing:
                await call.write(RAW_ACK)
            if self.on_answer is not None:
                self.on_answer(self, time.time(), message)

    async def heartbeats(self, phase: float = 0.0) -> None:
        call = self._call
        assert call is not None, "open() first"
        await asyncio.sleep(phase)
        while True:
            async with self._writing:
                await call.write(int(time.time() * 1000).to_bytes(8, "big"))
            await asyncio.sleep(self.heartbeat_interval)

    async def close(self) -> None:
        await _hang_up(self._call, self._channel)
        self._call, self._channel = None, None
