"""``/openapi/v2`` as gnostic protobuf: the wire bytes, read back with a decoder written here."""

from __future__ import annotations

import copy
import struct
from collections.abc import Mapping
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kfed_local.sim import openapi
from kfed_local.sim.openapi_proto import (
    OPENAPI_V2_JSON_CONTENT_TYPE,
    OPENAPI_V2_PROTOBUF_CONTENT_TYPE,
    OpenApiEncodingError,
    encode_openapi_v2,
    negotiate_openapi_v2,
)
from kfed_local.sim.resources import ResourceRegistry, types_from_crd

# -- a minimal protobuf reader -------------------------------------------------------------------

Value = int | bytes


def read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return result, pos


def decode(buf: bytes) -> list[tuple[int, int, Value]]:
    """Every (field number, wire type, value) of one message, in wire order."""
    out: list[tuple[int, int, Value]] = []
    pos = 0
    while pos < len(buf):
        key, pos = read_varint(buf, pos)
        number, wire = key >> 3, key & 7
        value: Value
        if wire == 0:
            value, pos = read_varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos : pos + 8], pos + 8
        elif wire == 2:
            length, pos = read_varint(buf, pos)
            value, pos = buf[pos : pos + length], pos + length
        else:
            raise AssertionError(f"unexpected wire type {wire}")
        out.append((number, wire, value))
    assert pos == len(buf), "a field ran past the end of its message"
    return out


def fields(buf: bytes) -> dict[int, list[Value]]:
    out: dict[int, list[Value]] = {}
    for number, _, value in decode(buf):
        out.setdefault(number, []).append(value)
    return out


def one(buf: bytes, number: int) -> bytes:
    values = fields(buf).get(number, [])
    assert len(values) == 1, f"field {number}: {values!r}"
    value = values[0]
    assert isinstance(value, bytes)
    return value


def text(buf: bytes, number: int) -> str:
    return one(buf, number).decode()


def texts(buf: bytes, number: int) -> list[str]:
    return [value.decode() for value in messages(buf, number)]


def messages(buf: bytes, number: int) -> list[bytes]:
    """A repeated message (or string) field's payloads."""
    return [value for value in fields(buf).get(number, []) if isinstance(value, bytes)]


def named(buf: bytes, number: int) -> dict[str, bytes]:
    """A repeated ``Named<X>`` field as name → value message (order kept)."""
    return {text(pair, 1): one(pair, 2) for pair in messages(buf, number)}


def anys(buf: bytes, number: int) -> list[Any]:
    """A repeated ``Any`` field, each YAML-parsed."""
    return [yaml.safe_load(text(value, 2)) for value in messages(buf, number)]


def extensions(buf: bytes, number: int) -> dict[str, Any]:
    """A ``vendor_extension`` field as name → YAML-parsed ``Any.yaml``."""
    return {name: yaml.safe_load(text(any_, 2)) for name, any_ in named(buf, number).items()}


def varint_field(buf: bytes, number: int) -> int:
    value = fields(buf)[number]
    assert len(value) == 1
    assert isinstance(value[0], int)
    return value[0]


# Field numbers of gnostic's OpenAPIv2.proto that the tests read.
DOC_INFO, DOC_PATHS, DOC_DEFINITIONS, DOC_SECURITY, DOC_SECURITY_DEFS, DOC_EXT = 2, 8, 9, 12, 13, 16
S_REF, S_FORMAT, S_DESCRIPTION, S_DEFAULT, S_MAXIMUM, S_MINIMUM = 1, 2, 4, 5, 7, 9
S_MAX_LENGTH, S_REQUIRED, S_ENUM, S_ADDITIONAL, S_TYPE, S_ITEMS = 11, 19, 20, 21, 22, 23
S_PROPERTIES, S_EXT = 25, 31
OP_PARAMETERS, OP_RESPONSES, OP_EXT = 8, 9, 13
PATH_GET, PATH_PATCH, PATH_PARAMETERS = 2, 8, 9


