"""Server-side printing: the ``meta.k8s.io/v1`` Tables kube-apiserver answers to ``kubectl get``.

Layer: pure (beside apply, strategic and validation; above schema). kubectl asks for
``application/json;as=Table;v=v1;g=meta.k8s.io`` and prints the columns the server chooses, so
:func:`build_table` builds exactly the Table kube-apiserver 1.37 builds:

* built-in kinds use the printers of :mod:`kfed_local.sim.printers` (always with the wide cells;
  columns of priority 1 are the ones only ``-o wide`` shows);
* custom resources use their CRD version's ``additionalPrinterColumns`` (or a single ``Age``
  column when there are none), each cell found with the JSONPath subset of
  :mod:`kfed_local.sim.jsonpath` and rendered the way the apiextensions table convertor renders it
  (``date`` columns become ages, ``string`` columns print like Go's ``fmt`` and ``encoding/json``);
* any other kind (CustomResourceDefinitions themselves) gets kube's default ``Name``,
  ``Created At`` table.

Rows carry the object as ``PartialObjectMetadata`` (the default), the whole object, or nothing,
as ``includeObject`` asks. The module reads no clock (callers pass ``now``), does no I/O and
never mutates or aliases the objects it is given.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from kfed_local.sim.jsonpath import JsonPathError, Step, find_json_path, go_print, parse_json_path
from kfed_local.sim.printers import builtin_printer
from kfed_local.sim.printers_common import (
    Cell,
    Column,
    Printer,
    Row,
    column,
    field_doc,
    human_duration,
    parse_time,
)
from kfed_local.sim.resources import ResourceType

__all__ = [
    "IncludeObject",
    "build_table",
    "human_duration",
    "printer_for",
]

IncludeObject = Literal["None", "Metadata", "Object"]
_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"


def build_table(
    resource_type: ResourceType,
    objects: Sequence[Mapping[str, Any]],
    *,
    now: datetime,
    include_object: IncludeObject = "Metadata",
    list_metadata: Mapping[str, Any] | None = None,
    no_headers: bool = False,
) -> dict[str, Any]:
    """The Table kube-apiserver answers for ``objects`` of ``resource_type``.

    ``list_metadata`` is the list's metadata (``resourceVersion``, ``continue``,
    ``remainingItemCount``); None means ``objects`` is the single object of a get or watch event,
    whose resourceVersion the Table then carries. ``no_headers`` leaves the column definitions
    out (``null``), as kube-apiserver does for every watch event after the first. A naive ``now``
    is taken as UTC.
    """
    if include_object not in ("None", "Metadata", "Object"):
        raise ValueError(f"includeObject must be None, Metadata or Object, not {include_object!r}")
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    printer = printer_for(resource_type)
    rows: list[dict[str, Any]] = []
    for obj in objects:
        row = printer.row(obj, now)
        entry: dict[str, Any] = {"cells": list(row.cells)}
        if row.conditions:
            entry["conditions"] = [dict(condition) for condition in row.conditions]
        entry["object"] = _row_object(obj, include_object)
        rows.append(entry)
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": _table_metadata(objects, list_metadata),
        "columnDefinitions": None if no_headers else [c.to_json() for c in printer.columns],
        "rows": None if not rows and printer.null_rows_when_empty else rows,
    }


def printer_for(resource_type: ResourceType) -> Printer:
    """How objects of ``resource_type`` are printed (built-in, custom resource or default)."""
    if not resource_type.is_custom:
        printer = builtin_printer(resource_type.group, resource_type.plural)
        if printer is not None:
            return printer
    if resource_type.is_custom or resource_type.printer_columns:
        return _custom_printer(resource_type.printer_columns)
    return _default_printer()


def _table_metadata(
    objects: Sequence[Mapping[str, Any]], list_metadata: Mapping[str, Any] | None
) -> dict[str, Any]:
    if list_metadata is None:
        version = objects[0].get("metadata", {}).get("resourceVersion") if len(objects) == 1 else ""
        return {"resourceVersion": version} if isinstance(version, str) and version else {}
    metadata: dict[str, Any] = {}
    for key in ("resourceVersion", "continue"):
        if list_metadata.get(key):
            metadata[key] = str(list_metadata[key])
    if list_metadata.get("remainingItemCount") is not None:
        metadata["remainingItemCount"] = list_metadata["remainingItemCount"]
    return metadata


def _row_object(obj: Mapping[str, Any], include_object: IncludeObject) -> dict[str, Any] | None:
    if include_object == "None":
        return None  # kube still sends the key: "object": null
    if include_object == "Object":
        return copy.deepcopy(dict(obj))
    raw_metadata = obj.get("metadata")
    metadata = copy.deepcopy(dict(raw_metadata)) if isinstance(raw_metadata, Mapping) else {}
    metadata.setdefault("creationTimestamp", None)  # a zero metav1.Time serializes as null
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": metadata}


# -- the default table (kinds without a printer) -----------------------------------------------


def _default_row(obj: Mapping[str, Any], now: datetime) -> Row:
    metadata = obj.get("metadata") or {}
    created = parse_time(metadata.get("creationTimestamp"))
    stamp = created.strftime("%Y-%m-%dT%H:%M:%SZ") if created else "0001-01-01T00:00:00Z"
    return Row(cells=(str(metadata.get("name", "")), stamp))


@functools.cache
def _default_printer() -> Printer:
    return Printer(
        columns=(
            column(("Name", "@meta:name")),
            Column(
                name="Created At",
                type="date",
                description=field_doc(_META, "creationTimestamp"),
            ),
        ),
        row=_default_row,
        null_rows_when_empty=True,  # kube's default convertor leaves an empty result's rows nil
    )


# -- custom resources: additionalPrinterColumns ------------------------------------------------


def _custom_printer(specs: Sequence[Mapping[str, Any]]) -> Printer:
    if not specs:
        # kube serves CRD versions without printer columns with a logical default: Age.
        specs = (
            {
                "name": "Age",
                "type": "date",
                "jsonPath": ".metadata.creationTimestamp",
                "description": field_doc(_META, "creationTimestamp"),
            },
        )
    columns = [column(("Name", "@meta:name"))]
    finders: list[tuple[str, tuple[Step, ...] | None]] = []
    for spec in specs:
        path = str(spec.get("jsonPath", ""))
        description = str(spec.get("description") or "")
        columns.append(
            Column(
                name=str(spec.get("name", "")),
                type=str(spec.get("type", "")),
                format=str(spec.get("format") or ""),
                description=description
                or f"Custom resource definition column (in JSONPath format): {path}",
                priority=int(spec.get("priority") or 0),
            )
        )
        try:
            steps: tuple[Step, ...] | None = parse_json_path(path)
        except JsonPathError:
            steps = None  # a path this subset cannot read prints as an empty column
        finders.append((str(spec.get("type", "")), steps))

    def row(obj: Mapping[str, Any], now: datetime) -> Row:
        metadata = obj.get("metadata") or {}
        cells: list[Cell] = [str(metadata.get("name", ""))]
        for column_type, steps in finders:
            cells.append(None if steps is None else _custom_cell(column_type, steps, obj, now))
        return Row(cells=tuple(cells))

    return Printer(columns=tuple(columns), row=row)


def _custom_cell(
    column_type: str, steps: tuple[Step, ...], obj: Mapping[str, Any], now: datetime
) -> Cell:
    try:
        found = find_json_path(steps, obj)
    except JsonPathError:
        return None
    if not found:
        return None
    value = found[0]  # like kube, only the first match of a path is shown
    if column_type == "string":
        return go_print(value)
    if value is None:
        return None
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if column_type == "integer" and is_number:
        return int(value)
    if column_type == "number" and is_number:
        return float(value)
    if column_type == "boolean" and isinstance(value, bool):
        return value
    if column_type == "date" and isinstance(value, str):
        if value in ("", "null"):
            return "<unknown>"
        stamp = parse_time(value)
        return "<invalid>" if stamp is None else human_duration((now - stamp).total_seconds())
    return None
