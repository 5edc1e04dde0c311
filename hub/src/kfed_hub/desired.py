"""The manifest the hub sends to member clusters for a stored federated object.

Layer: ``kfed_hub`` pure helper, shared by the HTTPS API (which reports whether each cluster runs
the current version) and the Sync stream (which sends it). No I/O, no clock, no logging.

The hub-side bookkeeping of an object (its uid, resourceVersion, generation, creation time,
managed fields and the aggregated ``status``) belongs to the hub, not to the member clusters:
it is removed, so the content version (:func:`kfed_core.keys.content_version`) changes only when
what the operator asked for changes.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from kfed_core.keys import content_version

HUB_METADATA_FIELDS = ("uid", "resourceVersion", "generation", "creationTimestamp", "managedFields")
"""Metadata fields the hub owns; member clusters set their own."""


def desired_manifest(stored_manifest: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of ``stored_manifest`` without ``status`` nor the hub's metadata fields."""
    manifest = copy.deepcopy(dict(stored_manifest))
    manifest.pop("status", None)
    metadata = manifest.get("metadata")
    if isinstance(metadata, dict):
        for name in HUB_METADATA_FIELDS:
            metadata.pop(name, None)
    return manifest


def desired_version(stored_manifest: Mapping[str, Any]) -> str:
    """The content version of :func:`desired_manifest` (what an up-to-date cluster reports)."""
    return content_version(desired_manifest(stored_manifest))
