"""HTTP to one Kubernetes API server through the official client's ``ApiClient``.

Layer: inside :mod:`kfed_agent.kube` (the only package that imports ``kubernetes``). It sends
raw REST requests with the client's credentials and TLS settings, reads answers on worker
threads, and turns "no answer" into :class:`~kfed_agent.ports.KubeUnreachable` and failure
answers into :class:`~kfed_agent.ports.KubeError`. It knows nothing of kinds or discovery.

Short requests run through :func:`asyncio.to_thread`. Watch streams stay open for minutes, so
they get a pool of their own (see :mod:`kfed_agent.watching`); parking them on asyncio's default
executor would starve every other blocking call.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import urllib3
from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

from kfed_agent.ports import KubeError, KubeUnreachable, Manifest
from kfed_agent.resources import error_from_answer
from kfed_agent.watching import WatchStream

Query = Sequence[tuple[str, str]]


class Transport:
    """JSON requests and watch streams to the API server ``api_client`` is configured for."""

    def __init__(
        self,
        api_client: ApiClient,
        *,
        connect_timeout: float = 10.0,
        request_timeout: float = 30.0,
        watch_threads: int = 64,
    ) -> None:
        self._client = api_client
        self.server = str(api_client.configuration.host)
        self.connect_timeout = connect_timeout
        self._timeout = (connect_timeout, request_timeout)
        self._watch_pool = ThreadPoolExecutor(watch_threads, thread_name_prefix="kfed-watch")
        self._streams: set[WatchStream] = set()
        self.closed = False

    def _send(
        self,
        method: str,
        path: str,
        query: Query,
        body: Any,
        content_type: str,
        timeout: tuple[float, float],
        action: str,
    ) -> Any:
        """Send one request (on a worker thread); the answer's body is not read yet."""
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = content_type
        try:
            request = self._client.param_serialize(
                method,
                path,
                query_params=list(query) or None,
                header_params=headers,
                body=body,
                auth_settings=["BearerToken"],
            )
            return self._client.call_api(*request[:4], _request_timeout=timeout)
        except (ApiException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise self._unreachable(action, exc) from exc

    def _unreachable(self, action: str, exc: BaseException) -> KubeUnreachable:
        cause = getattr(exc, "reason", None) or exc
        return KubeUnreachable(
            f"{action}: the Kubernetes API server {self.server} did not answer ({cause}); "
            "check that it is running and reachable from the agent"
        )

    def _exchange(
        self, method: str, path: str, query: Query, body: Any, content_type: str, action: str
    ) -> tuple[int, bytes]:
        response = self._send(method, path, query, body, content_type, self._timeout, action)
        try:
            data = response.read()
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise self._unreachable(action, exc) from exc
        finally:
            response.response.release_conn()
        return int(response.status), bytes(data or b"")

    async def request(
        self,
        method: str,
        path: str,
        *,
        action: str,
        query: Query = (),
        body: Any = None,
        content_type: str = "application/json",
    ) -> Manifest:
        """The JSON object the API server answers; :class:`KubeError` for anything else.
        ``action`` names the call in error messages (``apply ConfigMap default/settings``)."""
        if self.closed:
            raise KubeError(f"{action}: the Kubernetes client is closed")
        status, data = await asyncio.to_thread(
            self._exchange, method, path, query, body, content_type, action
        )
        if not 200 <= status < 300:
            raise error_from_answer(status, data, action=action)
        try:
            document = decode_json(data)
        except ValueError as exc:
            raise KubeError(f"{action}: the API server answered with bad JSON: {exc}") from exc
        return document

    async def open_stream(
        self, path: str, query: Query, *, action: str, read_timeout: float
    ) -> WatchStream:
        """Open a streaming GET (a watch); :class:`KubeError` if it is refused or unanswered."""
        if self.closed:
            raise KubeError(f"{action}: the Kubernetes client is closed")
        loop = asyncio.get_running_loop()
        timeout = (self.connect_timeout, read_timeout)
        opening = loop.run_in_executor(
            self._watch_pool, self._send, "GET", path, query, None, "", timeout, action
        )
        try:
            response = await asyncio.shield(opening)
        except asyncio.CancelledError:
            opening.add_done_callback(_discard_response)  # it may still arrive: close it then
            raise
        if response.status != 200:
            if self._closed_meanwhile():  # its pool is shut down: nothing may read the answer
                _close_response(response.response)
                raise KubeError(f"{action}: the Kubernetes client is closed")
            status, data = await loop.run_in_executor(self._watch_pool, _drain, response)
            raise error_from_answer(status, data, action=action)
        stream = WatchStream(response.response, self._watch_pool)
        if self._closed_meanwhile():
            stream.close()
        self._streams = {s for s in self._streams if not s.closed}
        self._streams.add(stream)
        return stream

    def _closed_meanwhile(self) -> bool:
        return self.closed  # a method, so that no earlier check narrows it across an await

    async def close(self) -> None:
        """End open streams (their readers wake at once) and release connections."""
        if self.closed:
            return
        self.closed = True
        for stream in list(self._streams):
            stream.close()
        self._streams.clear()
        self._watch_pool.shutdown(wait=False, cancel_futures=True)
        await asyncio.to_thread(self._client.close)


def decode_json(data: bytes) -> dict[str, Any]:
    """A JSON object answer (``{}`` for an empty body)."""
    if not data:
        return {}
    document = json.loads(data)
    if not isinstance(document, dict):
        raise ValueError(f"expected a JSON object, got {type(document).__name__}")
    return document


def _drain(response: Any) -> tuple[int, bytes]:
    try:
        return int(response.status), bytes(response.read() or b"")
    finally:
        response.response.release_conn()


def _discard_response(opening: asyncio.Future[Any]) -> None:
    """Close a watch response that arrived after its opener was cancelled."""
    if opening.cancelled() or opening.exception() is not None:
        return
    _close_response(opening.result().response)


def _close_response(raw: Any) -> None:
    """Close an unread answer and give its connection back (closed) to the pool."""
    raw.close()
    raw.release_conn()
