"""``/apis/kfed.io/v1alpha1/clusters``: member clusters as Kubernetes-style ``Cluster`` objects.

Layer: ``kfed_hub.api``. :func:`cluster_object` is pure; the handlers read the
:class:`~kfed_hub.ports.ClusterDirectory` and ask it to remove a cluster (which revokes its
certificates and closes its stream). No other write happens here.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from kfed_hub.api import errors
from kfed_hub.api.admission import timestamp
from kfed_hub.api.errors import json_response
from kfed_hub.api.kinds import KFED_GROUP, KFED_VERSION
from kfed_hub.ports import Capacity, ClusterDirectory, ClusterView
from kfed_hub.store.protocol import NotFound

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


class ClusterHandlers:
    """GET (list, get) and DELETE of clusters."""

    def __init__(self, *, clusters: ClusterDirectory) -> None:
        self._clusters = clusters

    async def list(self, request: web.Request) -> web.Response:
        items = [cluster_object(view) for view in self._clusters.list_clusters()]
        return json_response(
            {"apiVersion": API_VERSION, "kind": "ClusterList", "metadata": {}, "items": items}
        )

    async def get(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        view = self._clusters.get_cluster(name)
        if view is None:
            raise errors.not_found("clusters", name, group=KFED_GROUP)
        return json_response(cluster_object(view))

    async def delete(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        try:
            view = await self._clusters.remove_cluster(name)
        except NotFound:
            raise errors.not_found("clusters", name, group=KFED_GROUP) from None
        return json_response(cluster_object(view))
