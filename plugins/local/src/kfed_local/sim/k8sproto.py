"""Decoding of Kubernetes protobuf request bodies (``application/vnd.kubernetes.protobuf``).

Layer: pure (bottom of ``kfed_local.sim``); the HTTP layer calls :func:`decode_kubernetes_protobuf`
on a request body and then treats the result exactly like a JSON body. No I/O, no clock, no
logging, no aiohttp. Decoding only: the server always answers in JSON, which the ``Accept``
header of every protobuf-speaking client allows.

Wire format. A body is the 4-byte magic ``k8s\\0`` followed by a ``runtime.Unknown`` message:
field 1 ``typeMeta`` {1 apiVersion, 2 kind}, 2 ``raw`` (the object's own message), 3
``contentEncoding`` and 4 ``contentType``. Objects are proto2 messages whose field numbers come
from the Go types' ``protobuf`` struct tags. Go's generated marshaller writes every non-pointer
scalar, even a zero one, so a zero value is dropped again where Go's JSON encoder would omit it
(``omitempty``), which makes the decoded object the one the same client would have sent as JSON.

Layouts. ``k8sproto_core``, ``k8sproto_layouts`` and ``k8sproto_crd`` map a message name
(``core.PodSpec``) to its fields, one ``NUMBER JSON_NAME TYPE`` entry each, ``; `` between them,
in Go declaration order (the order of the JSON fields). TYPE is a scalar — ``s`` string, ``b``
bool, ``i32``, ``i64``, ``f64`` (double), ``y`` bytes (base64 in JSON), ``j`` bytes holding a JSON
document — or ``@MESSAGE``; a ``[]`` prefix makes it repeated, a ``{}`` prefix a map with string
keys (entries {1 key, 2 value}). Suffix ``?``: a Go pointer, kept even when zero; ``!``: no
``omitempty``, kept even when zero; scalars with neither are dropped when zero; ``-`` on a
message: Go's ``omitzero``, dropped when zero (a null time, an empty object). JSON_NAME ``^``
inlines the message's fields into the parent (Go's ``json:",inline"``). A few messages have a
JSON form that is not an object (time stamps, int-or-string, quantities, raw JSON, the CRD
schema unions): :data:`_FINISHERS` turns their decoded fields into that form.

Errors. Anything that cannot be decoded raises :class:`ProtobufDecodeError` (a ``ValueError``)
whose message says what and where; :class:`UnsupportedKindError` (a subclass) means a well-formed
envelope naming a kind this decoder has no layout for. Unknown field numbers are skipped, as
protobuf does.
"""

from __future__ import annotations

import base64
import datetime
import functools
import json
import math
import struct
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from kfed_local.sim.k8sproto_core import CORE_LAYOUTS
from kfed_local.sim.k8sproto_crd import CRD_KINDS, CRD_LAYOUTS
from kfed_local.sim.k8sproto_layouts import KINDS, LAYOUTS

PROTOBUF_CONTENT_TYPE = "application/vnd.kubernetes.protobuf"
MAGIC = b"k8s\x00"

_MAX_DEPTH = 100
"""Deepest nesting of messages decoded; deeper bodies are refused rather than overflowing."""

# Messages whose wire form comes from hand-written Go marshallers rather than struct tags.
_SPECIAL_LAYOUTS: Mapping[str, str] = {
    "meta.Time": "1 seconds i64!; 2 nanos i32!",
    "meta.MicroTime": "1 seconds i64!; 2 nanos i32!",
    "meta.FieldsV1": "1 raw j",
    "intstr.IntOrString": "1 type i64!; 2 intVal i32!; 3 strVal s!",
    "resource.Quantity": "1 string s!",
    "runtime.RawExtension": "1 raw j",
}

_VARINT, _FIXED64, _BYTES, _START_GROUP, _END_GROUP, _FIXED32 = 0, 1, 2, 3, 4, 5
_U64 = (1 << 64) - 1
_ZEROS: tuple[object, ...] = ("", 0, False, 0.0)
_MISSING = object()


