"""The fake Global Accelerator on HTTP: the real JSON 1.1 wire protocol on 127.0.0.1.

Layer: ``kfed_aws.fake`` I/O shell over :class:`~kfed_aws.fake.ga_state.FakeGlobalAccelerator`.
boto3 reaches it with ``endpoint_url`` and any credentials: it answers ``POST /`` with
``X-Amz-Target: GlobalAccelerator_V20180706.<Operation>`` and an ``application/x-amz-json-1.1``
body, errors as ``{"__type": code, "message": ...}`` with the real status. Unsigned requests are
refused (MissingAuthenticationTokenException), as AWS refuses them; signatures are not checked.

:class:`GlobalAcceleratorServer` runs on the caller's event loop (``async with``); boto3's
blocking calls must then come from other threads, as kfed's ``asyncio.to_thread`` makes them.
:class:`ThreadedGlobalAcceleratorServer` runs it on a loop of its own, for synchronous code.
"""

from __future__ import annotations

import asyncio
import json
import threading
import uuid
from types import TracebackType

from aiohttp import web

from kfed_aws.fake.ga_checks import FakeAwsError
from kfed_aws.fake.ga_state import FakeGlobalAccelerator

TARGET_PREFIX = "GlobalAccelerator_V20180706."
CONTENT_TYPE = "application/x-amz-json-1.1"


class GlobalAcceleratorServer:
    """Serves ``state`` (a new :class:`FakeGlobalAccelerator` if None) on 127.0.0.1:``port``."""

    def __init__(self, state: FakeGlobalAccelerator | None = None, *, port: int = 0) -> None:
        self.state = state or FakeGlobalAccelerator()
        self._port = port
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> str:
        """Listen; returns the endpoint URL (``http://127.0.0.1:PORT``)."""
        app = web.Application()
        app.router.add_post("/", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self._port)
        await site.start()
        server = site._server  # aiohttp exposes the bound port only here
        assert isinstance(server, asyncio.Server)
        port = server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> GlobalAcceleratorServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _handle(self, request: web.Request) -> web.Response:
        target = request.headers.get("X-Amz-Target", "")
        try:
            if not request.headers.get("Authorization", "").startswith("AWS4-HMAC-SHA256 "):
                raise FakeAwsError(
                    "MissingAuthenticationTokenException", "Missing Authentication Token"
                )
            if not target.startswith(TARGET_PREFIX):
                raise FakeAwsError("UnknownOperationException", f"unknown target {target!r}")
            raw = await request.read()
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                raise FakeAwsError("SerializationException", "the body is not JSON") from None
            if not isinstance(body, dict):
                raise FakeAwsError("SerializationException", "the body is not a JSON object")
            answer = self.state.handle(target.removeprefix(TARGET_PREFIX), body)
            status = 200
        except FakeAwsError as e:
            answer, status = {"__type": e.code, "message": e.message}, e.status
        return web.Response(
            status=status,
            body=json.dumps(answer).encode(),
            headers={"Content-Type": CONTENT_TYPE, "x-amzn-RequestId": str(uuid.uuid4())},
        )


class ThreadedGlobalAcceleratorServer:
    """A :class:`GlobalAcceleratorServer` on its own thread and event loop."""

    def __init__(self, state: FakeGlobalAccelerator | None = None, *, port: int = 0) -> None:
        self.server = GlobalAcceleratorServer(state, port=port)
        self.state = self.server.state
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return self.server.url

    def start(self) -> str:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="fake-ga", daemon=True)
        self._thread.start()
        return asyncio.run_coroutine_threadsafe(self.server.start(), loop).result(timeout=10)

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(self.server.stop(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()
        self._loop = self._thread = None
