"""``/apis/kfed.io/v1alpha1/[namespaces/{ns}/]events``: federated events as Kubernetes Events.

Layer: ``kfed_hub.api``. :func:`event_object` and :func:`parse_field_selector` are pure; the
handler reads :meth:`kfed_hub.store.protocol.Store.list_events`. Read only: events are recorded by
the hub's services (:class:`kfed_hub.events.EventRecorder`), never through the API.

An event about a federated object names it in ``involvedObject`` (apiVersion, kind, namespace,
name) and the member cluster, if any, in ``related`` (kind Cluster) and ``source.host`` (where
kubectl's wide output and ``kfed describe`` show it); an event about a cluster itself has
``involvedObject`` ``{kind: Cluster, name}``. As in Kubernetes, events of clusters and of
cluster-scoped objects live in the ``default`` namespace. Queries: ``namespace`` and ``cluster``,
``fieldSelector`` on ``involvedObject.{kind,name,namespace,apiVersion}``, ``type``, ``reason``
and ``metadata.namespace`` (``=``, ``==``, ``!=``), and ``limit`` (the newest N, default 1000).
Items come oldest first (newest last).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aiohttp import web

from kfed_core.keys import CORE_GROUP, ResourceKey
from kfed_hub.api import errors
from kfed_hub.api.admission import timestamp
from kfed_hub.api.catalog import KindCatalog
from kfed_hub.api.crds import version_order
from kfed_hub.api.errors import json_response
from kfed_hub.api.kinds import (
    KFED_GROUP,
    KFED_VERSION,
    PREFERRED_VERSIONS,
    SERVED_KINDS,
    KindInfo,
)
from kfed_hub.store.codec import event_namespace
from kfed_hub.store.protocol import FederatedEvent, Store

API_VERSION = f"{KFED_GROUP}/{KFED_VERSION}"
SOURCE = "kfed-hub"
FIELDS = (
    "involvedObject.kind",
    "involvedObject.name",
    "involvedObject.namespace",
    "involvedObject.apiVersion",
    "type",
    "reason",
    "metadata.namespace",
)
MAX_LIMIT = 10_000
Requirement = tuple[str, bool, str]  # field, equal (False: !=), value


def api_version_of(key: ResourceKey, kinds: Sequence[KindInfo] = SERVED_KINDS) -> str:
    """The apiVersion kfed serves the key's kind at among ``kinds`` (the preferred or highest
    version first)."""
    served = [k for k in kinds if k.store_group == key.group and k.kind == key.kind]
    preferred = PREFERRED_VERSIONS.get(key.api_group)
    served.sort(key=lambda k: (k.version != preferred, version_order(k.version)))
    if served:
        return served[0].api_version
    return "v1" if key.group == CORE_GROUP else key.group


def event_object(event: FederatedEvent, kinds: Sequence[KindInfo] = SERVED_KINDS) -> dict[str, Any]:
    """The Kubernetes-style ``Event`` of one federated event (``kinds``: the served kinds)."""
    key = event.key
    if key is None:
        involved = {"apiVersion": API_VERSION, "kind": "Cluster", "name": event.cluster}
    else:
        involved = {"apiVersion": api_version_of(key, kinds), "kind": key.kind, "name": key.name}
        if key.namespace:
            involved["namespace"] = key.namespace
    source = {"component": SOURCE}
    body: dict[str, Any] = {
        "apiVersion": API_VERSION,
        "kind": "Event",
        "metadata": {
            "name": f"{involved['name']}.{event.id:x}",
            "namespace": event_namespace(key),
            "creationTimestamp": timestamp(event.first_time),
            "resourceVersion": str(event.id),
        },
        "involvedObject": involved,
        "reason": event.reason,
        "message": event.message,
        "type": event.type,
        "count": event.count,
        "firstTimestamp": timestamp(event.first_time),
        "lastTimestamp": timestamp(event.last_time),
        "source": source,
        "reportingComponent": SOURCE,
    }
    if key is not None and event.cluster:
        source["host"] = event.cluster
        body["related"] = {"apiVersion": API_VERSION, "kind": "Cluster", "name": event.cluster}
    return body


def parse_field_selector(text: str) -> list[Requirement]:
    """``involvedObject.kind=ReplicaSet,involvedObject.name=nginx`` as requirements; 400 for
    a field events cannot be selected by, or a part that does not parse."""
    requirements: list[Requirement] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        if "!=" in part:
            field, _, value = part.partition("!=")
            equal = False
        elif "=" in part:
            field, _, value = part.partition("==" if "==" in part else "=")
            equal = True
        else:
            raise errors.bad_request(
                f"invalid field selector {text!r}: {part!r} is not field=value or field!=value"
            )
        field = field.strip()
        if field not in FIELDS:
            raise errors.bad_request(
                f'"{field}" is not a known field selector: only "{", ".join(FIELDS)}"'
            )
        requirements.append((field, equal, value.strip()))
    return requirements


def _field_values(item: Mapping[str, Any]) -> dict[str, str]:
    involved = item["involvedObject"]
    return {
        "involvedObject.kind": involved.get("kind", ""),
        "involvedObject.name": involved.get("name", ""),
        "involvedObject.namespace": involved.get("namespace", ""),
        "involvedObject.apiVersion": involved.get("apiVersion", ""),
        "type": item["type"],
        "reason": item["reason"],
        "metadata.namespace": item["metadata"]["namespace"],
    }


def selected(item: Mapping[str, Any], requirements: Sequence[Requirement]) -> bool:
    values = _field_values(item)
    return all((values[field] == value) == equal for field, equal, value in requirements)


def _limit(text: str | None) -> int:
    if text in (None, ""):
        return 1000
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_LIMIT:
        raise errors.bad_request(f"limit {text!r} must be a whole number from 1 to {MAX_LIMIT}")
    return value


class EventHandlers:
    """GET (list) of events, in every namespace or in one."""

    def __init__(self, *, store: Store, catalog: KindCatalog | None = None) -> None:
        self._store = store
        self._catalog = catalog  # None: the built-in kinds only

    async def list(self, request: web.Request) -> web.Response:
        query = request.query
        namespace = request.match_info.get("namespace") or query.get("namespace") or None
        requirements = parse_field_selector(query.get("fieldSelector", ""))
        limit = _limit(query.get("limit"))
        exact = {field: value for field, equal, value in requirements if equal}
        kind, name = exact.get("involvedObject.kind"), exact.get("involvedObject.name")
        if kind == "Cluster":
            kind = None  # cluster events have no object kind in the store: filtered below
        found = await self._store.list_events(
            cluster=query.get("cluster") or None,
            namespace=namespace,
            kind=kind,
            name=name if kind is not None else None,
            # Filters the store does not know are applied here, so ask it for enough.
            limit=MAX_LIMIT if requirements else limit,
        )
        kinds: Sequence[KindInfo] = SERVED_KINDS
        if self._catalog is not None:
            await self._catalog.load()
            kinds = self._catalog.served()
        items = [event_object(event, kinds) for event in found]
        items = [item for item in items if selected(item, requirements)][-limit:]
        return json_response(
            {"apiVersion": API_VERSION, "kind": "EventList", "metadata": {}, "items": items}
        )
