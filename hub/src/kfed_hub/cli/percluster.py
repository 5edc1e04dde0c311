"""``kfed get rs|deploy|pods --clusters``: the 2016 walk-through's per-context ``kubectl get``
loops, as one command.

Layer: the CLI shell, pure (strings out; the time is passed in). Each section is headed by the
cluster (``CLUSTER name (phase)``) and holds kubectl's own table for the kind, built from what
that cluster's agent reported (``status.clusters[].observed`` of each federated object):

* ReplicaSets: NAME DESIRED CURRENT READY AGE; Deployments: NAME READY UP-TO-DATE AVAILABLE AGE.
  DESIRED is the replicas kfed planned for that cluster; the counts are the member's own status.
  AGE is the federated object's (members do not report their objects' creation time).
  A workload placed there but not (yet) running there is named below the table with its outcome.
* Pods: NAME READY STATUS RESTARTS AGE (NODE with ``-o wide``) from the ``kfedPods`` list the
  agent reports in each ReplicaSet's and Deployment's observed status.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from kfed_hub.cli.printing import (
    NOTHING_HERE,
    age_of,
    cluster_entry,
    cluster_header,
    count,
    desired_replicas,
    render_table,
    workload_cells,
    workload_columns,
)

PODS_KEY = "kfedPods"


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    metadata = obj.get("metadata")
    return metadata if isinstance(metadata, Mapping) else {}


def _nothing(namespace: str | None) -> str:
    return f"No resources found in {namespace} namespace.\n" if namespace else NOTHING_HERE + "\n"


def workload_view(
    kind: str,
    clusters: Sequence[Mapping[str, Any]],
    objects: Sequence[Mapping[str, Any]],
    now: dt.datetime,
    *,
    namespace: str | None = None,
) -> str:
    """One kubectl ReplicaSet or Deployment table per cluster."""
    headers = ["NAME", *workload_columns(kind), "AGE"]
    with_namespace = namespace is None
    if with_namespace:
        headers.insert(0, "NAMESPACE")
    sections = []
    for cluster in clusters:
        name, header = cluster_header(cluster)
        rows, missing = [], []
        for obj in objects:
            entry = cluster_entry(obj, name)
            if entry is None:
                continue
            metadata = _meta(obj)
            observed = entry.get("observed")
            if not isinstance(observed, Mapping):
                outcome = str(entry.get("outcome") or "Pending")
                reason = f": {entry['reason']}" if entry.get("reason") else ""
                missing.append(f"{metadata.get('name', '')} ({outcome}{reason})")
                continue
            planned = entry.get("replicas")
            desired = planned if isinstance(planned, int) else desired_replicas(obj)
            row = [str(metadata.get("name", "")), *workload_cells(kind, desired, observed)]
            row.append(age_of(metadata.get("creationTimestamp"), now))
            rows.append([str(metadata.get("namespace", "")), *row] if with_namespace else row)
        body = render_table(headers, rows) if rows else _nothing(namespace)
        if missing:
            body += f"not running here: {', '.join(missing)}\n"
        sections.append(f"{header}\n{body}")
    return "\n".join(sections)


def pods_of(obj: Mapping[str, Any], cluster: str) -> list[Mapping[str, Any]]:
    """The pods a workload's agent reported in ``cluster``."""
    entry = cluster_entry(obj, cluster)
    observed = entry.get("observed") if entry is not None else None
    pods = observed.get(PODS_KEY) if isinstance(observed, Mapping) else None
    return [pod for pod in pods or [] if isinstance(pod, Mapping)]


def _status(pod: Mapping[str, Any]) -> str:
    return str(pod.get("reason") or pod.get("phase") or "Unknown")


def pods_view(
    clusters: Sequence[Mapping[str, Any]],
    workloads: Sequence[Mapping[str, Any]],
    now: dt.datetime,
    *,
    namespace: str | None = None,
    wide: bool = False,
) -> str:
    """One kubectl pod table per cluster, for the pods of kfed's workloads."""
    headers = ["NAME", "READY", "STATUS", "RESTARTS", "AGE", *(["NODE"] if wide else [])]
    with_namespace = namespace is None
    if with_namespace:
        headers.insert(0, "NAMESPACE")
    sections = []
    for cluster in clusters:
        name, header = cluster_header(cluster)
        pods = [pod for obj in workloads for pod in pods_of(obj, name)]
        rows = []
        for pod in sorted(pods, key=lambda p: (str(p.get("namespace", "")), str(p.get("name")))):
            row = [
                str(pod.get("name", "")),
                str(pod.get("ready") or "0/0"),
                _status(pod),
                str(count(pod, "restarts")),
                age_of(pod.get("creationTimestamp"), now),
            ]
            row += [str(pod.get("node") or "<none>")] if wide else []
            rows.append([str(pod.get("namespace", "")), *row] if with_namespace else row)
        body = render_table(headers, rows) if rows else _nothing(namespace)
        sections.append(f"{header}\n{body}")
    return "\n".join(sections)
