"""The paths and operations of the simulated API server's OpenAPI documents.

Layer: pure (below :mod:`kfed_local.sim.openapi`, which assembles whole documents from these
path items; above ``openapi_schemas``, ``resources`` and ``schema``). For one resource type this
module lists every path kube-apiserver serves (collection, item, all-namespaces, subresources and
the deprecated ``/watch/`` paths) with the operations its verbs allow, named the way
kube-apiserver names them (``listAppsV1NamespacedDeployment``, ``apps_v1`` tags), plus the
discovery paths of ``/api``, ``/apis`` and each group; and renders a path item as an OpenAPI 3.0
or Swagger 2.0 path object, with the query parameters, request bodies and responses kubectl reads
(the ``fieldValidation`` parameter of PATCH operations above all).

It builds fresh dicts on every call and never mutates the registry or the shared definitions;
no I/O, no logging.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from kfed_local.sim.openapi_schemas import (
    GVK_KEY,
    META,
    Flavor,
    JsonObject,
    SchemaConverter,
    schema_names,
)
from kfed_local.sim.resources import ResourceType
from kfed_local.sim.schema import definitions

_PATCH = META + "Patch"
_DELETE_OPTIONS = META + "DeleteOptions"
_STATUS = META + "Status"
_WATCH_EVENT = META + "WatchEvent"

# -- names ---------------------------------------------------------------------------------------


def _camel(text: str, *, capitalize: bool) -> str:
    """An identifier from ``text``: separators dropped, the letter after each one upper-cased."""
    parts = "".join(c if c.isalnum() else " " for c in text).split()
    words = [part[:1].upper() + part[1:] for part in parts]
    if words and not capitalize:
        words[0] = parts[0][:1].lower() + parts[0][1:]
    return "".join(words)


def _group_id(group: str) -> str:
    return (group or "core").removesuffix(".k8s.io")


def _gv_id(group: str, version: str) -> str:
    """``AppsV1``, ``NetworkingV1``, ``ExampleComV1``: the group-version part of operation ids."""
    return _camel(_group_id(group), capitalize=True) + _camel(version, capitalize=True)


def gv_tag(group: str, version: str) -> str:
    """``apps_v1``, ``core_v1``: the tag of a group-version's operations."""
    return f"{_camel(_group_id(group), capitalize=False)}_{version}"


def _base_path(group: str, version: str) -> str:
    return f"/apis/{group}/{version}" if group else f"/api/{version}"


# -- parameters ----------------------------------------------------------------------------------

_QUERY_PARAMETERS: Mapping[str, tuple[str, str]] = {
    # name: (type, description)
    "allowWatchBookmarks": ("boolean", "Ask for BOOKMARK events; ignored unless watching."),
    "continue": ("string", "The token a previous paged list call returned: get the next page."),
    "dryRun": ("string", "'All' runs every stage of the request but persists nothing."),
    "fieldManager": (
        "string",
        "Name of the actor making the change, recorded in managedFields (at most 128 printable "
        "characters). Required for apply patches.",
    ),
    "fieldSelector": ("string", "Only objects whose fields match. Defaults to everything."),
    "fieldValidation": (
        "string",
        "How unknown or duplicate fields in a POST, PUT or PATCH body are handled: Ignore drops "
        "them, Warn (the default) drops them with a warning, Strict fails the request.",
    ),
    "force": ("boolean", "Apply patches only: take over fields that other managers own."),
    "gracePeriodSeconds": ("integer", "Seconds before the object is deleted; 0 deletes at once."),
    "ignoreStoreReadErrorWithClusterBreakingPotential": ("boolean", "Unsafe: delete unreadable."),
    "labelSelector": ("string", "Only objects whose labels match. Defaults to everything."),
    "limit": ("integer", "At most this many items; the list metadata says how to continue."),
    "orphanDependents": ("boolean", "Deprecated (use propagationPolicy): orphan dependents."),
    "pretty": ("string", "If 'true', the output is pretty printed."),
    "propagationPolicy": ("string", "What happens to dependents: Orphan, Background, Foreground."),
    "resourceVersion": ("string", "Serve the request from this resource version or later."),
    "resourceVersionMatch": ("string", "How resourceVersion applies to list calls."),
    "sendInitialEvents": ("boolean", "Watch only: start with events for the current objects."),
    "timeoutSeconds": ("integer", "Timeout of the list or watch call."),
    "watch": ("boolean", "Stream add, update and remove notifications instead of listing."),
}
_LIST = ("allowWatchBookmarks", "continue", "fieldSelector", "labelSelector", "limit",
         "resourceVersion", "resourceVersionMatch", "sendInitialEvents", "timeoutSeconds",
         "watch")  # fmt: skip
