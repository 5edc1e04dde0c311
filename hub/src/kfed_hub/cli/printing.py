"""How the ``kfed`` CLI prints: kubectl's tables, ages, YAML and JSON, and the per-cluster view.

Layer: the CLI shell, pure (strings out; the current time is passed in). Tables follow kubectl's
tab writer (columns padded by three spaces, the last one unpadded) and its column sets for the
kinds that have familiar ones; anything else gets NAME AGE. ``describe`` lives in
:mod:`.describe`, the per-cluster views of workloads and pods in :mod:`.percluster`.
"""

from __future__ import annotations

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


def render_table(
    headers: Row, rows: Sequence[Row], *, padding: int = _PADDING, min_width: int = _MIN_WIDTH
) -> str:
    """Aligned columns, kubectl style (``kubectl get``; ``describe`` pads by two, no minimum);
    ends with a newline."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    lines = []
    for row in (headers, *rows):
        cells = [
            cell.ljust(max(width + padding, min_width))
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
    entries = [e for e in (obj.get("status") or {}).get("clusters") or [] if e.get("placed", True)]
    current = sum(1 for e in entries if e.get("current"))
    return f"{current}/{len(entries)}"


def labels_text(labels: Any) -> str:
    """kubectl's LABELS column: ``k=v,k2=v2`` sorted, ``<none>`` if there are none."""
    if not isinstance(labels, Mapping) or not labels:
        return "<none>"
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def count(obj: Mapping[str, Any], *path: str) -> int:
    """An integer field (``count(obj, "status", "readyReplicas")``), 0 when absent."""
    value: Any = obj
    for part in path:
        value = value.get(part) if isinstance(value, Mapping) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def desired_replicas(obj: Mapping[str, Any]) -> int:
    """``spec.replicas``, 1 when absent (Kubernetes' default)."""
    spec = obj.get("spec")
    return count(obj, "spec", "replicas") if isinstance(spec, Mapping) and "replicas" in spec else 1


def workload_columns(kind: str) -> list[str]:
    """kubectl's columns between NAME and AGE for ReplicaSets and Deployments."""
    if kind == "ReplicaSet":
        return ["DESIRED", "CURRENT", "READY"]
    if kind == "Deployment":
        return ["READY", "UP-TO-DATE", "AVAILABLE"]
    return []


def workload_cells(kind: str, desired: int, status: Any) -> list[str]:
    """The cells of :func:`workload_columns` from a desired count and a (member's) status."""
    status = status if isinstance(status, Mapping) else {}
    ready = count(status, "readyReplicas")
    if kind == "ReplicaSet":
        return [str(desired), str(count(status, "replicas")), str(ready)]
    if kind == "Deployment":
        updated, available = count(status, "updatedReplicas"), count(status, "availableReplicas")
        return [f"{ready}/{desired}", str(updated), str(available)]
    return []


def ingress_cells(obj: Mapping[str, Any]) -> list[str]:
    """kubectl's CLASS, HOSTS, ADDRESS and PORTS of an Ingress (the global address for a
    federated one)."""
    spec = obj.get("spec") or {}
    klass = spec.get("ingressClassName") or "<none>"
    hosts = [str(r.get("host")) for r in spec.get("rules") or [] if r.get("host")]
    balancer = (obj.get("status") or {}).get("loadBalancer") or {}
    addresses = [str(i.get("ip") or i.get("hostname")) for i in balancer.get("ingress") or [] if i]
    ports = "80, 443" if spec.get("tls") else "80"
    return [str(klass), ",".join(hosts) or "*", ",".join(addresses), ports]


