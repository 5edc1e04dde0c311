"""Schemas for the simulated API server's OpenAPI documents: built-in definitions and CRD kinds.

Layer: pure (``kfed_local.sim``, above ``schema`` and ``resources``; used by ``openapi``). It turns
the packaged Kubernetes definitions (JSON Schema 2020-12: ``#/$defs/`` references, ``["string",
"null"]`` types) back into the OpenAPI schema objects kube-apiserver publishes, in OpenAPI 3.0 form
(``#/components/schemas/``; a reference with its own description becomes ``allOf: [{$ref}]``) or
Swagger 2.0 form (``#/definitions/``), and publishes CRD kinds under kube-apiserver's names
(``com.example.v1.Widget`` and ``...WidgetList``) with ``apiVersion``, ``kind`` and ``metadata``.

A :class:`SchemaConverter` belongs to one document: it notes every definition that document
references so that :meth:`SchemaConverter.close` adds exactly those (transitively). It builds new
dicts and never mutates the shared definitions or a CRD's schema; no I/O, no logging.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from kfed_local.sim.resources import ResourceType
from kfed_local.sim.schema import definition_name_for, definitions

JsonObject = dict[str, Any]
Flavor = Literal["v2", "v3"]

META = "io.k8s.apimachinery.pkg.apis.meta.v1."
GVK_KEY = "x-kubernetes-group-version-kind"
_DEFS_PREFIX = "#/$defs/"
_INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
_QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
# Keys whose values are schemas (or maps / lists of schemas), as opposed to plain JSON values.
_SCHEMA_MAPS = frozenset({"properties", "patternProperties"})
_SCHEMA_VALUES = frozenset({"items", "additionalProperties", "additionalItems", "not"})
_SCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf"})
# Swagger 2.0 cannot say these; kube-apiserver leaves them out of CRD schemas in /openapi/v2.
_V2_DROPPED_CRD_KEYS = frozenset({"nullable", "oneOf", "anyOf", "allOf", "not"})
_PRESERVE: Mapping[str, Any] = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}


def copy_json(value: Any) -> Any:
    """A deep copy of a JSON value (mappings become dicts, sequences lists)."""
    if isinstance(value, Mapping):
        return {key: copy_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [copy_json(item) for item in value]
    return value


def _single_type(declared: Any) -> str | None:
    """The OpenAPI ``type`` of a JSON-Schema ``type`` (``["string", "null"]`` → ``string``)."""
    if isinstance(declared, str):
        return None if declared == "null" else declared
    if isinstance(declared, list):
        kinds = [kind for kind in declared if kind != "null"]
        if len(kinds) == 1 and isinstance(kinds[0], str):
            return kinds[0]
    return None  # several types mean "any value", which OpenAPI says by giving no type


class SchemaConverter:
    """Converts schemas for one document and remembers which definitions it referenced."""

    def __init__(self, flavor: Flavor) -> None:
        self.flavor: Flavor = flavor
        self._prefix = "#/components/schemas/" if flavor == "v3" else "#/definitions/"
        self._referenced: list[str] = []
        self._seen: set[str] = set()

    def ref(self, name: str) -> JsonObject:
        """A reference to schema ``name``, which the document must then hold."""
        if name not in self._seen:
            self._seen.add(name)
            self._referenced.append(name)
        return {"$ref": self._prefix + name}

    def ref_with(self, name: str, siblings: JsonObject) -> JsonObject:
        """A reference with its own keys: OpenAPI 3.0 ignores siblings of ``$ref``, so wrap it."""
        if not siblings:
            return self.ref(name)
        if self.flavor == "v3":
            return {"allOf": [self.ref(name)], **siblings}
        return {**self.ref(name), **siblings}

    def node(self, raw: Mapping[str, Any], *, crd: bool = False) -> JsonObject:
        """One schema node converted, with its sub-schemas."""
        target = raw.get("$ref")
        if isinstance(target, str) and target.startswith(_DEFS_PREFIX):
            siblings = {k: self._value(k, v, crd) for k, v in raw.items() if k != "$ref"}
            return self.ref_with(target[len(_DEFS_PREFIX) :], siblings)
        out: JsonObject = {}
        v2_int_or_string = self.flavor == "v2" and bool(raw.get("x-kubernetes-int-or-string"))
        for key, value in raw.items():
            if crd and self.flavor == "v2" and key in _V2_DROPPED_CRD_KEYS:
                continue
            if key == "type":
                declared = _single_type(value)
                if declared is not None and not v2_int_or_string:
                    out["type"] = declared
            else:
                out[key] = self._value(key, value, crd)
        return out

    def _value(self, key: str, value: Any, crd: bool) -> Any:
        if key in _SCHEMA_MAPS and isinstance(value, Mapping):
            return {name: self.node(sub, crd=crd) for name, sub in value.items()}
        if key in _SCHEMA_VALUES and isinstance(value, Mapping):
            return self.node(value, crd=crd)
        if key in _SCHEMA_LISTS and isinstance(value, list):
            return [self.node(sub, crd=crd) for sub in value]
        return copy_json(value)  # enum, default, required, x-kubernetes-*: plain values

    def definition(self, name: str) -> JsonObject:
        """One Kubernetes definition as kube-apiserver publishes it in this flavor."""
        raw = definitions()[name]
        described = {"description": raw["description"]} if "description" in raw else {}
        if name == _INT_OR_STRING:
            if self.flavor == "v2":
                return {**described, "format": "int-or-string", "type": "string"}
            choices = [{"type": "integer"}, {"type": "string"}]
            return {**described, "format": "int-or-string", "oneOf": choices}
        if name == _QUANTITY:
            if self.flavor == "v2":
                return {**described, "type": "string"}
            return {**described, "oneOf": [{"type": "string"}, {"type": "number"}]}
        out = self.node(raw)
        if GVK_KEY in raw:
            # The packaged definitions pin apiVersion and kind with an enum; the server does not.
            for field in ("apiVersion", "kind"):
                out.get("properties", {}).get(field, {}).pop("enum", None)
        return out

    def close(self, schemas: Mapping[str, JsonObject]) -> dict[str, JsonObject]:
        """``schemas`` plus every definition referenced so far, transitively, sorted by name."""
        out = dict(schemas)
        index = 0
        while index < len(self._referenced):  # grows while definitions reference others
            name = self._referenced[index]
            index += 1
            if name not in out and name in definitions():
                out[name] = self.definition(name)
        return dict(sorted(out.items()))


def crd_schema_name(group: str, version: str, kind: str) -> str:
    """The schema name kube-apiserver gives a CRD kind: ``com.example.v1.Widget``."""
    reversed_group = ".".join(reversed(group.split("."))) if group else ""
    return ".".join(part for part in (reversed_group, version, kind) if part)


def is_builtin(resource_type: ResourceType) -> bool:
    """True if a Kubernetes definition describes the type's objects."""
    schema = resource_type.schema
    return (
        schema is not None
        and not schema.crd
        and not resource_type.is_custom
        and schema.ref is not None
        and schema.ref in definitions()
    )


