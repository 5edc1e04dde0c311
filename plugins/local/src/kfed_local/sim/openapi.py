"""The OpenAPI documents a simulated API server serves: ``/openapi/v3``, its parts, ``/openapi/v2``.

Layer: pure (``kfed_local.sim``, above ``schema``, ``resources`` and ``openapi_schemas``). kubectl
reads these documents to decide whether the server validates fields itself (it looks for the
``fieldValidation`` query parameter on a kind's PATCH operations), to find strategic-merge-patch
metadata, and for ``kubectl explain``; so they keep the shape kube-apiserver serves: one OpenAPI
3.0 document per discovery path (``api``, ``apis``, ``apis/<group>``, ``api/v1``,
``apis/<group>/<version>``) listed with content hashes in a root document, and one Swagger 2.0
document for everything. Each document holds only the schemas it references, transitively; the
paths and operations come from :mod:`kfed_local.sim.openapi_paths`.

Every call builds fresh dicts (the HTTP layer caches them per registry generation); nothing here
mutates the registry or the shared definitions, does I/O or logs. Responses are described only as
far as clients read them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from kfed_local.sim.openapi_paths import (
    PathItem,
    group_version_items,
    gv_tag,
    render_path,
    root_item,
)
from kfed_local.sim.openapi_schemas import (
    JsonObject,
    SchemaConverter,
    copy_json,
    custom_schemas,
)
from kfed_local.sim.resources import ResourceRegistry
from kfed_local.sim.schema import DEFINITIONS_VERSION

# -- names ---------------------------------------------------------------------------------------


def v3_path_key(group: str, version: str) -> str:
    """The key of a group-version in the ``/openapi/v3`` root: ``api/v1``, ``apis/apps/v1``."""
    return f"apis/{group}/{version}" if group else f"api/{version}"


# -- documents -----------------------------------------------------------------------------------

_SECURITY: Mapping[str, Any] = {
    "BearerToken": {
        "description": "A bearer token in the authorization header.",
        "in": "header",
        "name": "authorization",
        "type": "apiKey",
    }
}


def _v3_document(
    items: Iterable[PathItem], tag: str, conv: SchemaConverter, schemas: Mapping[str, JsonObject]
) -> JsonObject:
    paths = {item.path: render_path(item, "v3", conv, tag) for item in items}
    return {
        "components": {"schemas": conv.close(schemas), "securitySchemes": copy_json(_SECURITY)},
        "info": {"title": "Kubernetes", "version": "unversioned"},
        "openapi": "3.0.0",
        "paths": dict(sorted(paths.items())),
    }


def openapi_v3_group_version(
    registry: ResourceRegistry, group: str, version: str
) -> JsonObject | None:
    """The OpenAPI 3.0 document of one group-version (the core group is ``""``), or None if the
    registry serves nothing there."""
    types = registry.in_group_version(group, version)
    if not types:
        return None
    conv = SchemaConverter("v3")
    schemas = custom_schemas(types, conv)
    items = group_version_items(group, version, types)
    return _v3_document(items, gv_tag(group, version), conv, schemas)


def openapi_v3_document(registry: ResourceRegistry, path: str) -> JsonObject | None:
    """The document served at ``/openapi/v3/<path>`` for any key of the root; None if unknown.

    ``path`` is a root key: ``api``, ``apis``, ``apis/<group>``, ``api/v1`` or
    ``apis/<group>/<version>`` (surrounding slashes are ignored).
    """
    parts = path.strip("/").split("/")
    if len(parts) == 2 and parts[0] == "api":
        return openapi_v3_group_version(registry, "", parts[1])
    if len(parts) == 3 and parts[0] == "apis" and parts[1]:
        return openapi_v3_group_version(registry, parts[1], parts[2])
    groups = registry.group_versions()
    group: str | None
    if parts == ["api"] and "" in groups:
        group = ""
    elif parts == ["apis"] and any(groups):
        group = None
    elif len(parts) == 2 and parts[0] == "apis" and parts[1] and parts[1] in groups:
        group = parts[1]
    else:
        return None
    item, tag = root_item(group)
    return _v3_document([item], tag, SchemaConverter("v3"), {})


def v3_document_keys(registry: ResourceRegistry) -> list[str]:
    """The keys of the ``/openapi/v3`` root (discovery paths and group-versions), sorted."""
    groups = registry.group_versions()
    keys = ["api"] if "" in groups else []
    keys += ["apis"] if any(groups) else []
    for group, versions in groups.items():
        keys += [f"apis/{group}"] if group else []
        keys += [v3_path_key(group, version) for version in versions]
    return sorted(keys)


def openapi_v3_documents(registry: ResourceRegistry) -> dict[str, JsonObject]:
    """Every document the ``/openapi/v3`` root lists, by root key."""
    documents = {key: openapi_v3_document(registry, key) for key in v3_document_keys(registry)}
    return {key: document for key, document in documents.items() if document is not None}


def document_hash(document: Mapping[str, Any]) -> str:
    """Upper-case hex SHA-512 of a document's canonical JSON (key order does not matter)."""
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha512(text.encode("utf-8")).hexdigest().upper()


def openapi_v3_root(
    registry: ResourceRegistry, *, documents: Mapping[str, Mapping[str, Any]] | None = None
) -> JsonObject:
    """The ``/openapi/v3`` document: ``{"paths": {key: {"serverRelativeURL": url}}}``.

    Each URL is ``/openapi/v3/<key>?hash=<document_hash>``. Pass ``documents`` (from
    :func:`openapi_v3_documents`) to avoid building them twice.
    """
    docs = openapi_v3_documents(registry) if documents is None else documents
    paths = {
        key: {"serverRelativeURL": f"/openapi/v3/{key}?hash={document_hash(doc)}"}
        for key, doc in sorted(docs.items())
    }
    return {"paths": paths}


def openapi_v2(registry: ResourceRegistry) -> JsonObject:
    """The Swagger 2.0 document of everything the registry serves (``/openapi/v2``)."""
    conv = SchemaConverter("v2")
    schemas: dict[str, JsonObject] = {}
    paths: dict[str, JsonObject] = {}
    groups = registry.group_versions()
    roots: list[str | None] = ([""] if "" in groups else []) + ([None] if any(groups) else [])
    for root in [*roots, *sorted(group for group in groups if group)]:
        item, tag = root_item(root)
        paths[item.path] = render_path(item, "v2", conv, tag)
    for group, versions in sorted(groups.items()):
        for version in versions:
            types = registry.in_group_version(group, version)
            schemas.update(custom_schemas(types, conv))
            for item in group_version_items(group, version, types):
                paths[item.path] = render_path(item, "v2", conv, gv_tag(group, version))
    return {
        "definitions": conv.close(schemas),
        "info": {"title": "Kubernetes", "version": f"v{DEFINITIONS_VERSION}"},
        "paths": dict(sorted(paths.items())),
        "security": [{"BearerToken": []}],
        "securityDefinitions": copy_json(_SECURITY),
        "swagger": "2.0",
    }
