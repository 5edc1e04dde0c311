"""API discovery documents (``/api``, ``/apis``, ``/api/v1``, ``/apis/{group}[/{version}]``).

Layer: ``kfed_hub.api``. The document builders are pure functions of the kinds table
(:mod:`kfed_hub.api.kinds`); the ``kfed`` CLI maps kinds and short names through them, as kubectl
does, and kubectl itself can grow on them later.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from kfed_hub.api import errors
from kfed_hub.api.errors import json_response
from kfed_hub.api.kinds import PREFERRED_VERSIONS, group_versions, kinds_in


def _group_version(group: str, version: str) -> dict[str, str]:
    return {"groupVersion": f"{group}/{version}", "version": version}


def api_group(group: str) -> dict[str, Any] | None:
    """The ``APIGroup`` document of ``group``, None if not served."""
    versions = group_versions().get(group)
    if not group or versions is None:
        return None
    return {
        "kind": "APIGroup",
        "apiVersion": "v1",
        "name": group,
        "versions": [_group_version(group, v) for v in versions],
        "preferredVersion": _group_version(group, PREFERRED_VERSIONS[group]),
    }


def api_group_list() -> dict[str, Any]:
    """The ``APIGroupList`` of every named group."""
    groups = [api_group(g) for g in group_versions() if g]
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


def api_resource_list(group: str, version: str) -> dict[str, Any] | None:
    """The ``APIResourceList`` of one group version, None if not served."""
    kinds = kinds_in(group, version)
    if not kinds:
        return None
    resources = []
    for info in kinds:
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


async def handle_api(request: web.Request) -> web.Response:
    return json_response(api_versions(request.host))


async def handle_apis(request: web.Request) -> web.Response:
    return json_response(api_group_list())


async def handle_core_v1(request: web.Request) -> web.Response:
    document = api_resource_list("", "v1")
    assert document is not None
    return json_response(document)


async def handle_group(request: web.Request) -> web.Response:
    document = api_group(request.match_info["group"])
    if document is None:
        raise errors.resource_not_found()
    return json_response(document)


async def handle_group_version(request: web.Request) -> web.Response:
    group, version = request.match_info["group"], request.match_info["version"]
    document = api_resource_list(group, version) if group else None
    if document is None:
        raise errors.resource_not_found()
    return json_response(document)
