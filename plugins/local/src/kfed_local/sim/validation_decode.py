"""The decoding stage of the simulated API server: unknown fields and JSON type errors.

Layer: pure, part of :mod:`kfed_local.sim.validation` (which re-exports everything public here;
import from there). :func:`check_structure` does what kube-apiserver's decoder does to a request
body: it walks the object along its OpenAPI schema, finds unknown fields (an error with
``fieldValidation=Strict``, a warning with ``Warn``, silently dropped with ``Ignore``), drops
them and ``null`` fields from a new copy, and reports values of the wrong JSON type in Go's
``encoding/json`` words. The API layer answers its errors with ``400 BadRequest``:
``<Kind> in version "<v>" cannot be handled as a <Kind>: <detail>``. It never mutates its input.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from kfed_local.sim.schema import SchemaNode

FieldValidation = Literal["Strict", "Warn", "Ignore"]
"""The ``fieldValidation`` query parameter."""

_QUANTITY_REF = "io.k8s.apimachinery.pkg.api.resource.Quantity"
QUANTITY_FORMAT_ERROR = (
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
)
QUANTITY_SUFFIX_ERROR = "unable to parse quantity's suffix"
_QUANTITY = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+|[KMGTPE]i|[numkMGTPE])?")
_QUANTITY_SHAPE = re.compile(r"[+-]?[0-9.]+[eEinumkKMGTP]*[-+]?[0-9]*")
_BASE64 = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
_INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}


@dataclass(frozen=True, slots=True, kw_only=True)
class DecodeProblem:
    """A value the decoder cannot accept (wrong JSON type, bad quantity, bad base64)."""

    path: str
    """Where, with list indices: ``spec.template.spec.containers[0].image``."""
    message: str
    """The decoder's text: ``json: cannot unmarshal number into Go struct field ...``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StructureResult:
    """What :func:`check_structure` found, and the object as the server keeps it."""

    obj: dict[str, Any]
    """A new copy without unknown fields and without ``null`` fields."""
    mode: FieldValidation
    unknown_fields: tuple[str, ...] = ()
    """Paths of unknown fields in document order (``spec.replicass``)."""
    problems: tuple[DecodeProblem, ...] = ()

    @property
    def warnings(self) -> tuple[str, ...]:
        """``unknown field "spec.replicass"`` per unknown field, in ``Warn`` mode only."""
        if self.mode != "Warn":
            return ()
        return tuple(f'unknown field "{path}"' for path in self.unknown_fields)

    @property
    def errors(self) -> tuple[str, ...]:
        """One text per error: decode problems, then unknown fields in ``Strict`` mode."""
        found = [problem.message for problem in self.problems]
        if self.mode == "Strict":
            found.extend(f'unknown field "{path}"' for path in self.unknown_fields)
        return tuple(found)

    def render_errors(self) -> str:
        """The detail kube-apiserver puts after ``cannot be handled as a <Kind>:``.

        The first decode problem wins (Go's decoder stops at it); otherwise the strict decoding
        error listing every unknown field. Empty when there is no error.
        """
        if self.problems:
            return self.problems[0].message
        if self.mode == "Strict" and self.unknown_fields:
            listed = ", ".join(f'unknown field "{path}"' for path in self.unknown_fields)
            return f"strict decoding error: {listed}"
        return ""


def cannot_handle_message(kind: str, version: str, detail: str) -> str:
    """``Deployment in version "v1" cannot be handled as a Deployment: <detail>``."""
    return f'{kind} in version "{version}" cannot be handled as a {kind}: {detail}'


