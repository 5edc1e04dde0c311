"""``/openapi/v2`` as protobuf: a Swagger 2.0 document encoded as gnostic's ``openapi.v2.Document``.

Layer: pure (``kfed_local.sim``, beside ``openapi``; used by the HTTP layer). kubectl (client-go's
discovery client) asks for ``/openapi/v2`` only as
``application/com.github.proto-openapi.spec.v2@v1.0+protobuf`` and unmarshals the body as the
gnostic ``Document`` message, whenever it falls back to client-side validation (a kind the v3
documents do not describe) or runs ``kubectl explain --output=plaintext-openapiv2``. kube-apiserver
builds that body by parsing its JSON document with gnostic and marshalling the result; this module
does the same mapping from the JSON dict (see :func:`kfed_local.sim.openapi.openapi_v2`) straight
to protobuf wire format, with a small hand-written encoder: no generated code, no protobuf library.

The message layouts (field numbers, which JSON key goes where, how a ``oneof`` is chosen)
follow ``openapiv2/OpenAPIv2.proto`` of gnostic and are tabled in
:mod:`kfed_local.sim.openapi_gnostic`. Keys beginning with ``x-`` become the message's
``vendor_extension`` entries (``NamedAny`` holding the value as YAML text), as gnostic does; a key
the message has no field for is dropped, or rejected with ``strict=True``.

It never mutates its input, does no I/O and no logging.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Final

import yaml

from kfed_local.sim.openapi_gnostic import (
    ANY,
    CHOICES,
    MAPS,
    MESSAGES,
    SINGLE,
    VALUE,
    Field,
    Kind,
    Message,
    NamedMap,
)

OPENAPI_V2_PROTOBUF_CONTENT_TYPE: Final = (
    "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
)
"""The ``Content-Type`` kube-apiserver answers a protobuf ``/openapi/v2`` request with (even when
the request named the deprecated ``...spec.v2@v1.0+protobuf`` type, which kubectl still sends)."""

OPENAPI_V2_JSON_CONTENT_TYPE: Final = "application/json"

_PROTOBUF_SUBTYPES = (
    "com.github.proto-openapi.spec.v2@v1.0+protobuf",  # deprecated; what client-go asks for
    "com.github.proto-openapi.spec.v2.v1.0+protobuf",
)


class OpenApiEncodingError(ValueError):
    """A value the Swagger 2.0 → protobuf mapping cannot represent (``strict=True`` only)."""

    def __init__(self, problem: str, path: tuple[str, ...] = ()) -> None:
        self.problem = problem
        self.path = path
        where = ".".join(path) or "document"
        super().__init__(f"{where}: {problem}")

    def inside(self, step: str) -> OpenApiEncodingError:
        """The same error, one level further out."""
        return OpenApiEncodingError(self.problem, (step, *self.path))


# -- content negotiation -------------------------------------------------------------------------


def negotiate_openapi_v2(accept: str) -> str | None:
    """The content type to answer ``GET /openapi/v2`` with, or None for 406 Not Acceptable.

    Like kube-apiserver: the ``Accept`` clauses are ranked by ``q`` (then by how specific they
    are), and the first that matches JSON or either protobuf name wins; an empty header means
    ``*/*``, which picks JSON.
    """
    clauses: list[tuple[float, bool, bool, str, str]] = []
    for raw in (accept.strip() or "*/*").split(","):
        media, *params = (part.strip() for part in raw.split(";"))
        if not media:
            continue
        kind, _, subtype = media.partition("/")
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            clauses.append((-quality, kind == "*", subtype in ("*", ""), kind, subtype or "*"))
    offers = [
        ("json", OPENAPI_V2_JSON_CONTENT_TYPE),
        *((subtype, OPENAPI_V2_PROTOBUF_CONTENT_TYPE) for subtype in _PROTOBUF_SUBTYPES),
    ]
    for *_, kind, subtype in sorted(clauses, key=lambda clause: clause[:3]):
        if kind not in ("application", "*"):
            continue
        for offered, answer in offers:
            if subtype in (offered, "*"):
                return answer
    return None


# -- wire format ---------------------------------------------------------------------------------

_VARINT, _FIXED64, _LENGTH = 0, 1, 2
_INT64_MASK = (1 << 64) - 1


def _varint(value: int) -> bytes:
    value &= _INT64_MASK  # negative int64 values go out as ten-byte two's complement
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _tag(number: int, wire_type: int) -> bytes:
    return _varint(number << 3 | wire_type)


def _utf8(text: str) -> bytes:
    # Go rejects a whole message over one invalid UTF-8 string, so a lone surrogate (JSON allows
    # them) becomes "?" rather than breaking every client.
    return text.encode("utf-8", "replace")


def _length_delimited(number: int, payload: bytes) -> bytes:
    return _tag(number, _LENGTH) + _varint(len(payload)) + payload


# -- encoding ------------------------------------------------------------------------------------


def _yaml(value: object) -> str:
    """A JSON value as the YAML text gnostic keeps in ``Any.yaml`` (clients YAML-parse it)."""
    # Non-ASCII goes out escaped: raw, some code points (NEL, LS, PS) would read back as breaks.
    text = yaml.safe_dump(value, default_flow_style=False, sort_keys=False, width=1 << 30)
    # PyYAML closes a bare scalar with an explicit document end; gnostic's YAML does not.
    return text.removesuffix("...\n")


