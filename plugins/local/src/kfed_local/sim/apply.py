"""Server-side apply and managedFields bookkeeping of the simulated API server.

Layer: pure (above ``typedmerge``, ``managedfields`` and ``fieldpath``; called by the API layer).
:func:`server_side_apply` computes the object an ``application/apply-patch+yaml`` request
produces: config merged onto the live object, fields the applier dropped removed, conflicts with
other managers refused (or, when forced, their fields taken over), ``managedFields`` rewritten.
:func:`update_managed_fields` does the bookkeeping of every other write (create, update, patch):
the writer takes the fields it changed. Both follow kube-apiserver 1.37 (structured-merge-diff)
down to its conflict messages.

This module does not default, validate or store the result, check preconditions
(resourceVersion, uid) or bump metadata: the caller does. It does no I/O, reads no clock (the
caller passes ``now``) and never mutates its inputs.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kfed_local.sim.errors import ApiError, PatchError
from kfed_local.sim.fieldpath import FieldSet
from kfed_local.sim.fieldpath_elements import PathElement, go_json, json_equal, path_string
from kfed_local.sim.managedfields import (
    BEFORE_FIRST_APPLY,
    ManagedEntry,
    ManagedFields,
    ManagedFieldsError,
    ManagerKey,
    cap_update_managers,
    decode_entries,
    decode_managed_fields,
    encode_managed_fields,
    is_reset_request,
    strip_untracked,
)
from kfed_local.sim.schema import SchemaNode
from kfed_local.sim.typedmerge import compare, drop_applied_nulls, merge, prune

# -- reset fields ---------------------------------------------------------------------------------

_IDENTITY = frozenset({"apiVersion", "kind", "metadata"})
_IDENTITY_META = frozenset({"name", "namespace"})


@dataclass(frozen=True, slots=True, kw_only=True)
class ResetFields:
    """Fields a request may not set: removed from an applied config and never owned.

    ``paths`` are reset subtrees (``("status",)``). With ``keep_only``, every top-level field
    but those (and the object's identity: apiVersion, kind, metadata.name/namespace) is reset.
    """

    paths: frozenset[tuple[str, ...]] = frozenset()
    keep_only: frozenset[str] | None = None

    def roots(self, *objects: Mapping[str, Any] | None) -> set[tuple[str, ...]]:
        """The reset paths as they apply to these objects."""
        roots = set(self.paths)
        if self.keep_only is None:
            return roots
        for obj in objects:
            if obj is None:
                continue
            roots.update((key,) for key in obj if key not in self.keep_only | _IDENTITY)
            metadata = obj.get("metadata")
            if isinstance(metadata, Mapping):
                roots.update(("metadata", key) for key in metadata if key not in _IDENTITY_META)
        return roots

    def field_set(self, *objects: Mapping[str, Any] | None) -> FieldSet:
        """The reset paths as a set of prefixes, for :meth:`FieldSet.recursive_difference`."""
        return FieldSet.from_paths(
            tuple(PathElement.field(name) for name in root) for root in self.roots(*objects)
        )

    def strip(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        """A deep copy of ``obj`` without the reset fields."""
        out = copy.deepcopy(dict(obj))
        for root in sorted(self.roots(obj)):
            parent: Any = out
            for name in root[:-1]:
                parent = parent.get(name) if isinstance(parent, dict) else None
            if isinstance(parent, dict):
                parent.pop(root[-1], None)
        return out


NO_RESET = ResetFields()
"""Nothing reset: kinds whose ``status`` (if any) is not a subresource."""

MAIN_RESOURCE_RESET = ResetFields(paths=frozenset({("status",)}))
"""Writes to the main resource of a kind with a status subresource do not set ``status``."""

STATUS_SUBRESOURCE_RESET = ResetFields(keep_only=frozenset({"status"}))
"""Writes through ``/status`` set ``status`` only."""


def default_reset(subresource: str | None) -> ResetFields:
    """:data:`STATUS_SUBRESOURCE_RESET` for ``status``, else :data:`MAIN_RESOURCE_RESET`."""
    return STATUS_SUBRESOURCE_RESET if subresource == "status" else MAIN_RESOURCE_RESET


# -- conflicts ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Conflict:
    """One field an apply would change although another manager owns it."""

    manager: str
    """The other manager's name (``kubectl-client-side-apply``)."""
    path: str
    """The field as kube-apiserver prints it: ``.spec.template.spec.containers[name="x"].image``."""
    operation: str = "Update"
    api_version: str = ""
    subresource: str = ""

    @property
    def key(self) -> ManagerKey:
        """The identity of the other manager's entry."""
        if self.operation == "Apply":
            return ManagerKey.for_apply(self.manager, self.subresource)
        return ManagerKey.for_update(self.manager, self.api_version, self.subresource)

    def message(self) -> str:
        """The ``StatusCause`` message: ``conflict with "kubectl-edit" using apps/v1``."""
        return f"conflict with {self.key.describe()}"


def conflict_message(conflicts: Sequence[Conflict]) -> str:
    """kube-apiserver's message: one line, or a block per manager (sorted) of ``- path`` lines."""
    if len(conflicts) == 1:
        only = conflicts[0]
        return f"Apply failed with 1 conflict: conflict with {only.key.describe()}: {only.path}"
    by_manager: dict[ManagerKey, list[str]] = {}
    for item in conflicts:
        by_manager.setdefault(item.key, []).append(item.path)
    lines: list[str] = []
    for key in sorted(by_manager, key=ManagerKey.identifier):
        lines.append(f"conflicts with {key.describe()}:")
        lines.extend(f"- {path}" for path in by_manager[key])
    return f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)


