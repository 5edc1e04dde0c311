"""The ``metadata.managedFields`` list of an object: decoding, encoding and bookkeeping rules.

Layer: pure (just above ``fieldpath``; used by ``apply``). It turns the list kube-apiserver stores
into a mapping from manager identity to the :class:`~kfed_local.sim.fieldpath.FieldSet` that
manager owns and back, with kube-apiserver's identity rules (an ``Apply`` entry is one per manager
and subresource whatever its apiVersion; an ``Update`` entry is one per manager, subresource and
apiVersion), its entry order, the fields it never tracks, the ``before-first-apply`` and
``ancient-changes`` managers and the cap of ten ``Update`` entries. It decides nothing about
merging or conflicts, does no I/O and never mutates its inputs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from kfed_local.sim.fieldpath import FieldSet
from kfed_local.sim.fieldpath_elements import FieldsV1Error, PathElement

Operation = Literal["Apply", "Update"]

BEFORE_FIRST_APPLY = "before-first-apply"
"""Manager that receives the fields of an object without managedFields on its first apply."""

ANCIENT_CHANGES = "ancient-changes"
"""Manager into which the oldest ``Update`` entries are folded past :data:`MAX_UPDATE_MANAGERS`."""

MAX_UPDATE_MANAGERS = 10
"""kube-apiserver keeps at most this many ``Update`` entries per object."""


def _f(*names: str) -> tuple[PathElement, ...]:
    return tuple(PathElement.field(n) for n in names)


STRIPPED_FIELDS = FieldSet.of(
    _f("apiVersion"),
    _f("kind"),
    _f("metadata"),
    *(
        _f("metadata", name)
        for name in (
            "name",
            "namespace",
            "creationTimestamp",
            "selfLink",
            "uid",
            "clusterName",
            "generation",
            "managedFields",
            "resourceVersion",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
        )
    ),
)
"""Paths never recorded in a manager's set (exact paths: ``metadata.labels`` stays tracked)."""