class ProtobufDecodeError(ValueError):
    """A request body that is not a decodable Kubernetes protobuf message."""


class UnsupportedKindError(ProtobufDecodeError):
    """A well-formed body whose apiVersion and kind have no protobuf layout here."""


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldLayout:
    """One field of a message layout."""

    number: int
    json_name: str
    """The JSON field name; ``^`` for an inlined message."""
    scalar: str | None
    """``s``, ``b``, ``i32``, ``i64``, ``f64``, ``y`` or ``j``; None for a message."""
    message: str | None
    """The nested message's name; None for a scalar."""
    repeated: bool = False
    is_map: bool = False
    keep_zero: bool = False
    omit_zero: bool = False


def decode_kubernetes_protobuf(body: bytes) -> dict[str, Any]:
    """The object a protobuf request body carries, in its JSON form (a fresh dict).

    ``kind`` and ``apiVersion`` come from the envelope. Raises :class:`ProtobufDecodeError` for a
    body without the magic prefix, a truncated or malformed message, or an unknown kind.
    """
    if not body.startswith(MAGIC):
        raise ProtobufDecodeError(
            "provided data does not appear to be a protobuf message, expected prefix "
            f"[{' '.join(str(b) for b in MAGIC)}]"
        )
    envelope: dict[int, bytes] = {}
    for number, wire, value in _fields(body[len(MAGIC) :], "runtime.Unknown"):
        if number in (1, 2, 3, 4):
            if not isinstance(value, bytes):
                raise ProtobufDecodeError(
                    f"wrong wire type {wire} for field {number} of runtime.Unknown"
                )
            envelope[number] = value
    type_meta: dict[int, str] = {}
    for number, wire, value in _fields(envelope.get(1, b""), "runtime.Unknown.typeMeta"):
        if number in (1, 2):
            if not isinstance(value, bytes):
                raise ProtobufDecodeError(
                    f"wrong wire type {wire} for field {number} of runtime.TypeMeta"
                )
            type_meta[number] = value.decode("utf-8", errors="replace")
    api_version, kind = type_meta.get(1, ""), type_meta.get(2, "")
    raw = envelope.get(2, b"")
    encoding = envelope.get(3, b"").decode("utf-8", errors="replace")
    if not kind or not api_version:
        raise UnsupportedKindError(
            "the protobuf envelope (runtime.Unknown) names no "
            + ("kind" if not kind else "apiVersion")
        )
    if encoding:
        raise ProtobufDecodeError(f"unsupported content encoding {encoding!r} of a protobuf body")
    message = KINDS.get((api_version, kind)) or CRD_KINDS.get((api_version, kind))
    if message is None:
        raise UnsupportedKindError(f'no kind "{kind}" is registered for version "{api_version}"')
    try:
        obj = _message(message, raw, kind, 0)
    except RecursionError:
        raise ProtobufDecodeError(f"{kind}: messages are nested too deeply") from None
    return {"kind": kind, "apiVersion": api_version, **obj}


# -- layouts -------------------------------------------------------------------------------------


def _parse_field(spec: str, message: str) -> FieldLayout:
    try:
        number_text, json_name, type_text = spec.split(" ")
        number = int(number_text)
    except ValueError:
        raise ValueError(f"bad field {spec!r} in the layout of {message}") from None
    repeated, is_map = type_text.startswith("[]"), type_text.startswith("{}")
    if repeated or is_map:
        type_text = type_text[2:]
    keep_zero, omit_zero = type_text.endswith(("?", "!")), type_text.endswith("-")
    type_text = type_text.rstrip("?!-")
    is_message = type_text.startswith("@")
    if not is_message and type_text not in ("s", "b", "i32", "i64", "f64", "y", "j"):
        raise ValueError(f"bad type {type_text!r} in the layout of {message}")
    return FieldLayout(
        number=number,
        json_name=json_name,
        scalar=None if is_message else type_text,
        message=type_text[1:] if is_message else None,
        repeated=repeated,
        is_map=is_map,
        keep_zero=keep_zero,
        omit_zero=omit_zero,
    )


