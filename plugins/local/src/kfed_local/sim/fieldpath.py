"""Field sets of server-side apply, in the ``fieldsV1`` form of ``managedFields``.

Layer: pure (just above :mod:`fieldpath_elements` and ``schema``; below ``typedmerge``,
``managedfields`` and ``apply``). A :class:`FieldSet` is the immutable set of paths that one
manager owns; this module parses and writes the ``fieldsV1`` encoding exactly as kube-apiserver
does (element order, ``.`` member markers), and computes the set of fields an applied
configuration sets (:meth:`FieldSet.from_object`), with the schema questions that needs (how a
value is shaped, how a list item is named). Path elements themselves are in
:mod:`kfed_local.sim.fieldpath_elements`. It knows nothing of managers, conflicts or merging
(``apply`` and ``typedmerge`` do that), does no I/O and never mutates its inputs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Literal

from kfed_local.sim.errors import PatchError
from kfed_local.sim.fieldpath_elements import (
    FieldsV1Error,
    Path,
    PathElement,
    PathLike,
    as_path,
    path_string,
)
from kfed_local.sim.schema import SchemaNode

# Key fields that the real schemas default (SMD reads ``default`` from the OpenAPI v3 documents,
# which the JSON-schema copy we load lacks): without them ``ports: [{containerPort: 80}]`` could
# not be named ``k:{"containerPort":80,"protocol":"TCP"}`` as kube-apiserver names it.
_KEY_DEFAULTS: Mapping[str, Mapping[str, Any]] = {
    "io.k8s.api.core.v1.ContainerPort": {"protocol": "TCP"},
    "io.k8s.api.core.v1.ServicePort": {"protocol": "TCP"},
}


def _sorted(elements: Iterable[PathElement]) -> list[PathElement]:
    return sorted(elements, key=PathElement.sort_key)


class FieldSetBuilder:
    """Mutable builder of a :class:`FieldSet`: insert paths, then :meth:`freeze`."""

    __slots__ = ("children", "members")

    def __init__(self) -> None:
        self.members: set[PathElement] = set()
        self.children: dict[PathElement, FieldSetBuilder] = {}

    def insert(self, path: Path) -> None:
        if not path:
            return  # the root is never a member
        node = self
        for pe in path[:-1]:
            node = node.children.setdefault(pe, FieldSetBuilder())
        node.members.add(path[-1])

    def freeze(self) -> FieldSet:
        children = {pe: child.freeze() for pe, child in self.children.items()}
        return FieldSet._make(frozenset(self.members), children)


class FieldSet:
    """An immutable set of field paths, stored as a trie like SMD's ``fieldpath.Set``.

    A path is a member when its last element is in the member set of the node its parent path
    leads to; children exist only to reach deeper members.
    """

    __slots__ = ("_children", "_hash", "_members")

    _members: frozenset[PathElement]
    _children: Mapping[PathElement, FieldSet]
    _hash: int | None

    def __init__(self) -> None:
        self._members = frozenset()
        self._children = {}
        self._hash = None

    @classmethod
    def _make(
        cls, members: frozenset[PathElement], children: Mapping[PathElement, FieldSet]
    ) -> FieldSet:
        out = cls()
        out._members = members
        out._children = {pe: child for pe, child in children.items() if not child.is_empty}
        return out

    # -- construction --------------------------------------------------------------------------

    @classmethod
    def from_paths(cls, paths: Iterable[PathLike]) -> FieldSet:
        """The set of the given paths."""
        trie = FieldSetBuilder()
        for path in paths:
            trie.insert(as_path(path))
        return trie.freeze()

    @classmethod
    def of(cls, *paths: PathLike) -> FieldSet:
        """Shorthand: ``FieldSet.of(("f:spec", "f:replicas"))``."""
        return cls.from_paths(paths)

    @classmethod
    def from_fields_v1(cls, doc: Mapping[str, Any]) -> FieldSet:
        """Parse a ``fieldsV1`` mapping; raises :class:`FieldsV1Error` when malformed."""
        if not isinstance(doc, Mapping):
            raise FieldsV1Error("fieldsV1 must be a JSON object")
        members: set[PathElement] = set()
        children: dict[PathElement, FieldSet] = {}
        for encoded, sub in doc.items():
            if encoded == ".":
                continue  # handled by the caller: it marks the parent path itself
            if not isinstance(sub, Mapping):
                raise FieldsV1Error(f"value of {encoded!r} must be a JSON object")
            pe = PathElement.parse(encoded)
            if not sub or "." in sub:
                members.add(pe)
            if any(k != "." for k in sub):
                children[pe] = cls.from_fields_v1(sub)
        return cls._make(frozenset(members), children)

    @classmethod
    def from_object(
        cls, obj: Mapping[str, Any], schema: SchemaNode | None, *, allow_duplicates: bool = False
    ) -> FieldSet:
        """The fields an object sets, as SMD's ``ToFieldSet`` computes them for an applied config.

        Scalars, atomic lists and atomic maps are leaves; granular maps and structs recurse, and
        their entries that are null or empty maps, or are map keys rather than declared struct
        fields, are members themselves; items of ``set`` and ``map`` lists are members (the
        ``.`` marker of ``k:{...}``). Raises :class:`PatchError` for a ``map`` list item without
        its key fields, or (unless ``allow_duplicates``) for repeated items.
        """
        trie = FieldSetBuilder()
        _collect(obj, schema, (), trie, allow_duplicates)
        return trie.freeze()

    # -- encoding ------------------------------------------------------------------------------

    def to_fields_v1(self) -> dict[str, Any]:
        """The ``fieldsV1`` mapping, keys in the order kube-apiserver writes them."""
        out: dict[str, Any] = {}
        for pe in _sorted(self._members | self._children.keys()):
            child = self._children.get(pe)
            if child is None:
                out[pe.encode()] = {}
                continue
            node: dict[str, Any] = {".": {}} if pe in self._members else {}
            node.update(child.to_fields_v1())
            out[pe.encode()] = node
        return out

    # -- queries -------------------------------------------------------------------------------

    @property
    def is_empty(self) -> bool:
        """True when the set has no member path."""
        return not self._members and not self._children

    def __contains__(self, path: object) -> bool:
        if not isinstance(path, Sequence) or isinstance(path, str) or not path:
            return False
        node = self._node(as_path(path)[:-1])
        return node is not None and as_path(path)[-1] in node._members

    def _node(self, prefix: Path) -> FieldSet | None:
        node: FieldSet | None = self
        for pe in prefix:
            if node is None:
                return None
            node = node._children.get(pe)
        return node

    def child(self, pe: PathElement | str) -> FieldSet:
        """The paths below ``pe``, relative to it (SMD ``WithPrefix``)."""
        element = pe if isinstance(pe, PathElement) else PathElement.parse(pe)
        return self._children.get(element, EMPTY_FIELD_SET)

    def has_member(self, pe: PathElement) -> bool:
        """True when the one-element path ``(pe,)`` is a member."""
        return pe in self._members

    def has_under(self, path: PathLike) -> bool:
        """True when ``path`` is a member or some member lies below it."""
        parts = as_path(path)
        if not parts:
            return not self.is_empty
        parent = self._node(parts[:-1])
        if parent is None:
            return False
        return parts[-1] in parent._members or parts[-1] in parent._children

    def paths(self) -> Iterator[Path]:
        """Every member path, in SMD's iteration order (members of a level, then its children)."""
        yield from self._iterate(())

    def _iterate(self, prefix: Path) -> Iterator[Path]:
        for pe in _sorted(self._members):
            yield (*prefix, pe)
        for pe in _sorted(self._children):
            yield from self._children[pe]._iterate((*prefix, pe))

    def leaves(self) -> Iterator[Path]:
        """Member paths with no member below them (what a manager owns at the deepest level)."""
        for path in self.paths():
            node = self._node(path)
            if node is None or node.is_empty:
                yield path

    def __iter__(self) -> Iterator[Path]:
        return self.paths()

    def __len__(self) -> int:
        return len(self._members) + sum(len(c) for c in self._children.values())

    # -- algebra -------------------------------------------------------------------------------

    def union(self, other: FieldSet) -> FieldSet:
        """Paths in either set."""
        if other.is_empty:
            return self
        if self.is_empty:
            return other
        children = dict(self._children)
        for pe, sub in other._children.items():
            children[pe] = children[pe].union(sub) if pe in children else sub
        return FieldSet._make(self._members | other._members, children)

    def intersection(self, other: FieldSet) -> FieldSet:
        """Paths in both sets."""
        children = {
            pe: sub.intersection(other._children[pe])
            for pe, sub in self._children.items()
            if pe in other._children
        }
        return FieldSet._make(self._members & other._members, children)

    def difference(self, other: FieldSet) -> FieldSet:
        """Paths in this set and not in ``other`` (descendants of removed paths stay)."""
        if other.is_empty or self.is_empty:
            return self
        children = {
            pe: sub.difference(other._children[pe]) if pe in other._children else sub
            for pe, sub in self._children.items()
        }
        return FieldSet._make(self._members - other._members, children)

    def recursive_difference(self, other: FieldSet) -> FieldSet:
        """Paths of this set that neither are in ``other`` nor lie below a member of ``other``."""
        if other.is_empty or self.is_empty:
            return self
        children: dict[PathElement, FieldSet] = {}
        for pe, sub in self._children.items():
            if pe in other._members:
                continue
            children[pe] = (
                sub.recursive_difference(other._children[pe]) if pe in other._children else sub
            )
        return FieldSet._make(self._members - other._members, children)

    # -- identity ------------------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FieldSet):
            return NotImplemented
        return self._members == other._members and self._children == other._children

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash((self._members, frozenset(self._children.items())))
        return self._hash

    def __repr__(self) -> str:
        return f"FieldSet({[path_string(p) for p in self.paths()]!r})"