def object_table(
    kind: str,
    objects: Sequence[Mapping[str, Any]],
    now: dt.datetime,
    *,
    with_namespace: bool = False,
    wide: bool = False,
    show_labels: bool = False,
) -> str:
    """The ``kfed get`` table of federated objects of one kind."""
    headers: list[str] = ["NAME"]
    if kind == "ConfigMap":
        headers.append("DATA")
    elif kind == "Secret":
        headers += ["TYPE", "DATA"]
    elif kind == "Namespace":
        headers.append("STATUS")
    elif kind == "Ingress":
        headers += ["CLASS", "HOSTS", "ADDRESS", "PORTS"]
    headers += workload_columns(kind)
    headers.append("AGE")
    if wide:
        headers.append("PROPAGATED")
    if show_labels:
        headers.append("LABELS")
    rows = []
    for obj in objects:
        row = [str(_meta(obj).get("name", ""))]
        if kind == "ConfigMap":
            row.append(str(len(obj.get("data") or {}) + len(obj.get("binaryData") or {})))
        elif kind == "Secret":
            row += [str(obj.get("type") or "Opaque"), str(len(obj.get("data") or {}))]
        elif kind == "Namespace":
            row.append(str((obj.get("status") or {}).get("phase") or "Active"))
        elif kind == "Ingress":
            row += ingress_cells(obj)
        row += workload_cells(kind, desired_replicas(obj), obj.get("status"))
        row.append(age_of(_meta(obj).get("creationTimestamp"), now))
        if wide:
            row.append(_propagated(obj))
        if show_labels:
            row.append(labels_text(_meta(obj).get("labels")))
        rows.append([str(_meta(obj).get("namespace", "")), *row] if with_namespace else row)
    if with_namespace:
        headers.insert(0, "NAMESPACE")
    return render_table(headers, rows)


def cluster_table(
    clusters: Sequence[Mapping[str, Any]],
    now: dt.datetime,
    *,
    wide: bool,
    show_labels: bool = False,
) -> str:
    """``kfed get clusters``: NAME STATUS AGE, and REGION ZONE VERSION with ``-o wide``, LABELS
    with ``--show-labels``."""
    headers = ["NAME", "STATUS", "AGE"] + (["REGION", "ZONE", "VERSION"] if wide else [])
    headers += ["LABELS"] if show_labels else []
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
        if show_labels:
            row.append(labels_text(_meta(cluster).get("labels")))
        rows.append(row)
    return render_table(headers, rows)


def cluster_entry(obj: Mapping[str, Any], cluster: str) -> Mapping[str, Any] | None:
    """What ``obj``'s status says about ``cluster``: None if it is neither placed there nor
    reported by it."""
    for entry in (obj.get("status") or {}).get("clusters") or []:
        if entry.get("cluster") == cluster:
            return entry  # type: ignore[no-any-return]
    return None


def cluster_header(cluster: Mapping[str, Any]) -> tuple[str, str]:
    """A cluster's name and its section header ``CLUSTER name (phase)``."""
    name = str(_meta(cluster).get("name", ""))
    phase = str((cluster.get("status") or {}).get("phase") or "Unknown")
    return name, f"CLUSTER {name} ({phase})"


NOTHING_HERE = "No resources found."


def per_cluster_view(
    clusters: Sequence[Mapping[str, Any]], objects: Sequence[Mapping[str, Any]]
) -> str:
    """``kfed get KIND --clusters``: one section per cluster, each object placed in or reported
    by that cluster as that cluster has it."""
    sections = []
    for cluster in clusters:
        name, header = cluster_header(cluster)
        rows = []
        for obj in objects:
            entry = cluster_entry(obj, name)
            if entry is None:
                continue
            rows.append(
                [
                    str(_meta(obj).get("name", "")),
                    str(entry.get("version") or "<none>"),
                    "yes" if entry.get("current") else "no",
                    str(entry.get("outcome") or "Pending"),
                    str(entry.get("reason") or ""),
                ]
            )
        headers = ["NAME", "VERSION", "CURRENT", "OUTCOME", "REASON"]
        table = render_table(headers, rows) if rows else NOTHING_HERE + "\n"
        sections.append(f"{header}\n{table}")
    return "\n".join(sections)