@functools.cache
def layouts() -> Mapping[str, tuple[FieldLayout, ...]]:
    """Every message layout, parsed once; raises ``ValueError`` on a malformed table."""
    tables: dict[str, str] = {**_SPECIAL_LAYOUTS, **CORE_LAYOUTS, **LAYOUTS, **CRD_LAYOUTS}
    parsed = {
        name: tuple(_parse_field(spec, name) for spec in text.split("; ") if spec)
        for name, text in tables.items()
    }
    for name, fields in parsed.items():
        for field in fields:
            if field.message is not None and field.message not in parsed:
                raise ValueError(f"{name}.{field.json_name} names unknown message {field.message}")
    return parsed


@functools.cache
def _by_number(message: str) -> Mapping[int, FieldLayout]:
    return {field.number: field for field in layouts()[message]}


def decodable_kinds() -> frozenset[tuple[str, str]]:
    """The (apiVersion, kind) pairs :func:`decode_kubernetes_protobuf` accepts."""
    return frozenset(KINDS) | frozenset(CRD_KINDS)


# -- wire reading --------------------------------------------------------------------------------


def _varint(data: bytes, at: int, where: str) -> tuple[int, int]:
    value = shift = 0
    while True:
        if at >= len(data):
            raise ProtobufDecodeError(f"unexpected EOF in a varint of {where}")
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value & _U64, at
        shift += 7
        if shift >= 70:
            raise ProtobufDecodeError(f"integer overflow in a varint of {where}")


def _take(data: bytes, at: int, size: int, where: str) -> tuple[bytes, int]:
    if size > len(data) - at:
        raise ProtobufDecodeError(f"unexpected EOF: {where} is truncated")
    return data[at : at + size], at + size


def _fields(data: bytes, where: str) -> Iterator[tuple[int, int, int | bytes]]:
    """(field number, wire type, value) of every field: ints for numeric wire types, else bytes."""
    at = 0
    while at < len(data):
        key, at = _varint(data, at, where)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise ProtobufDecodeError(f"illegal tag 0 in {where}")
        value: int | bytes
        if wire == _VARINT:
            value, at = _varint(data, at, where)
        elif wire == _FIXED64:
            chunk, at = _take(data, at, 8, where)
            value = int.from_bytes(chunk, "little")
        elif wire == _FIXED32:
            chunk, at = _take(data, at, 4, where)
            value = int.from_bytes(chunk, "little")
        elif wire == _BYTES:
            size, at = _varint(data, at, where)
            value, at = _take(data, at, size, where)
        elif wire == _START_GROUP:
            at = _skip_group(data, at, number, where)
            continue
        else:
            raise ProtobufDecodeError(f"illegal wire type {wire} for field {number} of {where}")
        yield number, wire, value


def _skip_group(data: bytes, at: int, number: int, where: str) -> int:
    """Skip a (deprecated) group up to its matching end tag; nothing we decode uses groups."""
    depth = 1
    while depth:
        key, at = _varint(data, at, where)
        wire = key & 7
        if wire == _VARINT:
            _, at = _varint(data, at, where)
        elif wire in (_FIXED64, _FIXED32):
            _, at = _take(data, at, 8 if wire == _FIXED64 else 4, where)
        elif wire == _BYTES:
            size, at = _varint(data, at, where)
            _, at = _take(data, at, size, where)
        elif wire == _START_GROUP:
            depth += 1
        elif wire == _END_GROUP:
            depth -= 1
        else:
            raise ProtobufDecodeError(f"illegal wire type {wire} in group {number} of {where}")
    return at


# -- values --------------------------------------------------------------------------------------


