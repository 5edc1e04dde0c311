"""Watches: a chunked stream of ``{"type": ..., "object": ...}`` lines, as kube-apiserver sends.

Layer: I/O shell beside the HTTP server. Semantics:

* no ``resourceVersion`` (or ``"0"``): synthetic ADDED events for the current objects first;
* a ``resourceVersion``: every change after it, or one ERROR event with a 410 ``Expired`` Status
  when that version is older than the retained history (clients then re-list);
* ``sendInitialEvents=true`` (with ``resourceVersionMatch=NotOlderThan``): the initial events,
  then a BOOKMARK annotated ``k8s.io/initial-events-end: "true"``;
* ``allowWatchBookmarks=true``: a BOOKMARK carrying the current resourceVersion every
  ``bookmark_interval`` seconds;
* ``timeoutSeconds``: the stream ends after that long;
* a watcher that falls too far behind is closed (the client re-watches), so a slow reader never
  makes the server queue without bound.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from kfed_local.sim import errors
from kfed_local.sim.api import Selectors
from kfed_local.sim.resources import ResourceType
from kfed_local.sim.store import (
    StoredObject,
    TooOldResourceVersion,
    Watcher,
    WatchFilter,
    visible_event,
)
from kfed_local.sim.tables import build_table

if TYPE_CHECKING:
    from kfed_local.sim.server import ApiServer

_DEFAULT_TIMEOUT = (1800, 3600)  # kube-apiserver picks a random timeout in this range


def _parse_rv(value: str | None) -> int | None:
    if value in (None, "", "0"):
        return None
    try:
        rv = int(value)
    except ValueError:
        raise errors.bad_request(
            f"resourceVersion: Invalid value: {value!r}: must be an integer"
        ) from None
    if rv < 0:
        raise errors.bad_request(f"resourceVersion: Invalid value: {value!r}: must be positive")
    return rv


async def serve(
    server: ApiServer,
    request: web.Request,
    rt: ResourceType,
    namespace: str | None,
    *,
    name: str | None = None,
) -> web.StreamResponse:
    """Stream changes of one resource (optionally one namespace, one name) to the client."""
    if "watch" not in rt.verbs:
        raise errors.method_not_allowed(f"watch is not supported on {rt.plural}")
    query = request.query
    field_selector = query.get("fieldSelector", "")
    if name is not None:
        by_name = f"metadata.name={name}"
        field_selector = f"{field_selector},{by_name}" if field_selector else by_name
    api = server.api
    accepts = api.matcher(rt, Selectors(label=query.get("labelSelector", ""), field=field_selector))
    since = _parse_rv(query.get("resourceVersion"))
    send_initial = query.get("sendInitialEvents", "").lower() == "true"
    if send_initial and query.get("resourceVersionMatch") != "NotOlderThan":
        raise errors.bad_request(
            "resourceVersionMatch: Forbidden: sendInitialEvents requires setting "
            "resourceVersionMatch to NotOlderThan"
        )
    bookmarks = query.get("allowWatchBookmarks", "").lower() == "true"
    timeout = _timeout(query.get("timeoutSeconds"))
    as_table = "as=Table" in request.headers.get("Accept", "")

    ns_filter = namespace if rt.namespaced else None
    initial: list[tuple[str, StoredObject]] = []
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    response.enable_chunked_encoding()
    try:
        watcher, backlog = api.store.watch(
            rt.storage_key,
            namespace=ns_filter,
            accepts=accepts,
            since=None if (send_initial or since is None) else since,
        )
    except TooOldResourceVersion as exc:
        # As kube-apiserver: a 200 stream holding one ERROR event; the client re-lists.
        await response.prepare(request)
        await response.write(_line("ERROR", errors.gone(str(exc)).status()))
        return response
    if since is None or send_initial:
        items = api.store.items(rt.storage_key, ns_filter)
        initial = [("ADDED", entry) for entry in items if accepts(entry.obj)]

    await response.prepare(request)
    encoder = _Encoder(server, rt, as_table, request)
    deadline = time.monotonic() + timeout
    try:
        for event_type, entry in initial:
            await response.write(encoder.event(event_type, entry))
        for change in backlog:
            shown = visible_event(change, accepts)
            if shown is not None:
                await response.write(encoder.event(*shown))
        if send_initial and bookmarks:
            await response.write(_bookmark(rt, api.store.resource_version, initial_end=True))
        await _follow(server, response, encoder, watcher, accepts, rt, deadline, bookmarks)
    except (ConnectionResetError, asyncio.CancelledError):
        pass  # the client went away or the server is stopping
    finally:
        api.store.unwatch(watcher)
    return response


async def _follow(
    server: ApiServer,
    response: web.StreamResponse,
    encoder: _Encoder,
    watcher: Watcher,
    accepts: WatchFilter,
    rt: ResourceType,
    deadline: float,
    bookmarks: bool,
) -> None:
    interval = server.settings.bookmark_interval
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        wait = min(remaining, interval) if bookmarks else remaining
        try:
            async with asyncio.timeout(wait):
                change = await watcher.queue.get()
        except TimeoutError:
            if bookmarks and deadline - time.monotonic() > 0:
                await response.write(_bookmark(rt, server.api.store.resource_version))
            continue
        if change is None:
            return  # closed: server stopping or the watcher fell behind
        shown = visible_event(change, accepts)
        if shown is not None:
            await response.write(encoder.event(*shown))


def _timeout(value: str | None) -> float:
    if value in (None, ""):
        return float(random.randint(*_DEFAULT_TIMEOUT))
    try:
        seconds = int(value)
    except ValueError:
        raise errors.bad_request(f"timeoutSeconds must be an integer, got {value!r}") from None
    return float(max(seconds, 0)) or float(random.randint(*_DEFAULT_TIMEOUT))


def _line(event_type: str, obj: Any) -> bytes:
    return json.dumps({"type": event_type, "object": obj}, separators=(",", ":")).encode() + b"\n"


def _bookmark(rt: ResourceType, rv: int, *, initial_end: bool = False) -> bytes:
    meta: dict[str, Any] = {"resourceVersion": str(rv)}
    if initial_end:
        meta["annotations"] = {"k8s.io/initial-events-end": "true"}
    return _line("BOOKMARK", {"kind": rt.kind, "apiVersion": rt.api_version, "metadata": meta})


class _Encoder:
    """Encodes events as plain objects or as one-row Tables (``kubectl get -w``)."""

    def __init__(self, server: ApiServer, rt: ResourceType, as_table: bool, request: web.Request):
        self.server = server
        self.rt = rt
        self.as_table = as_table
        self.first = True
        self.include_object = request.query.get("includeObject", "Metadata")

    def event(self, event_type: str, entry: StoredObject) -> bytes:
        if not self.as_table:
            return b'{"type":"' + event_type.encode() + b'","object":' + entry.raw() + b"}\n"
        table = build_table(
            self.rt,
            [entry.obj],
            now=self.server.api.clock(),
            include_object=self.include_object,  # type: ignore[arg-type]
            no_headers=not self.first,
        )
        self.first = False
        return _line(event_type, table)
