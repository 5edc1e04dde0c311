"""Path elements and field paths of server-side apply, as ``fieldsV1`` spells them.

Layer: pure (the bottom of ``kfed_local.sim``'s apply stack: :mod:`fieldpath`, ``typedmerge``,
``managedfields`` and ``apply`` build on it). A :class:`PathElement` is one step of a field path:
``f:<name>`` a struct field or map key, ``k:<json>`` the item of a ``map`` list named by its key
fields, ``v:<json>`` the item of a ``set`` list, ``i:<n>`` a positional item (rare). This module
parses and writes those elements exactly as kube-apiserver does (key JSON as Go's encoder writes
it, SMD's order of elements), prints paths the way conflict messages show them
(``.spec.containers[name="nginx"].image``) and compares JSON values as JSON, not as Python.

It knows nothing of field sets, schemas, managers or merging, does no I/O and never mutates its
inputs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

ElementKind = Literal["f", "k", "v", "i"]
_KIND_RANK: Mapping[str, int] = {"f": 0, "k": 1, "v": 2, "i": 3}


class FieldsV1Error(ValueError):
    """A ``fieldsV1`` document or path element string that does not parse."""


def go_json(value: Any) -> str:
    """Compact JSON as Go's encoder writes it (sorted keys, HTML characters escaped)."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    # These characters only occur inside JSON strings, so a textual replace is safe.
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escaped)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def json_equal(a: Any, b: Any) -> bool:
    """Equality of JSON values: ``true`` is not ``1`` (unlike Python's ``==``); ``1`` is ``1.0``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and bool(a == b)


def _value_rank(value: Any) -> tuple[Any, ...]:
    # SMD's total order of values: numbers < strings < booleans < lists < maps < null.
    if isinstance(value, bool):
        return (2, value)
    if isinstance(value, int | float):
        return (0, float(value))
    if isinstance(value, str):
        return (1, value)
    if isinstance(value, list):
        return (3, tuple(_value_rank(v) for v in value))
    if isinstance(value, dict):
        return (4, tuple((k, _value_rank(value[k])) for k in sorted(value)))
    return (5,)


def _go_string(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return str(value)
    return go_json(value)


@dataclass(frozen=True, slots=True)
class PathElement:
    """One step of a field path; ``text`` is the canonical payload after the ``kind:`` prefix."""

    kind: ElementKind
    text: str

    @staticmethod
    def field(name: str) -> PathElement:
        """``f:name``: a struct field or a map key."""
        return PathElement("f", name)

    @staticmethod
    def key(fields: Mapping[str, Any]) -> PathElement:
        """``k:{...}``: an item of a ``map`` list, named by its key fields (sorted by name)."""
        return PathElement("k", go_json(dict(fields)))

    @staticmethod
    def value(item: Any) -> PathElement:
        """``v:<json>``: an item of a ``set`` list."""
        return PathElement("v", go_json(item))

    @staticmethod
    def index(position: int) -> PathElement:
        """``i:<n>``: a positional item."""
        return PathElement("i", str(position))

    @staticmethod
    def parse(encoded: str) -> PathElement:
        """Parse ``f:spec`` / ``k:{"name":"x"}`` / ``v:"a"`` / ``i:0`` into its canonical form."""
        kind, sep, payload = encoded.partition(":")
        if not sep or kind not in _KIND_RANK:
            raise FieldsV1Error(f"invalid path element {encoded!r}")
        if kind == "f":
            return PathElement("f", payload)
        if kind == "i":
            if not payload.isdigit():
                raise FieldsV1Error(f"invalid index in path element {encoded!r}")
            return PathElement("i", str(int(payload)))
        try:
            decoded = json.loads(payload)
        except ValueError as exc:
            raise FieldsV1Error(f"invalid JSON in path element {encoded!r}") from exc
        if kind == "k":
            if not isinstance(decoded, dict) or not decoded:
                raise FieldsV1Error(f"key path element must be a non-empty object: {encoded!r}")
            return PathElement.key(decoded)
        return PathElement.value(decoded)

    def encode(self) -> str:
        """The ``fieldsV1`` key (``f:spec``)."""
        return f"{self.kind}:{self.text}"

    def decoded(self) -> Any:
        """The field name, key-field mapping, set value or index this element carries."""
        if self.kind == "f":
            return self.text
        if self.kind == "i":
            return int(self.text)
        return json.loads(self.text)

    def human(self) -> str:
        """The form kube-apiserver prints in conflicts: ``.image``, ``[name="nginx"]``, ``[0]``."""
        if self.kind == "f":
            return "." + self.text
        if self.kind == "k":
            fields = self.decoded()
            return "[" + ",".join(f"{k}={_go_string(fields[k])}" for k in sorted(fields)) + "]"
        if self.kind == "v":
            return f"[={_go_string(self.decoded())}]"
        return f"[{self.text}]"

    def sort_key(self) -> tuple[Any, ...]:
        """SMD's order: fields, then keys, then values, then indexes; each by its own order."""
        rank = _KIND_RANK[self.kind]
        if self.kind == "f":
            return (rank, self.text)
        if self.kind == "i":
            return (rank, int(self.text))
        if self.kind == "k":
            fields = self.decoded()
            return (rank, tuple((k, _value_rank(fields[k])) for k in sorted(fields)))
        return (rank, _value_rank(self.decoded()))


Path = tuple[PathElement, ...]
PathLike = Sequence[PathElement | str]


def as_path(path: PathLike) -> Path:
    """Accept elements as :class:`PathElement` or as their ``fieldsV1`` strings (``"f:spec"``)."""
    return tuple(pe if isinstance(pe, PathElement) else PathElement.parse(pe) for pe in path)


def path_string(path: Iterable[PathElement]) -> str:
    """``.spec.template.spec.containers[name="nginx"].image`` (empty path: ``""``)."""
    return "".join(pe.human() for pe in path)
