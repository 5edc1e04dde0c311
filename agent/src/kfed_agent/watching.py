"""Following a Kubernetes watch: resume, bookmarks, re-list on 410, streams read off the loop.

Layer: ``kfed_agent`` I/O helper below :mod:`kfed_agent.kube`; it does not import ``kubernetes``
(the HTTP response comes in as a small Protocol) and knows nothing of kfed's objects.

:class:`WatchStream` reads one open watch response on a dedicated thread pool: a watch may stay
idle for minutes, and parking it on asyncio's default executor (a handful of threads) would starve
every other blocking call. Closing a stream shuts its socket down, which wakes the blocked read,
so cancellation never waits for the server. :func:`follow` turns streams into the iterator that
:meth:`kfed_agent.ports.KubeApi.watch` promises.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import AsyncGenerator, Awaitable, Callable
from concurrent.futures import Executor
from typing import Protocol

from kfed_agent.ports import KubeError, Manifest, WatchEvent
from kfed_agent.resources import error_from_status

log = logging.getLogger(__name__)

_QUICK_END = 1.0  # a stream that ends sooner than this without a line makes the next one wait
_MAX_PAUSE = 30.0


class RawResponse(Protocol):
    """The part of ``urllib3.HTTPResponse`` a watch needs."""

    def read1(self, amt: int) -> bytes: ...
    def shutdown(self) -> None: ...
    def close(self) -> None: ...
    def release_conn(self) -> None: ...


class WatchStream:
    """One open watch response; its lines are read on ``executor``.

    ``close`` may be called from the event loop at any time, also while a read is blocked in a
    worker thread: it shuts the socket down and the worker disposes of the connection.
    """

    def __init__(self, raw: RawResponse, executor: Executor, *, chunk: int = 65536) -> None:
        self._raw = raw
        self._executor = executor
        self._chunk = chunk
        self._lock = threading.Lock()
        self._reading = False
        self._closed = False

    async def lines(self) -> AsyncGenerator[bytes, None]:
        """Each non-empty line until the stream ends (server closed it, it broke, or close())."""
        loop = asyncio.get_running_loop()
        buffer = b""
        while True:
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                if line.strip():
                    yield line
            chunk = await loop.run_in_executor(self._executor, self._read)
            if not chunk:
                if buffer.strip():
                    yield buffer
                return
            buffer += chunk

    def _read(self) -> bytes:
        with self._lock:
            closed = self._closed
            self._reading = not closed
        if closed:
            return b""
        try:
            return self._raw.read1(self._chunk)
        except Exception as exc:  # a broken or timed-out stream simply ends; the caller resumes
            log.debug("watch stream ended: %s", exc)
            return b""
        finally:
            with self._lock:
                self._reading = False
                dispose = self._closed
            if dispose:
                self._dispose()

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """End the stream now; safe to call twice and from the event loop."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            reading = self._reading
        try:
            self._raw.shutdown()
        except Exception as exc:  # already closed by the peer: nothing to wake
            log.debug("shutting a watch stream down: %s", exc)
        if not reading:
            self._dispose()

    def _dispose(self) -> None:
        try:
            self._raw.close()
            self._raw.release_conn()
        except Exception as exc:  # closing a dead connection may complain; it is gone anyway
            log.debug("closing a watch stream: %s", exc)


ListObjects = Callable[[], Awaitable[tuple[str, list[Manifest]]]]
OpenStream = Callable[[str], Awaitable[WatchStream]]


def _identity(obj: Manifest) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return str(meta.get("namespace") or ""), str(meta.get("name") or "")


def _version(obj: Manifest) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion") or "")


async def follow(
    *,
    list_objects: ListObjects,
    open_stream: OpenStream,
    resource_version: str | None,
    closed: Callable[[], bool],
    api_version: str,
    kind: str,
    what: str,
) -> AsyncGenerator[WatchEvent, None]:
    """Watch events from ``resource_version`` (or from a fresh list), resuming until closed.

    ``open_stream(rv)`` opens a watch from ``rv`` and raises :class:`KubeError` when it cannot;
    ``list_objects()`` returns the list's resourceVersion and items. Objects seen are remembered
    so that a re-list after 410 can report those that vanished as ``DELETED``.
    """
    loop = asyncio.get_running_loop()
    known: dict[tuple[str, str], Manifest] = {}
    pause = 0.0

    async def relist() -> tuple[str, list[WatchEvent]]:
        version, items = await list_objects()
        for obj in items:
            obj.setdefault("apiVersion", api_version)
            obj.setdefault("kind", kind)
        current = {_identity(obj): obj for obj in items}
        events: list[WatchEvent] = []
        for ident, obj in current.items():
            old = known.get(ident)
            if old is None:
                events.append(("ADDED", obj))
            elif _version(old) != _version(obj):
                events.append(("MODIFIED", obj))
        events.extend(("DELETED", old) for ident, old in known.items() if ident not in current)
        known.clear()
        known.update(current)
        return version, events

    version = resource_version or ""
    if not version:
        version, events = await relist()
        for event in events:
            yield event
    while not closed():
        if pause:
            await asyncio.sleep(pause)
        try:
            stream = await open_stream(version)
        except KubeError as exc:
            if exc.status != 410:
                raise
            version, events = await relist()
            for event in events:
                yield event
            continue
        started, delivered, expired = loop.time(), False, False
        try:
            async with contextlib.aclosing(stream.lines()) as lines:
                async for line in lines:
                    delivered = True
                    try:
                        event = json.loads(line)
                        event_type, obj = str(event["type"]), event["object"]
                    except (ValueError, KeyError, TypeError):
                        log.warning(
                            "%s: ignoring a malformed watch line (%d bytes)", what, len(line)
                        )
                        continue
                    if event_type == "ERROR":
                        error = error_from_status(obj, status=500, action=what)
                        if error.status != 410:
                            raise error
                        expired = True
                        break
                    if not isinstance(obj, dict):
                        continue
                    version = _version(obj) or version
                    if event_type == "BOOKMARK":
                        continue
                    obj.setdefault("apiVersion", api_version)
                    obj.setdefault("kind", kind)
                    if event_type == "DELETED":
                        known.pop(_identity(obj), None)
                    else:
                        known[_identity(obj)] = obj
                    yield event_type, obj
        finally:
            stream.close()
        if expired:
            version, events = await relist()
            for event in events:
                yield event
        # A server that drops every stream at once must not make us spin.
        quick = not delivered and loop.time() - started < _QUICK_END
        pause = min(max(pause * 2, 0.1), _MAX_PAUSE) if quick else 0.0