def definition(doc: bytes, name: str) -> bytes:
    return named(one(doc, DOC_DEFINITIONS), 1)[name]


def schema_doc(**schemas: Any) -> dict[str, Any]:
    return {"swagger": "2.0", "definitions": schemas}


# -- document fields -----------------------------------------------------------------------------


def test_document_scalars_use_gnostic_field_numbers() -> None:
    doc = encode_openapi_v2(
        {
            "swagger": "2.0",
            "info": {"title": "Kubernetes", "version": "v1.37.0", "description": "API"},
            "host": "example.com",
            "basePath": "/api",
            "schemes": ["https", "http"],
            "consumes": ["application/json"],
            "produces": ["application/json", "application/yaml"],
        }
    )
    assert text(doc, 1) == "2.0"
    info = one(doc, DOC_INFO)
    assert (text(info, 1), text(info, 2), text(info, 3)) == ("Kubernetes", "v1.37.0", "API")
    assert (text(doc, 3), text(doc, 4)) == ("example.com", "/api")
    assert texts(doc, 5) == ["https", "http"]
    assert texts(doc, 6) == ["application/json"]
    assert texts(doc, 7) == ["application/json", "application/yaml"]


def test_fields_are_written_in_field_number_order_whatever_the_key_order() -> None:
    doc = encode_openapi_v2({"definitions": {}, "paths": {}, "info": {}, "swagger": "2.0"})
    assert [number for number, _, _ in decode(doc)] == [1, DOC_INFO, DOC_PATHS, DOC_DEFINITIONS]


def test_proto3_zero_values_are_left_out_but_empty_messages_are_sent() -> None:
    doc = encode_openapi_v2(
        schema_doc(A={"description": "", "uniqueItems": False, "maxLength": 0, "properties": {}})
    )
    schema = definition(doc, "A")
    # kube-openapi tells an object kind from a map by whether Properties is set at all.
    assert decode(schema) == [(S_PROPERTIES, 2, b"")]


# -- schemas -------------------------------------------------------------------------------------


def test_vendor_extensions_become_named_any_with_yaml_text() -> None:
    gvk = [{"group": "apps", "kind": "Deployment", "version": "v1"}]
    doc = encode_openapi_v2(
        {
            "swagger": "2.0",
            "x-top": {"a": 1},
            "definitions": {
                "D": {
                    "type": "object",
                    "x-kubernetes-group-version-kind": gvk,
                    "x-kubernetes-patch-strategy": "merge",
                    "x-kubernetes-int-or-string": True,
                }
            },
        }
    )
    schema = definition(doc, "D")
    assert extensions(schema, S_EXT) == {
        "x-kubernetes-group-version-kind": gvk,
        "x-kubernetes-patch-strategy": "merge",
        "x-kubernetes-int-or-string": True,
    }
    pairs = named(schema, S_EXT)
    assert text(pairs["x-kubernetes-patch-strategy"], 2) == "merge\n"  # no "..." document end
    assert extensions(doc, DOC_EXT) == {"x-top": {"a": 1}}


def test_yaml_of_extensions_keeps_strings_that_look_like_other_types() -> None:
    values = ["true", "1", "null", "", "a: b", "- x", "multi\nline", "ünïcode"]
    doc = encode_openapi_v2(schema_doc(D={"x-values": values}))
    assert extensions(definition(doc, "D"), S_EXT) == {"x-values": values}


def test_ref_is_schema_field_one_with_its_sibling_description() -> None:
    doc = encode_openapi_v2(
        schema_doc(
            A={"$ref": "#/definitions/B", "description": "points at B"},
            B={"type": "string"},
        )
    )
    a = definition(doc, "A")
    assert text(a, S_REF) == "#/definitions/B"
    assert text(a, S_DESCRIPTION) == "points at B"
    assert [number for number, _, _ in decode(a)] == [S_REF, S_DESCRIPTION]


