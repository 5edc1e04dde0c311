"""How the ``kfed`` CLI prints: kubectl's tables, ages, YAML and JSON, and the per-cluster view.

Layer: the CLI shell, pure (strings out; the current time is passed in). Tables follow kubectl's
tab writer (columns padded by three spaces, the last one unpadded) and its column sets for the
kinds that have familiar ones; anything else gets NAME AGE.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

Row = Sequence[str]
_PADDING = 3
_MIN_WIDTH = 6


def human_age(age: dt.timedelta) -> str:
    """kubectl's short age: ``45s``, ``3m20s``, ``25m``, ``5h10m``, ``30h``, ``4d2h``, ``200d``."""
    seconds = int(age.total_seconds())
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 120:
        return f"{seconds}s"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if minutes < 10:
        return f"{minutes}m{seconds % 60}s" if seconds % 60 else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
    if hours < 24 * 365 * 2:
        return f"{days}d"
    if hours < 24 * 365 * 8:
        years = days // 365
        return f"{years}y{days % 365}d" if days % 365 else f"{years}y"
    return f"{days // 365}y"


def age_of(timestamp: Any, now: dt.datetime) -> str:
    """The age of an RFC 3339 timestamp, ``<unknown>`` if there is none."""
    if not isinstance(timestamp, str) or not timestamp:
        return "<unknown>"
    try:
        when = dt.datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return "<unknown>"
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return human_age(now - when)


def render_table(headers: Row, rows: Sequence[Row]) -> str:
    """Aligned columns, kubectl style; ends with a newline."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    lines = []
    for row in (headers, *rows):
        cells = [
            cell.ljust(max(width + _PADDING, _MIN_WIDTH))
            for cell, width in zip(row[:-1], widths, strict=False)
        ]
        lines.append(("".join(cells) + row[-1]).rstrip())
    return "\n".join(lines) + "\n"


# -- output formats ------------------------------------------------------------------------


class _BlockDumper(yaml.SafeDumper):
    """Multi-line strings as literal blocks (``|``), as kubectl shows scripts and certificates."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # PyYAML falls back to a quoted style by itself where a block cannot hold the string.
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _represent_str)


def to_yaml(document: Any) -> str:
    """YAML as ``kubectl get -o yaml`` prints it (keys sorted, block style)."""
    return yaml.dump(document, Dumper=_BlockDumper, sort_keys=True, default_flow_style=False)


def to_json(document: Any) -> str:
    """JSON as ``kubectl get -o json`` prints it (four-space indent)."""
    return json.dumps(document, indent=4, ensure_ascii=False) + "\n"


