"""Strategic merge patch, list side: item identity, the order of merged lists, Go formatting.

Layer: pure (below :mod:`kfed_local.sim.strategic`, which merges with these helpers; above
``errors``). When kube-apiserver merges a list it names items by their merge key (or, in lists of
primitives, by value, with Go's notion of equality: ``"80"`` is not ``80``), then orders the
result: items the patch or its ``$setElementOrder/<list>`` directive names follow that order and
live-only items are woven in where they stood. This module holds that identity and ordering,
the check that a patch list agrees with its ``$setElementOrder`` list, the markers shared with
the merge (``GONE``/``ABSENT``, the ``$patch`` directive name) and the Go ``%v`` formatting of
values that kube-apiserver's patch errors quote.

It merges nothing itself (applying ``$setElementOrder`` needs the merge, so that stays in
``strategic``), never mutates its inputs and does no I/O or logging.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, Literal

from kfed_local.sim.errors import PatchError

PATCH: Final = "$patch"
SET_ORDER: Final = "$setElementOrder"


class Mark(enum.Enum):
    """GONE: what a value deleted by ``$patch: delete`` merges to; ABSENT: a missing key."""

    GONE = enum.auto()
    ABSENT = enum.auto()


GONE: Final = Mark.GONE
ABSENT: Final = Mark.ABSENT


# -- identity of list items -----------------------------------------------------------------


def _category(value: Any) -> str:
    """Go's dynamic type of a decoded JSON value (integral numbers decode as int64)."""
    if isinstance(value, Mapping):
        return "map"
    if isinstance(value, list):
        return "slice"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return "int64"
    if isinstance(value, float):
        return "float64"
    if value is None:
        return "nil"
    return "string"


def element_kind(original: Sequence[Any], patch: Sequence[Any]) -> Literal["map", "scalar"]:
    """Whether two lists hold maps or scalars; lists of lists and mixed lists are errors."""
    categories = {_category(v) for v in (*original, *patch)}
    if "slice" in categories:
        raise PatchError("lists of lists are not supported")
    if len(categories) > 1:
        raise PatchError(f"list element types are not identical: {go_value([original, patch])}")
    return "map" if categories == {"map"} else "scalar"


def same(left: Any, right: Any) -> bool:
    """Go interface equality: ``"80"`` is not ``80`` and ``true`` is not ``1``."""
    return _category(left) == _category(right) and left == right


def ident(value: Any, merge_key: str | None) -> Any:
    """What names a list item: its merge-key value (``ABSENT`` without one), or the value."""
    if merge_key is None:
        return value
    if isinstance(value, Mapping):
        return value.get(merge_key, ABSENT)
    return ABSENT


def index_of(items: Sequence[Any], value: Any, merge_key: str | None) -> int:
    """Position of the item whose identity is ``value``'s, or -1."""
    wanted = ident(value, merge_key)
    if wanted is ABSENT:
        return -1
    for position, item in enumerate(items):
        if same(ident(item, merge_key), wanted):
            return position
    return -1


def no_merge_key(item: Any, merge_key: str) -> PatchError:
    """kube-apiserver's error for an item of a merging list that lacks the merge key."""
    return PatchError(f"map: {go_value(item)} does not contain declared merge key: {merge_key}")


# -- ordering ----------------------------------------------------------------------------------


def order_by_patch(
    merged: list[Any], order: Sequence[Any], server_order: Sequence[Any], merge_key: str | None
) -> list[Any]:
    """kube-apiserver's order for a merged list.

    Items named in ``order`` (the patch list or ``$setElementOrder``) follow that order; the
    others keep their order in ``server_order`` (the live list) and are woven in: a live-only
    item goes before a patch item only if it came first in the live list. Hence an item new to
    the list lands before the live-only items that follow it, as with the real API server.
    """
    named = [v for v in merged if index_of(order, v, merge_key) >= 0]
    named.sort(key=lambda v: index_of(order, v, merge_key))
    unnamed = [v for v in merged if index_of(order, v, merge_key) < 0]
    unnamed.sort(key=lambda v: _position(server_order, v, merge_key))

    def before(live: Any, patched: Any) -> bool:
        # Only when both are in the live list; a new patch item goes first.
        left, right = (
            index_of(server_order, live, merge_key),
            index_of(server_order, patched, merge_key),
        )
        return 0 <= left < right

    return _weave(unnamed, named, before)


def _position(items: Sequence[Any], value: Any, merge_key: str | None) -> int:
    found = index_of(items, value, merge_key)
    return found if found >= 0 else len(items)


def _weave(left: list[Any], right: list[Any], before: Callable[[Any, Any], bool]) -> list[Any]:
    out: list[Any] = []
    i = j = 0
    while i < len(left) or j < len(right):
        if j >= len(right) or (i < len(left) and before(left[i], right[j])):
            out.append(left[i])
            i += 1
        else:
            out.append(right[j])
            j += 1
    return out


def check_order(patch_list: Sequence[Any], order: Sequence[Any], merge_key: str | None) -> None:
    """The patch list's items must appear in ``$setElementOrder`` in the same relative order."""
    if not patch_list or not order:
        return
    kept = [
        v
        for v in patch_list
        if not (isinstance(v, Mapping) and v.get(PATCH) == "delete" and merge_key is not None)
    ]
    p = o = 0
    while p < len(kept) and o < len(order):
        value = kept[p]
        if isinstance(value, Mapping) and PATCH in value:
            p += 1
            continue
        if merge_key is not None:
            for item in (value, order[o]):
                if not isinstance(item, Mapping) or merge_key not in item:
                    raise no_merge_key(item, merge_key)
        if same(ident(value, merge_key), ident(order[o], merge_key)):
            p += 1
        o += 1
    if p < len(kept):
        raise PatchError(
            f"the order in patch list:\n{go_value(patch_list)}\n doesn't match "
            f"{SET_ORDER} list:\n{go_value(order)}"
        )


# -- Go-style formatting of values in error messages ------------------------------------------


def kind_name(value: Any) -> str:
    """The JSON kind of a value as patch errors name it (``list``, ``number``, ``null``...)."""
    category = _category(value)
    return {"slice": "list", "nil": "null", "int64": "number", "float64": "number"}.get(
        category, category
    )


def go_value(value: Any) -> str:
    """``fmt.Sprintf("%v")`` of a decoded JSON value, as kube-apiserver's messages show it."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        inner = " ".join(f"{k}:{go_value(value[k])}" for k in sorted(value, key=str))
        return f"map[{inner}]"
    if isinstance(value, list | tuple):
        return "[" + " ".join(go_value(v) for v in value) + "]"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
