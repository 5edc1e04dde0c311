"""Shape checks of request bodies: kind and apiVersion, names and namespaces against the URL.

Layer: pure (below the API logic). Each check answers with the ``400 BadRequest`` message
kube-apiserver uses when a body does not fit the URL it was sent to.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kfed_local.sim import errors, objects
from kfed_local.sim.resources import ResourceType


def decode_body(rt: ResourceType, body: Mapping[str, Any]) -> dict[str, Any]:
    obj: dict[str, Any] = objects.clone(dict(body))
    check_kind(rt, obj)
    obj["apiVersion"] = rt.api_version
    obj["kind"] = rt.kind
    if not isinstance(obj.get("metadata", {}), dict):
        raise errors.bad_request(f"{rt.kind}.metadata must be an object")
    return obj


def check_kind(rt: ResourceType, obj: Mapping[str, Any]) -> None:
    kind = obj.get("kind")
    api_version = obj.get("apiVersion")
    if kind not in (None, "", rt.kind) or api_version not in (None, "", rt.api_version):
        raise errors.bad_request(
            f"the API version in the data ({api_version}) does not match the expected API "
            f"version ({rt.api_version})"
            if kind in (None, "", rt.kind)
            else f"the object provided is unrecognized (must be of type {rt.kind}): "
            f"kind {kind!r} in {api_version!r}"
        )


def check_namespace_matches(rt: ResourceType, namespace: str, meta: Mapping[str, Any]) -> None:
    given = meta.get("namespace")
    if rt.namespaced and given and given != namespace:
        raise errors.bad_request(
            "the namespace of the provided object does not match the namespace sent on the request"
        )
