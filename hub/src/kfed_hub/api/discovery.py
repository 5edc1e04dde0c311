"""API discovery documents (``/api``, ``/apis``, ``/api/v1``, ``/apis/{group}[/{version}]``).

Layer: ``kfed_hub.api``. The document builders are pure functions of a list of served kinds;
:class:`DiscoveryHandlers` serves them from the :class:`~.catalog.KindCatalog`, so the dynamic
kinds (custom resources taught by a federated CRD, other kinds while they have objects) are
listed next to the built-in ones. The ``kfed`` CLI maps kinds and short names through these
documents, as kubectl does, and kubectl itself can grow on them later.

A group's preferred version is the built-in table's choice; a group with dynamic kinds only
prefers its highest version in Kubernetes' order (GA, then beta, then alpha).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aiohttp import web

from kfed_hub.api import errors
from kfed_hub.api.catalog import KindCatalog
from kfed_hub.api.crds import version_order
from kfed_hub.api.errors import json_response
from kfed_hub.api.kinds import PREFERRED_VERSIONS, KindInfo


def group_versions(kinds: Sequence[KindInfo]) -> dict[str, list[str]]:
    """Every group ("" for core) with its versions: built-in groups in table order, versions of
    other groups in Kubernetes' priority order."""
    found: dict[str, list[str]] = {}
    for info in kinds:
        versions = found.setdefault(info.group, [])
        if info.version not in versions:
            versions.append(info.version)
    for group, versions in found.items():
        if group not in PREFERRED_VERSIONS:
            versions.sort(key=version_order)
    return found


def _group_version(group: str, version: str) -> dict[str, str]:
    return {"groupVersion": f"{group}/{version}", "version": version}


def api_group(kinds: Sequence[KindInfo], group: str) -> dict[str, Any] | None:
    """The ``APIGroup`` document of ``group``, None if not served."""
    versions = group_versions(kinds).get(group)
    if not group or not versions:
        return None
    preferred = PREFERRED_VERSIONS.get(group, versions[0])
    return {
        "kind": "APIGroup",
        "apiVersion": "v1",
        "name": group,
        "versions": [_group_version(group, v) for v in versions],
        "preferredVersion": _group_version(group, preferred),
    }


def api_group_list(kinds: Sequence[KindInfo]) -> dict[str, Any]:
    """The ``APIGroupList`` of every named group."""
    groups = [api_group(kinds, g) for g in group_versions(kinds) if g]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_versions(server_address: str) -> dict[str, Any]:
    """The ``APIVersions`` document of the core group (``/api``)."""
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    }


def api_resource_list(kinds: Sequence[KindInfo], group: str, version: str) -> dict[str, Any] | None:
    """The ``APIResourceList`` of one group version, None if not served."""
    chosen = [k for k in kinds if k.group == group and k.version == version]
    if not chosen:
        return None
    resources = []
    for info in chosen:
        resource: dict[str, Any] = {
            "name": info.plural,
            "singularName": info.singular,
            "namespaced": info.namespaced,
            "kind": info.kind,
            "verbs": list(info.verbs),
        }
        if info.short_names:
            resource["shortNames"] = list(info.short_names)
        resources.append(resource)
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": resources,
    }


class DiscoveryHandlers:
    """The discovery routes, answered from the catalog's kinds at the time of the request."""

    def __init__(self, catalog: KindCatalog) -> None:
        self._catalog = catalog

    async def _kinds(self) -> list[KindInfo]:
        await self._catalog.load()
        return self._catalog.served()

    async def api(self, request: web.Request) -> web.Response:
        return json_response(api_versions(request.host))

    async def apis(self, request: web.Request) -> web.Response:
        return json_response(api_group_list(await self._kinds()))

    async def core_v1(self, request: web.Request) -> web.Response:
        document = api_resource_list(await self._kinds(), "", "v1")
        assert document is not None  # the core kinds are built in
        return json_response(document)

    async def group(self, request: web.Request) -> web.Response:
        document = api_group(await self._kinds(), request.match_info["group"])
        if document is None:
            raise errors.resource_not_found()
        return json_response(document)

    async def group_version(self, request: web.Request) -> web.Response:
        group, version = request.match_info["group"], request.match_info["version"]
        document = api_resource_list(await self._kinds(), group, version) if group else None
        if document is None:
            raise errors.resource_not_found()
        return json_response(document)