def check_structure(
    obj: Mapping[str, Any], schema: SchemaNode, mode: FieldValidation
) -> StructureResult:
    """Walk ``obj`` along ``schema`` as the decoder does; never mutates ``obj``.

    Built-in schemas get Go's type checks (IntOrString takes an integer or a string, Quantity a
    string or a number, integers may not have a fraction). Custom resource schemas are only
    pruned here: their type errors are validation errors (see :func:`validate_object`).
    """
    walker = _Decoder()
    root_struct = schema.ref.rsplit(".", 1)[-1] if schema.ref else "Object"
    pruned = walker.value(dict(obj), schema, "", "", root_struct)
    return StructureResult(
        obj=pruned if isinstance(pruned, dict) else copy.deepcopy(dict(obj)),
        mode=mode,
        unknown_fields=tuple(walker.unknown),
        problems=tuple(walker.problems),
    )


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _go_type(node: SchemaNode) -> str:
    """The Go type name ``encoding/json`` would print for a field with this schema."""
    if node.int_or_string:
        return "int32"  # IntOrString decodes a non-string into its int32 half
    kind = node.value_type
    if kind == "object" and node.ref and not node.is_map:
        parts = node.ref.split(".")
        return f"{parts[-2]}.{parts[-1]}"
    if kind == "object":
        value = node.field("") if node.is_map else None
        return f"map[string]{_go_type(value)}" if value is not None else "map[string]interface {}"
    if kind == "array":
        items = node.items()
        return "[]" + (_go_type(items) if items is not None else "interface {}")
    if kind == "string":
        return "[]uint8" if node.raw.get("format") == "byte" else "string"
    if kind == "integer":
        return str(node.raw.get("format") or "int64")
    return {"number": "float64", "boolean": "bool"}.get(kind, "interface {}")


def _json_word(value: Any) -> str:
    """How Go's decoder names the JSON value it found."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, str):
        return "string"
    if isinstance(value, int | float):
        return "number"
    return "object" if isinstance(value, dict) else "array"


def is_integral(value: Any) -> bool:
    return not isinstance(value, bool) and (
        isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    )


def base64_error_offset(text: str) -> int | None:
    """Where Go's ``base64.StdEncoding`` rejects ``text``, or None if it decodes."""
    src = text.encode("utf-8")
    pos, end = 0, len(src)
    while True:
        j = 0
        while j < 4:
            if pos == end:
                return None if j == 0 else pos - j
            char = src[pos]
            pos += 1
            if char in _BASE64:
                j += 1
                continue
            if char in b"\r\n":
                continue
            if char != ord("=") or j < 2:
                return pos - 1
            if j == 2:  # "==" expected: the second "=" must follow (newlines aside)
                while pos < end and src[pos] in b"\r\n":
                    pos += 1
                if pos == end:
                    return end
                if src[pos] != ord("="):
                    return pos - 1
                pos += 1
            while pos < end and src[pos] in b"\r\n":
                pos += 1
            return pos if pos < end else None


def quantity_error(value: Any) -> str | None:
    """Why ``value`` is not a resource quantity, in the Go wording; None if it is one."""
    if is_integral(value) or (isinstance(value, float) and not isinstance(value, bool)):
        return None
    if not isinstance(value, str):
        return QUANTITY_FORMAT_ERROR
    stripped = value.strip()
    if _QUANTITY.fullmatch(stripped):
        return None
    return QUANTITY_SUFFIX_ERROR if _QUANTITY_SHAPE.fullmatch(stripped) else QUANTITY_FORMAT_ERROR


