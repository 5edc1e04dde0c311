"""Unit tests for ``kfed_agent.watching``: streams read off the loop and the watch follow loop."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from kfed_agent.ports import KubeError, KubeUnreachable, Manifest, WatchEvent
from kfed_agent.watching import WatchStream, follow


class ScriptedResponse:
    """A raw HTTP response that hands out chunks, then blocks until shut down (an idle watch)."""

    def __init__(self, chunks: list[bytes], *, block: bool = False) -> None:
        self.chunks = list(chunks)
        self.block = block
        self.woken = threading.Event()
        self.closed = False

    def read1(self, amt: int) -> bytes:
        if self.chunks:
            return self.chunks.pop(0)
        if self.block:
            self.woken.wait(timeout=10)
        return b""

    def shutdown(self) -> None:
        self.woken.set()

    def close(self) -> None:
        self.closed = True

    def release_conn(self) -> None:
        pass


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(4) as executor:
        yield executor


def obj(name: str, rv: str) -> Manifest:
    return {"metadata": {"name": name, "namespace": "d", "resourceVersion": rv}}


def line(kind: str, body: Any) -> bytes:
    return json.dumps({"type": kind, "object": body}).encode() + b"\n"


async def collect(events: AsyncIterator[WatchEvent], count: int) -> list[tuple[str, str]]:
    seen = []
    async for kind, item in events:
        seen.append((kind, item["metadata"]["name"]))
        if len(seen) == count:
            break
    return seen


async def test_stream_splits_lines_across_chunks(pool: ThreadPoolExecutor) -> None:
    raw = ScriptedResponse([b'{"a":', b'1}\n\n{"b":2}\n{"c"', b":3}"])
    stream = WatchStream(raw, pool)
    assert [json.loads(x) async for x in stream.lines()] == [{"a": 1}, {"b": 2}, {"c": 3}]


async def test_closing_a_stream_wakes_a_blocked_read(pool: ThreadPoolExecutor) -> None:
    raw = ScriptedResponse([], block=True)
    stream = WatchStream(raw, pool)
    reading = asyncio.create_task(anext(stream.lines(), b"end"))
    await asyncio.sleep(0.05)
    assert not reading.done()

    stream.close()

    assert await asyncio.wait_for(reading, timeout=2) == b"end"
    await asyncio.sleep(0.05)
    assert raw.closed


class Server:
    """Scripted list and watch answers for :func:`follow`."""

    def __init__(self) -> None:
        self.lists: list[tuple[str, list[Manifest]]] = []
        self.streams: list[ScriptedResponse | KubeError] = []
        self.opened_at: list[str] = []
        self.closed = False

    async def list_objects(self) -> tuple[str, list[Manifest]]:
        return self.lists.pop(0)

    def opener(self, pool: ThreadPoolExecutor) -> Any:
        async def open_stream(version: str) -> WatchStream:
            self.opened_at.append(version)
            if not self.streams:
                self.closed = True
                return WatchStream(ScriptedResponse([]), pool)
            answer = self.streams.pop(0)
            if isinstance(answer, KubeError):
                raise answer
            return WatchStream(answer, pool)

        return open_stream

    def follow(self, pool: ThreadPoolExecutor, version: str | None) -> AsyncIterator[WatchEvent]:
        return follow(
            list_objects=self.list_objects,
            open_stream=self.opener(pool),
            resource_version=version,
            closed=lambda: self.closed,
            api_version="v1",
            kind="ConfigMap",
            what="watch configmaps",
        )


async def test_follow_lists_first_then_resumes_from_the_last_version_and_bookmark(
    pool: ThreadPoolExecutor,
) -> None:
    server = Server()
    server.lists.append(("10", [obj("a", "9")]))
    bookmark = {"kind": "ConfigMap", "metadata": {"resourceVersion": "15"}}
    server.streams.append(ScriptedResponse([line("MODIFIED", obj("a", "12"))]))
    server.streams.append(ScriptedResponse([line("BOOKMARK", bookmark)]))
    server.streams.append(ScriptedResponse([line("DELETED", obj("a", "16"))]))

    events = [event async for event in server.follow(pool, None)]

    assert [(k, o["metadata"]["name"]) for k, o in events] == [
        ("ADDED", "a"),
        ("MODIFIED", "a"),
        ("DELETED", "a"),
    ]
    assert all(o["kind"] == "ConfigMap" and o["apiVersion"] == "v1" for _, o in events)
    assert server.opened_at == ["10", "12", "15", "16"]


async def test_follow_relists_on_410_and_reports_what_vanished(pool: ThreadPoolExecutor) -> None:
    server = Server()
    server.lists.append(("10", [obj("a", "1"), obj("b", "2"), obj("c", "3")]))
    gone = {"kind": "Status", "code": 410, "reason": "Expired", "message": "too old"}
    server.streams.append(ScriptedResponse([line("ERROR", gone)]))
    server.lists.append(("20", [obj("a", "1"), obj("b", "7"), obj("d", "8")]))
    server.streams.append(KubeError("gone", status=410, reason="Expired"))
    server.lists.append(("30", [obj("a", "1"), obj("b", "7"), obj("d", "8")]))

    events = [event async for event in server.follow(pool, None)]

    names = [(k, o["metadata"]["name"]) for k, o in events]
    assert names[:3] == [("ADDED", "a"), ("ADDED", "b"), ("ADDED", "c")]
    assert sorted(names[3:]) == [("ADDED", "d"), ("DELETED", "c"), ("MODIFIED", "b")]
    assert server.opened_at == ["10", "20", "30"]


async def test_follow_raises_when_the_api_cannot_be_reached(pool: ThreadPoolExecutor) -> None:
    server = Server()
    server.streams.append(KubeUnreachable("watch configmaps: refused"))
    with pytest.raises(KubeUnreachable):
        await collect(server.follow(pool, "5"), 1)


async def test_follow_raises_an_error_event_other_than_expired(pool: ThreadPoolExecutor) -> None:
    server = Server()
    failure = {"kind": "Status", "code": 500, "reason": "InternalError", "message": "etcd"}
    server.streams.append(ScriptedResponse([line("ERROR", failure)]))
    with pytest.raises(KubeError, match="etcd") as caught:
        await collect(server.follow(pool, "5"), 1)
    assert caught.value.reason == "InternalError"


async def test_follow_skips_malformed_lines(pool: ThreadPoolExecutor) -> None:
    server = Server()
    server.streams.append(ScriptedResponse([b"not json\n", line("ADDED", obj("a", "6"))]))
    assert await collect(server.follow(pool, "5"), 1) == [("ADDED", "a")]
