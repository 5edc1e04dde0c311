"""The fake GCE REST server: the paths google-cloud-compute calls, on 127.0.0.1, port 0.

Layer: HTTP shell of :mod:`kfed_gcp.fake` (aiohttp); the rules live in
:class:`~kfed_gcp.fake.model.GceModel`. Point the SDK at :attr:`FakeGce.url` with
``client_options={"api_endpoint": url}`` and anonymous credentials (the ``gcp`` provider does
that when its ``endpoint`` option is set). Start it from async code (:meth:`FakeGce.start` /
:meth:`FakeGce.stop`, or ``async with``), or in a thread of its own (:func:`running_in_thread`).

Fault injection (:meth:`FakeGce.fail`) answers the next N matching requests with an error
(429 ``rateLimitExceeded``, 503 ``backendError``, ...) instead of acting, either as the HTTP
answer or, with ``in_operation=True``, as a DONE Operation that carries the error, as GCE does
for failures found after it accepted a request. Every request is recorded in
:attr:`FakeGce.calls` as ``collection.method`` (``backendServices.patch``).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from kfed_gcp.fake import errors
from kfed_gcp.fake.errors import FakeGceError
from kfed_gcp.fake.model import GLOBAL, SINGULAR, ZONAL, GceModel, Key

_P = "/compute/v1/projects/{project}"
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(slots=True, kw_only=True)
class Fault:
    """Fail the next ``count`` requests whose method matches (any request when ``method`` is
    empty) with ``status`` and ``reason``."""

    status: int
    count: int
    method: str = ""
    reason: str = ""
    in_operation: bool = False


class FakeGce:
    """A fake Compute Engine API for one project (see :mod:`kfed_gcp.fake`)."""

    def __init__(self, model: GceModel | None = None, *, host: str = "127.0.0.1") -> None:
        self.model = model or GceModel()
        self.calls: list[str] = []
        self.faults: list[Fault] = []
        self._host = host
        self._runner: web.AppRunner | None = None
        self.url = ""

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> str:
        """Listen on a free port of 127.0.0.1; returns the URL to use as api_endpoint."""
        self._runner = web.AppRunner(self._app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://{self._host}:{port}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeGce:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- what tests use -----------------------------------------------------------------------

    def fail(
        self,
        status: int,
        *,
        count: int = 1,
        method: str = "",
        reason: str = "",
        in_operation: bool = False,
    ) -> None:
        """Answer the next ``count`` requests for ``method`` (``backendServices.patch``; any
        when empty) with ``status`` (and ``reason``, else GCE's usual one for the status)."""
        self.faults.append(
            Fault(
                status=status, count=count, method=method, reason=reason, in_operation=in_operation
            )
        )

    def resource_ids(self) -> list[str]:
        """One ``scope/collection/name`` per resource (GCE names are unique per scope)."""
        return self.model.resource_ids()

    def backend_rates(self, backend_service: str) -> dict[str, float]:
        """What each endpoint of a backend service may receive (0 when drained)."""
        return self.model.backend_rates(backend_service)

    def set_health(self, address: str, state: str) -> None:
        """Make getHealth report ``state`` (HEALTHY, UNHEALTHY) for endpoint ``ip:port``."""
        with self.model.lock:
            self.model.health[address] = state

    # --- HTTP ---------------------------------------------------------------------------------

    def _app(self) -> web.Application:
        app = web.Application(middlewares=[self._errors])
        ops = "/{scope:global|zones/[-a-z0-9]+}/operations/{operation}"
        app.router.add_get(_P + ops, self._op("get"))
        app.router.add_post(_P + ops + "/wait", self._op("wait"))
        app.router.add_get(_P + "/aggregated/networkEndpointGroups", self._aggregated)
        app.router.add_post(_P + "/targetHttpProxies/{name}/setUrlMap", self._set_url_map)
        scoped = "/{scope:global|zones/[-a-z0-9]+}/{collection}"
        app.router.add_get(_P + scoped, self._list)
        app.router.add_post(_P + scoped, self._insert)
        app.router.add_get(_P + scoped + "/{name}", self._get)
        app.router.add_patch(_P + scoped + "/{name}", self._patch)
        app.router.add_delete(_P + scoped + "/{name}", self._delete)
        app.router.add_post(_P + scoped + "/{name}/{action}", self._action)
        return app

    @web.middleware
    async def _errors(self, request: web.Request, handler: _Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except FakeGceError as e:
            return web.json_response(e.body(), status=e.status)

    def _begin(self, request: web.Request, method: str, key: Key | None = None) -> None:
        """Record the call, check the project and scope, and raise an injected fault."""
        self.calls.append(method)
        self.model.check_project(request.match_info["project"])
        collection = request.match_info.get("collection")
        if collection is not None:
            scope = request.match_info["scope"]
            known = GLOBAL if scope == "global" else ZONAL
            if collection not in known:
                raise errors.not_found(f"projects/{self.model.project}/{scope}/{collection}")
        for fault in self.faults:
            if fault.count > 0 and fault.method in ("", method):
                fault.count -= 1
                error = errors.injected(fault.status, fault.reason)
                if fault.in_operation and key is not None:
                    raise _FailedOperation(
                        self.model.failed_operation(method.split(".")[1], key, error)
                    )
                raise error

    def _key(self, request: web.Request) -> Key:
        m = request.match_info
        return m["scope"], m["collection"], m["name"]

    @staticmethod
    async def _body(request: web.Request) -> dict[str, Any]:
        if not request.can_read_body:
            return {}
        body = await request.json()
        if not isinstance(body, dict):
            raise errors.invalid("resource", body, "The request body must be a JSON object.")
        return body

    def _op(self, verb: str) -> _Handler:
        async def handler(request: web.Request) -> web.StreamResponse:
            scope = request.match_info["scope"]
            kind = "globalOperations" if scope == "global" else "zoneOperations"
            self._begin(request, f"{kind}.{verb}")
            return web.json_response(self.model.poll(scope, request.match_info["operation"]))

        return handler

    async def _aggregated(self, request: web.Request) -> web.StreamResponse:
        self._begin(request, "networkEndpointGroups.aggregatedList")
        found = self.model.aggregated("networkEndpointGroups")
        items = {scope: {"networkEndpointGroups": negs} for scope, negs in found.items()}
        return web.json_response(
            {"kind": "compute#networkEndpointGroupAggregatedList", "items": items}
        )

    async def _list(self, request: web.Request) -> web.StreamResponse:
        collection = request.match_info["collection"]
        self._begin(request, f"{collection}.list")
        items = self.model.list_items(request.match_info["scope"], collection)
        body: dict[str, Any] = {"kind": f"compute#{SINGULAR[collection]}List"}
        if items:  # GCE leaves "items" out of an empty list
            body["items"] = items
        return web.json_response(body)

    async def _get(self, request: web.Request) -> web.StreamResponse:
        key = self._key(request)
        self._begin(request, f"{key[1]}.get")
        return web.json_response(self.model.get(key))

    async def _mutation(
        self, request: web.Request, method: str, key: Key, act: Callable[[str], dict[str, Any]]
    ) -> web.StreamResponse:
        try:
            self._begin(request, method, key)
        except _FailedOperation as failed:
            return web.json_response(failed.operation)
        return web.json_response(act(request.query.get("requestId", "")))

    async def _insert(self, request: web.Request) -> web.StreamResponse:
        scope, collection = request.match_info["scope"], request.match_info["collection"]
        body = await self._body(request)
        key: Key = (scope, collection, str(body.get("name", "")))
        return await self._mutation(
            request,
            f"{collection}.insert",
            key,
            lambda rid: self.model.insert(scope, collection, body, rid),
        )

    async def _patch(self, request: web.Request) -> web.StreamResponse:
        key, body = self._key(request), await self._body(request)
        return await self._mutation(
            request, f"{key[1]}.patch", key, lambda rid: self.model.patch(key, body, rid)
        )

    async def _delete(self, request: web.Request) -> web.StreamResponse:
        key = self._key(request)
        return await self._mutation(
            request, f"{key[1]}.delete", key, lambda rid: self.model.delete(key, rid)
        )

    async def _set_url_map(self, request: web.Request) -> web.StreamResponse:
        key: Key = ("global", "targetHttpProxies", request.match_info["name"])
        body = await self._body(request)
        return await self._mutation(
            request,
            "targetHttpProxies.setUrlMap",
            key,
            lambda rid: self.model.set_field(key, "urlMap", body.get("urlMap"), rid, "setUrlMap"),
        )

    async def _action(self, request: web.Request) -> web.StreamResponse:
        key, action = self._key(request), request.match_info["action"]
        body = await self._body(request)
        method = f"{key[1]}.{action}"
        if (key[1], action) == ("backendServices", "getHealth"):
            self._begin(request, method)
            return web.json_response(self.model.get_health(key, body))
        if (key[1], action) == ("networkEndpointGroups", "listNetworkEndpoints"):
            self._begin(request, method)
            items = self.model.list_endpoints(key)
            return web.json_response(
                {"kind": "compute#networkEndpointGroupsListNetworkEndpoints", "items": items}
            )
        acts: dict[tuple[str, str], Callable[[str], dict[str, Any]]] = {
            ("networkEndpointGroups", "attachNetworkEndpoints"): lambda rid: self.model.attach(
                key, body, rid
            ),
            ("networkEndpointGroups", "detachNetworkEndpoints"): lambda rid: self.model.detach(
                key, body, rid
            ),
            ("forwardingRules", "setTarget"): lambda rid: self.model.set_field(
                key, "target", body.get("target"), rid, "setTarget"
            ),
        }
        act = acts.get((key[1], action))
        if act is None:
            raise errors.not_found(f"{self.model.link(key)}/{action}")
        return await self._mutation(request, method, key, act)


class _FailedOperation(Exception):
    def __init__(self, operation: dict[str, Any]) -> None:
        super().__init__(operation.get("name", ""))
        self.operation = operation


@dataclass(frozen=True, slots=True)
class ThreadedFake:
    """A :class:`FakeGce` serving from its own event loop thread (for synchronous callers)."""

    fake: FakeGce
    url: str


@contextmanager
def running_in_thread(model: GceModel | None = None) -> Iterator[ThreadedFake]:
    """Run a fake GCE in a thread of its own until the ``with`` block ends."""
    loop = asyncio.new_event_loop()
    fake = FakeGce(model)
    ready = threading.Event()
    thread = threading.Thread(target=_serve, args=(loop, fake, ready), name="fake-gce", daemon=True)
    thread.start()
    if not ready.wait(timeout=10):
        raise RuntimeError("the fake GCE did not start within 10 s (see the thread's error)")
    try:
        yield ThreadedFake(fake=fake, url=fake.url)
    finally:
        asyncio.run_coroutine_threadsafe(fake.stop(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


def _serve(loop: asyncio.AbstractEventLoop, fake: FakeGce, ready: threading.Event) -> None:
    asyncio.set_event_loop(loop)
    loop.run_until_complete(fake.start())
    ready.set()
    loop.run_forever()


@asynccontextmanager
async def serving(model: GceModel | None = None) -> AsyncIterator[FakeGce]:
    """``async with serving() as fake``: a started fake, stopped on exit."""
    fake = FakeGce(model)
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()