_WRITE = ("dryRun", "fieldManager", "fieldValidation")
_DELETE = ("dryRun", "gracePeriodSeconds", "ignoreStoreReadErrorWithClusterBreakingPotential",
           "orphanDependents", "propagationPolicy")  # fmt: skip
_DELETE_COLLECTION = tuple(sorted({*_DELETE, *_LIST} - {"allowWatchBookmarks", "watch"}))
_PATCH_TYPES = ("application/apply-patch+yaml", "application/json-patch+json",
                "application/merge-patch+json",
                "application/strategic-merge-patch+json")  # fmt: skip
_PRODUCES = ("application/json", "application/vnd.kubernetes.protobuf", "application/yaml")
_STREAMS = ("application/json;stream=watch", "application/vnd.kubernetes.protobuf;stream=watch")
_CODES = {"200": "OK", "201": "Created", "202": "Accepted", "401": "Unauthorized"}


def _parameter(name: str, flavor: Flavor, *, named: str = "") -> JsonObject:
    if name in ("name", "namespace"):
        where, value_type, required = "path", "string", True
        text = f"name of the {named}" if name == "name" else "namespace of the objects"
    else:
        (value_type, text), where, required = _QUERY_PARAMETERS[name], "query", False
    out: JsonObject = {"description": text, "in": where, "name": name}
    if required:
        out["required"] = True
    value = {"type": value_type, "uniqueItems": True}  # kube-apiserver marks every one unique
    if flavor == "v3":
        out["schema"] = value
    else:
        out.update(value)
    return out


# -- operations and paths ------------------------------------------------------------------------

Method = Literal["get", "put", "post", "patch", "delete"]


@dataclass(frozen=True, slots=True, kw_only=True)
class _Verb:
    """How kube-apiserver describes one kind of operation."""

    method: Method
    word: str
    """Start of the operation id (``deletecollection`` ids start with ``delete``)."""
    describe: str
    action: str = ""
    query: tuple[str, ...] = ()
    codes: tuple[str, ...] = ("200",)
    body: Literal["object", "patch", "delete", ""] = ""
    streams: bool = False


_VERBS: Mapping[str, _Verb] = {
    "list": _Verb(method="get", word="list", describe="list or watch objects of kind {}",
                  action="list", query=_LIST, streams=True),
    "create": _Verb(method="post", word="create", describe="create {}", action="post",
                    query=_WRITE, codes=("200", "201", "202"), body="object"),
    "deletecollection": _Verb(method="delete", word="delete", describe="delete collection of {}",
                              action="deletecollection", query=_DELETE_COLLECTION, body="delete"),
    "read": _Verb(method="get", word="read", describe="read {}", action="get"),
    "replace": _Verb(method="put", word="replace", describe="replace {}", action="put",
                     query=_WRITE, codes=("200", "201"), body="object"),
    "patch": _Verb(method="patch", word="patch", describe="partially update {}", action="patch",
                   query=(*_WRITE, "force"), codes=("200", "201"), body="patch"),
    "delete": _Verb(method="delete", word="delete", describe="delete {}", action="delete",
                    query=_DELETE, codes=("200", "202"), body="delete"),
    "watch": _Verb(method="get", word="watch", describe="watch changes to {}", action="watch",
                   streams=True),
    "watchlist": _Verb(method="get", word="watch", describe="watch changes to {}",
                       action="watchlist", streams=True),
    "discover": _Verb(method="get", word="get", describe="get {}"),
}  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class _Operation:
    verb: _Verb
    operation_id: str
    description: str
    body: str | None
    response: str
    gvk: tuple[str, str, str] | None