def as_list(items: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Several objects as kubectl's ``List`` for ``-o yaml|json``."""
    return {"apiVersion": "v1", "kind": "List", "items": list(items), "metadata": {}}


# -- tables of objects ---------------------------------------------------------------------


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    metadata = obj.get("metadata")
    return metadata if isinstance(metadata, Mapping) else {}


def _propagated(obj: Mapping[str, Any]) -> str:
    entries = (obj.get("status") or {}).get("clusters") or []
    current = sum(1 for e in entries if e.get("current"))
    return f"{current}/{len(entries)}"


def object_table(
    kind: str,
    objects: Sequence[Mapping[str, Any]],
    now: dt.datetime,
    *,
    with_namespace: bool = False,
    wide: bool = False,
) -> str:
    """The ``kfed get`` table of federated objects of one kind."""
    headers: list[str] = ["NAME"]
    if kind == "ConfigMap":
        headers.append("DATA")
    elif kind == "Secret":
        headers += ["TYPE", "DATA"]
    elif kind == "Namespace":
        headers.append("STATUS")
    headers.append("AGE")
    if wide:
        headers.append("PROPAGATED")
    rows = []
    for obj in objects:
        row = [str(_meta(obj).get("name", ""))]
        if kind == "ConfigMap":
            row.append(str(len(obj.get("data") or {}) + len(obj.get("binaryData") or {})))
        elif kind == "Secret":
            row += [str(obj.get("type") or "Opaque"), str(len(obj.get("data") or {}))]
        elif kind == "Namespace":
            row.append(str((obj.get("status") or {}).get("phase") or "Active"))
        row.append(age_of(_meta(obj).get("creationTimestamp"), now))
        if wide:
            row.append(_propagated(obj))
        rows.append([str(_meta(obj).get("namespace", "")), *row] if with_namespace else row)
    if with_namespace:
        headers.insert(0, "NAMESPACE")
    return render_table(headers, rows)


def cluster_table(clusters: Sequence[Mapping[str, Any]], now: dt.datetime, *, wide: bool) -> str:
    """``kfed get clusters``: NAME STATUS AGE, and REGION ZONE VERSION with ``-o wide``."""
    headers = ["NAME", "STATUS", "AGE"] + (["REGION", "ZONE", "VERSION"] if wide else [])
    rows = []
    for cluster in clusters:
        status = cluster.get("status") or {}
        row = [
            str(_meta(cluster).get("name", "")),
            str(status.get("phase") or "Unknown"),
            age_of(_meta(cluster).get("creationTimestamp"), now),
        ]
        if wide:
            row += [
                str(status.get("region") or "<none>"),
                ",".join(status.get("zones") or []) or "<none>",
                str(status.get("kubernetesVersion") or "<none>"),
            ]
        rows.append(row)
    return render_table(headers, rows)


def cluster_entry(obj: Mapping[str, Any], cluster: str) -> Mapping[str, Any]:
    """What ``obj``'s status says about ``cluster`` (a pending entry if nothing)."""
    for entry in (obj.get("status") or {}).get("clusters") or []:
        if entry.get("cluster") == cluster:
            return entry  # type: ignore[no-any-return]
    return {"cluster": cluster, "version": "", "current": False, "outcome": "Pending"}


def per_cluster_view(
    clusters: Sequence[Mapping[str, Any]], objects: Sequence[Mapping[str, Any]]
) -> str:
    """``kfed get KIND --clusters``: one section per cluster, each object as that cluster has it."""
    sections = []
    for cluster in clusters:
        name = str(_meta(cluster).get("name", ""))
        phase = str((cluster.get("status") or {}).get("phase") or "Unknown")
        rows = []
        for obj in objects:
            entry = cluster_entry(obj, name)
            rows.append(
                [
                    str(_meta(obj).get("name", "")),
                    str(entry.get("version") or "<none>"),
                    "yes" if entry.get("current") else "no",
                    str(entry.get("outcome") or "Pending"),
                    str(entry.get("reason") or ""),
                ]
            )
        table = render_table(["NAME", "VERSION", "CURRENT", "OUTCOME", "REASON"], rows)
        sections.append(f"CLUSTER {name} ({phase})\n{table}")
    return "\n".join(sections)


# -- describe ------------------------------------------------------------------------------


def _pairs(title: str, values: Any) -> list[str]:
    width = 14
    if not isinstance(values, Mapping) or not values:
        return [f"{title + ':':<{width}}<none>"]
    lines = []
    for index, (key, value) in enumerate(sorted(values.items())):
        shown = " ".join(str(value).split())  # a multi-line annotation on one line
        lines.append(f"{(title + ':') if index == 0 else '':<{width}}{key}={shown}")
    return lines


def _size(value: Any, *, encoded: bool) -> int:
    text = str(value)
    if encoded:
        try:
            return len(base64.b64decode(text))
        except ValueError:
            pass
    return len(text.encode())


def describe(obj: Mapping[str, Any], now: dt.datetime) -> str:
    """``kfed describe``: metadata, labels, annotations, propagation and the per-cluster table.

    Data of ConfigMaps and Secrets is summarised by size only: a describe must be safe to paste.
    """
    metadata = _meta(obj)
    created = metadata.get("creationTimestamp")
    lines = [
        f"{'Name:':<14}{metadata.get('name', '')}",
        *([f"{'Namespace:':<14}{metadata['namespace']}"] if metadata.get("namespace") else []),
        f"{'Kind:':<14}{obj.get('kind', '')}",
        f"{'API Version:':<14}{obj.get('apiVersion', '')}",
        *_pairs("Labels", metadata.get("labels")),
        *_pairs("Annotations", metadata.get("annotations")),
        f"{'Created:':<14}{created} ({age_of(created, now)} ago)",
        f"{'Generation:':<14}{metadata.get('generation', '')}",
    ]
    if obj.get("kind") == "Secret":
        lines.append(f"{'Type:':<14}{obj.get('type') or 'Opaque'}")
    for field in ("data", "binaryData", "stringData"):
        data = obj.get(field)
        if isinstance(data, Mapping) and data:
            lines.append(f"{field[0].upper() + field[1:]}:")
            encoded = field == "binaryData" or (field == "data" and obj.get("kind") == "Secret")
            lines += [
                f"  {key}: {_size(value, encoded=encoded)} bytes"
                for key, value in sorted(data.items())
            ]
    status = obj.get("status") or {}
    for condition in status.get("conditions") or []:
        lines.append(
            f"{condition.get('type', '') + ':':<14}{condition.get('status', '')} "
            f"({condition.get('reason', '')}) {condition.get('message', '')}".rstrip()
        )
    entries = status.get("clusters") or []
    if entries:
        rows = [
            [
                str(e.get("cluster", "")),
                str(e.get("version") or "<none>"),
                "yes" if e.get("current") else "no",
                str(e.get("outcome") or "Pending"),
                str(e.get("reason") or ""),
                " ".join(str(e.get("message") or "").split()),
            ]
            for e in entries
        ]
        table = render_table(
            ["CLUSTER", "VERSION", "CURRENT", "OUTCOME", "REASON", "MESSAGE"], rows
        )
        lines.append("Clusters:")
        lines += ["  " + line for line in table.splitlines()]
    else:
        lines.append(f"{'Clusters:':<14}<none>")
    lines.append(f"{'Events:':<14}<none>")
    return "\n".join(lines) + "\n"
