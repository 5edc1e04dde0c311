"""Schema-aware merge, comparison and pruning of objects, as structured-merge-diff does them.

Layer: pure (above ``fieldpath``, below ``apply``). These are the three value operations that
server-side apply and managedFields bookkeeping are built from:

* :func:`merge` combines the live object with an applied configuration (config values win;
  granular maps and structs merge; ``map`` lists merge by key and ``set`` lists by value, in
  SMD's item order; atomic lists and maps are replaced);
* :func:`compare` tells which paths were added, modified or removed between two objects;
* :func:`prune` removes what an applier stopped applying and nobody else owns;

and reading or editing the value at a field path of a plain object (:func:`get_at`,
:func:`with_value_at`, :func:`without_path`).

Results are fresh objects that share nothing with the inputs, which are never mutated. This
module knows nothing about managers, conflicts or managedFields, and does no I/O.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kfed_local.sim.errors import PatchError
from kfed_local.sim.fieldpath import (
    FieldSet,
    FieldSetBuilder,
    child_schema,
    item_element,
    list_elements,
    shape_of,
)
from kfed_local.sim.fieldpath_elements import (
    Path,
    PathElement,
    PathLike,
    as_path,
    json_equal,
    path_string,
)
from kfed_local.sim.schema import SchemaNode

_ABSENT: Any = object()


# -- merge ----------------------------------------------------------------------------------------


def merge(live: Any, config: Any, schema: SchemaNode | None, path: Path = ()) -> Any:
    """``config`` merged onto ``live`` (for a create, ``live`` is ``{}``).

    Raises :class:`PatchError` when a keyed list of the config that meets a live list has an
    item without its keys or a repeated item (callers validate the whole config first with
    :meth:`FieldSet.from_object`).
    """
    live_shape = shape_of(live, schema)
    config_shape = shape_of(config, schema)
    if live_shape == "map" and config_shape == "map":
        out: dict[str, Any] = {}
        for key, value in live.items():
            if key in config:
                sub_schema, _ = child_schema(schema, key)
                out[key] = merge(value, config[key], sub_schema, (*path, PathElement.field(key)))
            else:
                out[key] = copy.deepcopy(value)
        for key, value in config.items():
            if key not in live:
                out[key] = copy.deepcopy(value)
        return out
    if live_shape == "list" and config_shape == "list":
        assert schema is not None
        return _merge_list(live, config, schema, path)
    if config is None and live_shape in ("map", "list") and live:
        return copy.deepcopy(live)  # SMD reads a null granular map or list as "nothing to merge"
    return copy.deepcopy(config)


def _lenient_elements(
    items: Sequence[Any], schema: SchemaNode, path: Path
) -> list[PathElement | None]:
    out: list[PathElement | None] = []
    for position, item in enumerate(items):
        try:
            out.append(item_element(item, position, schema, path))
        except PatchError:
            out.append(None)  # a live item we cannot name is kept in place, never matched
    return out


def _merge_list(live: list[Any], config: list[Any], schema: SchemaNode, path: Path) -> list[Any]:
    applied = list_elements(config, schema, path, allow_duplicates=False)
    config_pes = [pe for pe, _ in applied]
    config_items = dict(applied)
    live_pes = _lenient_elements(live, schema, path)
    live_count: dict[PathElement, int] = {}
    live_items: dict[PathElement, Any] = {}
    for pe, item in zip(live_pes, live, strict=True):
        if pe is not None:
            live_count[pe] = live_count.get(pe, 0) + 1
            live_items.setdefault(pe, item)
    item_schema = schema.items()

    def merged_item(pe: PathElement) -> Any:
        # An item repeated in the live list is replaced as a whole by the applied one.
        base = live_items[pe] if live_count.get(pe) == 1 else None
        if base is None:
            return copy.deepcopy(config_items[pe])
        return merge(base, config_items[pe], item_schema, (*path, pe))

    # Shared items follow the config's order; live-only items keep their place relative to them.
    shared = [pe for pe in config_pes if pe in live_count]
    next_shared = 0
    emitted: set[PathElement] = set()
    out: list[Any] = []
    li = ri = 0
    while li < len(live) or ri < len(config_pes):
        if li < len(live) and ri < len(config_pes):
            lpe = live_pes[li]
            if lpe is not None and lpe == config_pes[ri]:
                out.append(merged_item(lpe))
                emitted.add(lpe)
                li, ri, next_shared = li + 1, ri + 1, next_shared + 1
                continue
            expected = shared[next_shared] if next_shared < len(shared) else None
            if lpe in config_items and expected is not None and expected != lpe:
                li += 1  # a shared item the config places later: emitted when we get there
                continue
        if li < len(live):
            lpe = live_pes[li]
            if lpe is None or lpe not in config_items:
                out.append(copy.deepcopy(live[li]))
                li += 1
                continue
            if lpe in emitted:
                li += 1
                continue
        if ri < len(config_pes):
            rpe = config_pes[ri]
            out.append(merged_item(rpe))
            emitted.add(rpe)
            ri += 1
            if next_shared < len(shared) and shared[next_shared] == rpe:
                next_shared += 1
    return out


# -- compare --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Comparison:
    """The paths that differ between two objects (SMD ``typed.Comparison``)."""

    added: FieldSet
    modified: FieldSet
    removed: FieldSet

    @property
    def changed(self) -> FieldSet:
        """Added or modified paths: what a writer takes ownership of."""
        return self.added.union(self.modified)

    def without(self, ignored: FieldSet) -> Comparison:
        """This comparison without paths at or below the members of ``ignored``."""
        return Comparison(
            added=self.added.recursive_difference(ignored),
            modified=self.modified.recursive_difference(ignored),
            removed=self.removed.recursive_difference(ignored),
        )


@dataclass(slots=True)
class _Builders:
    """The three sets a comparison fills while it walks."""

    added: FieldSetBuilder
    modified: FieldSetBuilder
    removed: FieldSetBuilder


def compare(old: Any, new: Any, schema: SchemaNode | None) -> Comparison:
    """Which paths ``new`` adds, modifies (leaf values) and removes relative to ``old``.

    Added and removed sets hold every path of a new or vanished subtree, intermediate structs
    included; modified holds leaves (scalars, atomic values, empty containers) whose value
    differs. Keyed-list items that cannot be named are ignored, repeats count once.
    """
    tries = _Builders(FieldSetBuilder(), FieldSetBuilder(), FieldSetBuilder())
    _compare(old, new, schema, (), tries)
    return Comparison(
        added=tries.added.freeze(), modified=tries.modified.freeze(), removed=tries.removed.freeze()
    )


def _container_shape(value: Any, other: Any, schema: SchemaNode | None) -> str:
    # A null on one side reads as an empty container of the other side's shape.
    shape = shape_of(value, schema)
    if value is None and other is not None:
        other_shape = shape_of(other, schema)
        if other_shape != "leaf":
            return other_shape
    return shape


def _is_empty(value: Any) -> bool:
    return value is None or value == {} or value == []


def _compare(old: Any, new: Any, schema: SchemaNode | None, path: Path, out: _Builders) -> None:
    if old is _ABSENT or new is _ABSENT:
        present, target = (new, out.added) if old is _ABSENT else (old, out.removed)
        shape = shape_of(present, schema)
        if shape != "leaf" and present:
            _descend(old, new, shape, schema, path, out)  # every path below is new (or gone) too
        target.insert(path)
        return
    old_shape = _container_shape(old, new, schema)
    new_shape = _container_shape(new, old, schema)
    if old_shape == new_shape != "leaf" and not (_is_empty(old) and _is_empty(new)):
        _descend(old, new, old_shape, schema, path, out)
        return
    if not json_equal(old, new):
        out.modified.insert(path)


def _descend(
    old: Any, new: Any, shape: str, schema: SchemaNode | None, path: Path, out: _Builders
) -> None:
    if shape == "map":
        old_map = old if isinstance(old, dict) else {}
        new_map = new if isinstance(new, dict) else {}
        for key in {**old_map, **new_map}:
            sub_schema, _ = child_schema(schema, key)
            _compare(
                old_map.get(key, _ABSENT),
                new_map.get(key, _ABSENT),
                sub_schema,
                (*path, PathElement.field(key)),
                out,
            )
        return
    assert schema is not None
    item_schema = schema.items()
    old_items = _keyed(old if isinstance(old, list) else [], schema, path)
    new_items = _keyed(new if isinstance(new, list) else [], schema, path)
    for pe in {**old_items, **new_items}:
        _compare(
            old_items.get(pe, _ABSENT), new_items.get(pe, _ABSENT), item_schema, (*path, pe), out
        )


def _keyed(items: list[Any], schema: SchemaNode, path: Path) -> dict[PathElement, Any]:
    out: dict[PathElement, Any] = {}
    for pe, item in zip(_lenient_elements(items, schema, path), items, strict=True):
        if pe is not None:
            out.setdefault(pe, item)
    return out


# -- prune ----------------------------------------------------------------------------------------


def prune(merged: Any, last_applied: FieldSet, owned: FieldSet, schema: SchemaNode | None) -> Any:
    """``merged`` without what the applier applied last time, does not apply now, and nobody owns.

    ``owned`` is the union of every manager's set after this apply, the applier's new one
    included. As SMD does, a struct field counts as applied or owned when anything below it is
    (map keys and list items do not), a removed subtree goes whole, and a map or list emptied by
    removals disappears. Returns a fresh object.
    """
    result, _ = _prune(copy.deepcopy(merged), schema, last_applied, owned, False, False)
    return result


def _prune(
    value: Any,
    schema: SchemaNode | None,
    last: FieldSet,
    owned: FieldSet,
    under_last: bool,
    dropped: bool,
) -> tuple[Any, bool]:
    """Prune ``value`` (a private copy, changed in place); returns it and whether it lost any."""
    shape = shape_of(value, schema)
    removed_any = False
    if shape == "map":
        for key in list(value):
            pe = PathElement.field(key)
            sub_schema, declared = child_schema(schema, key)
            if _step(value, key, pe, declared, sub_schema, last, owned, under_last, dropped):
                removed_any = True
        return value, removed_any
    if shape == "list":
        assert schema is not None
        item_schema = schema.items()
        kept: list[Any] = []
        for item_pe, item in zip(_lenient_elements(value, schema, ()), value, strict=True):
            if item_pe is None:
                kept.append(item)
                continue
            holder = [item]
            if _step(holder, 0, item_pe, False, item_schema, last, owned, under_last, dropped):
                removed_any = True
            kept.extend(holder)
        return kept, removed_any
    return value, False


def _step(
    container: Any,
    where: Any,
    pe: PathElement,
    named: bool,
    schema: SchemaNode | None,
    last: FieldSet,
    owned: FieldSet,
    under_last: bool,
    dropped: bool,
) -> bool:
    """Prune one entry of ``container``; True when something was removed."""
    last_child, owned_child = last.child(pe), owned.child(pe)
    in_last = last.has_member(pe) or (named and not last_child.is_empty)
    in_owned = owned.has_member(pe) or (named and not owned_child.is_empty)
    below_last = under_last or in_last
    gone = dropped or (below_last and not in_owned)
    if gone and in_last:
        del container[where]
        return True
    if last_child.is_empty and not gone:
        return False  # nothing below was applied last time: nothing to remove
    new_value, removed = _prune(container[where], schema, last_child, owned_child, below_last, gone)
    if removed and (new_value == {} or new_value == []):
        # SMD leaves null where removals emptied a map or list; Go decoding then drops it.
        del container[where]
    else:
        container[where] = new_value
    return removed


def drop_applied_nulls(merged: Any, config: Any, schema: SchemaNode | None) -> Any:
    """``merged`` without the null values the config set (Go decoding reads them as unset)."""
    result = copy.deepcopy(merged)
    _drop_nulls(result, config, schema)
    return result


def _drop_nulls(merged: Any, config: Any, schema: SchemaNode | None) -> None:
    if isinstance(merged, dict) and isinstance(config, dict):
        for key, value in config.items():
            if key not in merged:
                continue
            if value is None and merged[key] is None:
                del merged[key]
            else:
                _drop_nulls(merged[key], value, child_schema(schema, key)[0])
    elif (
        isinstance(merged, list) and isinstance(config, list) and shape_of(config, schema) == "list"
    ):
        assert schema is not None
        live = _keyed(merged, schema, ())
        for pe, item in _keyed(config, schema, ()).items():
            if pe in live:
                _drop_nulls(live[pe], item, schema.items())


# -- values at a path -----------------------------------------------------------------------------


def _matches(item: Any, pe: PathElement) -> bool:
    if pe.kind == "v":
        return json_equal(item, pe.decoded())
    if pe.kind == "k" and isinstance(item, dict):
        return all(name in item and json_equal(item[name], v) for name, v in pe.decoded().items())
    return False


def _find(container: Any, pe: PathElement) -> tuple[bool, Any]:
    """``(found, key_or_index)`` of ``pe`` in a dict or list."""
    if pe.kind == "f":
        return (isinstance(container, dict) and pe.text in container), pe.text
    if not isinstance(container, list):
        return False, None
    if pe.kind == "i":
        position = int(pe.text)
        return position < len(container), position
    for position, item in enumerate(container):
        if _matches(item, pe):
            return True, position
    return False, None


_MISSING: Any = object()


def get_at(obj: Any, path: PathLike, default: Any = _MISSING) -> Any:
    """The value at ``path`` (key fields matched as present in the items); KeyError if absent."""
    node = obj
    for pe in as_path(path):
        found, where = _find(node, pe)
        if not found:
            if default is _MISSING:
                raise KeyError(path_string(as_path(path)))
            return default
        node = node[where]
    return node


def with_value_at(obj: Mapping[str, Any], path: PathLike, value: Any) -> dict[str, Any]:
    """A copy of ``obj`` with ``value`` at ``path``; missing maps and keyed items are created."""
    parts = as_path(path)
    if not parts:
        raise ValueError("cannot replace the whole object through a path")
    result: dict[str, Any] = _set(dict(obj), parts, value)
    return result


def _set(container: Any, parts: Path, value: Any) -> Any:
    pe, rest = parts[0], parts[1:]
    found, where = _find(container, pe)
    if not found:
        if pe.kind == "f":
            where = pe.text
            container[where] = {}
        elif pe.kind in ("k", "v"):
            container.append(dict(pe.decoded()) if pe.kind == "k" else pe.decoded())
            where = len(container) - 1
        else:
            raise KeyError(f"index {pe.text} out of range")
    if not rest:
        container[where] = value
        return container
    current = container[where]
    if not isinstance(current, dict | list):
        current = {}  # a scalar on the way is replaced by the map the path goes through
    container[where] = _set(_shallow(current), rest, value)
    return container


def _shallow(value: dict[str, Any] | list[Any]) -> dict[str, Any] | list[Any]:
    # Copy-on-write along the path: siblings stay shared with the caller's (unchanged) object.
    return dict(value) if isinstance(value, dict) else list(value)


def without_path(obj: Mapping[str, Any], path: PathLike) -> dict[str, Any]:
    """A copy of ``obj`` without the value at ``path`` (unchanged if there is none)."""
    parts = as_path(path)
    if not parts:
        return {}
    result: dict[str, Any] = _delete(dict(obj), parts)
    return result


def _delete(container: Any, parts: Path) -> Any:
    found, where = _find(container, parts[0])
    if not found:
        return container
    if len(parts) == 1:
        del container[where]
        return container
    current = container[where]
    if isinstance(current, dict | list):
        container[where] = _delete(_shallow(current), parts[1:])
    return container
