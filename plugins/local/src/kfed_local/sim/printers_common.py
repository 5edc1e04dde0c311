"""Shared pieces of the server-side printers: table types, times, tolerant reads, columns.

Layer: pure (the bottom of the printers: :mod:`printers_pods`, :mod:`printers_workloads`,
:mod:`printers` and :mod:`tables` build on it; above :mod:`schema`). It holds the ``Column``,
``Row`` and ``Printer`` values, kube's time formats (RFC 3339 parsing, ``HumanDuration`` ages),
tolerant readers of plain-dict objects (a missing or mistyped field reads as empty, never
raises), label and selector formatting, and how a column spec becomes a ``Column`` with its
description from the Kubernetes 1.37 OpenAPI definitions.

It knows no particular kind, reads no clock (callers pass ``now``), does no I/O besides the one
lazy schema load of column descriptions, keeps no state and never mutates what it reads.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from kfed_local.sim.schema import definitions

Cell = str | int | float | bool | None
"""A table cell as JSON: kube-apiserver emits strings, int64, float64, booleans or null."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Column:
    """One ``TableColumnDefinition``."""

    name: str
    type: str = "string"
    format: str = ""
    description: str = ""
    priority: int = 0

    def to_json(self) -> dict[str, Any]:
        """The column as kube-apiserver serializes it (every field present, even when empty)."""
        return {
            "name": self.name,
            "type": self.type,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    """The cells of one object, plus the row conditions kubectl uses (completed pods)."""

    cells: tuple[Cell, ...]
    conditions: tuple[Mapping[str, str], ...] = ()


RowFunction = Callable[[Mapping[str, Any], datetime], Row]


@dataclass(frozen=True, slots=True, kw_only=True)
class Printer:
    """How one resource is printed: its columns and a function from (object, now) to a row."""

    columns: tuple[Column, ...]
    row: RowFunction
    null_rows_when_empty: bool = False
    """True for kube's default convertor, whose empty result serializes ``"rows": null``."""


# -- time ------------------------------------------------------------------------------------

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?(Z|[+-]\d{2}:\d{2})$"
)


def parse_time(value: object) -> datetime | None:
    """An RFC 3339 timestamp (``metav1.Time`` / ``MicroTime``), or None if absent or malformed."""
    if not isinstance(value, str):
        return None
    match = _RFC3339.match(value)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micros = int((fraction or "0")[:6].ljust(6, "0"))
    offset = timedelta(0)
    if zone != "Z":
        offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
        offset = offset if zone[0] == "+" else -offset
    try:
        parsed = datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            micros,
            timezone(offset),
        ).astimezone(UTC)
    except ValueError:  # out-of-range fields, which Go's time.Parse refuses too
        return None
    return parsed


def human_duration(seconds: float) -> str:
    """kube's ``duration.HumanDuration``: ~2-3 significant figures (``42s``, ``5m10s``, ``3d4h``).

    Up to 1s in the future still reads ``0s`` (clock skew between machines); further in the
    future is ``<invalid>``.
    """
    whole = int(seconds)  # truncates toward zero, as Go's int(d.Seconds()) does
    if whole < -1:
        return "<invalid>"
    if whole < 0:
        return "0s"
    if whole < 120:
        return f"{whole}s"
    minutes = whole // 60
    if minutes < 10:
        rest = whole % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = whole // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h{rest}m" if rest else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d{rest}h" if rest else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        rest = (hours // 24) % 365
        years = hours // 24 // 365
        return f"{years}y{rest}d" if rest else f"{years}y"
    return f"{hours // 24 // 365}y"


def age(timestamp: object, now: datetime) -> str:
    """Time since ``timestamp`` (``translateTimestampSince``); ``<unknown>`` when it is unset."""
    parsed = parse_time(timestamp)
    if parsed is None:
        return "<unknown>"
    return human_duration((now - parsed).total_seconds())


# -- reading plain-dict objects tolerantly ---------------------------------------------------
# Each reader follows ``path`` through nested mappings; a missing or mistyped value reads as
# the empty value (or ``default``), since printers must print whatever the store holds.


def value_at(obj: object, *path: str) -> object:
    for key in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def map_at(obj: object, *path: str) -> Mapping[str, Any]:
    value = value_at(obj, *path)
    return value if isinstance(value, Mapping) else {}