def test_nested_properties_are_named_schemas_in_document_order() -> None:
    doc = encode_openapi_v2(
        schema_doc(
            Outer={
                "type": "object",
                "required": ["spec", "kind"],
                "properties": {
                    "spec": {
                        "type": "object",
                        "properties": {"replicas": {"type": "integer", "format": "int32"}},
                    },
                    "kind": {"type": "string", "description": "the kind"},
                },
            }
        )
    )
    outer = definition(doc, "Outer")
    assert texts(outer, S_REQUIRED) == ["spec", "kind"]
    assert texts(one(outer, S_TYPE), 1) == ["object"]
    props = named(one(outer, S_PROPERTIES), 1)
    assert list(props) == ["spec", "kind"]
    assert text(props["kind"], S_DESCRIPTION) == "the kind"
    replicas = named(one(props["spec"], S_PROPERTIES), 1)["replicas"]
    assert texts(one(replicas, S_TYPE), 1) == ["integer"]
    assert text(replicas, S_FORMAT) == "int32"


def test_items_type_and_additional_properties_use_their_wrapper_messages() -> None:
    doc = encode_openapi_v2(
        schema_doc(
            List={"type": "array", "items": {"$ref": "#/definitions/Map"}},
            Tuple={"type": ["array"], "items": [{"type": "string"}, {"type": "integer"}]},
            Map={"type": "object", "additionalProperties": {"type": "string"}},
            Closed={"type": "object", "additionalProperties": False},
        )
    )
    items = one(definition(doc, "List"), S_ITEMS)
    assert [text(schema, S_REF) for schema in fields(items)[1] if isinstance(schema, bytes)] == [
        "#/definitions/Map"
    ]
    assert len(fields(one(definition(doc, "Tuple"), S_ITEMS))[1]) == 2
    assert texts(one(definition(doc, "Tuple"), S_TYPE), 1) == ["array"]
    additional = one(definition(doc, "Map"), S_ADDITIONAL)
    assert texts(one(one(additional, 1), S_TYPE), 1) == ["string"]
    # A oneof member is sent even when it holds false, so clients see "closed", not "unset".
    assert decode(one(definition(doc, "Closed"), S_ADDITIONAL)) == [(2, 0, 0)]


def test_enum_and_default_are_any_yaml_values() -> None:
    doc = encode_openapi_v2(
        schema_doc(E={"type": "string", "enum": ["Always", "1", None, 3], "default": "Always"})
    )
    schema = definition(doc, "E")
    assert anys(schema, S_ENUM) == ["Always", "1", None, 3]
    assert yaml.safe_load(text(one(schema, S_DEFAULT), 2)) == "Always"


def test_numbers_are_varint_int64_and_fixed64_double() -> None:
    doc = encode_openapi_v2(schema_doc(N={"maxLength": 300, "minimum": -1, "maximum": 2.5}))
    schema = definition(doc, "N")
    assert varint_field(schema, S_MAX_LENGTH) == 300
    (minimum,) = fields(schema)[S_MINIMUM]
    (maximum,) = fields(schema)[S_MAXIMUM]
    assert isinstance(minimum, bytes)
    assert isinstance(maximum, bytes)
    assert struct.unpack("<d", minimum) == (-1.0,)
    assert struct.unpack("<d", maximum) == (2.5,)


def test_negative_int64_is_ten_byte_twos_complement() -> None:
    doc = encode_openapi_v2(schema_doc(N={"minLength": -1}))
    raw = decode(definition(doc, "N"))
    assert raw == [(12, 0, (1 << 64) - 1)]
    assert len(definition(doc, "N")) == 1 + 10


# -- paths, operations, parameters ---------------------------------------------------------------