class ApplyConflictError(ApiError):
    """``409 Conflict`` of an apply that would change fields other managers own.

    An :class:`ApiError`, so the API layer answers it as is: reason ``Conflict``, one
    ``FieldManagerConflict`` cause per field, and kube-apiserver's message.
    """

    conflicts: tuple[Conflict, ...]

    def __init__(self, conflicts: Sequence[Conflict]) -> None:
        causes = [
            {
                "reason": "FieldManagerConflict",
                "message": item.message(),
                "field": item.path,
            }
            for item in conflicts
        ]
        super().__init__(409, "Conflict", conflict_message(conflicts), {"causes": causes})
        self.conflicts = tuple(conflicts)


def _conflicts(taken: Mapping[ManagerKey, FieldSet], managed: ManagedFields) -> list[Conflict]:
    out: list[Conflict] = []
    for key in sorted(taken, key=ManagerKey.identifier):
        out.extend(
            Conflict(
                manager=key.manager,
                path=path_string(path),
                operation=key.operation,
                api_version=managed[key].api_version,
                subresource=key.subresource,
            )
            for path in taken[key].paths()
        )
    return out


# -- server-side apply ----------------------------------------------------------------------------


def _check_config(config: Any, api_version: str) -> None:
    if not isinstance(config, Mapping):
        raise PatchError("the apply patch must be an object")
    if config.get("apiVersion") != api_version:
        raise PatchError(
            "Incorrect version specified in apply patch. Specified patch version: "
            f"{config.get('apiVersion') or ''}, expected: {api_version}"
        )
    if not config.get("kind"):
        raise PatchError(f"Object 'Kind' is missing in '{go_json(config)}'")
    metadata = config.get("metadata")
    if not isinstance(metadata, Mapping) or not metadata.get("name"):
        raise PatchError("metadata.name: Required value: the apply patch must name the object")
    if metadata.get("managedFields") is not None:
        raise PatchError("metadata.managedFields must be nil in an apply patch")


def _describe_object(config: Mapping[str, Any], api_version: str) -> str:
    metadata = config.get("metadata") or {}
    group_version = api_version if "/" in api_version else f"/{api_version}"
    name = f"{metadata.get('namespace') or ''}/{metadata.get('name') or ''}"
    return f"{name}; {group_version}, Kind={config.get('kind')}"


