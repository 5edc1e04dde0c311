"""``kfed describe``: one federated object with its placement, per-cluster state and events.

Layer: the CLI shell, pure (strings out; the current time and the events are passed in). The
layout follows ``kubectl describe``: ``Label:`` lines, then the conditions, the per-cluster
tables, and an ``Events:`` section in kubectl's format (Type, Reason, Age, From, Message).

Data of ConfigMaps and Secrets is summarised by size only: a describe must be safe to paste.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from kfed_hub.cli.printing import (
    age_of,
    count,
    desired_replicas,
    labels_text,
    render_table,
)

WIDTH = 14  # the label column of kfed describe
WORKLOAD_KINDS = ("ReplicaSet", "Deployment")


def line(label: str, value: Any) -> str:
    return f"{label + ':':<{WIDTH}}{value}"


def _pairs(title: str, values: Any) -> list[str]:
    if not isinstance(values, Mapping) or not values:
        return [line(title, "<none>")]
    lines = []
    for index, (key, value) in enumerate(sorted(values.items())):
        shown = " ".join(str(value).split())  # a multi-line annotation on one line
        lines.append(f"{(title + ':') if index == 0 else '':<{WIDTH}}{key}={shown}")
    return lines


def _size(value: Any, *, encoded: bool) -> int:
    text = str(value)
    if encoded:
        try:
            return len(base64.b64decode(text))
        except ValueError:
            pass
    return len(text.encode())


def indented(table: str) -> list[str]:
    return ["  " + row for row in table.splitlines()]


def events_section(
    events: Sequence[Mapping[str, Any]] | None,
    now: dt.datetime,
    *,
    name_objects: bool = False,
    width: int = WIDTH,
) -> list[str]:
    """kubectl's ``Events:`` section, oldest first; ``name_objects`` prefixes each message with
    the object it is about (for a cluster's describe, which lists its objects' events too)."""
    if not events:
        return [f"{'Events:':<{width}}<none>"]
    rows = []
    for event in sorted(events, key=lambda e: str(e.get("lastTimestamp") or "")):
        first, last = event.get("firstTimestamp"), event.get("lastTimestamp")
        times = int(event.get("count") or 1)
        age = age_of(first, now)
        if times > 1:
            age = f"{age_of(last, now)} (x{times} over {age})"
        source = event.get("source") or {}
        origin = ", ".join(filter(None, (source.get("component"), source.get("host"))))
        message = " ".join(str(event.get("message") or "").split())
        involved = event.get("involvedObject") or {}
        if name_objects and involved.get("kind") != "Cluster":
            message = f"{str(involved.get('kind', '')).lower()}/{involved.get('name')}: {message}"
        rows.append(
            [str(event.get("type", "")), str(event.get("reason", "")), age, origin, message]
        )
    header = ["Type", "Reason", "Age", "From", "Message"]
    dashes = ["----", "------", "----", "----", "-------"]  # kubectl's, Age's included
    table = render_table(header, [dashes, *rows], padding=2, min_width=0)
    return ["Events:", *indented(table)]


def _workload_lines(obj: Mapping[str, Any]) -> list[str]:
    status = obj.get("status") or {}
    desired = desired_replicas(obj)
    summary = (
        f"{desired} desired | {count(status, 'replicas')} current | "
        f"{count(status, 'readyReplicas')} ready | {count(status, 'availableReplicas')} available"
    )
    selector = (obj.get("spec") or {}).get("selector") or {}
    match = selector.get("matchLabels") if isinstance(selector, Mapping) else None
    return [line("Selector", labels_text(match)), line("Replicas", summary)]


def replica_table(entries: Sequence[Mapping[str, Any]]) -> list[str]:
    """Per cluster: planned (DESIRED) against observed replicas, and why it got its count."""
    rows = []
    for entry in entries:
        observed = entry.get("observed") or {}
        rows.append(
            [
                str(entry.get("cluster", "")),
                str(entry.get("replicas", 0)),
                str(count(observed, "replicas")),
                str(count(observed, "readyReplicas")),
                str(count(observed, "availableReplicas")),
                " ".join(str(entry.get("explanation") or "").split()),
            ]
        )
    headers = ["CLUSTER", "DESIRED", "CURRENT", "READY", "AVAILABLE", "WHY"]
    return ["Replicas per cluster:", *indented(render_table(headers, rows))]


def _service_lines(obj: Mapping[str, Any]) -> list[str]:
    spec = obj.get("spec") or {}
    lines = [
        line("Selector", labels_text(spec.get("selector"))),
        line("Type", spec.get("type") or "ClusterIP"),
    ]
    for port in spec.get("ports") or []:
        name = port.get("name") or "<unset>"
        lines.append(line("Port", f"{name}  {port.get('port')}/{port.get('protocol') or 'TCP'}"))
    addresses = []
    for entry in (obj.get("status") or {}).get("clusters") or []:
        balancer = (entry.get("observed") or {}).get("loadBalancer") or {}
        if not entry.get("placed", True):
            continue
        for item in balancer.get("ingress") or []:
            address = item.get("ip") or item.get("hostname") or "?"
            addresses.append(f"{address} ({entry.get('cluster')})")
    label = "LoadBalancer Ingress:"
    if not addresses:
        return [*lines, f"{label} <none>"]
    pad = " " * (len(label) + 1)
    return [*lines, f"{label} {addresses[0]}", *(pad + a for a in addresses[1:])]


def _cluster_table(entries: Sequence[Mapping[str, Any]], *, why: bool) -> list[str]:
    placed_column = any(not e.get("placed", True) for e in entries)
    why = why and any(e.get("explanation") for e in entries)
    headers = ["CLUSTER", *(["PLACED"] if placed_column else [])]
    headers += ["VERSION", "CURRENT", "OUTCOME", "REASON", "MESSAGE", *(["WHY"] if why else [])]
    rows = []
    for e in entries:
        row = [str(e.get("cluster", ""))]
        row += ["yes" if e.get("placed", True) else "no"] if placed_column else []
        row += [
            str(e.get("version") or "<none>"),
            "yes" if e.get("current") else "no",
            str(e.get("outcome") or "Pending"),
            str(e.get("reason") or ""),
            " ".join(str(e.get("message") or "").split()),
        ]
        row += [" ".join(str(e.get("explanation") or "").split())] if why else []
        rows.append(row)
    return ["Clusters:", *indented(render_table(headers, rows))]


def describe(
    obj: Mapping[str, Any], now: dt.datetime, events: Sequence[Mapping[str, Any]] | None = None
) -> str:
    """``kfed describe KIND NAME``."""
    metadata = obj.get("metadata") or {}
    kind = obj.get("kind", "")
    created = metadata.get("creationTimestamp")
    lines = [
        line("Name", metadata.get("name", "")),
        *([line("Namespace", metadata["namespace"])] if metadata.get("namespace") else []),
        line("Kind", kind),
        line("API Version", obj.get("apiVersion", "")),
        *_pairs("Labels", metadata.get("labels")),
        *_pairs("Annotations", metadata.get("annotations")),
        line("Created", f"{created} ({age_of(created, now)} ago)"),
        line("Generation", metadata.get("generation", "")),
    ]
    if kind == "Secret":
        lines.append(line("Type", obj.get("type") or "Opaque"))
    for field in ("data", "binaryData", "stringData"):
        data = obj.get(field)
        if isinstance(data, Mapping) and data:
            lines.append(f"{field[0].upper() + field[1:]}:")
            encoded = field == "binaryData" or (field == "data" and kind == "Secret")
            lines += [
                f"  {key}: {_size(value, encoded=encoded)} bytes"
                for key, value in sorted(data.items())
            ]
    workload = kind in WORKLOAD_KINDS
    if workload:
        lines += _workload_lines(obj)
    elif kind == "Service":
        lines += _service_lines(obj)
    status = obj.get("status") or {}
    for condition in status.get("conditions") or []:
        lines.append(
            f"{condition.get('type', '') + ':':<{WIDTH}}{condition.get('status', '')} "
            f"({condition.get('reason', '')}) {condition.get('message', '')}".rstrip()
        )
    entries = status.get("clusters") or []
    if entries:
        lines += _cluster_table(entries, why=not workload)
        if workload:
            lines += replica_table(entries)
    else:
        lines.append(line("Clusters", "<none>"))
    lines += events_section(events, now)
    return "\n".join(lines) + "\n"
