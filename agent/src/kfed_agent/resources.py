"""Kubernetes REST conventions: discovery documents, resource paths and Status errors.

Layer: ``kfed_agent``, pure (no I/O, no clock, no ``kubernetes`` import). :mod:`kfed_agent.kube`
does the HTTP; this module turns discovery documents into :class:`ApiResource` values, builds the
paths kube-apiserver serves (``/api/v1/namespaces/{ns}/configmaps/{name}``,
``/apis/apps/v1/deployments``) and turns a failure answer into a :class:`KubeError`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

from kfed_agent.ports import ApiResource, KubeError

_REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    410: "Expired",
    413: "RequestEntityTooLarge",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


def split_api_version(api_version: str) -> tuple[str, str]:
    """``("apps", "v1")`` for ``apps/v1``, ``("", "v1")`` for ``v1``; ValueError if malformed."""
    group, _, version = api_version.rpartition("/")
    if not version or "/" in group or (api_version.count("/") == 1 and not group):
        raise ValueError(f"apiVersion {api_version!r} is not of the form [group/]version")
    return group, version


def group_version_path(group: str, version: str) -> str:
    """The discovery path of a group version: ``/api/v1`` or ``/apis/<group>/<version>``."""
    return f"/apis/{group}/{version}" if group else f"/api/{version}"


def collection_path(resource: ApiResource, namespace: str = "") -> str:
    """The collection's path, in ``namespace`` when given (all namespaces otherwise)."""
    base = group_version_path(resource.group, resource.version)
    if resource.namespaced and namespace:
        return f"{base}/namespaces/{_segment(namespace)}/{resource.plural}"
    return f"{base}/{resource.plural}"


def object_path(resource: ApiResource, namespace: str, name: str) -> str:
    """The path of one object; a namespaced kind needs a namespace, a cluster-scoped one none."""
    what = f"{resource.kind} {name!r}"
    if not name:
        raise KubeError(f"{resource.kind}: metadata.name is required", status=422, reason="Invalid")
    if resource.namespaced and not namespace:
        raise KubeError(
            f"{what}: {resource.kind} is namespaced, so metadata.namespace is required",
            status=422,
            reason="Invalid",
        )
    if not resource.namespaced and namespace:
        raise KubeError(
            f"{what}: {resource.kind} is cluster-scoped, so metadata.namespace must be empty "
            f"(got {namespace!r})",
            status=422,
            reason="Invalid",
        )
    return f"{collection_path(resource, namespace)}/{_segment(name)}"


def _segment(value: str) -> str:
    return quote(value, safe="")


def parse_resource_list(document: Mapping[str, Any], group: str, version: str) -> list[ApiResource]:
    """The top-level resources of an ``APIResourceList`` (subresources such as ``pods/status``
    are left out)."""
    found = []
    for entry in document.get("resources") or []:
        name = str(entry.get("name", ""))
        if not name or "/" in name or not entry.get("kind"):
            continue
        found.append(
            ApiResource(
                # Some resources live in another group than the list's (rare, but discovery
                # says so explicitly when they do).
                group=str(entry.get("group") or group),
                version=str(entry.get("version") or version),
                kind=str(entry["kind"]),
                plural=name,
                namespaced=bool(entry.get("namespaced", False)),
                verbs=frozenset(str(v) for v in entry.get("verbs") or ()),
            )
        )
    return found


def preferred_group_versions(
    core: Mapping[str, Any], groups: Mapping[str, Any]
) -> list[tuple[str, str]]:
    """``(group, version)`` pairs to list: ``v1`` of the core group (from ``/api``) and each
    group's preferred version (from ``/apis``)."""
    pairs = [("", str(v)) for v in (core.get("versions") or [])[-1:]]
    for group in groups.get("groups") or []:
        preferred = group.get("preferredVersion") or (group.get("versions") or [{}])[0]
        version = preferred.get("version")
        if group.get("name") and version:
            pairs.append((str(group["name"]), str(version)))
    return pairs


def listable(resources: Iterable[ApiResource]) -> list[ApiResource]:
    """The resources that can be listed (and so may hold objects kfed applied)."""
    return [r for r in resources if "list" in r.verbs]


def with_type(
    items: Iterable[Mapping[str, Any]], list_document: Mapping[str, Any], resource: ApiResource
) -> list[dict[str, Any]]:
    """List items with ``apiVersion`` and ``kind`` filled in (lists leave them out)."""
    list_kind = str(list_document.get("kind") or "")
    kind = list_kind[: -len("List")] if list_kind.endswith("List") else resource.kind
    api_version = str(list_document.get("apiVersion") or resource.api_version)
    typed = []
    for item in items:
        obj = dict(item)
        obj.setdefault("apiVersion", api_version)
        obj.setdefault("kind", kind)
        typed.append(obj)
    return typed


def error_from_answer(status: int, body: bytes, *, action: str) -> KubeError:
    """The :class:`KubeError` for a failure answer; the body is a ``Status`` when the API
    server wrote it (a proxy in between may write anything)."""
    document: Any = None
    try:
        document = json.loads(body) if body else None
    except ValueError:
        document = None
    if isinstance(document, Mapping) and document.get("kind") == "Status":
        return error_from_status(document, status=status, action=action)
    snippet = body[:200].decode("utf-8", "replace").strip() or "(empty body)"
    return KubeError(
        f"{action}: HTTP {status} from the API server: {snippet}",
        status=status,
        reason=_REASONS.get(status, "Unknown"),
    )


def error_from_status(document: Any, *, status: int, action: str) -> KubeError:
    """The :class:`KubeError` a ``Status`` object describes (``status`` if it names no code)."""
    if not isinstance(document, Mapping):
        return KubeError(f"{action}: the API server sent an error without a Status", status=status)
    code = int(document.get("code") or status)
    reason = str(document.get("reason") or _REASONS.get(code, "Unknown"))
    text = str(document.get("message") or reason)
    details = document.get("details")
    return KubeError(
        f"{action}: {text}",
        status=code,
        reason=reason,
        details=details if isinstance(details, Mapping) else None,
    )
