"""Patch semantics of the simulated API server: JSON merge patch and strategic merge patch.

Layer: pure (the ``apply | strategic | validation`` layer of ``kfed_local.sim``). The PATCH handler
calls :func:`json_merge_patch` for ``application/merge-patch+json`` and
:func:`strategic_merge_patch` for ``application/strategic-merge-patch+json``; both take plain
JSON values and return a new value. Strategic merge patch follows kube-apiserver as it applies
patches to built-in kinds: list merging by ``x-kubernetes-patch-merge-key``, the ``$patch``,
``$retainKeys``, ``$setElementOrder/…`` and ``$deleteFromPrimitiveList/…`` directives, the
order in which merged list items end up, and the wording of its errors (Go ``%v`` formatting).
The identity of list items, the order of merged lists and the Go formatting are in
:mod:`kfed_local.sim.strategic_order`; the merging and the directives are here.

This module never mutates its inputs, never aliases them in its results, and does no I/O,
logging or validation of the patched object (the caller validates the result).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from kfed_local.sim.errors import PatchError, join_paths
from kfed_local.sim.schema import SchemaNode
from kfed_local.sim.strategic_order import (
    ABSENT,
    GONE,
    PATCH,
    SET_ORDER,
    Mark,
    check_order,
    element_kind,
    go_value,
    ident,
    index_of,
    kind_name,
    no_merge_key,
    order_by_patch,
    same,
)

__all__ = ["json_merge_patch", "strategic_merge_patch"]

_RETAIN_KEYS: Final = "$retainKeys"
_DELETE_FROM: Final = "$deleteFromPrimitiveList"

_Path = tuple[str, ...]


# -- JSON merge patch (RFC 7386) -------------------------------------------------------------


def json_merge_patch(original: Any, patch: Any) -> Any:
    """Apply an RFC 7386 JSON merge patch and return the result as a new value.

    Objects merge recursively, ``null`` removes a key, anything else (arrays included)
    replaces the target. Keys keep the original's order; new keys follow in patch order.
    """
    if not isinstance(patch, Mapping):
        return copy.deepcopy(patch)
    base: Mapping[str, Any] = original if isinstance(original, Mapping) else {}
    result: dict[str, Any] = {}
    for key, value in base.items():
        if key not in patch:
            result[key] = copy.deepcopy(value)
        elif patch[key] is not None:
            result[key] = json_merge_patch(value, patch[key])
    for key, value in patch.items():
        if key not in base and value is not None:
            result[key] = json_merge_patch(None, value)
    return result


# -- strategic merge patch ---------------------------------------------------------------------


def strategic_merge_patch(
    original: Mapping[str, Any], patch: Mapping[str, Any], schema: SchemaNode | None
) -> dict[str, Any]:
    """Apply a Kubernetes strategic merge patch to ``original`` and return the patched object.

    ``schema`` is the object's schema (``schema_for_kind``); ``None`` or subtrees that preserve
    unknown fields merge maps and replace lists, as JSON merge patch does, but directives are
    still honoured. Raises :class:`PatchError` with kube-apiserver's wording where it has one.
    """
    if not isinstance(patch, Mapping):  # a JSON body may hold anything
        raise PatchError(f"expected a JSON object as the patch, got {go_value(patch)}")
    # One private deep copy: everything below may then change it in place.
    merged = _merge_map(copy.deepcopy(dict(original)), patch, schema, ())
    return {} if merged is GONE else merged


@dataclass(frozen=True, slots=True, kw_only=True)
class _Field:
    """What the schema says about one field: its node, patch strategies and merge key."""

    schema: SchemaNode | None
    strategy: frozenset[str] = frozenset()
    merge_key: str | None = None

    @property
    def merges(self) -> bool:
        return "merge" in self.strategy

    def items(self) -> _Field:
        return _Field(schema=self.schema.items() if self.schema is not None else None)


def _field(parent: SchemaNode | None, key: str) -> _Field:
    if parent is None:
        return _Field(schema=None)
    child = parent.field(key)
    strategy = set(child.patch_strategy) if child is not None else set()
    merge_key = child.patch_merge_key if child is not None else None
    # SchemaNode drops the siblings of a $ref (spec.strategy's "retainKeys" sits next to one).
    raw = parent.properties.get(key)
    if isinstance(raw, Mapping):
        declared = raw.get("x-kubernetes-patch-strategy")
        if declared:
            strategy.update(part.strip() for part in str(declared).split(",") if part.strip())
        declared_key = raw.get("x-kubernetes-patch-merge-key")
        if merge_key is None and declared_key:
            merge_key = str(declared_key)
    return _Field(schema=child, strategy=frozenset(strategy), merge_key=merge_key)


def _strict(schema: SchemaNode | None) -> bool:
    """Whether an unknown ``$`` key here is a bad directive rather than data."""
    return schema is not None and not schema.preserves_unknown_fields


def _declared(schema: SchemaNode | None, key: str) -> bool:
    # JSONSchemaProps (inside CRDs) has real fields named "$ref" and "$schema".
    return schema is not None and key in schema.properties


def _where(path: _Path) -> str:
    return join_paths(path) or "<root>"


@dataclass(slots=True, kw_only=True)
class _MapPatch:
    """A map patch split into its directives and its ordinary fields."""

    patch_type: Any = ABSENT
    retain_keys: Any = ABSENT
    orders: dict[str, Any]
    deletions: dict[str, Any]
    fields: dict[str, Any]


def _directive_target(key: str, prefix: str, error: str) -> str:
    head, slash, target = key.partition("/")
    if head != prefix or not slash or not target:
        raise PatchError(error)
    return target


def _split(patch: Mapping[str, Any], schema: SchemaNode | None, path: _Path) -> _MapPatch:
    split = _MapPatch(orders={}, deletions={}, fields={})
    strict = _strict(schema)
    for key, value in patch.items():
        if not key.startswith("$") or _declared(schema, key):
            split.fields[key] = value
        elif key == PATCH:
            split.patch_type = value
        elif key == _RETAIN_KEYS:
            split.retain_keys = value
        elif key.startswith(SET_ORDER):
            error = "invalid patch format of setElementOrder list"
            split.orders[_directive_target(key, SET_ORDER, error)] = value
        elif key.startswith(_DELETE_FROM):
            error = "invalid patch format of primitive list"
            split.deletions[_directive_target(key, _DELETE_FROM, error)] = value
        elif strict:
            raise PatchError(
                f"{_where(path)}: unknown strategic merge patch directive {key!r} (supported: "
                "$patch, $retainKeys, $setElementOrder/<list>, $deleteFromPrimitiveList/<list>)"
            )
        else:
            split.fields[key] = value
    return split


def _merge_map(
    work: dict[str, Any], patch: Mapping[str, Any], schema: SchemaNode | None, path: _Path
) -> dict[str, Any] | Literal[Mark.GONE]:
    """Merge ``patch`` into ``work`` (a private copy, changed in place)."""
    split = _split(patch, schema, path)
    if split.patch_type is not ABSENT:
        if split.patch_type == "replace":
            rest = {k: v for k, v in patch.items() if k != PATCH}
            return _merge_map({}, rest, schema, path)
        if split.patch_type == "delete":
            return GONE
        raise PatchError(
            f"unknown patch type: {go_value(split.patch_type)} in map: {go_value(patch)}"
        )
    if split.retain_keys is not ABSENT:
        _retain_keys(work, split.retain_keys, split.fields)
    for target, order in split.orders.items():
        _set_element_order(work, target, order, split.fields, schema, path)
    for key, value in split.fields.items():
        if key in split.orders:
            continue  # merged together with its order directive
        if value is None:
            work.pop(key, None)
            continue
        merged = _merge_value(work.get(key, ABSENT), value, _field(schema, key), (*path, key))
        if merged is GONE:
            work.pop(key, None)
        else:
            work[key] = merged
    # kube-apiserver applies deletions after the lists' merge (and their $setElementOrder).
    for target, values in split.deletions.items():
        _delete_from_primitive_list(work, target, values, path)
    return work


def _retain_keys(work: dict[str, Any], retain: Any, fields: Mapping[str, Any]) -> None:
    if not isinstance(retain, list):
        raise PatchError("invalid patch format of retainKeys")
    for key, value in fields.items():
        if value is not None and key not in retain:
            raise PatchError("invalid patch format of retainKeys")
    for key in [k for k in work if k not in retain]:
        del work[key]


def _merge_value(current: Any, value: Any, field: _Field, path: _Path) -> Any:
    """The merge of one non-null patch value into the current value (or ``ABSENT``)."""
    if isinstance(value, Mapping):
        if isinstance(current, dict) and "replace" not in field.strategy:
            return _merge_map(current, value, field.schema, path)
        if not (current is ABSENT or current is None or isinstance(current, dict)):
            directives = [k for k in value if k.startswith("$") and not _declared(field.schema, k)]
            if directives:
                raise PatchError(
                    f"{_where(path)}: cannot apply {', '.join(directives)} to a "
                    f"{kind_name(current)} value"
                )
        return _merge_map({}, value, field.schema, path)
    if isinstance(value, list):
        if field.merges:
            base = current if isinstance(current, list) else []
            return _merge_list(base, value, field, path)
        return _fresh_list(value, field.items(), path)
    return value


def _fresh_list(items: Sequence[Any], item: _Field, path: _Path) -> list[Any]:
    """A replacing list, with directives and nulls inside its items processed away."""
    out: list[Any] = []
    for index, value in enumerate(items):
        where = (*path, f"[{index}]")
        if isinstance(value, Mapping):
            if PATCH in value and not _declared(item.schema, PATCH):
                _list_directive(value[PATCH], value)  # nothing to replace or delete here
                continue
            merged = _merge_map({}, value, item.schema, where)
            if merged is not GONE:
                out.append(merged)
        elif isinstance(value, list):
            out.append(_fresh_list(value, item.items(), where))
        else:
            out.append(value)
    return out


def _list_directive(directive: Any, item: Mapping[str, Any]) -> Literal["delete", "replace"]:
    if directive == "delete":
        return "delete"
    if directive == "replace":
        return "replace"
    if directive == "merge":
        raise PatchError("merging lists cannot yet be specified in the patch")
    raise PatchError(f"unknown patch type: {go_value(directive)} in map: {go_value(item)}")


# -- merging lists -----------------------------------------------------------------------------


def _merge_list(original: list[Any], patch: list[Any], field: _Field, path: _Path) -> list[Any]:
    if not original and not patch:
        return []
    if element_kind(original, patch) == "scalar":
        return _merge_scalars(original, patch)
    if field.merge_key is None:
        raise PatchError(f"cannot merge lists without merge key for {_where(path)}")
    return _merge_map_items(original, patch, field.merge_key, field.items(), path)


def _merge_scalars(original: list[Any], patch: list[Any]) -> list[Any]:
    union: list[Any] = []
    for value in (*original, *patch):
        if index_of(union, value, None) < 0:
            union.append(value)
    return order_by_patch(union, patch, original, None)


def _merge_map_items(
    original: list[Any], patch: list[Any], merge_key: str, item: _Field, path: _Path
) -> list[Any]:
    remaining = list(original)
    regular: list[Mapping[str, Any]] = []
    replace = False
    for value in patch:
        if PATCH not in value or _declared(item.schema, PATCH):
            regular.append(value)
        elif _list_directive(value[PATCH], value) == "replace":
            replace = True  # the other items still get checked for bad directives
        elif merge_key not in value:
            raise no_merge_key(value, merge_key)
        else:
            remaining = [x for x in remaining if not same(ident(x, merge_key), value[merge_key])]
    for value in regular:
        if merge_key not in value:
            raise no_merge_key(value, merge_key)
    if replace:
        return _fresh_list(regular, item, path)
    server_order = list(remaining)
    for value in regular:
        where = (*path, f"[{merge_key}={go_value(value[merge_key])}]")
        position = index_of(remaining, value, merge_key)
        base = remaining[position] if position >= 0 else {}
        merged = _merge_map(base, value, item.schema, where)
        if merged is GONE:  # not reachable: items carrying $patch were taken out above
            continue
        if position >= 0:
            remaining[position] = merged
        else:
            remaining.append(merged)
    for value in remaining:
        if not isinstance(value, Mapping) or merge_key not in value:
            raise no_merge_key(value, merge_key)
    return order_by_patch(remaining, regular, server_order, merge_key)


# -- list directives ---------------------------------------------------------------------------


def _set_element_order(
    work: dict[str, Any],
    target: str,
    order: Any,
    fields: Mapping[str, Any],
    schema: SchemaNode | None,
    path: _Path,
) -> None:
    """Merge list ``target`` with its patch list, then order it as ``$setElementOrder`` says.

    The directive only orders: it never adds or removes an item.
    """
    where = (*path, target)
    if not isinstance(order, list):
        raise PatchError("invalid patch format of setElementOrder list")
    field = _field(schema, target)
    current = work.get(target)
    if current is not None and not isinstance(current, list):
        raise PatchError(
            f"{_where(where)}: expected a list, but the object has a {kind_name(current)}"
        )
    has_patch = target in fields
    patch_list = fields.get(target)
    if has_patch and not isinstance(patch_list, list):
        raise PatchError(
            f"{_where(where)}: expected a list, but the patch has a {kind_name(patch_list)}"
        )
    check_order(patch_list or [], order, field.merge_key)
    if current is None and not has_patch:
        return
    live: list[Any] = current if current is not None else []
    merged: list[Any] = live
    if has_patch:
        merged = _merge_value(current if current is not None else ABSENT, patch_list, field, where)
    if field.merge_key is not None:
        for value in (*merged, *order):
            if not isinstance(value, Mapping) or field.merge_key not in value:
                raise no_merge_key(value, field.merge_key)
    elif any(isinstance(v, Mapping | list) for v in (*merged, *order)):
        work[target] = merged  # no identity for these items: keep the merged order
        return
    work[target] = order_by_patch(merged, order, live, field.merge_key)


def _delete_from_primitive_list(
    work: dict[str, Any], target: str, values: Any, path: _Path
) -> None:
    if not isinstance(values, list):
        raise PatchError("invalid patch format of primitive list")
    current = work.get(target)
    if not isinstance(current, list) or (not current and not values):
        return  # nothing to delete from, as kube-apiserver silently accepts
    if element_kind(current, values) != "scalar":
        raise PatchError(
            f"{_where((*path, target))}: {_DELETE_FROM}/{target} applies to lists of primitives"
        )
    work[target] = [v for v in current if not any(same(v, d) for d in values)]