PATCH_OPERATION: dict[str, Any] = {
    "operationId": "patchAppsV1NamespacedDeployment",
    "tags": ["apps_v1"],
    "consumes": ["application/merge-patch+json"],
    "parameters": [
        {"in": "body", "name": "body", "required": True, "schema": {"$ref": "#/definitions/P"}},
        {"in": "query", "name": "fieldValidation", "type": "string", "uniqueItems": True},
        {"$ref": "#/parameters/dryRun"},
    ],
    "responses": {
        "200": {"description": "OK", "schema": {"$ref": "#/definitions/D"}},
        "401": {"description": "Unauthorized"},
    },
    "x-kubernetes-action": "patch",
    "x-kubernetes-group-version-kind": {"group": "apps", "kind": "Deployment", "version": "v1"},
}
PATH_DOC: dict[str, Any] = {
    "swagger": "2.0",
    "paths": {
        "x-paths-note": "kept",
        "/apis/apps/v1/namespaces/{namespace}/deployments/{name}": {
            "patch": PATCH_OPERATION,
            "parameters": [
                {"in": "path", "name": "name", "required": True, "type": "string"},
                {"in": "header", "name": "X-Trace", "type": "string"},
            ],
        },
    },
}


def deployment_path(doc: bytes) -> bytes:
    return named(one(doc, DOC_PATHS), 2)["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]


def test_paths_are_named_path_items_and_x_keys_their_extensions() -> None:
    doc = encode_openapi_v2(PATH_DOC)
    paths = one(doc, DOC_PATHS)
    assert list(named(paths, 2)) == ["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]
    assert extensions(paths, 1) == {"x-paths-note": "kept"}
    assert [number for number, _, _ in decode(paths)] == [1, 2]


def test_operation_gvk_extension_is_a_yaml_map_like_kubectl_reads_it() -> None:
    operation = one(deployment_path(encode_openapi_v2(PATH_DOC)), PATH_PATCH)
    assert text(operation, 5) == "patchAppsV1NamespacedDeployment"
    assert extensions(operation, OP_EXT) == {
        "x-kubernetes-action": "patch",
        "x-kubernetes-group-version-kind": {"group": "apps", "kind": "Deployment", "version": "v1"},
    }


def test_parameters_pick_body_query_path_header_or_reference_members() -> None:
    item = deployment_path(encode_openapi_v2(PATH_DOC))
    body, query, reference = messages(one(item, PATH_PATCH), OP_PARAMETERS)
    body_parameter = one(one(body, 1), 1)  # ParametersItem.parameter → Parameter.body_parameter
    assert (text(body_parameter, 2), text(body_parameter, 3)) == ("body", "body")
    assert varint_field(body_parameter, 4) == 1
    assert text(one(body_parameter, 5), S_REF) == "#/definitions/P"
    # ParametersItem.parameter → Parameter.non_body_parameter → query_parameter_sub_schema
    query_schema = one(one(one(query, 1), 2), 3)
    assert (text(query_schema, 4), text(query_schema, 2), text(query_schema, 6)) == (
        "fieldValidation",
        "query",
        "string",
    )
    assert varint_field(query_schema, 20) == 1  # uniqueItems
    assert text(one(reference, 2), 1) == "#/parameters/dryRun"  # ParametersItem.json_reference
    path_param, header_param = [p for p in fields(item)[PATH_PARAMETERS] if isinstance(p, bytes)]
    path_schema = one(one(one(path_param, 1), 2), 4)
    assert (text(path_schema, 4), varint_field(path_schema, 1)) == ("name", 1)
    assert text(one(one(one(header_param, 1), 2), 1), 4) == "X-Trace"


def test_responses_are_named_response_values_with_schema_items() -> None:
    operation = one(deployment_path(encode_openapi_v2(PATH_DOC)), PATH_PATCH)
    responses = named(one(operation, OP_RESPONSES), 1)
    assert list(responses) == ["200", "401"]
    ok = one(responses["200"], 1)  # ResponseValue.response
    assert text(ok, 1) == "OK"
    assert text(one(one(ok, 2), 1), S_REF) == "#/definitions/D"  # SchemaItem.schema
    assert decode(one(responses["401"], 1)) == [(1, 2, b"Unauthorized")]


def test_security_requirements_and_api_key_definitions() -> None:
    doc = encode_openapi_v2(
        {
            "security": [{"BearerToken": []}, {"Basic": ["read", "write"]}],
            "securityDefinitions": {
                "BearerToken": {"type": "apiKey", "name": "authorization", "in": "header"},
                "Basic": {"type": "basic", "description": "user and password"},
            },
        }
    )
    first, second = [req for req in fields(doc)[DOC_SECURITY] if isinstance(req, bytes)]
    assert decode(one(first, 1)) == [(1, 2, b"BearerToken"), (2, 2, b"")]
    assert texts(named(second, 1)["Basic"], 1) == ["read", "write"]
    definitions = named(one(doc, DOC_SECURITY_DEFS), 1)
    api_key = one(definitions["BearerToken"], 2)
    assert (text(api_key, 1), text(api_key, 2), text(api_key, 3)) == (
        "apiKey",
        "authorization",
        "header",
    )
    assert text(one(definitions["Basic"], 1), 2) == "user and password"


# -- what cannot be mapped -----------------------------------------------------------------------


def test_unknown_keys_are_dropped_by_default() -> None:
    plain = encode_openapi_v2(schema_doc(A={"type": "string"}))
    assert encode_openapi_v2(schema_doc(A={"type": "string", "nullable": True})) == plain


def test_strict_names_where_an_unknown_key_is() -> None:
    with pytest.raises(OpenApiEncodingError) as caught:
        encode_openapi_v2(
            schema_doc(A={"properties": {"b": {"items": {"nullable": True}}}}), strict=True
        )
    assert caught.value.path == ("definitions", "A", "properties", "b", "items")
    assert "Schema has no field for key 'nullable'" in str(caught.value)


def test_strict_rejects_values_of_the_wrong_json_type() -> None:
    with pytest.raises(OpenApiEncodingError, match=r"required\.\[1\]: expected a string"):
        encode_openapi_v2(schema_doc(A={"required": ["a", 2]}), strict=True)
    with pytest.raises(OpenApiEncodingError, match="expected int64, got str"):
        encode_openapi_v2(schema_doc(A={"maxLength": "3"}), strict=True)


def test_lone_surrogates_do_not_make_invalid_utf8() -> None:
    doc = encode_openapi_v2(schema_doc(A={"description": "bad \ud800 text"}))
    assert text(definition(doc, "A"), S_DESCRIPTION) == "bad ? text"


def test_encoding_never_mutates_the_document() -> None:
    document = copy.deepcopy(PATH_DOC)
    encode_openapi_v2(document)
    assert document == PATH_DOC


# -- a round trip over generated schemas ---------------------------------------------------------

names = st.text(st.characters(codec="utf-8"), min_size=1, max_size=8)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.text(max_size=8))


def schemas() -> st.SearchStrategy[dict[str, Any]]:
    leaf = st.fixed_dictionaries(
        {},
        optional={
            "type": st.sampled_from(["string", "integer", "boolean", "number"]),
            "description": st.text(min_size=1, max_size=20),
            "format": st.sampled_from(["int32", "date-time", "byte"]),
            "enum": st.lists(scalars, min_size=1, max_size=3),
            "x-kubernetes-list-map-keys": st.lists(names, min_size=1, max_size=2),
        },
    )
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.fixed_dictionaries(
                {
                    "type": st.just("object"),
                    "properties": st.dictionaries(names, inner, max_size=3),
                },
                # An empty list and no list are the same thing on the wire.
                optional={"required": st.lists(names, min_size=1, max_size=2)},
            ),
            st.fixed_dictionaries({"type": st.just("array"), "items": inner}),
            st.fixed_dictionaries(
                {"type": st.just("object"), "additionalProperties": st.booleans() | inner}
            ),
            st.builds(lambda target: {"$ref": f"#/definitions/{target}"}, names),
        ),
        max_leaves=8,
    )


