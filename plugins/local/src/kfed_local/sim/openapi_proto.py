"""``/openapi/v2`` as protobuf: a Swagger 2.0 document encoded as gnostic's ``openapi.v2.Document``.

Layer: pure (``kfed_local.sim``, beside ``openapi``; used by the HTTP layer). kubectl (client-go's
discovery client) asks for ``/openapi/v2`` only as
``application/com.github.proto-openapi.spec.v2@v1.0+protobuf`` and unmarshals the body as the
gnostic ``Document`` message, whenever it falls back to client-side validation (a kind the v3
documents do not describe) or runs ``kubectl explain --output=plaintext-openapiv2``. kube-apiserver
builds that body by parsing its JSON document with gnostic and marshalling the result; this module
does the same mapping from the JSON dict (see :func:`kfed_local.sim.openapi.openapi_v2`) straight
to protobuf wire format, with a small hand-written encoder: no generated code, no protobuf library.

The message layouts below (field numbers, which JSON key goes where, how a ``oneof`` is chosen)
follow ``openapiv2/OpenAPIv2.proto`` of gnostic. Keys beginning with ``x-`` become the message's
``vendor_extension`` entries (``NamedAny`` holding the value as YAML text), as gnostic does; a key
the message has no field for is dropped, or rejected with ``strict=True``.

It never mutates its input, does no I/O and no logging.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final, Literal

import yaml

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


# -- message layouts -----------------------------------------------------------------------------

Kind = Literal["string", "bool", "int64", "double", "strings", "any", "anys", "message", "messages"]


@dataclass(frozen=True, slots=True)
class _Field:
    number: int
    kind: Kind
    message: str = ""
    """For ``message``/``messages``: the layout name (a key of ``_MESSAGES``, ``_MAPS`` or
    ``_CHOICES``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class _Message:
    """A message whose fields are the JSON object's keys."""

    fields: Mapping[str, _Field]
    extensions: int = 0
    """Field number of ``repeated NamedAny vendor_extension`` (0: the message has none)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class _NamedMap:
    """A message holding a JSON object as ordered ``Named<Value>`` pairs (name = 1, value = 2)."""

    number: int
    value: _Field
    """How a pair's value is encoded (its number is always 2)."""
    extensions: int = 0
    """If set, ``x-`` keys go to this vendor-extension field instead of the pairs."""


_VALUE = 2
_SINGLE: Final[Mapping[Kind, Kind]] = {"messages": "message", "anys": "any", "strings": "string"}
_ANY: Final = _Field(0, "any")


_f = _Field


def _m(message: str) -> _Field:
    """A named pair's value of message type ``message``."""
    return _Field(0, "message", message)


# Constraint fields shared by parameters, headers and primitive items, numbered from ``first``
# in gnostic's order.
def _primitive_fields(first: int) -> dict[str, _Field]:
    layout: list[tuple[str, Kind, str]] = [
        ("type", "string", ""), ("format", "string", ""), ("items", "message", "PrimitivesItems"),
        ("collectionFormat", "string", ""), ("default", "any", ""), ("maximum", "double", ""),
        ("exclusiveMaximum", "bool", ""), ("minimum", "double", ""),
        ("exclusiveMinimum", "bool", ""), ("maxLength", "int64", ""), ("minLength", "int64", ""),
        ("pattern", "string", ""), ("maxItems", "int64", ""), ("minItems", "int64", ""),
        ("uniqueItems", "bool", ""), ("enum", "anys", ""), ("multipleOf", "double", ""),
    ]  # fmt: skip
    return {key: _f(first + i, kind, message) for i, (key, kind, message) in enumerate(layout)}


def _sub_schema(*, allow_empty: bool) -> _Message:
    """Header, formData, query or path parameter (``allowEmptyValue`` only for the middle two)."""
    head = {"required": _f(1, "bool"), "in": _f(2, "string"), "description": _f(3, "string"),
            "name": _f(4, "string")}  # fmt: skip
    if allow_empty:
        head["allowEmptyValue"] = _f(5, "bool")
    fields = {**head, **_primitive_fields(len(head) + 1)}
    return _Message(fields=fields, extensions=len(fields) + 1)


def _security(*keys: tuple[str, Kind, str]) -> _Message:
    fields = {key: _f(i + 1, kind, message) for i, (key, kind, message) in enumerate(keys)}
    return _Message(fields=fields, extensions=len(fields) + 1)


_STR: Final = "string"
_SCOPES: Final[tuple[str, Kind, str]] = ("scopes", "message", "Oauth2Scopes")

_MESSAGES: Final[Mapping[str, _Message]] = {
    "Document": _Message(fields={
        "swagger": _f(1, "string"), "info": _f(2, "message", "Info"), "host": _f(3, "string"),
        "basePath": _f(4, "string"), "schemes": _f(5, "strings"), "consumes": _f(6, "strings"),
        "produces": _f(7, "strings"), "paths": _f(8, "message", "Paths"),
        "definitions": _f(9, "message", "Definitions"),
        "parameters": _f(10, "message", "ParameterDefinitions"),
        "responses": _f(11, "message", "ResponseDefinitions"),
        "security": _f(12, "messages", "SecurityRequirement"),
        "securityDefinitions": _f(13, "message", "SecurityDefinitions"),
        "tags": _f(14, "messages", "Tag"), "externalDocs": _f(15, "message", "ExternalDocs"),
    }, extensions=16),
    "Info": _Message(fields={
        "title": _f(1, "string"), "version": _f(2, "string"), "description": _f(3, "string"),
        "termsOfService": _f(4, "string"), "contact": _f(5, "message", "Contact"),
        "license": _f(6, "message", "License"),
    }, extensions=7),
    "Contact": _Message(fields={"name": _f(1, "string"), "url": _f(2, "string"),
                                "email": _f(3, "string")}, extensions=4),
    "License": _Message(fields={"name": _f(1, "string"), "url": _f(2, "string")}, extensions=3),
    "ExternalDocs": _Message(fields={"description": _f(1, "string"), "url": _f(2, "string")},
                             extensions=3),
    "Tag": _Message(fields={"name": _f(1, "string"), "description": _f(2, "string"),
                            "externalDocs": _f(3, "message", "ExternalDocs")}, extensions=4),
    "PathItem": _Message(fields={
        "$ref": _f(1, "string"), "get": _f(2, "message", "Operation"),
        "put": _f(3, "message", "Operation"), "post": _f(4, "message", "Operation"),
        "delete": _f(5, "message", "Operation"), "options": _f(6, "message", "Operation"),
        "head": _f(7, "message", "Operation"), "patch": _f(8, "message", "Operation"),
        "parameters": _f(9, "messages", "ParametersItem"),
    }, extensions=10),
    "Operation": _Message(fields={
        "tags": _f(1, "strings"), "summary": _f(2, "string"), "description": _f(3, "string"),
        "externalDocs": _f(4, "message", "ExternalDocs"), "operationId": _f(5, "string"),
        "produces": _f(6, "strings"), "consumes": _f(7, "strings"),
        "parameters": _f(8, "messages", "ParametersItem"),
        "responses": _f(9, "message", "Responses"), "schemes": _f(10, "strings"),
        "deprecated": _f(11, "bool"), "security": _f(12, "messages", "SecurityRequirement"),
    }, extensions=13),
    "JsonReference": _Message(fields={"$ref": _f(1, "string"),
                                      "description": _f(2, "string")}),
    "BodyParameter": _Message(fields={
        "description": _f(1, "string"), "name": _f(2, "string"), "in": _f(3, "string"),
        "required": _f(4, "bool"), "schema": _f(5, "message", "Schema"),
    }, extensions=6),
    "HeaderParameterSubSchema": _sub_schema(allow_empty=False),
    "FormDataParameterSubSchema": _sub_schema(allow_empty=True),
    "QueryParameterSubSchema": _sub_schema(allow_empty=True),
    "PathParameterSubSchema": _sub_schema(allow_empty=False),
    "PrimitivesItems": _Message(fields=_primitive_fields(1), extensions=18),
    "Header": _Message(fields={**_primitive_fields(1), "description": _f(18, "string")},
                       extensions=19),
    "Response": _Message(fields={
        "description": _f(1, "string"), "schema": _f(2, "message", "SchemaItem"),
        "headers": _f(3, "message", "Headers"), "examples": _f(4, "message", "Examples"),
    }, extensions=5),
    "Schema": _Message(fields={
        "$ref": _f(1, "string"), "format": _f(2, "string"), "title": _f(3, "string"),
        "description": _f(4, "string"), "default": _f(5, "any"), "multipleOf": _f(6, "double"),
        "maximum": _f(7, "double"), "exclusiveMaximum": _f(8, "bool"),
        "minimum": _f(9, "double"), "exclusiveMinimum": _f(10, "bool"),
        "maxLength": _f(11, "int64"), "minLength": _f(12, "int64"), "pattern": _f(13, "string"),
        "maxItems": _f(14, "int64"), "minItems": _f(15, "int64"), "uniqueItems": _f(16, "bool"),
        "maxProperties": _f(17, "int64"), "minProperties": _f(18, "int64"),
        "required": _f(19, "strings"), "enum": _f(20, "anys"),
        "additionalProperties": _f(21, "message", "AdditionalPropertiesItem"),
        "type": _f(22, "message", "TypeItem"), "items": _f(23, "message", "ItemsItem"),
        "allOf": _f(24, "messages", "Schema"), "properties": _f(25, "message", "Properties"),
        "discriminator": _f(26, "string"), "readOnly": _f(27, "bool"),
        "xml": _f(28, "message", "Xml"), "externalDocs": _f(29, "message", "ExternalDocs"),
        "example": _f(30, "any"),
    }, extensions=31),
    "FileSchema": _Message(fields={
        "format": _f(1, "string"), "title": _f(2, "string"), "description": _f(3, "string"),
        "default": _f(4, "any"), "required": _f(5, "strings"), "type": _f(6, "string"),
        "readOnly": _f(7, "bool"), "externalDocs": _f(8, "message", "ExternalDocs"),
        "example": _f(9, "any"),
    }, extensions=10),
    "Xml": _Message(fields={
        "name": _f(1, "string"), "namespace": _f(2, "string"), "prefix": _f(3, "string"),
        "attribute": _f(4, "bool"), "wrapped": _f(5, "bool"),
    }, extensions=6),
    "BasicAuthenticationSecurity": _security(("type", _STR, ""), ("description", _STR, "")),
    "ApiKeySecurity": _security(("type", _STR, ""), ("name", _STR, ""), ("in", _STR, ""),
                                ("description", _STR, "")),
    "Oauth2ImplicitSecurity": _security(("type", _STR, ""), ("flow", _STR, ""), _SCOPES,
                                        ("authorizationUrl", _STR, ""), ("description", _STR, "")),
    "Oauth2PasswordSecurity": _security(("type", _STR, ""), ("flow", _STR, ""), _SCOPES,
                                        ("tokenUrl", _STR, ""), ("description", _STR, "")),
    "Oauth2ApplicationSecurity": _security(("type", _STR, ""), ("flow", _STR, ""), _SCOPES,
                                           ("tokenUrl", _STR, ""), ("description", _STR, "")),
    "Oauth2AccessCodeSecurity": _security(("type", _STR, ""), ("flow", _STR, ""), _SCOPES,
                                          ("authorizationUrl", _STR, ""), ("tokenUrl", _STR, ""),
                                          ("description", _STR, "")),
}  # fmt: skip

_MAPS: Final[Mapping[str, _NamedMap]] = {
    "Paths": _NamedMap(number=2, value=_m("PathItem"), extensions=1),
    "Definitions": _NamedMap(number=1, value=_m("Schema")),
    "Properties": _NamedMap(number=1, value=_m("Schema")),
    "ParameterDefinitions": _NamedMap(number=1, value=_m("Parameter")),
    "ResponseDefinitions": _NamedMap(number=1, value=_m("Response")),
    "Responses": _NamedMap(number=1, value=_m("ResponseValue"), extensions=2),
    "SecurityDefinitions": _NamedMap(number=1, value=_m("SecurityDefinitionsItem")),
    "SecurityRequirement": _NamedMap(number=1, value=_m("StringArray")),
    "Headers": _NamedMap(number=1, value=_m("Header")),
    "Examples": _NamedMap(number=1, value=_ANY),
    "Oauth2Scopes": _NamedMap(number=1, value=_Field(0, "string")),
}


# A ``oneof`` wrapper: which member (field number, layout) a JSON value becomes; None if none fits.
Chooser = Callable[[object], tuple[int, str] | None]


def _reference_or(number: int, layout: str) -> Chooser:
    def choose(value: object) -> tuple[int, str] | None:
        if isinstance(value, Mapping) and "$ref" in value:
            return 2, "JsonReference"
        return number, layout

    return choose


_LOCATIONS: Final[Mapping[str, tuple[int, str]]] = {
    "header": (1, "HeaderParameterSubSchema"),
    "formData": (2, "FormDataParameterSubSchema"),
    "query": (3, "QueryParameterSubSchema"),
    "path": (4, "PathParameterSubSchema"),
}
_OAUTH2_FLOWS: Final = {"implicit": 3, "password": 4, "application": 5, "accessCode": 6}


def _parameter(value: object) -> tuple[int, str] | None:
    where = value.get("in") if isinstance(value, Mapping) else None
    if where == "body":
        return 1, "BodyParameter"
    return (2, "NonBodyParameter") if where in _LOCATIONS else None


def _non_body(value: object) -> tuple[int, str] | None:
    where = value.get("in") if isinstance(value, Mapping) else None
    return _LOCATIONS.get(where) if isinstance(where, str) else None


def _security_item(value: object) -> tuple[int, str] | None:
    if not isinstance(value, Mapping):
        return None
    kind, flow = value.get("type"), value.get("flow")
    if kind == "basic":
        return 1, "BasicAuthenticationSecurity"
    if kind == "apiKey":
        return 2, "ApiKeySecurity"
    if kind == "oauth2" and isinstance(flow, str) and flow in _OAUTH2_FLOWS:
        return _OAUTH2_FLOWS[flow], f"Oauth2{flow[0].upper()}{flow[1:]}Security"
    return None


def _schema_item(value: object) -> tuple[int, str] | None:
    if isinstance(value, Mapping) and value.get("type") == "file":
        return 2, "FileSchema"
    return 1, "Schema"


_CHOICES: Final[Mapping[str, Chooser]] = {
    "ParametersItem": _reference_or(1, "Parameter"),
    "ResponseValue": _reference_or(1, "Response"),
    "Parameter": _parameter,
    "NonBodyParameter": _non_body,
    "SecurityDefinitionsItem": _security_item,
    "SchemaItem": _schema_item,
}


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
        if layout in _MESSAGES:
            return self._fields(layout, _MESSAGES[layout], value)
        if layout in _MAPS:
            return self._named_map(layout, _MAPS[layout], value)
        if layout in _CHOICES:
            choice = _CHOICES[layout](value)
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
            return b"".join(self.field(_f(1, "message", "Schema"), item) for item in schemas)
        if layout in ("TypeItem", "StringArray"):
            return self.field(_f(1, "strings"), [value] if isinstance(value, str) else value)
        if layout == "AdditionalPropertiesItem":
            if isinstance(value, bool):  # a oneof member: false is sent too
                return _tag(2, _VARINT) + _varint(int(value))
            return self.field(_f(1, "message", "Schema"), value)
        raise AssertionError(f"no layout {layout}")  # a bug in the tables above

    def _fields(self, layout: str, spec: _Message, value: object) -> bytes:
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
                    number, chunk = spec.extensions, self.named(spec.extensions, key, _ANY, item)
            except OpenApiEncodingError as exc:
                raise exc.inside(str(key)) from None
            chunks.setdefault(number, []).append(chunk)
        # Go's proto.Marshal writes fields in field-number order; so do we.
        return b"".join(b"".join(chunks[number]) for number in sorted(chunks))

    def _named_map(self, layout: str, spec: _NamedMap, value: object) -> bytes:
        if not isinstance(value, Mapping):
            self.problem(f"{layout} must be an object")
            return b""
        pairs, extensions = [], []
        for key, item in value.items():
            try:
                if spec.extensions and isinstance(key, str) and key.startswith("x-"):
                    extensions.append(self.named(spec.extensions, key, _ANY, item))
                else:
                    pairs.append(self.named(spec.number, str(key), spec.value, item))
            except OpenApiEncodingError as exc:
                raise exc.inside(str(key)) from None
        parts = [pairs, extensions] if spec.number < spec.extensions else [extensions, pairs]
        return b"".join(b"".join(part) for part in parts)

    def named(self, number: int, name: str, value_field: _Field, value: object) -> bytes:
        """One ``Named<Value>`` pair as field ``number`` of its parent."""
        body = _length_delimited(1, _utf8(name)) if name else b""
        body += self.field(_Field(_VALUE, value_field.kind, value_field.message), value)
        return _length_delimited(number, body)

    def field(self, field: _Field, value: object) -> bytes:
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
            single = _SINGLE[kind]
            out = []
            for index, item in enumerate(value):
                try:
                    out.append(self._repeated(_Field(number, single, field.message), item))
                except OpenApiEncodingError as exc:
                    raise exc.inside(f"[{index}]") from None
            return b"".join(out)
        return self._scalar(kind, number, value)

    def _repeated(self, field: _Field, value: object) -> bytes:
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
