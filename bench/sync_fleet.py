"""Child processes of the Sync benchmark, seen from the orchestrator: a group of lightweight
agent processes (:mod:`bench.sync_worker`) and the raw fan-out server (:mod:`bench.raw_fanout`).

Layer: ``bench`` (benchmark code). Talks to its children with JSON lines on their stdin and
stdout; it never waits on anything without a deadline, and stops every child it started.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.sync_agents import Credentials
from bench.sync_hub import cpu_seconds, rss_kib

REPO = Path(__file__).resolve().parent.parent
LINE_LIMIT = 64 * 1024 * 1024  # a "got" line carries three numbers per cluster


def _write_spec(spec_path: Path, spec: dict[str, Any]) -> None:
    spec_path.touch(mode=0o600)  # it holds private keys
    spec_path.write_text(json.dumps(spec))


async def _spawn(module: str, spec: dict[str, Any], spec_path: Path) -> asyncio.subprocess.Process:
    await asyncio.to_thread(_write_spec, spec_path, spec)
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        module,
        str(spec_path),
        cwd=REPO,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        limit=LINE_LIMIT,
    )


@dataclass
class Arrivals:
    """Times of one update across every cluster (``time.time()``)."""

    received: list[float] = field(default_factory=list)
    answered: list[float] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    reports: int = 0


class WorkerGroup:
    """Lightweight agents split over a few processes; see :mod:`bench.sync_worker`."""

    def __init__(self, processes: list[asyncio.subprocess.Process]) -> None:
        self.processes = processes
        self.connected: list[dict[str, Any]] = []
        self.arrivals: dict[int, Arrivals] = {}
        self.problems: list[str] = []
        self.stopped = 0
        self._changed = asyncio.Event()
        self._readers = [asyncio.create_task(self._read(p)) for p in processes]

    @classmethod
    async def start(
        cls,
        folder: Path,
        *,
        mode: str,
        target: str,
        ca_pem: bytes,
        clusters: Sequence[Credentials],
        processes: int,
        watch_key: str = "",
        seed: int = 0,
    ) -> WorkerGroup:
        count = max(1, min(processes, len(clusters)))
        children = []
        for number in range(count):
            share = clusters[number::count]
            spec = {
                "mode": mode,
                "target": target,
                "ca_pem": ca_pem.decode(),
                "clusters": [
                    {"name": c.name, "cert_pem": c.cert_pem.decode(), "key_pem": c.key_pem.decode()}
                    for c in share
                ],
                "watch_key": watch_key,
                "seed": seed + number,
                "connect_concurrency": 64,
            }
            path = folder / f"{mode}-worker-{number}.json"
            children.append(await _spawn("bench.sync_worker", spec, path))
        return cls(children)

    async def _read(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        while line := await process.stdout.readline():
            event = json.loads(line)
            kind = event["event"]
            if kind == "connected":
                self.connected.append(event)
            elif kind == "got":
                arrivals = self.arrivals.setdefault(event["seq"], Arrivals())
                arrivals.received += event["received"]
                arrivals.answered += event["answered"]
                arrivals.sizes += event["bytes"]
                arrivals.reports += 1
            elif kind in ("error", "ended"):
                self.problems.append(f"{event['cluster']}: {event['message']}")
            elif kind == "stopped":
                self.stopped += 1
            self._changed.set()

    async def _until(self, done: Callable[[], bool], what: str, within: float) -> None:
        # Agents do not reconnect, so a stream that ended or a worker that exited means the
        # awaited thing can never complete: say so at once instead of at the deadline.
        deadline = time.monotonic() + within
        while not done():
            remaining = deadline - time.monotonic()
            if self.problems or any(reader.done() for reader in self._readers):
                problems = "; ".join(self.problems[:3]) or "an agent process exited"
                raise RuntimeError(f"while waiting for {what}: {problems}")
            if remaining <= 0:
                raise TimeoutError(f"timed out after {within:g}s waiting for {what}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(remaining, 1.0))

    async def wait_connected(self, within: float) -> list[dict[str, Any]]:
        """Until every process opened all of its streams."""
        await self._until(lambda: len(self.connected) == len(self.processes), "streams", within)
        return self.connected

    async def wait_update(self, seq: int, within: float) -> Arrivals:
        """Until every cluster received and answered update ``seq``."""

        def complete() -> bool:
            arrivals = self.arrivals.get(seq)
            return arrivals is not None and arrivals.reports == len(self.processes)

        await self._until(complete, f"update {seq} at every cluster", within)
        return self.arrivals.pop(seq)

    async def stop(self) -> None:
        for process in self.processes:
            if process.stdin is not None and process.returncode is None:
                process.stdin.write(b"stop\n")
                process.stdin.close()
        try:
            await asyncio.wait_for(asyncio.gather(*(p.wait() for p in self.processes)), 30)
        except TimeoutError:
            for process in self.processes:
                if process.returncode is None:
                    process.kill()
            await asyncio.gather(*(p.wait() for p in self.processes))
        await asyncio.gather(*self._readers, return_exceptions=True)


class RawServer:
    """The baseline fan-out server in its own process; see :mod:`bench.raw_fanout`."""

    def __init__(self, process: asyncio.subprocess.Process, port: int) -> None:
        self.process = process
        self.port = port
        self.streams = 0

    @classmethod
    async def start(cls, folder: Path, tls_files: dict[str, str], *, expect: int) -> RawServer:
        spec = {**tls_files, "expect": expect}
        process = await _spawn("bench.raw_fanout", spec, folder / "raw-server.json")
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 30)
        if not line:
            raise RuntimeError("the raw fan-out server exited before listening")
        return cls(process, int(json.loads(line)["port"]))

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def rss_kib(self) -> int:
        return rss_kib(self.process.pid)

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.process.pid)

    async def wait_streams(self, within: float) -> None:
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), within)
        self.streams = int(json.loads(line)["count"]) if line else 0

    def fire(self, seq: int, size: int) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(f"fire {seq} {size}\n".encode())

    async def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(b"stop\n")
        self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), 15)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
