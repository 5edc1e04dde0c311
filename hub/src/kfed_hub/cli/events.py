"""``kfed get events`` and the events ``kfed describe`` shows, read from the hub.

Layer: the CLI shell over :class:`kfed_hub.client.HubClient` (reads only); :func:`event_table`
is pure. The table is kubectl's: LAST SEEN, TYPE, REASON, OBJECT (``replicaset/nginx``,
``cluster/east``), MESSAGE, with NAMESPACE first for ``-A``; ``-o wide`` adds kubectl's SOURCE,
FIRST SEEN and COUNT (the source names the member cluster). Events come oldest first, so the
newest is on the last line, as with ``kubectl get events --sort-by=.lastTimestamp``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from kfed_hub.cli.printing import age_of, render_table
from kfed_hub.client import HubApiError, HubClient

EVENTS_PATH = "/apis/kfed.io/v1alpha1/events"


def events_path(namespace: str | None) -> str:
    """The events collection of ``namespace`` (None: every namespace)."""
    if namespace is None:
        return EVENTS_PATH
    return f"/apis/kfed.io/v1alpha1/namespaces/{namespace}/events"


def object_of(event: Mapping[str, Any]) -> str:
    """kubectl's OBJECT column: ``kind/name`` in lower case."""
    involved = event.get("involvedObject") or {}
    kind = str(involved.get("kind", "")).lower()
    name = involved.get("name")
    return f"{kind}/{name}" if name else kind


def event_table(
    events: Sequence[Mapping[str, Any]],
    now: dt.datetime,
    *,
    with_namespace: bool = False,
    wide: bool = False,
) -> str:
    """The ``kfed get events`` table."""
    headers = ["LAST SEEN", "TYPE", "REASON", "OBJECT"]
    headers += ["SOURCE", "MESSAGE", "FIRST SEEN", "COUNT"] if wide else ["MESSAGE"]
    rows = []
    for event in events:
        message = " ".join(str(event.get("message") or "").split())
        row = [
            age_of(event.get("lastTimestamp"), now),
            str(event.get("type", "")),
            str(event.get("reason", "")),
            object_of(event),
        ]
        if wide:
            source = event.get("source") or {}
            row += [
                ", ".join(filter(None, (source.get("component"), source.get("host")))),
                message,
                age_of(event.get("firstTimestamp"), now),
                str(event.get("count") or 1),
            ]
        else:
            row.append(message)
        namespace = str((event.get("metadata") or {}).get("namespace", ""))
        rows.append([namespace, *row] if with_namespace else row)
    if with_namespace:
        headers.insert(0, "NAMESPACE")
    return render_table(headers, rows)


def list_events(
    client: HubClient,
    namespace: str | None,
    *,
    field_selector: str = "",
    cluster: str = "",
) -> list[dict[str, Any]]:
    """Events from the hub (oldest first)."""
    query = {"fieldSelector": field_selector} if field_selector else {}
    if cluster:
        query["cluster"] = cluster
    answer = client.request("GET", events_path(namespace), query=query or None)
    return list((answer or {}).get("items") or [])


def _quietly(read: Any) -> list[dict[str, Any]]:
    # A hub without events (older than issue 4) answers 404: describe still works.
    try:
        return list(read())
    except HubApiError as exc:
        if exc.status in (404, 405):
            return []
        raise


def events_about(client: HubClient, obj: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The events of one federated object (what ``kfed describe`` lists)."""
    metadata = obj.get("metadata") or {}
    namespace = str(metadata.get("namespace") or "")
    selector = ",".join(
        [
            f"involvedObject.kind={obj.get('kind', '')}",
            f"involvedObject.name={metadata.get('name', '')}",
            f"involvedObject.namespace={namespace}",
            f"involvedObject.apiVersion={obj.get('apiVersion', '')}",
        ]
    )
    return _quietly(lambda: list_events(client, namespace or "default", field_selector=selector))


def events_of_cluster(client: HubClient, name: str) -> list[dict[str, Any]]:
    """The events of one member cluster: about it, and about objects in it."""
    return _quietly(lambda: list_events(client, None, cluster=name))
