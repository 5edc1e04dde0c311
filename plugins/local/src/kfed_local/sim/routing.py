"""Parse Kubernetes API paths into what they address.

Layer: pure (beside the HTTP server). ``/apis/apps/v1/namespaces/web/deployments/api/scale``
becomes a :class:`Target` naming the group, version, resource, namespace, name and subresource;
discovery and OpenAPI paths become :class:`Discovery` values. Unknown paths give ``None`` and the
server answers 404 as kube-apiserver does.
"""

from __future__ import annotations

from dataclasses import dataclass

_NAMESPACE_SUBRESOURCES = frozenset({"status", "finalize"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """A resource URL: collection (no name) or object (with name), maybe a subresource."""

    group: str
    version: str
    plural: str
    namespace: str | None = None
    name: str | None = None
    subresource: str | None = None
    legacy_watch: bool = False
    """True for the deprecated ``/watch/`` path prefix."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Discovery:
    """A discovery document: ``root`` (/api or /apis), ``group`` or ``resources``."""

    what: str
    group: str = ""
    version: str = ""


def parse(path: str) -> Target | Discovery | None:
    """What ``path`` addresses, or None for a path the API server does not serve."""
    parts = [p for p in path.split("/") if p]
    if not parts:
        return None
    if parts[0] == "api":
        if len(parts) == 1:
            return Discovery(what="core")
        return _resource_path("", parts[1], parts[2:])
    if parts[0] == "apis":
        if len(parts) == 1:
            return Discovery(what="groups")
        if len(parts) == 2:
            return Discovery(what="group", group=parts[1])
        return _resource_path(parts[1], parts[2], parts[3:])
    return None


def _resource_path(group: str, version: str, rest: list[str]) -> Target | Discovery | None:
    if not rest:
        return Discovery(what="resources", group=group, version=version)
    legacy_watch = False
    if rest[0] == "watch":
        legacy_watch = True
        rest = rest[1:]
        if not rest:
            return None
    namespace: str | None = None
    if rest[0] == "namespaces" and len(rest) >= 3 and rest[2] not in _NAMESPACE_SUBRESOURCES:
        # /namespaces/{ns}/{plural}[/{name}[/{sub}]]
        namespace = rest[1]
        rest = rest[2:]
    plural = rest[0]
    name = rest[1] if len(rest) > 1 else None
    subresource = rest[2] if len(rest) > 2 else None
    if len(rest) > 3:
        return None
    return Target(
        group=group,
        version=version,
        plural=plural,
        namespace=namespace,
        name=name,
        subresource=subresource,
        legacy_watch=legacy_watch,
    )