class ManagedFieldsError(ValueError):
    """A ``managedFields`` list that cannot be decoded."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ManagerKey:
    """The identity of one managedFields entry, as kube-apiserver tells entries apart."""

    manager: str
    operation: Operation
    subresource: str = ""
    api_version: str = ""
    """Part of the identity of ``Update`` entries only; empty for ``Apply``."""

    @staticmethod
    def for_apply(manager: str, subresource: str | None = None) -> ManagerKey:
        """The entry of an applier (its apiVersion is not part of its identity)."""
        return ManagerKey(manager=manager, operation="Apply", subresource=subresource or "")

    @staticmethod
    def for_update(manager: str, api_version: str, subresource: str | None = None) -> ManagerKey:
        """The entry of a create/update/patch writer through ``api_version``."""
        return ManagerKey(
            manager=manager,
            operation="Update",
            subresource=subresource or "",
            api_version=api_version,
        )

    def identifier(self) -> str:
        """The JSON identity string kube-apiserver sorts conflicting managers by."""
        doc: dict[str, str] = {"manager": self.manager, "operation": self.operation}
        if self.api_version:
            doc["apiVersion"] = self.api_version
        if self.subresource:
            doc["subresource"] = self.subresource
        return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)

    def describe(self) -> str:
        """How conflict messages name the manager: ``"kubectl-edit" using apps/v1``."""
        text = json.dumps(self.manager, ensure_ascii=False)
        if self.subresource:
            text += f" with subresource {json.dumps(self.subresource, ensure_ascii=False)}"
        if self.operation == "Update":
            text += f" using {self.api_version}"
        return text


@dataclass(frozen=True, slots=True, kw_only=True)
class ManagedEntry:
    """What one manager owns, through which apiVersion, and when it last changed the object."""

    fields: FieldSet
    api_version: str
    time: str | None = None


ManagedFields = dict[ManagerKey, ManagedEntry]


def decode_managed_fields(obj: Mapping[str, Any] | None) -> ManagedFields:
    """The entries of ``obj.metadata.managedFields`` by manager identity (empty if none)."""
    if obj is None:
        return {}
    metadata = obj.get("metadata")
    entries = metadata.get("managedFields") if isinstance(metadata, Mapping) else None
    if entries is None:
        return {}
    return decode_entries(entries)


def decode_entries(entries: Any) -> ManagedFields:
    """Decode a managedFields list; raises :class:`ManagedFieldsError` when malformed."""
    if not isinstance(entries, Sequence) or isinstance(entries, str):
        raise ManagedFieldsError("managedFields must be a list")
    out: ManagedFields = {}
    for position, entry in enumerate(entries):
        key, value = _decode_entry(entry, position)
        out[key] = value
    return out


def _text(entry: Mapping[str, Any], name: str, position: int) -> str:
    value = entry.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ManagedFieldsError(f"managedFields[{position}].{name} must be a string")
    return value


def _decode_entry(entry: Any, position: int) -> tuple[ManagerKey, ManagedEntry]:
    if not isinstance(entry, Mapping):
        raise ManagedFieldsError(f"managedFields[{position}] must be an object")
    operation = _text(entry, "operation", position)
    if operation not in ("Apply", "Update"):
        raise ManagedFieldsError(
            f"managedFields[{position}].operation must be Apply or Update, not {operation!r}"
        )
    fields_type = _text(entry, "fieldsType", position)
    if fields_type != "FieldsV1":
        raise ManagedFieldsError(
            f'managedFields[{position}].fieldsType must be "FieldsV1", not {fields_type!r}'
        )
    try:
        fields = FieldSet.from_fields_v1(entry.get("fieldsV1") or {})
    except FieldsV1Error as exc:
        raise ManagedFieldsError(f"managedFields[{position}].fieldsV1: {exc}") from exc
    manager = _text(entry, "manager", position)
    api_version = _text(entry, "apiVersion", position)
    subresource = _text(entry, "subresource", position)
    if operation == "Apply":
        key = ManagerKey.for_apply(manager, subresource)
    else:
        key = ManagerKey.for_update(manager, api_version, subresource)
    time = entry.get("time")
    return key, ManagedEntry(
        fields=fields, api_version=api_version, time=time if isinstance(time, str) else None
    )


def time_seconds(time: str | None) -> int:
    """Seconds since the epoch of an RFC 3339 time; 0 when absent or unreadable (as Go does)."""
    if not time:
        return 0
    try:
        return int(datetime.fromisoformat(time.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return 0


def encode_managed_fields(managed: Mapping[ManagerKey, ManagedEntry]) -> list[dict[str, Any]]:
    """The managedFields list: entries with empty sets dropped, in kube-apiserver's order.

    Order: ``Apply`` before ``Update``, then by time (seconds), manager, apiVersion, subresource.
    """
    rows = [(key, entry) for key, entry in managed.items() if not entry.fields.is_empty]
    rows.sort(
        key=lambda row: (
            row[0].operation,
            time_seconds(row[1].time),
            row[0].manager,
            row[1].api_version,
            row[0].subresource,
        )
    )
    out: list[dict[str, Any]] = []
    for key, entry in rows:
        doc: dict[str, Any] = {"manager": key.manager, "operation": key.operation}
        doc["apiVersion"] = entry.api_version
        if entry.time is not None:
            doc["time"] = entry.time
        doc["fieldsType"] = "FieldsV1"
        doc["fieldsV1"] = entry.fields.to_fields_v1()
        if key.subresource:
            doc["subresource"] = key.subresource
        out.append(doc)
    return out


def is_reset_request(entries: Any) -> bool:
    """True for ``[{}]``: the documented way for a client to strip all managedFields.

    An empty list does not reset, so that clients unaware of the field never strip it.
    """
    return isinstance(entries, list) and len(entries) == 1 and entries[0] == {}


def strip_untracked(fields: FieldSet) -> FieldSet:
    """``fields`` without the paths kube-apiserver never records (:data:`STRIPPED_FIELDS`)."""
    return fields.difference(STRIPPED_FIELDS)


def cap_update_managers(
    managed: Mapping[ManagerKey, ManagedEntry], limit: int = MAX_UPDATE_MANAGERS
) -> ManagedFields:
    """Fold the oldest ``Update`` entries into ``ancient-changes`` until at most ``limit`` remain.

    As kube-apiserver does: one bucket per apiVersion, holding the union of the folded sets and
    the time of the newest one folded in.
    """
    out = dict(managed)
    updaters = [key for key in out if key.operation == "Update"]
    if len(updaters) <= limit:
        return out
    updaters.sort(key=lambda key: (time_seconds(out[key].time), key.identifier()))
    first_of_version: dict[str, ManagerKey] = {}
    remaining = len(updaters)
    for key in updaters:
        if remaining <= limit:
            break
        entry = out[key]
        version = entry.api_version
        if version not in first_of_version:
            first_of_version[version] = key
            continue
        bucket = ManagerKey.for_update(ANCIENT_CHANGES, version)
        if bucket not in out:
            out[bucket] = out.pop(first_of_version[version])
        out[bucket] = ManagedEntry(
            fields=entry.fields.union(out[bucket].fields), api_version=version, time=entry.time
        )
        if key != bucket:
            del out[key]
        remaining -= 1
    return out
