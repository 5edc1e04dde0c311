"""Discovery documents: ``/version``, ``/api``, ``/apis``, ``/apis/{group}`` and resource lists.

Layer: pure (beside the HTTP server). kubectl, client-go's discovery and the Python client's
DynamicClient read these to map kinds to URLs; the shapes follow kube-apiserver's legacy
(unaggregated) discovery, which every client still falls back to.
"""

from __future__ import annotations

import hashlib
from typing import Any

from kfed_local.sim.resources import ResourceRegistry, ResourceType

KUBERNETES_VERSION = "v1.37.0"
"""The Kubernetes version simulated clusters report (matches the served schemas)."""

_SUBRESOURCE_VERBS = {
    "status": ["get", "patch", "update"],
    "scale": ["get", "patch", "update"],
    "finalize": ["update"],
    "binding": ["create"],
    "eviction": ["create"],
}
_SUBRESOURCE_KIND = {
    "scale": ("autoscaling", "v1", "Scale"),
    "binding": ("", "v1", "Binding"),
    "eviction": ("policy", "v1", "Eviction"),
}


def version_info(cluster: str) -> dict[str, Any]:
    """The ``/version`` document."""
    major, minor, _ = KUBERNETES_VERSION.lstrip("v").split(".")
    return {
        "major": major,
        "minor": minor,
        "emulationMajor": major,
        "emulationMinor": minor,
        "gitVersion": f"{KUBERNETES_VERSION}+kfed-sim",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-11-01T00:00:00Z",
        "goVersion": "kfed-sim (python)",
        "compiler": "kfed",
        "platform": f"kfed-sim/{cluster}",
    }


def core_versions(server_address: str) -> dict[str, Any]:
    """The ``/api`` document."""
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    }


def _group(registry: ResourceRegistry, group: str, versions: list[str]) -> dict[str, Any]:
    listed = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"name": group, "versions": listed, "preferredVersion": listed[0]}


def group_list(registry: ResourceRegistry) -> dict[str, Any]:
    """The ``/apis`` document: every named group with its versions."""
    groups = [
        _group(registry, group, versions)
        for group, versions in sorted(registry.group_versions().items())
        if group
    ]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def group(registry: ResourceRegistry, name: str) -> dict[str, Any] | None:
    """The ``/apis/{group}`` document, or None if the group is not served."""
    versions = registry.group_versions().get(name)
    if not name or not versions:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(registry, name, versions)}


def _storage_version_hash(rt: ResourceType) -> str:
    digest = hashlib.sha256(f"{rt.group}/{rt.version}/{rt.kind}".encode()).digest()
    import base64

    return base64.b64encode(digest[:8]).decode()


def _resource_entry(rt: ResourceType) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": rt.plural,
        "singularName": rt.singular,
        "namespaced": rt.namespaced,
        "kind": rt.kind,
        "verbs": list(rt.verbs),
        "storageVersionHash": _storage_version_hash(rt),
    }
    if rt.short_names:
        entry["shortNames"] = list(rt.short_names)
    if rt.categories:
        entry["categories"] = list(rt.categories)
    return entry


def _subresource_entry(rt: ResourceType, subresource: str) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": f"{rt.plural}/{subresource}",
        "singularName": "",
        "namespaced": rt.namespaced,
        "kind": rt.kind,
        "verbs": _SUBRESOURCE_VERBS.get(subresource, ["get"]),
    }
    if subresource in _SUBRESOURCE_KIND:
        group, version, kind = _SUBRESOURCE_KIND[subresource]
        entry.update(kind=kind, version=version)
        if group:
            entry["group"] = group
    return entry


def resource_list(registry: ResourceRegistry, group: str, version: str) -> dict[str, Any] | None:
    """The ``APIResourceList`` of one group-version, or None if it is not served."""
    types = sorted(registry.in_group_version(group, version), key=lambda t: t.plural)
    if not types:
        return None
    resources: list[dict[str, Any]] = []
    for rt in types:
        resources.append(_resource_entry(rt))
        resources.extend(_subresource_entry(rt, sub) for sub in sorted(rt.subresources))
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": resources,
    }
