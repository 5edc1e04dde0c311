"""A watch answer that arrives after the Kubernetes client closed is closed, never left to the
garbage collector: its pool of reader threads is shut down, so nothing else would read it."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from kfed_agent.kube.transport import Transport
from kfed_agent.ports import KubeError


class _Raw:
    """The urllib3 side of an answer: what closing and releasing did."""

    def __init__(self) -> None:
        self.closed = False
        self.released = False

    def close(self) -> None:
        self.closed = True

    def release_conn(self) -> None:
        self.released = True


class _Answer:
    def __init__(self, status: int) -> None:
        self.status = status
        self.response = _Raw()

    def read(self) -> bytes:
        return b'{"kind":"Status","code":404,"reason":"NotFound","message":"gone"}'


class _Configuration:
    host = "https://127.0.0.1:6443"


class _HeldClient:
    """An ApiClient whose one call is answered only when the test says so."""

    def __init__(self, answer: _Answer) -> None:
        self.configuration = _Configuration()
        self.answer = answer
        self.sent = threading.Event()
        self.go = threading.Event()

    def param_serialize(self, method: str, path: str, **_: Any) -> tuple[Any, ...]:
        return (method, path, {}, None)

    def call_api(self, *_: Any, **__: Any) -> _Answer:
        self.sent.set()
        assert self.go.wait(10), "the test never released the answer"
        return self.answer

    def close(self) -> None:
        pass


async def test_a_refused_watch_answered_after_close_is_closed_not_leaked() -> None:
    answer = _Answer(404)
    client = _HeldClient(answer)
    transport = Transport(client)  # type: ignore[arg-type]
    opening = asyncio.create_task(
        transport.open_stream(
            "/api/v1/things", [("watch", "1")], action="watch things", read_timeout=5
        )
    )
    assert await asyncio.to_thread(client.sent.wait, 5)
    await transport.close()  # the agent stops while the answer is on its way
    client.go.set()
    with pytest.raises(KubeError, match="watch things: the Kubernetes client is closed"):
        await opening
    assert answer.response.closed and answer.response.released


async def test_a_refused_watch_still_reports_the_servers_answer() -> None:
    answer = _Answer(404)
    client = _HeldClient(answer)
    client.go.set()
    transport = Transport(client)  # type: ignore[arg-type]
    try:
        with pytest.raises(KubeError, match="gone"):
            await transport.open_stream("/api/v1/things", [], action="watch things", read_timeout=5)
        assert answer.response.released
    finally:
        await transport.close()