EMPTY_FIELD_SET = FieldSet()
"""The empty set (shared: sets are immutable)."""


# -- typed-value shape ----------------------------------------------------------------------------

Shape = Literal["leaf", "map", "list"]


def shape_of(value: Any, schema: SchemaNode | None) -> Shape:
    """How SMD treats ``value`` under ``schema``: a leaf, a granular map/struct, or a keyed list.

    Without a schema (or where the schema allows anything) maps are granular and lists atomic.
    """
    if schema is None or schema.value_type == "any":
        return "map" if isinstance(value, dict) else "leaf"
    if isinstance(value, dict):
        granular = schema.map_type != "atomic" and schema.value_type == "object"
        return "map" if granular else "leaf"
    if isinstance(value, list) and schema.value_type == "array" and schema.list_type != "atomic":
        return "list"
    return "leaf"


def child_schema(schema: SchemaNode | None, key: str) -> tuple[SchemaNode | None, bool]:
    """The schema of entry ``key`` of a map/struct, and whether ``key`` is a declared field."""
    if schema is None:
        return None, False
    return schema.field(key), key in schema.properties


def item_element(item: Any, position: int, list_schema: SchemaNode, where: Path) -> PathElement:
    """The element naming an item of a ``set`` or ``map`` list (else :class:`PatchError`)."""
    keys = list_schema.list_map_keys if list_schema.list_type == "map" else ()
    if not keys:
        if isinstance(item, dict | list):
            raise PatchError(
                f"{path_string(where)}: element {position}: associative list without keys has "
                "an element that's a map type"
            )
        return PathElement.value(item)
    if not isinstance(item, dict):
        raise PatchError(
            f"{path_string(where)}: element {position}: associative list with keys has an "
            "element that is not a map"
        )
    item_schema = list_schema.items()
    defaults = _key_defaults(item_schema)
    fields: dict[str, Any] = {}
    for name in keys:
        if name in item and item[name] is not None:
            fields[name] = item[name]
        elif name in defaults:
            fields[name] = defaults[name]
        else:
            raise PatchError(
                f"{path_string(where)}: element {position}: associative list with keys has an "
                f'element that omits key field "{name}" (and doesn\'t have default value)'
            )
        if isinstance(fields[name], dict | list):
            raise PatchError(
                f"{path_string(where)}: element {position}: key field {name!r} must be a scalar"
            )
    return PathElement.key(fields)