class _Encoder:
    """One encoding run: ``strict`` decides whether unmappable keys fail or are dropped."""

    def __init__(self, *, strict: bool) -> None:
        self.strict = strict

    def problem(self, text: str) -> None:
        if self.strict:
            raise OpenApiEncodingError(text)

    def message(self, layout: str, value: object) -> bytes:
        """The body (without tag) of message ``layout`` for a JSON value."""
        if layout in MESSAGES:
            return self._fields(layout, MESSAGES[layout], value)
        if layout in MAPS:
            return self._named_map(layout, MAPS[layout], value)
        if layout in CHOICES:
            choice = CHOICES[layout](value)
            if choice is None:
                self.problem(f"no {layout} alternative fits this value")
                return b""
            number, inner = choice
            return _length_delimited(number, self.message(inner, value))
        if layout == "Any":
            return _length_delimited(2, _utf8(_yaml(value)))
        return self._wrapper(layout, value)

    def _wrapper(self, layout: str, value: object) -> bytes:
        """The one-field wrappers: ``TypeItem``/``StringArray`` (repeated string 1), ``ItemsItem``
        (repeated Schema 1; one schema is a list of one) and ``AdditionalPropertiesItem``."""
        if layout == "ItemsItem":
            schemas = value if isinstance(value, list) else [value]
            return b"".join(self.field(Field(1, "message", "Schema"), item) for item in schemas)
        if layout in ("TypeItem", "StringArray"):
            return self.field(Field(1, "strings"), [value] if isinstance(value, str) else value)
        if layout == "AdditionalPropertiesItem":
            if isinstance(value, bool):  # a oneof member: false is sent too
                return _tag(2, _VARINT) + _varint(int(value))
            return self.field(Field(1, "message", "Schema"), value)
        raise AssertionError(f"no layout {layout}")  # a bug in the tables above

    def _fields(self, layout: str, spec: Message, value: object) -> bytes:
        if not isinstance(value, Mapping):
            self.problem(f"{layout} must be an object")
            return b""
        chunks: dict[int, list[bytes]] = {}
        for key, item in value.items():
            field = spec.fields.get(key)
            extension = isinstance(key, str) and key.startswith("x-") and spec.extensions > 0
            if field is None and not extension:
                self.problem(f"{layout} has no field for key {key!r}")
                continue
            try:
                if field is not None:
                    number, chunk = field.number, self.field(field, item)
                else:
                    number, chunk = spec.extensions, self.named(spec.extensions, key, ANY, item)
            except OpenApiEncodingError as exc:
                raise exc.inside(str(key)) from None
            chunks.setdefault(number, []).append(chunk)
        # Go's proto.Marshal writes fields in field-number order; so do we.
        return b"".join(b"".join(chunks[number]) for number in sorted(chunks))

    def _named_map(self, layout: str, spec: NamedMap, value: object) -> bytes:
        if not isinstance(value, Mapping):
            self.problem(f"{layout} must be an object")
            return b""
        pairs, extensions = [], []
        for key, item in value.items():
            try:
                if spec.extensions and isinstance(key, str) and key.startswith("x-"):
                    extensions.append(self.named(spec.extensions, key, ANY, item))
                else:
                    pairs.append(self.named(spec.number, str(key), spec.value, item))
            except OpenApiEncodingError as exc:
                raise exc.inside(str(key)) from None
        parts = [pairs, extensions] if spec.number < spec.extensions else [extensions, pairs]
        return b"".join(b"".join(part) for part in parts)

    def named(self, number: int, name: str, value_field: Field, value: object) -> bytes:
        """One ``Named<Value>`` pair as field ``number`` of its parent."""
        body = _length_delimited(1, _utf8(name)) if name else b""
        body += self.field(Field(VALUE, value_field.kind, value_field.message), value)
        return _length_delimited(number, body)

    def field(self, field: Field, value: object) -> bytes:
        """Field ``field`` holding ``value``; empty if proto3 would not send it."""
        kind, number = field.kind, field.number
        if kind == "message":
            return _length_delimited(number, self.message(field.message, value))
        if kind == "any":
            return _length_delimited(number, self.message("Any", value))
        if kind in ("messages", "anys", "strings"):
            if not isinstance(value, list):
                self.problem(f"expected a list, got {type(value).__name__}")
                return b""
            single = SINGLE[kind]
            out = []
            for index, item in enumerate(value):
                try:
                    out.append(self._repeated(Field(number, single, field.message), item))
                except OpenApiEncodingError as exc:
                    raise exc.inside(f"[{index}]") from None
            return b"".join(out)
        return self._scalar(kind, number, value)

    def _repeated(self, field: Field, value: object) -> bytes:
        if field.kind == "string":  # repeated strings are sent even when empty
            if not isinstance(value, str):
                self.problem(f"expected a string, got {type(value).__name__}")
                return b""
            return _length_delimited(field.number, _utf8(value))
        return self.field(field, value)

    def _scalar(self, kind: Kind, number: int, value: object) -> bytes:
        if kind == "string":
            if isinstance(value, str):
                return _length_delimited(number, _utf8(value)) if value else b""
        elif kind == "bool":
            if isinstance(value, bool):
                return _tag(number, _VARINT) + b"\x01" if value else b""
        elif kind == "int64":
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            if isinstance(value, int) and not isinstance(value, bool):
                return _tag(number, _VARINT) + _varint(value) if value else b""
        elif isinstance(value, int | float) and not isinstance(value, bool):  # double
            return _tag(number, _FIXED64) + struct.pack("<d", value) if value else b""
        self.problem(f"expected {kind}, got {type(value).__name__}")
        return b""


def encode_openapi_v2(document: Mapping[str, object], *, strict: bool = False) -> bytes:
    """The serialized ``openapi.v2.Document`` message of a Swagger 2.0 JSON document.

    Keys that gnostic's messages have no field for (and values of the wrong JSON type) are left
    out, unless ``strict`` is set: then they raise :class:`OpenApiEncodingError` naming where.
    """
    return _Encoder(strict=strict).message("Document", document)