def _scalar(field: FieldLayout, wire: int, value: int | bytes, where: str) -> Any:
    kind = field.scalar
    if kind in ("b", "i32", "i64"):
        if not isinstance(value, int) or wire != _VARINT:
            raise _wrong_wire(field, wire, where)
        if kind == "b":
            return value != 0
        bits = 32 if kind == "i32" else 64
        value &= (1 << bits) - 1
        return value - (1 << bits) if value >> (bits - 1) else value
    if kind == "f64":
        if not isinstance(value, int) or wire != _FIXED64:
            raise _wrong_wire(field, wire, where)
        number: float = struct.unpack("<d", value.to_bytes(8, "little"))[0]
        if not math.isfinite(number):
            raise ProtobufDecodeError(f"{where}.{field.json_name}: unsupported value {number}")
        # Go's JSON writes integral doubles without a fraction; a JSON body would parse to int.
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    if not isinstance(value, bytes):
        raise _wrong_wire(field, wire, where)
    if kind == "s":
        return value.decode("utf-8", errors="replace")  # Go's JSON encoder replaces bad UTF-8 too
    if kind == "y":
        return base64.b64encode(value).decode("ascii")
    return _embedded_json(value, f"{where}.{field.json_name}")


def _embedded_json(value: bytes, where: str) -> Any:
    if not value:
        return None
    if value.startswith(MAGIC):
        return decode_kubernetes_protobuf(value)
    try:
        return json.loads(value)
    except ValueError as exc:
        raise ProtobufDecodeError(f"{where}: embedded JSON does not parse: {exc}") from None


def _wrong_wire(field: FieldLayout, wire: int, where: str) -> ProtobufDecodeError:
    return ProtobufDecodeError(
        f"wrong wire type {wire} for field {field.json_name} ({field.number}) of {where}"
    )


def _packed(field: FieldLayout, data: bytes, where: str) -> Iterator[Any]:
    """The elements of a packed repeated numeric field (proto3 style; accepted as protobuf does)."""
    at = 0
    while at < len(data):
        if field.scalar == "f64":
            chunk, at = _take(data, at, 8, where)
            yield _scalar(field, _FIXED64, int.from_bytes(chunk, "little"), where)
        else:
            number, at = _varint(data, at, where)
            yield _scalar(field, _VARINT, number, where)


def _value(
    field: FieldLayout,
    wire: int,
    value: int | bytes,
    where: str,
    depth: int,
    index: int | str | None = None,
) -> Any:
    """One value of ``field`` in the message at ``where`` (``index``: its list index or map key)."""
    if field.message is None:
        return _scalar(field, wire, value, where)
    if not isinstance(value, bytes):
        raise _wrong_wire(field, wire, where)
    path = f"{where}.{field.json_name}" + (f"[{index}]" if index is not None else "")
    return _message(field.message, value, path, depth + 1)


def _map_entry(field: FieldLayout, data: bytes, where: str, depth: int) -> tuple[str, Any]:
    key = ""
    entry_value: Any = _MISSING
    for number, wire, value in _fields(data, f"{where}.{field.json_name}"):
        if number == 1:
            if not isinstance(value, bytes):
                raise _wrong_wire(field, wire, where)
            key = value.decode("utf-8", errors="replace")
        elif number == 2:
            entry_value = _value(field, wire, value, where, depth, key)
    if entry_value is _MISSING:  # an absent value is the zero value, as in Go
        entry_value = (
            _message(field.message, b"", f"{where}.{field.json_name}[{key}]", depth + 1)
            if field.message is not None
            else _scalar(field, *_zero_wire(field, where))
        )
    return key, entry_value


def _zero_wire(field: FieldLayout, where: str) -> tuple[int, int | bytes, str]:
    if field.scalar in ("b", "i32", "i64"):
        return _VARINT, 0, where
    if field.scalar == "f64":
        return _FIXED64, 0, where
    return _BYTES, b"", where


