"""Resource keys and content versions: how hub and agent name an object and its desired content.

Layer: ``kfed_core`` (contract), pure. A key is ``"<group>/<Kind>/<namespace>/<name>"`` with the
group ``core`` for the core API group and an empty namespace for cluster-scoped kinds, e.g.
``core/ConfigMap/default/settings`` or ``core/Namespace//prod``. A version is an opaque hash of the
manifest the hub sends: two sides compare versions for equality only, never order them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

CORE_GROUP = "core"


class KeyError_(ValueError):
    """A resource key that does not have the four parts of a kfed key."""


@dataclass(frozen=True, slots=True, kw_only=True, order=True)
class ResourceKey:
    """Which object: API group (``core`` for the core group), kind, namespace ("" if none), name."""

    group: str
    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.group}/{self.kind}/{self.namespace}/{self.name}"

    @classmethod
    def parse(cls, text: str) -> ResourceKey:
        """The key written as ``group/Kind/namespace/name``."""
        parts = text.split("/")
        if len(parts) != 4 or not parts[0] or not parts[1] or not parts[3]:
            raise KeyError_(f"resource key {text!r} is not of the form group/Kind/namespace/name")
        return cls(group=parts[0], kind=parts[1], namespace=parts[2], name=parts[3])

    @classmethod
    def of(cls, manifest: Mapping[str, Any]) -> ResourceKey:
        """The key of a Kubernetes object (``apiVersion``, ``kind`` and ``metadata`` are read)."""
        api_version = str(manifest.get("apiVersion", ""))
        group = api_version.rpartition("/")[0] if "/" in api_version else CORE_GROUP
        metadata = manifest.get("metadata") or {}
        return cls(
            group=group or CORE_GROUP,
            kind=str(manifest.get("kind", "")),
            namespace=str(metadata.get("namespace") or ""),
            name=str(metadata.get("name", "")),
        )

    @property
    def api_group(self) -> str:
        """The group as Kubernetes spells it ("" for the core group)."""
        return "" if self.group == CORE_GROUP else self.group


def same_object(federated: ResourceKey, member: ResourceKey) -> bool:
    """Whether a member object stands for a federated key. The groups may differ: the hub sends
    a legacy object (``extensions/v1beta1`` ReplicaSet) translated to the current API
    (``apps/v1``), and the member object keeps the federated object's key in its annotation."""
    return (federated.kind, federated.namespace, federated.name) == (
        member.kind,
        member.namespace,
        member.name,
    )


def canonical_json(manifest: Mapping[str, Any]) -> bytes:
    """The manifest as compact JSON with sorted keys: one object always gives the same bytes."""
    return json.dumps(manifest, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def content_version(manifest: Mapping[str, Any]) -> str:
    """The opaque version of a manifest: a 64-bit prefix of the SHA-256 of its canonical JSON."""
    return version_of(canonical_json(manifest))


def version_of(canonical: bytes) -> str:
    """:func:`content_version` of a manifest already in its canonical JSON form."""
    return hashlib.sha256(canonical).hexdigest()[:16]