def schema_back(buf: bytes) -> dict[str, Any]:
    """The JSON schema a Schema message says (the fields :func:`schemas` generates)."""
    out: dict[str, Any] = {}
    raw = fields(buf)
    if S_REF in raw:
        out["$ref"] = text(buf, S_REF)
    if S_TYPE in raw:
        (out["type"],) = texts(one(buf, S_TYPE), 1)
    for key, number in (("description", S_DESCRIPTION), ("format", S_FORMAT)):
        if number in raw:
            out[key] = text(buf, number)
    if S_ENUM in raw:
        out["enum"] = anys(buf, S_ENUM)
    if S_REQUIRED in raw:
        out["required"] = texts(buf, S_REQUIRED)
    if S_PROPERTIES in raw:
        out["properties"] = {k: schema_back(v) for k, v in named(one(buf, S_PROPERTIES), 1).items()}
    if S_ITEMS in raw:
        (item,) = fields(one(buf, S_ITEMS))[1]
        assert isinstance(item, bytes)
        out["items"] = schema_back(item)
    if S_ADDITIONAL in raw:
        additional = one(buf, S_ADDITIONAL)
        out["additionalProperties"] = (
            schema_back(one(additional, 1))
            if 1 in fields(additional)
            else bool(varint_field(additional, 2))
        )
    if S_EXT in raw:
        out.update(extensions(buf, S_EXT))
    return out


