"""The message layouts of gnostic's ``openapi.v2`` protobuf schema, as tables of field numbers.

Layer: pure (below :mod:`kfed_local.sim.openapi_proto`, whose encoder walks these tables). For
each message of gnostic's ``openapiv2/OpenAPIv2.proto`` that a Swagger 2.0 document maps to, the
tables say which JSON key goes to which field number and how that field is encoded
(:class:`Message`), which messages hold a JSON object as ordered ``Named<Value>`` pairs
(:class:`NamedMap`), and how a ``oneof`` wrapper picks its member from the JSON value (the
choosers of :data:`CHOICES`); plus where each message keeps its ``x-`` vendor extensions.

It is data and tiny lookups only: it encodes nothing, does no I/O and keeps no mutable state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final, Literal

Kind = Literal["string", "bool", "int64", "double", "strings", "any", "anys", "message", "messages"]


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a message: its number and how its value is encoded (``kind``)."""

    number: int
    kind: Kind
    message: str = ""
    """For ``message``/``messages``: the layout name (a key of ``MESSAGES``, ``MAPS`` or
    ``CHOICES``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    """A message whose fields are the JSON object's keys."""

    fields: Mapping[str, Field]
    extensions: int = 0
    """Field number of ``repeated NamedAny vendor_extension`` (0: the message has none)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class NamedMap:
    """A message holding a JSON object as ordered ``Named<Value>`` pairs (name = 1, value = 2)."""

    number: int
    value: Field
    """How a pair's value is encoded (its number is always 2)."""
    extensions: int = 0
    """If set, ``x-`` keys go to this vendor-extension field instead of the pairs."""


# The field number of a ``Named<Value>`` pair's value, the single kind of each repeated kind,
# and how a vendor extension's value (``Any``: YAML text) is encoded.
VALUE = 2
SINGLE: Final[Mapping[Kind, Kind]] = {"messages": "message", "anys": "any", "strings": "string"}
ANY: Final = Field(0, "any")


_f = Field


def _m(message: str) -> Field:
    """A named pair's value of message type ``message``."""
    return Field(0, "message", message)


# Constraint fields shared by parameters, headers and primitive items, numbered from ``first``
# in gnostic's order.
def _primitive_fields(first: int) -> dict[str, Field]:
    layout: list[tuple[str, Kind, str]] = [
        ("type", "string", ""), ("format", "string", ""), ("items", "message", "PrimitivesItems"),
        ("collectionFormat", "string", ""), ("default", "any", ""), ("maximum", "double", ""),
        ("exclusiveMaximum", "bool", ""), ("minimum", "double", ""),
        ("exclusiveMinimum", "bool", ""), ("maxLength", "int64", ""), ("minLength", "int64", ""),
        ("pattern", "string", ""), ("maxItems", "int64", ""), ("minItems", "int64", ""),
        ("uniqueItems", "bool", ""), ("enum", "anys", ""), ("multipleOf", "double", ""),
    ]  # fmt: skip
    return {key: _f(first + i, kind, message) for i, (key, kind, message) in enumerate(layout)}


def _sub_schema(*, allow_empty: bool) -> Message:
    """Header, formData, query or path parameter (``allowEmptyValue`` only for the middle two)."""
    head = {"required": _f(1, "bool"), "in": _f(2, "string"), "description": _f(3, "string"),
            "name": _f(4, "string")}  # fmt: skip
    if allow_empty:
        head["allowEmptyValue"] = _f(5, "bool")
    fields = {**head, **_primitive_fields(len(head) + 1)}
    return Message(fields=fields, extensions=len(fields) + 1)


def _security(*keys: tuple[str, Kind, str]) -> Message:
    fields = {key: _f(i + 1, kind, message) for i, (key, kind, message) in enumerate(keys)}
    return Message(fields=fields, extensions=len(fields) + 1)


_STR: Final = "string"
_SCOPES: Final[tuple[str, Kind, str]] = ("scopes", "message", "Oauth2Scopes")

