"""Building blocks of the simulated API server's validation: errors, readers, label rules.

Layer: pure, shared by :mod:`kfed_local.sim.validation` and its kind modules
(:mod:`~kfed_local.sim.validation_kinds`, :mod:`~kfed_local.sim.validation_services`). The error
constructors mirror Go's ``field`` package so that paths, values and details come out exactly
as kube-apiserver 1.37 prints them; the readers let rules walk untrusted plain dicts without
type checks at every step. Nothing here keeps state or mutates what it reads.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kfed_local.sim.errors import FieldError
from kfed_local.sim.names import is_qualified_name, is_valid_label_value

MAX_SECRET_SIZE = 1024 * 1024
"""Total data size of a ConfigMap or Secret (``core.MaxSecretSize``)."""
TOTAL_ANNOTATION_SIZE = 256 * 1024
"""Total size of an object's annotations, keys included."""

NEGATIVE = "must be greater than or equal to 0"
IMMUTABLE = "field is immutable"

PROTOCOLS = ("SCTP", "TCP", "UDP")
"""Port protocols, sorted as kube-apiserver lists them."""

Rule = Callable[[Mapping[str, Any]], list[FieldError]]
"""A kind's create-and-update rule: the object in, its errors out."""
UpdateRule = Callable[[Mapping[str, Any], Mapping[str, Any]], list[FieldError]]
"""A kind's update-only rule: (new, old) in, errors out."""


@dataclass(frozen=True, slots=True)
class GoText:
    """A bad value already rendered as kube-apiserver renders it.

    Go prints struct values with the struct's field order (``{"Name":"","Protocol":"TCP",...}``);
    :meth:`FieldError.message` prints plain dicts with sorted keys, so such values are passed
    pre-rendered and shown verbatim.
    """

    text: str

    def __str__(self) -> str:
        return self.text


def go_json(value: Any) -> str:
    """``json.Marshal`` of an already ordered value (maps keep the order they are given in)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# -- error constructors (the Go ``field`` package helpers) --------------------------------------


def required(path: str, detail: str = "") -> FieldError:
    """``path: Required value``."""
    return FieldError(type="FieldValueRequired", field=path, detail=detail)


def invalid(path: str, value: Any, detail: str) -> FieldError:
    """``path: Invalid value: <value>: detail``."""
    return FieldError(type="FieldValueInvalid", field=path, value=value, detail=detail)


def not_supported(path: str, value: Any, supported: Iterable[str]) -> FieldError:
    """``path: Unsupported value: "x": supported values: "a", "b"``."""
    listed = ", ".join(json.dumps(v) for v in supported)
    return FieldError(
        type="FieldValueNotSupported", field=path, value=value, detail=f"supported values: {listed}"
    )


def forbidden(path: str, detail: str) -> FieldError:
    """``path: Forbidden: detail``."""
    return FieldError(type="FieldValueForbidden", field=path, detail=detail)


def duplicate(path: str, value: Any) -> FieldError:
    """``path: Duplicate value: <value>``."""
    return FieldError(type="FieldValueDuplicate", field=path, value=value)


def too_long(path: str, limit: int) -> FieldError:
    """``path: Too long: may not be more than <limit> bytes`` (the value is never shown)."""
    return FieldError(
        type="FieldValueTooLong", field=path, detail=f"may not be more than {limit} bytes"
    )


# -- small readers ------------------------------------------------------------------------------


def mapping(value: Any) -> Mapping[str, Any]:
    """``value`` if it is a mapping, else an empty one."""
    return value if isinstance(value, Mapping) else {}


def sequence(value: Any) -> list[Any]:
    """``value`` if it is a list, else an empty one."""
    return value if isinstance(value, list) else []


def text(value: Any) -> str:
    """``value`` if it is a string, else ``""`` (Go's zero value)."""
    return value if isinstance(value, str) else ""


def integer(value: Any) -> int | None:
    """``value`` as an int, if it is a (non-bool) number with no fraction."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def nonnegative(path: str, value: Any) -> list[FieldError]:
    """``ValidateNonnegativeField``."""
    number = integer(value)
    return [invalid(path, number, NEGATIVE)] if number is not None and number < 0 else []


def labels_errors(labels: Any, path: str) -> list[FieldError]:
    """``ValidateLabels``: every key a qualified name, every value a label value."""
    errors: list[FieldError] = []
    for key, value in sorted(mapping(labels).items()):
        errors.extend(invalid(path, key, msg) for msg in is_qualified_name(key))
        errors.extend(invalid(path, value, msg) for msg in is_valid_label_value(text(value)))
    return errors


def annotations_errors(annotations: Any, path: str) -> list[FieldError]:
    """``ValidateAnnotations``: keys are qualified names (case-insensitive) and 256 KiB total."""
    errors: list[FieldError] = []
    total = 0
    for key, value in sorted(mapping(annotations).items()):
        errors.extend(invalid(path, key, msg) for msg in is_qualified_name(key.lower()))
        total += len(key.encode()) + len(text(value).encode())
    if total > TOTAL_ANNOTATION_SIZE:
        errors.append(too_long(path, TOTAL_ANNOTATION_SIZE))
    return errors