def _operation(
    verb: str, operation_id: str, what: str, schema: str, gvk: tuple[str, str, str] | None
) -> _Operation:
    spec = _VERBS[verb]
    bodies = {"object": schema, "patch": _PATCH, "delete": _DELETE_OPTIONS}
    response = (
        _STATUS if spec.body == "delete" else _WATCH_EVENT if spec.word == "watch" else schema
    )
    return _Operation(
        verb=spec,
        operation_id=operation_id,
        description=spec.describe.format(what),
        body=bodies.get(spec.body),
        response=response,
        gvk=gvk,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class PathItem:
    """One path of a document and the operations served there."""

    path: str
    operations: tuple[_Operation, ...]
    query: tuple[str, ...] = ("pretty",)
    """Query parameters common to the path's operations."""
    named: str = ""
    """The kind the ``{name}`` path parameter names."""


@dataclass(frozen=True, slots=True, kw_only=True)
class _Subresource:
    verbs: tuple[str, ...]
    schema: str = ""
    """Body and response schema; empty for the resource's own."""
    gvk: tuple[str, str, str] | None = None


_SUBRESOURCES: Mapping[str, _Subresource] = {
    "status": _Subresource(verbs=("read", "replace", "patch")),
    "scale": _Subresource(verbs=("read", "replace", "patch"),
                          schema="io.k8s.api.autoscaling.v1.Scale",
                          gvk=("autoscaling", "v1", "Scale")),
    "binding": _Subresource(verbs=("create",), schema="io.k8s.api.core.v1.Binding",
                            gvk=("", "v1", "Binding")),
    "eviction": _Subresource(verbs=("create",), schema="io.k8s.api.policy.v1.Eviction",
                             gvk=("policy", "v1", "Eviction")),
    "finalize": _Subresource(verbs=("replace",)),
}  # fmt: skip
# Which verb of a resource allows which operation on one object.
_ITEM_VERBS = (("get", "read"), ("update", "replace"), ("patch", "patch"), ("delete", "delete"))


def _resource_paths(rt: ResourceType) -> list[PathItem]:
    """Every path kube-apiserver serves for one resource, with the operations its verbs allow."""
    obj, lst = schema_names(rt)
    verbs, kind, gvk = set(rt.verbs), rt.kind, (rt.group, rt.version, rt.kind)
    base, gv = _base_path(rt.group, rt.version), _gv_id(rt.group, rt.version)
    scoped = ("Namespaced" if rt.namespaced else "") + kind
    where = f"{base}/namespaces/{{namespace}}" if rt.namespaced else base
    collection, item = f"{where}/{rt.plural}", f"{where}/{rt.plural}/{{name}}"
    paths: list[PathItem] = []
    ops = [_operation("list", f"list{gv}{scoped}", kind, lst, gvk)] if "list" in verbs else []
    if "create" in verbs:
        ops.append(_operation("create", f"create{gv}{scoped}", f"a {kind}", obj, gvk))
    if "deletecollection" in verbs:
        ops.append(_operation("deletecollection", f"delete{gv}Collection{scoped}", kind, obj, gvk))
    if ops:
        paths.append(PathItem(path=collection, operations=tuple(ops)))
    ops = []
    for needed, verb in _ITEM_VERBS:
        what = f"a {kind}" if verb == "delete" else f"the specified {kind}"
        if needed in verbs:
            ops.append(_operation(verb, f"{_VERBS[verb].word}{gv}{scoped}", what, obj, gvk))
    if ops:
        paths.append(PathItem(path=item, operations=tuple(ops), named=kind))
    if rt.namespaced and "list" in verbs:
        everywhere = _operation("list", f"list{gv}{kind}ForAllNamespaces", kind, lst, gvk)
        query = (*_LIST, "pretty")
        paths.append(PathItem(path=f"{base}/{rt.plural}", operations=(everywhere,), query=query))
    for name in sorted(rt.subresources):
        sub = _SUBRESOURCES.get(name)
        if sub is None or (sub.schema and sub.schema not in definitions()):
            continue  # kube-apiserver describes only subresources with a known body
        schema, sub_gvk = sub.schema or obj, sub.gvk or gvk
        suffix, what = name.capitalize(), f"{name} of the specified {kind}"
        ops = [
            _operation(verb, f"{_VERBS[verb].word}{gv}{scoped}{suffix}", what, schema, sub_gvk)
            for verb in sub.verbs
        ]
        paths.append(PathItem(path=f"{item}/{name}", operations=tuple(ops), named=sub_gvk[2]))
    if "watch" in verbs:
        paths += _watch_paths(rt, base, gv, scoped, gvk)
    return paths


def _watch_paths(
    rt: ResourceType, base: str, gv: str, scoped: str, gvk: tuple[str, str, str]
) -> list[PathItem]:
    """The deprecated ``/watch/`` paths, which kube-apiserver still serves and describes."""
    kind, query = rt.kind, (*_LIST, "pretty")
    where = f"{base}/watch/namespaces/{{namespace}}" if rt.namespaced else f"{base}/watch"
    targets = [
        (f"{where}/{rt.plural}", "watchlist", f"watch{gv}{scoped}List", ""),
        (f"{where}/{rt.plural}/{{name}}", "watch", f"watch{gv}{scoped}", kind),
    ]
    if rt.namespaced:
        everywhere = f"watch{gv}{kind}ListForAllNamespaces"
        targets.append((f"{base}/watch/{rt.plural}", "watchlist", everywhere, ""))
    return [
        PathItem(
            path=path,
            operations=(_operation(verb, operation_id, f"objects of kind {kind}", kind, gvk),),
            query=query,
            named=named,
        )
        for path, verb, operation_id, named in targets
    ]


def _discovery_item(path: str, operation_id: str, response: str, what: str) -> PathItem:
    operation = _operation("discover", operation_id, what, response, None)
    return PathItem(path=path, operations=(operation,), query=())


# -- rendering -----------------------------------------------------------------------------------


def _render_operation(
    op: _Operation, flavor: Flavor, conv: SchemaConverter, tag: str
) -> JsonObject:
    verb = op.verb
    out: JsonObject = {"description": op.description, "operationId": op.operation_id}
    parameters = [_parameter(name, flavor) for name in verb.query]
    consumes = _PATCH_TYPES if op.body == _PATCH else ("*/*",)
    produces = tuple(sorted((*_PRODUCES, *_STREAMS))) if verb.streams else _PRODUCES
    required = {"required": True} if verb.body in ("object", "patch") else {}
    responses: JsonObject = {}
    if flavor == "v3":
        if op.body is not None:
            content = {media: {"schema": conv.ref(op.body)} for media in consumes}
            out["requestBody"] = {"content": content, **required}
        for code in verb.codes:
            content = {media: {"schema": conv.ref(op.response)} for media in produces}
            responses[code] = {"content": content, "description": _CODES[code]}
    else:
        if op.body is not None:
            body = {"in": "body", "name": "body", **required, "schema": conv.ref(op.body)}
            parameters.insert(0, body)
        out.update(consumes=list(consumes), produces=list(produces), schemes=["https"])
        for code in verb.codes:
            responses[code] = {"description": _CODES[code], "schema": conv.ref(op.response)}
    if parameters:
        out["parameters"] = parameters
    out["responses"] = {**responses, "401": {"description": _CODES["401"]}}
    out["tags"] = [tag]
    if verb.action:
        out["x-kubernetes-action"] = verb.action
    if op.gvk is not None:
        group, version, kind = op.gvk
        out[GVK_KEY] = {"group": group, "kind": kind, "version": version}
    return dict(sorted(out.items()))


def render_path(item: PathItem, flavor: Flavor, conv: SchemaConverter, tag: str) -> JsonObject:
    """The OpenAPI 3.0 (``v3``) or Swagger 2.0 (``v2``) path object of ``item``."""
    out: JsonObject = {
        op.verb.method: _render_operation(op, flavor, conv, tag) for op in item.operations
    }
    in_path = [name for name in ("name", "namespace") if f"{{{name}}}" in item.path]
    names = sorted({*in_path, *item.query})
    if names:
        out["parameters"] = [_parameter(name, flavor, named=item.named) for name in names]
    return dict(sorted(out.items()))


# -- discovery and group-version paths ----------------------------------------------------------


def group_version_items(group: str, version: str, types: Iterable[ResourceType]) -> list[PathItem]:
    """The discovery path of a group-version, then every path of its resources by plural."""
    base, resources = _base_path(group, version), META + "APIResourceList"
    operation_id = f"get{_gv_id(group, version)}APIResources"
    items = [_discovery_item(f"{base}/", operation_id, resources, "available resources")]
    for rt in sorted(types, key=lambda t: t.plural):
        items += _resource_paths(rt)
    return items


def root_item(group: str | None) -> tuple[PathItem, str]:
    """The discovery path of ``/api`` (group ``""``), ``/apis`` (None) or ``/apis/<group>``."""
    if group == "":
        versions = META + "APIVersions"
        return _discovery_item("/api/", "getCoreAPIVersions", versions, "API versions"), "core"
    if group is None:
        groups = META + "APIGroupList"
        return _discovery_item("/apis/", "getAPIVersions", groups, "API versions"), "apis"
    name = _camel(_group_id(group), capitalize=True)
    item = _discovery_item(f"/apis/{group}/", f"get{name}APIGroup", META + "APIGroup", "a group")
    return item, _camel(_group_id(group), capitalize=False)
