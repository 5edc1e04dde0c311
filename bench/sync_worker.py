"""A process of lightweight agents for the Sync benchmark:
``python -m bench.sync_worker SPEC.json``.

Layer: ``bench`` (benchmark code). It runs one :class:`~bench.sync_agents.LightAgent` (mode
``kfed``) or :class:`~bench.sync_agents.RawClient` (mode ``raw``) per cluster of the spec on one
event loop, and tells the parent what happened as JSON lines on stdout:

- ``{"event": "connected", "count", "open_s": [...], "elapsed"}`` once every stream is open;
- ``{"event": "got", "seq", "received": [...], "answered": [...], "bytes": [...]}`` once every
  cluster of this process received (and answered) update ``seq``; times are ``time.time()``;
- ``{"event": "ended" | "error", "cluster", "message"}`` when a stream ends early;
- ``{"event": "stopped"}`` after ``stop`` (or EOF) on stdin.

An update's number is ``data.seq`` of the watched ConfigMap (kfed) or the first 8 bytes of the
message (raw). Printing happens only once per update per process, off the receive path.

The spec (JSON): ``mode``, ``target``, ``ca_pem``, ``clusters`` (``name``, ``cert_pem``,
``key_pem``), ``watch_key``, ``seed``, ``connect_concurrency``.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

from bench.sync_agents import Credentials, LightAgent, RawClient
from kfed_core.sync.agent_side import Plan

Client = LightAgent | RawClient


def emit(event: str, **fields: Any) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


class Tally:
    """Receipt and answer times per update, for this process's clusters."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.received: dict[int, dict[int, float]] = {}
        self.answered: dict[int, dict[int, float]] = {}
        self.sizes: dict[int, dict[int, int]] = {}
        self.pending: dict[int, int] = {}  # client index → update it is answering

    def receive(self, index: int, seq: int, at: float, size: int) -> None:
        self.received.setdefault(seq, {})[index] = at
        self.sizes.setdefault(seq, {})[index] = size
        self.pending[index] = seq

    def answer(self, index: int, at: float) -> None:
        seq = self.pending.pop(index, None)
        if seq is None:
            return
        answered = self.answered.setdefault(seq, {})
        answered[index] = at
        if len(answered) == self.size:
            received = self.received.pop(seq)
            sizes = self.sizes.pop(seq)
            del self.answered[seq]
            emit(
                "got",
                seq=seq,
                received=list(received.values()),
                answered=list(answered.values()),
                bytes=list(sizes.values()),
            )


def watched_seq(plan: Plan, watch_key: str) -> int | None:
    for upsert in plan.upserts:
        if str(upsert.key) == watch_key:
            data = upsert.manifest.get("data") or {}
            return int(data.get("seq", -1))
    return None


def build_clients(spec: dict[str, Any], tally: Tally) -> list[Client]:
    ca_pem = spec["ca_pem"].encode()
    watch_key = spec.get("watch_key", "")
    clients: list[Client] = []

    def on_batch(agent: LightAgent, at: float, size: int, plan: Plan) -> None:
        seq = watched_seq(plan, watch_key)
        if seq is not None:
            tally.receive(agent.index, seq, at, size)

    def on_agent_answer(agent: LightAgent, at: float, plan: Plan) -> None:
        tally.answer(agent.index, at)

    def on_message(client: RawClient, at: float, message: bytes) -> None:
        tally.receive(client.index, int.from_bytes(message[:8], "big"), at, len(message))

    def on_raw_answer(client: RawClient, at: float, message: bytes) -> None:
        tally.answer(client.index, at)

    for index, cluster in enumerate(spec["clusters"]):
        creds = Credentials(
            name=cluster["name"],
            cert_pem=cluster["cert_pem"].encode(),
            key_pem=cluster["key_pem"].encode(),
        )
        common: dict[str, Any] = {"index": index, "target": spec["target"], "ca_pem": ca_pem}
        if spec["mode"] == "kfed":
            clients.append(
                LightAgent(**common, creds=creds, on_batch=on_batch, on_answer=on_agent_answer)
            )
        else:
            clients.append(
                RawClient(**common, creds=creds, on_message=on_message, on_answer=on_raw_answer)
            )
    return clients


async def _open(client: Client, gate: asyncio.Semaphore, times: list[float]) -> None:
    async with gate:
        started = time.monotonic()
        await client.open()
        times.append(time.monotonic() - started)


async def _serve(client: Client) -> None:
    try:
        await client.serve()
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        emit("error", cluster=client.creds.name, message=f"{type(exc).__name__}: {exc}"[:300])
    else:
        emit("ended", cluster=client.creds.name, message="the server ended the stream")


async def run(spec: dict[str, Any]) -> None:
    tally = Tally(len(spec["clusters"]))
    clients = build_clients(spec, tally)
    rng = random.Random(spec.get("seed", 0))
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)

    gate = asyncio.Semaphore(int(spec.get("connect_concurrency", 64)))
    open_times: list[float] = []
    started = time.monotonic()
    tasks: list[asyncio.Task[None]] = []
    try:
        await asyncio.gather(*(_open(client, gate, open_times) for client in clients))
        emit(
            "connected",
            count=len(clients),
            open_s=open_times,
            elapsed=time.monotonic() - started,
        )
        for client in clients:
            tasks.append(asyncio.create_task(_serve(client)))
            phase = rng.uniform(0, client.heartbeat_interval)
            tasks.append(asyncio.create_task(client.heartbeats(phase)))
        while (line := await stdin.readline()) and line.strip() != b"stop":
            pass
    except Exception as exc:
        emit("error", cluster="", message=f"{type(exc).__name__}: {exc}"[:300])
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.gather(*(client.close() for client in clients), return_exceptions=True)
        emit("stopped")


def main() -> None:
    spec = json.loads(Path(sys.argv[1]).read_text())
    asyncio.run(run(spec))


if __name__ == "__main__":
    main()
