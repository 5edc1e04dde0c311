"""``/apis/kfed.io/v1alpha1/clusters``: member clusters as Kubernetes-style ``Cluster`` objects.

Layer: ``kfed_hub.api``. :func:`cluster_object` and :func:`label_changes` are pure; the handlers
read the :class:`~kfed_hub.ports.ClusterDirectory` and ask it to remove a cluster (which revokes
its certificates and closes its stream) or to change its labels (which re-plans placement). No
other write happens here.

Labels: a merge patch (``application/merge-patch+json``, or kubectl's strategic merge patch,
which is the same for a map) of ``metadata.labels`` only; ``null`` removes a label. Keys and
values follow Kubernetes' label syntax (422 ``Invalid`` with one cause per problem). A list may
be filtered with ``labelSelector`` over those labels.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from kfed_hub.api import errors
from kfed_hub.api.admission import timestamp
from kfed_hub.api.bodies import MERGE_PATCH, read_object
from kfed_hub.api.errors import Cause, json_response
from kfed_hub.api.kinds import KFED_GROUP, KFED_VERSION
from kfed_hub.api.names import label_key_problems, label_value_problems
from kfed_hub.planning.selectors import SelectorError, parse_selector
from kfed_hub.ports import Capacity, ClusterDirectory, ClusterView
from kfed_hub.store.protocol import NotFound

STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"

API_VERSION = f"{KFED_GROUP}/{KFED_VERSION}"
_BINARY_UNITS = (("Ei", 2**60), ("Pi", 2**50), ("Ti", 2**40), ("Gi", 2**30), ("Mi", 2**20))


def cpu_quantity(millis: int) -> str:
    """Millicores as a Kubernetes quantity: ``4`` for whole cores, ``3500m`` otherwise."""
    return str(millis // 1000) if millis % 1000 == 0 else f"{millis}m"


def memory_quantity(size: int) -> str:
    """Bytes as a Kubernetes quantity, in the largest binary unit that divides it (``16Gi``)."""
    for suffix, unit in _BINARY_UNITS:
        if size and size % unit == 0:
            return f"{size // unit}{suffix}"
    if size and size % 1024 == 0:
        return f"{size // 1024}Ki"
    return str(size)


def _capacity(capacity: Capacity) -> dict[str, str]:
    return {
        "cpu": cpu_quantity(capacity.cpu_millis),
        "memory": memory_quantity(capacity.memory_bytes),
        "pods": str(capacity.pods),
    }


def cluster_object(view: ClusterView) -> dict[str, Any]:
    """The ``Cluster`` object of one member cluster."""
    return {
        "apiVersion": API_VERSION,
        "kind": "Cluster",
        "metadata": {
            "name": view.name,
            "creationTimestamp": timestamp(view.joined_at),
            "labels": dict(view.labels),
        },
        "status": {
            "phase": str(view.status),
            "connected": view.connected,
            "lastSeen": timestamp(view.last_seen) if view.last_seen else None,
            "region": view.region,
            "zones": list(view.zones),
            "kubernetesVersion": view.kubernetes_version,
            "agentVersion": view.agent_version,
            "nodes": {"ready": view.nodes_ready, "total": view.nodes_total},
            "capacity": {
                "allocatable": _capacity(view.allocatable),
                "requested": _capacity(view.requested),
            },
            "unschedulablePods": view.unschedulable_pods,
            "message": view.message,
        },
    }


def _field(path: str, reason: str, message: str) -> Cause:
    return Cause(reason=reason, message=f"{path}: {message}", field=path)


def label_changes(patch: Mapping[str, Any], name: str) -> dict[str, str | None]:
    """The label changes a merge patch of a Cluster asks for (value, or None to remove);
    422 for anything but ``metadata.labels`` or for a bad label."""
    causes: list[Cause] = []
    for field in patch:
        if field in ("apiVersion", "kind", "metadata"):
            continue
        causes.append(
            _field(field, "FieldValueForbidden", "Forbidden: only metadata.labels may change")
        )
    metadata = patch.get("metadata") or {}
    if not isinstance(metadata, Mapping):
        metadata = {}
        causes.append(_field("metadata", "FieldValueInvalid", "Invalid value: must be an object"))
    for field in metadata:
        if field == "labels" or (field == "name" and metadata[field] == name):
            continue
        causes.append(
            _field(f"metadata.{field}", "FieldValueForbidden", "Forbidden: only labels may change")
        )
    labels = metadata.get("labels") or {}
    if not isinstance(labels, Mapping):
        labels = {}
        causes.append(
            _field("metadata.labels", "FieldValueInvalid", "Invalid value: must be a map")
        )
    changes: dict[str, str | None] = {}
    for key, value in labels.items():
        invalid = "FieldValueInvalid"
        for problem in label_key_problems(str(key)):
            causes.append(
                _field("metadata.labels", invalid, f"Invalid value: {json.dumps(key)}: {problem}")
            )
        if value is not None and not isinstance(value, str):
            causes.append(
                _field(
                    f"metadata.labels[{key}]",
                    invalid,
                    f"Invalid value: {json.dumps(value)}: must be a string, or null to remove it",
                )
            )
        elif value is not None:
            for problem in label_value_problems(value):
                message = f"Invalid value: {json.dumps(value)}: {problem}"
                causes.append(_field("metadata.labels", invalid, message))
        changes[str(key)] = value
    if causes:
        raise errors.invalid("Cluster", name, causes, group=KFED_GROUP)
    return changes


class ClusterHandlers:
    """GET (list, get), PATCH (labels) and DELETE of clusters."""

    def __init__(self, *, clusters: ClusterDirectory, max_body_bytes: int) -> None:
        self._clusters = clusters
        self._limit = max_body_bytes

    async def list(self, request: web.Request) -> web.Response:
        try:
            selector = parse_selector(request.query.get("labelSelector", ""))
        except SelectorError as exc:  # kube-apiserver's wording, then where and why
            raise errors.bad_request(f"unable to parse requirement: {exc}") from None
        items = [
            cluster_object(view)
            for view in self._clusters.list_clusters()
            if selector.matches(view.labels)
        ]
        return json_response(
            {"apiVersion": API_VERSION, "kind": "ClusterList", "metadata": {}, "items": items}
        )

    async def get(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        view = self._clusters.get_cluster(name)
        if view is None:
            raise errors.not_found("clusters", name, group=KFED_GROUP)
        return json_response(cluster_object(view))

    async def patch(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        patch = await read_object(
            request, self._limit, media_types=(MERGE_PATCH, STRATEGIC_MERGE_PATCH)
        )
        if self._clusters.get_cluster(name) is None:
            raise errors.not_found("clusters", name, group=KFED_GROUP)
        changes = label_changes(patch, name)
        try:
            view = await self._clusters.set_cluster_labels(name, changes)
        except NotFound:
            raise errors.not_found("clusters", name, group=KFED_GROUP) from None
        return json_response(cluster_object(view))

    async def delete(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        try:
            view = await self._clusters.remove_cluster(name)
        except NotFound:
            raise errors.not_found("clusters", name, group=KFED_GROUP) from None
        return json_response(cluster_object(view))