MESSAGES: Final[Mapping[str, Message]] = {
    "Document": Message(fields={
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
    "Info": Message(fields={
        "title": _f(1, "string"), "version": _f(2, "string"), "description": _f(3, "string"),
        "termsOfService": _f(4, "string"), "contact": _f(5, "message", "Contact"),
        "license": _f(6, "message", "License"),
    }, extensions=7),
    "Contact": Message(fields={"name": _f(1, "string"), "url": _f(2, "string"),
                                "email": _f(3, "string")}, extensions=4),
    "License": Message(fields={"name": _f(1, "string"), "url": _f(2, "string")}, extensions=3),
    "ExternalDocs": Message(fields={"description": _f(1, "string"), "url": _f(2, "string")},
                             extensions=3),
    "Tag": Message(fields={"name": _f(1, "string"), "description": _f(2, "string"),
                            "externalDocs": _f(3, "message", "ExternalDocs")}, extensions=4),
    "PathItem": Message(fields={
        "$ref": _f(1, "string"), "get": _f(2, "message", "Operation"),
        "put": _f(3, "message", "Operation"), "post": _f(4, "message", "Operation"),
        "delete": _f(5, "message", "Operation"), "options": _f(6, "message", "Operation"),
        "head": _f(7, "message", "Operation"), "patch": _f(8, "message", "Operation"),
        "parameters": _f(9, "messages", "ParametersItem"),
    }, extensions=10),
    "Operation": Message(fields={
        "tags": _f(1, "strings"), "summary": _f(2, "string"), "description": _f(3, "string"),
        "externalDocs": _f(4, "message", "ExternalDocs"), "operationId": _f(5, "string"),
        "produces": _f(6, "strings"), "consumes": _f(7, "strings"),
        "parameters": _f(8, "messages", "ParametersItem"),
        "responses": _f(9, "message", "Responses"), "schemes": _f(10, "strings"),
        "deprecated": _f(11, "bool"), "security": _f(12, "messages", "SecurityRequirement"),
    }, extensions=13),
    "JsonReference": Message(fields={"$ref": _f(1, "string"),
                                      "description": _f(2, "string")}),
    "BodyParameter": Message(fields={
        "description": _f(1, "string"), "name": _f(2, "string"), "in": _f(3, "string"),
        "required": _f(4, "bool"), "schema": _f(5, "message", "Schema"),
    }, extensions=6),
    "HeaderParameterSubSchema": _sub_schema(allow_empty=False),
    "FormDataParameterSubSchema": _sub_schema(allow_empty=True),
    "QueryParameterSubSchema": _sub_schema(allow_empty=True),
    "PathParameterSubSchema": _sub_schema(allow_empty=False),
    "PrimitivesItems": Message(fields=_primitive_fields(1), extensions=18),
    "Header": Message(fields={**_primitive_fields(1), "description": _f(18, "string")},
                       extensions=19),
    "Response": Message(fields={
        "description": _f(1, "string"), "schema": _f(2, "message", "SchemaItem"),
        "headers": _f(3, "message", "Headers"), "examples": _f(4, "message", "Examples"),
    }, extensions=5),
    "Schema": Message(fields={
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
    "FileSchema": Message(fields={
        "format": _f(1, "string"), "title": _f(2, "string"), "description": _f(3, "string"),
        "default": _f(4, "any"), "required": _f(5, "strings"), "type": _f(6, "string"),
        "readOnly": _f(7, "bool"), "externalDocs": _f(8, "message", "ExternalDocs"),
        "example": _f(9, "any"),
    }, extensions=10),
    "Xml": Message(fields={
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

MAPS: Final[Mapping[str, NamedMap]] = {
    "Paths": NamedMap(number=2, value=_m("PathItem"), extensions=1),
    "Definitions": NamedMap(number=1, value=_m("Schema")),
    "Properties": NamedMap(number=1, value=_m("Schema")),
    "ParameterDefinitions": NamedMap(number=1, value=_m("Parameter")),
    "ResponseDefinitions": NamedMap(number=1, value=_m("Response")),
    "Responses": NamedMap(number=1, value=_m("ResponseValue"), extensions=2),
    "SecurityDefinitions": NamedMap(number=1, value=_m("SecurityDefinitionsItem")),
    "SecurityRequirement": NamedMap(number=1, value=_m("StringArray")),
    "Headers": NamedMap(number=1, value=_m("Header")),
    "Examples": NamedMap(number=1, value=ANY),
    "Oauth2Scopes": NamedMap(number=1, value=Field(0, "string")),
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


CHOICES: Final[Mapping[str, Chooser]] = {
    "ParametersItem": _reference_or(1, "Parameter"),
    "ResponseValue": _reference_or(1, "Response"),
    "Parameter": _parameter,
    "NonBodyParameter": _non_body,
    "SecurityDefinitionsItem": _security_item,
    "SchemaItem": _schema_item,
}