def _message(name: str, data: bytes, where: str, depth: int) -> Any:
    """Decode one message into its JSON form (a dict, or a scalar for the special messages)."""
    if depth > _MAX_DEPTH:
        raise ProtobufDecodeError(f"{where}: messages are nested more than {_MAX_DEPTH} deep")
    by_number = _by_number(name)
    found: dict[int, Any] = {}
    for number, wire, value in _fields(data, where):
        field = by_number.get(number)
        if field is None:
            continue
        if field.is_map:
            if not isinstance(value, bytes):
                raise _wrong_wire(field, wire, where)
            key, entry = _map_entry(field, value, where, depth)
            found.setdefault(number, {})[key] = entry
        elif field.repeated:
            items = found.setdefault(number, [])
            if field.scalar in ("b", "i32", "i64", "f64") and isinstance(value, bytes):
                items.extend(_packed(field, value, f"{where}.{field.json_name}"))
            else:
                items.append(_value(field, wire, value, where, depth, len(items)))
        else:
            found[number] = _value(field, wire, value, where, depth)  # the last one wins
    out: dict[str, Any] = {}
    for field in layouts()[name]:
        if field.number not in found:
            continue
        value = found[field.number]
        if field.json_name == "^":
            out.update(value)
        elif field.omit_zero and (value is None or value == {}):
            continue
        elif field.keep_zero or field.scalar is None or not _is_zero(value):
            out[field.json_name] = value
    finisher = _FINISHERS.get(name)
    return finisher(out) if finisher is not None else out


def _is_zero(value: Any) -> bool:
    return any(value == zero and type(value) is type(zero) for zero in _ZEROS)


# -- special JSON forms --------------------------------------------------------------------------

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


def _instant(fields: Mapping[str, Any]) -> datetime.datetime | None:
    """A Timestamp's instant; None for Go's zero time, which is written as an empty message."""
    if not fields:
        return None
    try:
        return _EPOCH + datetime.timedelta(
            seconds=fields.get("seconds", 0), microseconds=fields.get("nanos", 0) // 1000
        )
    except OverflowError:
        raise ProtobufDecodeError(f"time stamp out of range: {dict(fields)}") from None


def _rfc3339(instant: datetime.datetime, fraction: str) -> str:
    # Formatted by hand: strftime does not zero-pad years below 1000 everywhere; Go does.
    return (
        f"{instant.year:04d}-{instant.month:02d}-{instant.day:02d}T"
        f"{instant.hour:02d}:{instant.minute:02d}:{instant.second:02d}{fraction}Z"
    )


def _time(fields: Mapping[str, Any]) -> str | None:
    instant = _instant(fields)  # metav1.Time keeps whole seconds only
    return _rfc3339(instant, "") if instant is not None else None


def _micro_time(fields: Mapping[str, Any]) -> str | None:
    instant = _instant(fields)
    return _rfc3339(instant, f".{instant.microsecond:06d}") if instant is not None else None


def _int_or_string(fields: Mapping[str, Any]) -> int | str:
    if fields.get("type", 0) == 1:
        return str(fields.get("strVal", ""))
    return int(fields.get("intVal", 0))


def _raw(fields: Mapping[str, Any]) -> Any:
    return fields.get("raw")


def _schema_or_array(fields: Mapping[str, Any]) -> Any:
    return fields.get("jSONSchemas") or fields.get("schema")


def _schema_or_bool(fields: Mapping[str, Any]) -> Any:
    return fields["schema"] if "schema" in fields else bool(fields.get("allows", False))


def _schema_or_strings(fields: Mapping[str, Any]) -> Any:
    return fields.get("property") or fields.get("schema")


_FINISHERS: Mapping[str, Callable[[Mapping[str, Any]], Any]] = {
    "meta.Time": _time,
    "meta.MicroTime": _micro_time,
    "meta.FieldsV1": _raw,
    "intstr.IntOrString": _int_or_string,
    "resource.Quantity": lambda fields: str(fields.get("string") or "0"),
    "runtime.RawExtension": _raw,
    "apiextensions.JSON": _raw,
    "apiextensions.JSONSchemaPropsOrArray": _schema_or_array,
    "apiextensions.JSONSchemaPropsOrBool": _schema_or_bool,
    "apiextensions.JSONSchemaPropsOrStringArray": _schema_or_strings,
}
"""JSON forms of the messages whose Go types marshal to something other than an object."""