class _Decoder:
    """One walk of :func:`check_structure`; collects unknown fields and problems."""

    def __init__(self) -> None:
        self.unknown: list[str] = []
        self.problems: list[DecodeProblem] = []

    def mismatch(self, value: Any, node: SchemaNode, at: tuple[str, str, str]) -> Any:
        path, go_path, struct = at
        word = _json_word(value)
        go_type = _go_type(node)
        if word == "number" and (node.int_or_string or node.value_type == "integer"):
            word = f"number {value!r}" if isinstance(value, float) else f"number {value}"
        message = (
            f"json: cannot unmarshal {word} into Go struct field {struct}.{go_path} "
            f"of type {go_type}"
        )
        self.problems.append(DecodeProblem(path=path, message=message))
        return copy.deepcopy(value)

    def value(self, value: Any, node: SchemaNode, path: str, go_path: str, struct: str) -> Any:
        at = (path, go_path, struct)
        if node.crd:
            return self.custom(value, node, path, go_path, struct)
        if node.int_or_string:
            ok = isinstance(value, str) or is_integral(value)
            return value if ok else self.mismatch(value, node, at)
        if node.ref == _QUANTITY_REF:
            problem = quantity_error(value)
            if problem:
                self.problems.append(DecodeProblem(path=path, message=problem))
            return copy.deepcopy(value)
        kind = node.value_type
        if kind == "any":
            return copy.deepcopy(value)
        if kind == "object":
            if not isinstance(value, dict):
                return self.mismatch(value, node, at)
            return self.object(value, node, path, go_path, struct)
        if kind == "array":
            if not isinstance(value, list):
                return self.mismatch(value, node, at)
            items = node.items()
            if items is None:
                return copy.deepcopy(value)
            return [
                None if item is None else self.value(item, items, f"{path}[{i}]", go_path, struct)
                for i, item in enumerate(value)
            ]
        return self.scalar(value, node, at)

    def object(
        self, value: dict[str, Any], node: SchemaNode, path: str, go_path: str, struct: str
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if node.is_map:
            for key, item in value.items():
                child = node.field(key)
                if child is None:
                    out[key] = copy.deepcopy(item)
                elif item is None:
                    # null decodes to the element's zero value: "" in a map of strings.
                    out[key] = "" if child.value_type == "string" else None
                else:
                    # Go's error context names struct fields only, never map keys.
                    out[key] = self.value(item, child, _join(path, key), go_path, struct)
            return out
        own = node.ref.rsplit(".", 1)[-1] if node.ref else struct
        for key, item in value.items():
            child = node.field(key)
            child_path = _join(path, key)
            if child is None:
                self.unknown.append(child_path)
            elif item is not None:  # null decodes to the zero value: the field is absent
                out[key] = self.value(item, child, child_path, _join(go_path, key), own)
        return out

    def scalar(self, value: Any, node: SchemaNode, at: tuple[str, str, str]) -> Any:
        kind = node.value_type
        if kind == "string":
            if not isinstance(value, str):
                return self.mismatch(value, node, at)
            if node.raw.get("format") == "byte":
                offset = base64_error_offset(value)
                if offset is not None:
                    message = f"illegal base64 data at input byte {offset}"
                    self.problems.append(DecodeProblem(path=at[0], message=message))
            return value
        if kind == "boolean":
            return value if isinstance(value, bool) else self.mismatch(value, node, at)
        if kind == "number":
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            return value if ok else self.mismatch(value, node, at)
        # integer
        if not is_integral(value):
            return self.mismatch(value, node, at)
        low, high = _INT_RANGES.get(str(node.raw.get("format")), _INT_RANGES["int64"])
        if not low <= int(value) <= high:
            return self.mismatch(value, node, at)
        return int(value)

    def custom(self, value: Any, node: SchemaNode, path: str, go_path: str, struct: str) -> Any:
        """A CRD schema node: prune unknown and null fields, leave types to validation."""
        kind = node.value_type
        if kind == "object" and isinstance(value, dict) and not node.int_or_string:
            out: dict[str, Any] = {}
            for key, item in value.items():
                child = node.field(key)
                child_path = _join(path, key)
                if child is None:
                    self.unknown.append(child_path)
                elif item is None:
                    # apiextensions.k8s.io/v1 prunes nulls unless the schema says nullable.
                    if child.raw.get("nullable"):
                        out[key] = None
                else:
                    out[key] = self.value(
                        item, child, child_path, _join(go_path, key), "ObjectMeta"
                    )
            return out
        if kind == "array" and isinstance(value, list):
            items = node.items()
            if items is not None:
                return [
                    None
                    if item is None
                    else self.value(item, items, f"{path}[{i}]", go_path, struct)
                    for i, item in enumerate(value)
                ]
        return copy.deepcopy(value)