@settings(max_examples=150, deadline=None)
@given(schemas())
def test_generated_schemas_survive_encode_and_decode(schema: dict[str, Any]) -> None:
    doc = encode_openapi_v2(schema_doc(S=schema), strict=True)
    assert schema_back(definition(doc, "S")) == schema


# -- the simulator's own document ----------------------------------------------------------------

WIDGET_CRD: dict[str, Any] = {
    "metadata": {"name": "widgets.example.com"},
    "spec": {
        "group": "example.com",
        "scope": "Namespaced",
        "names": {"plural": "widgets", "kind": "Widget"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "subresources": {"status": {}},
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "required": ["size"],
                                "properties": {
                                    "size": {"type": "integer", "minimum": 1, "default": 3},
                                    "color": {"type": "string", "enum": ["red", "yes"]},
                                    "tags": {
                                        "type": "array",
                                        "items": {"type": "string"},
                                        "nullable": True,
                                    },
                                    "port": {
                                        "x-kubernetes-int-or-string": True,
                                        "anyOf": [{"type": "integer"}, {"type": "string"}],
                                    },
                                },
                            },
                            "status": {
                                "type": "object",
                                "x-kubernetes-preserve-unknown-fields": True,
                            },
                        },
                    }
                },
            }
        ],
    },
}


@pytest.fixture(scope="module")
def registry_document() -> dict[str, Any]:
    registry = ResourceRegistry()
    for resource_type in types_from_crd(WIDGET_CRD):
        registry.add(resource_type)
    return openapi.openapi_v2(registry)


@pytest.fixture(scope="module")
def registry_bytes(registry_document: dict[str, Any]) -> bytes:
    return encode_openapi_v2(registry_document, strict=True)


def test_builtin_registry_document_encodes_with_nothing_dropped() -> None:
    document = openapi.openapi_v2(ResourceRegistry())
    doc = encode_openapi_v2(document, strict=True)
    assert len(doc) > 100_000
    assert sorted(set(fields(doc))) == [1, DOC_INFO, DOC_PATHS, DOC_DEFINITIONS, DOC_SECURITY,
                                        DOC_SECURITY_DEFS]  # fmt: skip
    assert text(doc, 1) == "2.0"
    assert text(one(doc, DOC_INFO), 2) == document["info"]["version"]
    assert list(named(one(doc, DOC_DEFINITIONS), 1)) == list(document["definitions"])
    assert list(named(one(doc, DOC_PATHS), 2)) == list(document["paths"])