def maps_at(obj: object, *path: str) -> list[Mapping[str, Any]]:
    value = value_at(obj, *path)
    if not isinstance(value, list | tuple):
        return []
    return [item for item in value if isinstance(item, Mapping)]


def strs_at(obj: object, *path: str) -> list[str]:
    value = value_at(obj, *path)
    if not isinstance(value, list | tuple):
        return []
    return [item for item in value if isinstance(item, str)]


def str_at(obj: object, *path: str, default: str = "") -> str:
    value = value_at(obj, *path)
    return value if isinstance(value, str) else default


def int_at(obj: object, *path: str, default: int = 0) -> int:
    value = value_at(obj, *path)
    if isinstance(value, bool) or not isinstance(value, int):
        return default
    return value


def present(obj: object, *path: str) -> bool:
    """True when the field holds an object (a non-nil pointer in the Go types)."""
    return isinstance(value_at(obj, *path), Mapping)


def name_of(obj: Mapping[str, Any]) -> str:
    return str_at(obj, "metadata", "name")


def age_of(obj: Mapping[str, Any], now: datetime) -> str:
    return age(value_at(obj, "metadata", "creationTimestamp"), now)


# -- shared formatting -------------------------------------------------------------------------


def format_labels(labels: Mapping[str, Any]) -> str:
    """``labels.FormatLabels``: ``a=b,c=d`` sorted by key, ``<none>`` when empty."""
    text = ",".join(f"{key}={labels[key]}" for key in sorted(labels))
    return text or "<none>"


def selector_string(selector: object) -> str | None:
    """A ``LabelSelector`` as ``labels.Selector.String()``; None when it cannot be converted.

    An absent selector selects nothing and an empty one everything; both print as ``""``.
    """
    if not isinstance(selector, Mapping):
        return ""
    requirements: list[tuple[str, str]] = []
    for key, value in map_at(selector, "matchLabels").items():
        requirements.append((key, f"{key}={value}"))
    for expression in maps_at(selector, "matchExpressions"):
        key = str_at(expression, "key")
        values = sorted(strs_at(expression, "values"))
        match str_at(expression, "operator"):
            case "In" if values:
                requirements.append((key, f"{key} in ({','.join(values)})"))
            case "NotIn" if values:
                requirements.append((key, f"{key} notin ({','.join(values)})"))
            case "Exists" if not values:
                requirements.append((key, key))
            case "DoesNotExist" if not values:
                requirements.append((key, f"!{key}"))
            case _:
                return None
    requirements.sort(key=lambda requirement: requirement[0])
    return ",".join(text for _, text in requirements)


# -- column specs ------------------------------------------------------------------------------

# A column is (name, description[, priority[, type]]); "@Definition:field" descriptions are read
# from the OpenAPI field docs, as kube uses the Go SwaggerDoc of the same fields.
ColumnSpec = tuple[str, str] | tuple[str, str, int] | tuple[str, str, int, str]
_DEFINITION_PREFIXES = {
    "meta": "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
    "core": "io.k8s.api.core.v1",
    "apps": "io.k8s.api.apps.v1",
    "discovery": "io.k8s.api.discovery.v1",
    "coordination": "io.k8s.api.coordination.v1",
}


@functools.cache
def field_doc(definition: str, field: str) -> str:
    """The OpenAPI description of ``field`` in ``definition`` (a full OpenAPI definition name)."""
    properties = definitions().get(definition, {}).get("properties", {})
    return str(properties.get(field, {}).get("description", ""))


def column(spec: ColumnSpec) -> Column:
    """The column a spec describes; every ``Name`` column has the ``name`` format."""
    name, description = spec[0], spec[1]
    if description.startswith("@"):
        reference, field = description[1:].split(":")
        group, _, kind = reference.partition(".")
        prefix = _DEFINITION_PREFIXES[group]
        description = field_doc(f"{prefix}.{kind}" if kind else prefix, field)
    return Column(
        name=name,
        type=spec[3] if len(spec) > 3 else "string",
        format="name" if name == "Name" else "",
        description=description,
        priority=spec[2] if len(spec) > 2 else 0,
    )