def _without_managed_fields(obj: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(dict(obj))
    metadata = out.get("metadata")
    if isinstance(metadata, dict):
        metadata.pop("managedFields", None)
    return out


def _set_managed_fields(obj: dict[str, Any], managed: ManagedFields) -> dict[str, Any]:
    entries = encode_managed_fields(cap_update_managers(managed))
    metadata = obj.setdefault("metadata", {})
    if entries:
        metadata["managedFields"] = entries
    else:
        metadata.pop("managedFields", None)
    return obj


def _union(sets: Iterable[FieldSet]) -> FieldSet:
    out = FieldSet()
    for fields in sets:
        out = out.union(fields)
    return out


def _live_managers(
    live: Mapping[str, Any] | None,
    live_obj: dict[str, Any],
    schema: SchemaNode | None,
    ignored: FieldSet,
    api_version: str,
    now: str,
) -> ManagedFields:
    """Who owns what in the live object, before this apply."""
    if live is None:
        return {}
    try:
        managed = decode_managed_fields(live)
    except ManagedFieldsError:
        managed = {}  # kube-apiserver treats undecodable managedFields as none at all
    if managed:
        return managed
    # An object nobody manages yet: its current fields go to a stand-in manager first, so that
    # the applier conflicts with values it did not set.
    first = compare({}, live_obj, schema).without(ignored).changed
    key = ManagerKey.for_update(BEFORE_FIRST_APPLY, api_version)
    return {key: ManagedEntry(fields=strip_untracked(first), api_version=api_version, time=now)}


def server_side_apply(
    live: Mapping[str, Any] | None,
    config: Mapping[str, Any],
    *,
    manager: str,
    force: bool,
    schema: SchemaNode | None,
    api_version: str,
    now: str,
    subresource: str | None = None,
    reset: ResetFields | None = None,
) -> dict[str, Any]:
    """The object an apply of ``config`` by ``manager`` produces, with its new managedFields.

    ``live`` is None for a create. ``reset`` defaults to :func:`default_reset` of the
    subresource (pass :data:`NO_RESET` for kinds without a status subresource). Raises
    :class:`PatchError` for a config that is not a valid apply patch and
    :class:`ApplyConflictError` when, without ``force``, the apply would change fields that other
    managers own. The result's timestamps are not bumped when the apply changes nothing, so that
    the caller can detect a no-op by comparing it with ``live``.
    """
    _check_config(config, api_version)
    reset = reset if reset is not None else default_reset(subresource)
    applied = reset.strip(config)
    live_obj = _without_managed_fields(live) if live is not None else {}
    ignored = reset.field_set(config, live_obj)
    try:
        applied_fields = FieldSet.from_object(applied, schema).recursive_difference(ignored)
        merged = merge(live_obj, applied, schema)
    except PatchError as exc:
        where = _describe_object(config, api_version)
        raise PatchError(f"failed to create typed patch object ({where}): {exc}") from None

    managed = _live_managers(live, live_obj, schema, ignored, api_version, now)
    applier = ManagerKey.for_apply(manager, subresource)
    previous = managed.get(applier)
    others = {key: entry for key, entry in managed.items() if key != applier}
    if previous is not None and not previous.fields.is_empty:
        owned = _union(entry.fields for entry in others.values()).union(applied_fields)
        merged = prune(merged, previous.fields, owned, schema)

    diff = compare(live_obj, merged, schema).without(ignored)
    changed = diff.changed
    taken = {key: entry.fields.intersection(changed) for key, entry in others.items()}
    taken = {key: fields for key, fields in taken.items() if not fields.is_empty}
    if taken and not force:
        raise ApplyConflictError(_conflicts(taken, managed))

    result: ManagedFields = {}
    for key, entry in others.items():
        fields = entry.fields.difference(taken.get(key, FieldSet())).difference(diff.removed)
        if not fields.is_empty:
            result[key] = ManagedEntry(
                fields=fields, api_version=entry.api_version, time=entry.time
            )
    final = drop_applied_nulls(merged, applied, schema)
    unchanged = live is not None and json_equal(final, live_obj)
    time = (previous.time if previous is not None else None) if unchanged else now
    mine = strip_untracked(applied_fields)
    if not mine.is_empty:
        result[applier] = ManagedEntry(fields=mine, api_version=api_version, time=time)
    return _set_managed_fields(final, result)


# -- other writes ---------------------------------------------------------------------------------


def _starting_point(
    old: Mapping[str, Any] | None, new: Mapping[str, Any], subresource: str | None
) -> ManagedFields:
    """Whose managedFields an update starts from: the request's when it sets valid ones."""
    if subresource is None:
        metadata = new.get("metadata")
        sent = metadata.get("managedFields") if isinstance(metadata, Mapping) else None
        if is_reset_request(sent):
            return {}
        if isinstance(sent, list) and sent:
            try:
                return decode_entries(sent)
            except ManagedFieldsError:
                pass  # undecodable: keep what the server has, as kube-apiserver does
    try:
        return decode_managed_fields(old)
    except ManagedFieldsError:
        return {}


def update_managed_fields(
    old: Mapping[str, Any] | None,
    new: Mapping[str, Any],
    *,
    manager: str,
    schema: SchemaNode | None,
    api_version: str,
    now: str,
    subresource: str | None = None,
    reset: ResetFields | None = None,
) -> list[dict[str, Any]]:
    """The managedFields of ``new`` after a non-apply write (create when ``old`` is None).

    The writer's ``Update`` entry takes every field added or changed (removed from the other
    managers' sets); fields the write removed leave every set. The starting point is ``old``'s
    list, or the list ``new`` carries when it is a valid non-empty one (``[{}]`` resets it);
    subresource writes always start from ``old``'s. ``new`` should be the object as it will be
    stored (after the strategy reset status or spec).
    """
    reset = reset if reset is not None else default_reset(subresource)
    managed = _starting_point(old, new, subresource)
    old_obj = _without_managed_fields(old) if old is not None else {}
    new_obj = _without_managed_fields(new)
    diff = compare(old_obj, new_obj, schema).without(reset.field_set(old_obj, new_obj))
    changed = diff.changed
    writer = ManagerKey.for_update(manager, api_version, subresource)
    result: ManagedFields = {}
    for key, entry in managed.items():
        fields = entry.fields.difference(changed).difference(diff.removed)
        if not fields.is_empty:
            result[key] = ManagedEntry(
                fields=fields, api_version=entry.api_version, time=entry.time
            )
    mine = strip_untracked(changed)
    if not mine.is_empty:
        before = result.get(writer)
        fields = mine.union(before.fields) if before is not None else mine
        result[writer] = ManagedEntry(fields=fields, api_version=api_version, time=now)
    return encode_managed_fields(cap_update_managers(result))