def _key_defaults(item_schema: SchemaNode | None) -> Mapping[str, Any]:
    if item_schema is None:
        return {}
    defaults = dict(_KEY_DEFAULTS.get(item_schema.ref or "", {}))
    for name, raw in item_schema.properties.items():
        if isinstance(raw, Mapping) and "default" in raw:
            defaults[name] = raw["default"]
    return defaults


def list_elements(
    items: Sequence[Any], list_schema: SchemaNode, where: Path, *, allow_duplicates: bool
) -> list[tuple[PathElement, Any]]:
    """``(element, item)`` for each item of a keyed list; repeats are errors or dropped."""
    seen: set[PathElement] = set()
    out: list[tuple[PathElement, Any]] = []
    for position, item in enumerate(items):
        pe = item_element(item, position, list_schema, where)
        if pe in seen:
            if allow_duplicates:
                continue
            what = "key" if pe.kind == "k" else "value"
            raise PatchError(
                f"{path_string(where)}: duplicate entries for {what} {pe.human()[1:-1]}"
            )
        seen.add(pe)
        out.append((pe, item))
    return out


def _collect(
    value: Any, schema: SchemaNode | None, path: Path, trie: FieldSetBuilder, allow_duplicates: bool
) -> None:
    shape = shape_of(value, schema)
    if shape == "leaf":
        trie.insert(path)
    elif shape == "map":
        for key, sub in value.items():
            sub_schema, declared = child_schema(schema, key)
            sub_path = (*path, PathElement.field(key))
            _collect(sub, sub_schema, sub_path, trie, allow_duplicates)
            if sub is None or sub == {} or not declared:
                trie.insert(sub_path)
    else:
        assert schema is not None
        item_schema = schema.items()
        for pe, item in list_elements(value, schema, path, allow_duplicates=allow_duplicates):
            sub_path = (*path, pe)
            _collect(item, item_schema, sub_path, trie, allow_duplicates)
            trie.insert(sub_path)