def test_registry_definitions_carry_their_gvk_for_kubectl_explain(registry_bytes: bytes) -> None:
    deployment = definition(registry_bytes, "io.k8s.api.apps.v1.Deployment")
    assert extensions(deployment, S_EXT)["x-kubernetes-group-version-kind"] == [
        {"group": "apps", "kind": "Deployment", "version": "v1"}
    ]
    assert "spec" in named(one(deployment, S_PROPERTIES), 1)
    widget = definition(registry_bytes, "com.example.v1.Widget")
    spec = named(one(widget, S_PROPERTIES), 1)["spec"]
    port = named(one(spec, S_PROPERTIES), 1)["port"]
    assert extensions(port, S_EXT) == {"x-kubernetes-int-or-string": True}


def test_every_decoded_reference_names_a_definition(registry_bytes: bytes) -> None:
    # kube-openapi's proto.NewOpenAPIData fails the whole document on one dangling reference.
    defined = named(one(registry_bytes, DOC_DEFINITIONS), 1)
    seen: list[str] = []

    def visit(schema: bytes) -> None:
        raw = fields(schema)
        if S_REF in raw:
            seen.append(text(schema, S_REF))
        for sub in named(one(schema, S_PROPERTIES), 1).values() if S_PROPERTIES in raw else ():
            visit(sub)
        for item in fields(one(schema, S_ITEMS)).get(1, []) if S_ITEMS in raw else ():
            assert isinstance(item, bytes)
            visit(item)
        if S_ADDITIONAL in raw and 1 in fields(one(schema, S_ADDITIONAL)):
            visit(one(one(schema, S_ADDITIONAL), 1))

    for schema in defined.values():
        visit(schema)
    assert len(seen) > 100
    assert {ref.removeprefix("#/definitions/") for ref in seen} <= set(defined)


def supports_query_param(doc: bytes, gvk: Mapping[str, str], param: str) -> bool | None:
    """What kubectl's v2 query-parameter check concludes: None if no PATCH describes the gvk."""
    for item in named(one(doc, DOC_PATHS), 2).values():
        if PATH_PATCH not in fields(item):
            continue
        patch = one(item, PATH_PATCH)
        if extensions(patch, OP_EXT).get("x-kubernetes-group-version-kind") != gvk:
            continue
        for parameter in fields(patch).get(OP_PARAMETERS, []):
            assert isinstance(parameter, bytes)
            choice = one(parameter, 1)  # ParametersItem.parameter
            query = fields(one(choice, 2)).get(3, []) if 2 in fields(choice) else []
            if any(isinstance(sub, bytes) and text(sub, 4) == param for sub in query):
                return True
        return False
    return None


def test_patch_operations_show_kubectl_the_field_validation_parameter(
    registry_bytes: bytes,
) -> None:
    for group, version, kind in (("", "v1", "Namespace"), ("apps", "v1", "Deployment"),
                                 ("example.com", "v1", "Widget")):  # fmt: skip
        gvk = {"group": group, "kind": kind, "version": version}
        assert supports_query_param(registry_bytes, gvk, "fieldValidation") is True, gvk
    removed = {"group": "extensions", "kind": "ReplicaSet", "version": "v1beta1"}
    assert supports_query_param(registry_bytes, removed, "fieldValidation") is None


# -- content negotiation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "answer"),
    [
        ("application/com.github.proto-openapi.spec.v2@v1.0+protobuf", "protobuf"),
        ("application/com.github.proto-openapi.spec.v2.v1.0+protobuf", "protobuf"),
        ("", "json"),
        ("*/*", "json"),
        ("application/json, */*", "json"),
        ("application/json;q=0.5, application/com.github.proto-openapi.spec.v2.v1.0+protobuf",
         "protobuf"),
        ("*/*;q=0.8, application/json", "json"),
        ("text/html", None),
        ("application/json;q=0", None),
    ],
)  # fmt: skip
def test_openapi_v2_content_negotiation_follows_kube_apiserver(
    accept: str, answer: str | None
) -> None:
    expected = {
        "protobuf": OPENAPI_V2_PROTOBUF_CONTENT_TYPE,
        "json": OPENAPI_V2_JSON_CONTENT_TYPE,
        None: None,
    }[answer]
    assert negotiate_openapi_v2(accept) == expected