def schema_names(resource_type: ResourceType) -> tuple[str, str]:
    """The schema names of a type's objects and of its lists."""
    rt = resource_type
    if is_builtin(rt) and rt.schema is not None and rt.schema.ref is not None:
        list_name = definition_name_for(rt.group, rt.version, rt.list_kind)
        return rt.schema.ref, list_name or rt.schema.ref + "List"
    name = crd_schema_name(rt.group, rt.version, rt.kind)
    return name, name + "List"


def _type_meta(conv: SchemaConverter, *, list_kind: bool) -> JsonObject:
    """apiVersion, kind and metadata, documented as on the built-in kinds."""
    example = "io.k8s.api.core.v1.ConfigMapList" if list_kind else "io.k8s.api.core.v1.ConfigMap"
    props: Mapping[str, Any] = definitions().get(example, {}).get("properties", {})

    def documented(field: str) -> JsonObject:
        text = props.get(field, {}).get("description")
        return {"description": text} if isinstance(text, str) else {}

    meta = META + ("ListMeta" if list_kind else "ObjectMeta")
    return {
        "apiVersion": {**documented("apiVersion"), "type": "string"},
        "kind": {**documented("kind"), "type": "string"},
        "metadata": conv.ref_with(meta, documented("metadata")),
    }


def _gvk_list(group: str, version: str, kind: str) -> list[JsonObject]:
    return [{"group": group, "kind": kind, "version": version}]


def custom_schemas(types: Iterable[ResourceType], conv: SchemaConverter) -> dict[str, JsonObject]:
    """The object and list schemas of the types no Kubernetes definition describes (CRD kinds).

    The CRD's own ``apiVersion``/``kind``/``metadata`` schemas, if any, are replaced by the
    standard ones, as kube-apiserver publishes them.
    """
    out: dict[str, JsonObject] = {}
    for rt in types:
        obj, lst = schema_names(rt)
        if not is_builtin(rt):
            raw = rt.schema.raw if rt.schema is not None else _PRESERVE
            body = conv.node(raw, crd=True)
            properties = {**body.get("properties", {}), **_type_meta(conv, list_kind=False)}
            body.update(properties=dict(sorted(properties.items())), type="object")
            body[GVK_KEY] = _gvk_list(rt.group, rt.version, rt.kind)
            out[obj] = dict(sorted(body.items()))
        if lst in definitions():
            continue
        items = {"description": f"List of {rt.plural}.", "items": conv.ref(obj), "type": "array"}
        list_properties = {**_type_meta(conv, list_kind=True), "items": items}
        out[lst] = {
            "description": f"{rt.list_kind} is a list of {rt.kind}",
            "properties": dict(sorted(list_properties.items())),
            "required": ["items"],
            "type": "object",
            GVK_KEY: _gvk_list(rt.group, rt.version, rt.list_kind),
        }
    return out
