"""The agent's end of one Sync stream, without I/O: checking batches and tracking what it holds.

Layer: ``kfed_core.sync`` (pure: no clock, no randomness, no I/O, no logging).

A batch from the hub is checked before anything is applied: every item must have a well-formed
key, a version and a JSON object manifest whose own kind, namespace and name match the key; no key
may appear twice. An item that fails these checks is answered as failed with reason ``Invalid``
and a message saying what was wrong; the rest of the batch still applies (one bad object never
holds back the others). The plan lists upserts in apply order (namespaces and CRDs first) and
removals in the reverse order.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kfed_core.keys import KeyError_, ResourceKey, same_object
from kfed_core.sync.hub_side import APPLIED, FAILED, REMOVED, ResultItem

_FIRST_KINDS = ("Namespace", "CustomResourceDefinition")


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannedUpsert:
    """An upsert that passed the checks: its key, version and parsed manifest."""

    key: ResourceKey
    version: str
    manifest: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """What to do for one batch: upserts then removals, plus items already answered as invalid."""

    nonce: str
    upserts: tuple[PlannedUpsert, ...]
    removals: tuple[ResourceKey, ...]
    rejected: tuple[ResultItem, ...]


def _rank(key: ResourceKey) -> tuple[int, str]:
    return (0 if key.kind in _FIRST_KINDS else 1, str(key))


def _check_manifest(key: ResourceKey, raw: bytes) -> dict[str, Any] | str:
    """The parsed manifest, or a message saying why it cannot be applied."""
    try:
        manifest = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        return f"manifest is not valid JSON: {exc}"
    if not isinstance(manifest, dict):
        return "manifest is not a JSON object"
    if not manifest.get("apiVersion") or not manifest.get("kind"):
        return "manifest has no apiVersion or kind"
    actual = ResourceKey.of(manifest)
    if not same_object(key, actual):
        return f"manifest is {actual}, not the {key} its key names"
    return manifest


def _invalid(key: str, version: str, message: str) -> ResultItem:
    return ResultItem(key=key, version=version, outcome=FAILED, reason="Invalid", message=message)


@dataclass(slots=True)
class AgentSession:
    """What the member cluster holds (``known``: key → version), kept current as batches apply."""

    known: dict[str, str] = field(default_factory=dict)

    def hello(self) -> Mapping[str, str]:
        """The map to send in Hello."""
        return self.known

    def plan(
        self,
        nonce: str,
        upserts: Iterable[tuple[str, str, bytes]],
        removals: Iterable[str],
    ) -> Plan:
        """Check a batch (``upserts`` as ``(key, version, manifest)``) and order its work."""
        seen: set[str] = set()
        planned: list[PlannedUpsert] = []
        removal_keys: list[ResourceKey] = []
        rejected: list[ResultItem] = []
        for raw_key, version, raw_manifest in upserts:
            if raw_key in seen:
                rejected.append(_invalid(raw_key, version, "key appears twice in one batch"))
                continue
            seen.add(raw_key)
            try:
                key = ResourceKey.parse(raw_key)
            except KeyError_ as exc:
                rejected.append(_invalid(raw_key, version, str(exc)))
                continue
            if not version:
                rejected.append(_invalid(raw_key, version, "upsert has no version"))
                continue
            checked = _check_manifest(key, raw_manifest)
            if isinstance(checked, str):
                rejected.append(_invalid(raw_key, version, checked))
                continue
            planned.append(PlannedUpsert(key=key, version=version, manifest=checked))
        for raw_key in removals:
            if raw_key in seen:
                rejected.append(_invalid(raw_key, "", "key appears twice in one batch"))
                continue
            seen.add(raw_key)
            try:
                removal_keys.append(ResourceKey.parse(raw_key))
            except KeyError_ as exc:
                rejected.append(_invalid(raw_key, "", str(exc)))
        planned.sort(key=lambda item: _rank(item.key))
        removal_keys.sort(key=_rank, reverse=True)
        return Plan(
            nonce=nonce,
            upserts=tuple(planned),
            removals=tuple(removal_keys),
            rejected=tuple(rejected),
        )

    def record(self, results: Iterable[ResultItem]) -> None:
        """Update ``known`` from the results of applying a plan."""
        for item in results:
            if item.outcome == APPLIED:
                self.known[item.key] = item.version
            elif item.outcome == REMOVED:
                self.known.pop(item.key, None)
