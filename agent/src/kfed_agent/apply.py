"""What the agent applies, in which order, and what it already has: pure rules over manifests.

Layer: ``kfed_agent``, pure (no I/O, no clock, no logging). The main loop validates each manifest
the hub sends (:func:`validate`), stamps it with kfed's ownership label and annotations
(:func:`prepare`), applies in :func:`apply_order` and prunes in :func:`removal_order`. At start it
rebuilds the ``{key → version}`` of its Hello from the cluster (:func:`known_versions`), so the
agent needs no disk.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from kfed_agent.resources import split_api_version
from kfed_core.conventions import (
    KEY_ANNOTATION,
    MANAGED_BY_LABEL,
    MANAGED_BY_VALUE,
    VERSION_ANNOTATION,
)
from kfed_core.keys import KeyError_, ResourceKey, same_object

M = TypeVar("M", bound=Mapping[str, Any])

SERVER_SET_METADATA = (
    "uid",
    "resourceVersion",
    "creationTimestamp",
    "generation",
    "managedFields",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
)
"""Metadata the API server owns: applying it would be refused or would fight the server."""

OWNED_SELECTOR = f"{MANAGED_BY_LABEL}={MANAGED_BY_VALUE}"
"""Label selector of every object kfed applied."""

_CRD = ("apiextensions.k8s.io", "CustomResourceDefinition")
_NAMESPACE = ("core", "Namespace")


class ManifestError(ValueError):
    """A manifest from the hub that cannot be applied; the message says why, for the hub."""


def validate(manifest: Any, *, key: str) -> ResourceKey:
    """The manifest's key, after checking it can be applied under ``key``; raises
    :class:`ManifestError` naming the first problem (without asking the API server)."""
    if not isinstance(manifest, Mapping):
        raise ManifestError(f"{key}: the manifest is a {type(manifest).__name__}, not an object")
    api_version, kind = manifest.get("apiVersion"), manifest.get("kind")
    if not isinstance(api_version, str) or not api_version:
        raise ManifestError(f"{key}: apiVersion is missing")
    try:
        split_api_version(api_version)
    except ValueError:
        raise ManifestError(
            f"{key}: apiVersion {api_version!r} is not of the form [group/]version"
        ) from None
    if not isinstance(kind, str) or not kind:
        raise ManifestError(f"{key}: kind is missing")
    metadata = manifest.get("metadata")
    if not isinstance(metadata, Mapping):
        raise ManifestError(f"{key}: metadata is missing")
    name = metadata.get("name")
    if not isinstance(name, str) or not name:
        hint = " (generateName is not supported: kfed needs a fixed name)"
        hint = hint if "generateName" in metadata else ""
        raise ManifestError(f"{key}: metadata.name is missing{hint}")
    namespace = metadata.get("namespace", "")
    if namespace is not None and not isinstance(namespace, str):
        raise ManifestError(f"{key}: metadata.namespace must be a string")
    for field in ("labels", "annotations"):
        values = metadata.get(field)
        if values is not None and (
            not isinstance(values, Mapping)
            or not all(isinstance(k, str) and isinstance(v, str) for k, v in values.items())
        ):
            raise ManifestError(f"{key}: metadata.{field} must map strings to strings")
    try:
        expected = ResourceKey.parse(key)
    except KeyError_ as exc:
        raise ManifestError(str(exc)) from None
    actual = ResourceKey.of(manifest)
    if not same_object(expected, actual):
        raise ManifestError(f"{key}: the manifest describes {actual}, not the object of its key")
    return actual


def prepare(manifest: Mapping[str, Any], *, key: str, version: str) -> dict[str, Any]:
    """A copy ready to apply: no status, no server-set metadata, and kfed's ownership label,
    key annotation and version annotation added."""
    prepared = copy.deepcopy(dict(manifest))
    prepared.pop("status", None)
    metadata = dict(prepared.get("metadata") or {})
    for field in SERVER_SET_METADATA:
        metadata.pop(field, None)
    metadata["labels"] = {**(metadata.get("labels") or {}), MANAGED_BY_LABEL: MANAGED_BY_VALUE}
    metadata["annotations"] = {
        **(metadata.get("annotations") or {}),
        KEY_ANNOTATION: key,
        VERSION_ANNOTATION: version,
    }
    prepared["metadata"] = metadata
    return prepared


def _rank(group: str, kind: str) -> int:
    if (group, kind) == _NAMESPACE:
        return 0
    if (group, kind) == _CRD:
        return 1
    return 2


def apply_rank(key: ResourceKey) -> int:
    """0 for Namespaces, 1 for CustomResourceDefinitions, 2 for the rest: apply lower first."""
    return _rank(key.group, key.kind)


def apply_order(manifests: Iterable[M]) -> list[M]:
    """Namespaces, then CustomResourceDefinitions, then the rest; stable within each."""
    return sorted(manifests, key=lambda m: apply_rank(ResourceKey.of(m)))


def removal_order(keys: Iterable[str]) -> list[str]:
    """The reverse of :func:`apply_order`: the rest, then CRDs, then Namespaces; stable."""

    def rank(text: str) -> int:
        parts = text.split("/")
        return -_rank(parts[0], parts[1]) if len(parts) == 4 else -2

    return sorted(keys, key=rank)


def is_owned(obj: Mapping[str, Any]) -> bool:
    """Whether the object carries kfed's ownership label."""
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return bool(labels.get(MANAGED_BY_LABEL) == MANAGED_BY_VALUE)


def known_versions(objects: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """``{key → version}`` of the objects kfed applied, from their annotations.

    An object whose key annotation names another object (copied by hand) is ignored: the hub
    then resends the real one. The group may differ: a legacy federated object (say an
    ``extensions/v1beta1`` ReplicaSet) lives in the member under the current API group.
    """
    versions: dict[str, str] = {}
    for obj in objects:
        if not is_owned(obj):
            continue
        annotations = (obj.get("metadata") or {}).get("annotations") or {}
        key, version = annotations.get(KEY_ANNOTATION), annotations.get(VERSION_ANNOTATION)
        if not (isinstance(key, str) and isinstance(version, str)):
            continue
        try:
            named = ResourceKey.parse(key)
        except ValueError:
            continue
        if same_object(named, ResourceKey.of(obj)):
            versions[key] = version
    return versions
