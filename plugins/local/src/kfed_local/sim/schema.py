"""Kubernetes object schemas for the simulated API server: structure, list types and merge keys.

Layer: pure (bottom of ``kfed_local.sim``). It reads the Kubernetes v1.37 OpenAPI definitions that
the ``kubernetes-validate`` package ships (JSON Schema form) once per process, and answers the
questions the rest of the simulator asks about an object's shape:

* which fields an object may have (strict field validation, the OpenAPI documents);
* how a list merges (``x-kubernetes-list-type`` atomic / set / map and its map keys, for
  server-side apply; ``x-kubernetes-patch-strategy`` and ``-patch-merge-key`` for strategic
  merge patch);
* whether a map is atomic, and where unknown fields are preserved.

A CustomResourceDefinition's ``openAPIV3Schema`` is wrapped in the same :class:`SchemaNode` type,
so callers never care where a schema came from. Nodes are immutable views over plain mappings
and never copy them; the definitions are shared read-only by every simulated cluster.
This module does no I/O besides the one lazy load of the definitions, and no logging.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

DEFINITIONS_VERSION = "1.37.0"
"""Kubernetes version whose OpenAPI definitions the simulated clusters serve."""

ListType = Literal["atomic", "set", "map"]
ValueType = Literal["object", "array", "string", "integer", "number", "boolean", "any"]

_REF_PREFIX = "#/$defs/"
# Definitions whose JSON form is a scalar or anything, although their schema looks like an object.
_INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
_QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"
_ANY_VALUE_DEFS = frozenset(
    {
        "io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1",
        "io.k8s.apimachinery.pkg.runtime.RawExtension",
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON",
    }
)


@functools.cache
def definitions() -> Mapping[str, Mapping[str, Any]]:
    """All Kubernetes definitions by their OpenAPI name (``io.k8s.api.apps.v1.Deployment``).

    Loaded once per process from the ``kubernetes-validate`` package data.
    """
    from kubernetes_validate import utils  # deferred: only the first call pays for the import

    path = f"kubernetes-json-schema/v{DEFINITIONS_VERSION}-local/_definitions.json"
    try:
        doc = utils.schema_contents(path, DEFINITIONS_VERSION)
    except Exception as exc:  # the package changed its data layout: say which file we wanted
        raise RuntimeError(
            f"cannot load the Kubernetes {DEFINITIONS_VERSION} schemas ({path}) from the "
            "kubernetes-validate package; reinstall kfed-local so that its pinned "
            "kubernetes-validate version is used"
        ) from exc
    defs: Mapping[str, Mapping[str, Any]] = doc["$defs"]
    return defs


@functools.cache
def _kind_index() -> Mapping[tuple[str, str, str], str]:
    index: dict[tuple[str, str, str], str] = {}
    for name, definition in definitions().items():
        for gvk in definition.get("x-kubernetes-group-version-kind", ()):
            index[(gvk["group"], gvk["version"], gvk["kind"])] = name
    return index


def definition_name_for(group: str, version: str, kind: str) -> str | None:
    """The OpenAPI definition name of a built-in kind, or None if Kubernetes has no such kind."""
    return _kind_index().get((group, version, kind))


def schema_for_kind(group: str, version: str, kind: str) -> SchemaNode | None:
    """The schema of a built-in kind (``("apps", "v1", "Deployment")``), or None if unknown."""
    name = definition_name_for(group, version, kind)
    if name is None:
        return None
    return SchemaNode(raw=definitions()[name], defs=definitions(), ref=name)


def schema_from_openapi_v3(raw: Mapping[str, Any]) -> SchemaNode:
    """Wrap a CRD's ``openAPIV3Schema`` so that it answers like a built-in schema.

    CRD schemas carry no ``$ref``; ``metadata`` is implied, as the real API server does.
    """
    return SchemaNode(raw=raw, defs=definitions(), ref=None, crd=True)


@dataclass(frozen=True, slots=True, kw_only=True)
class SchemaNode:
    """A read-only view of one schema node, with ``$ref`` resolved.

    ``raw`` is the node's mapping; ``ref`` names the definition it came from, if any (used to tell
    the special scalar-like definitions apart and by the OpenAPI document builder).
    """

    raw: Mapping[str, Any]
    defs: Mapping[str, Mapping[str, Any]]
    ref: str | None = None
    crd: bool = False

    def _node(self, raw: Mapping[str, Any]) -> SchemaNode:
        ref_path = raw.get("$ref")
        if isinstance(ref_path, str) and ref_path.startswith(_REF_PREFIX):
            name = ref_path[len(_REF_PREFIX) :]
            target = self.defs.get(name, {})
            # A $ref may carry siblings: a description (ignored) or the field's own list and
            # patch semantics (spec.strategy is "retainKeys"), which apply on top of the target.
            extensions = {k: v for k, v in raw.items() if k.startswith("x-kubernetes-")}
            if extensions:
                target = {**target, **extensions}
            return SchemaNode(raw=target, defs=self.defs, ref=name, crd=self.crd)
        return SchemaNode(raw=raw, defs=self.defs, ref=None, crd=self.crd)

    # -- what the value is -------------------------------------------------------------------

    @property
    def value_type(self) -> ValueType:
        """The JSON type of values of this node; ``any`` when several or none are allowed."""
        if self.ref in _ANY_VALUE_DEFS or self.ref in (_INT_OR_STRING, _QUANTITY):
            return "any"
        if self.int_or_string:
            return "any"
        declared = self.raw.get("type")
        if isinstance(declared, list):
            kinds = [t for t in declared if t != "null"]
            declared = kinds[0] if len(kinds) == 1 else None
        if declared in ("object", "array", "string", "integer", "number", "boolean"):
            return declared  # type: ignore[no-any-return]
        if "properties" in self.raw or "additionalProperties" in self.raw:
            return "object"
        if "items" in self.raw:
            return "array"
        return "any"

    @property
    def int_or_string(self) -> bool:
        """True for IntOrString values (``targetPort``, ``maxSurge``)."""
        return self.ref == _INT_OR_STRING or bool(self.raw.get("x-kubernetes-int-or-string"))

    @property
    def preserves_unknown_fields(self) -> bool:
        """True where fields that the schema does not name are kept rather than refused."""
        if self.ref in _ANY_VALUE_DEFS:
            return True
        if self.raw.get("x-kubernetes-preserve-unknown-fields"):
            return True
        # A built-in node of type "any" (no properties, no type) accepts anything.
        return self.value_type == "any"

    @property
    def embedded_resource(self) -> bool:
        """True for CRD fields holding a whole Kubernetes object."""
        return bool(self.raw.get("x-kubernetes-embedded-resource"))

    @property
    def required(self) -> tuple[str, ...]:
        """Field names that must be present in an object of this schema."""
        return tuple(self.raw.get("required", ()))

    @property
    def enum(self) -> tuple[Any, ...] | None:
        """Allowed values, if the schema lists them."""
        values = self.raw.get("enum")
        return tuple(values) if values is not None else None

    @property
    def description(self) -> str:
        """The field's documentation, for OpenAPI and ``kubectl explain``."""
        return str(self.raw.get("description", ""))

    # -- objects and maps ----------------------------------------------------------------------

    @property
    def properties(self) -> Mapping[str, Any]:
        """The raw ``properties`` mapping (field name → unresolved schema)."""
        props: Mapping[str, Any] = self.raw.get("properties", {})
        return props

    def field_names(self) -> Iterator[str]:
        """The names of the fields this object schema declares."""
        yield from self.properties

    @property
    def is_map(self) -> bool:
        """True for string-keyed maps (``labels``, ``data``): ``additionalProperties`` only."""
        extra = self.raw.get("additionalProperties")
        return isinstance(extra, Mapping) and not self.properties

    @property
    def map_type(self) -> Literal["atomic", "granular"]:
        """``atomic`` maps are owned and replaced as one value by server-side apply."""
        return "atomic" if self.raw.get("x-kubernetes-map-type") == "atomic" else "granular"

    def field(self, name: str) -> SchemaNode | None:
        """The schema of field (or map key) ``name``, or None if this schema has no such field.

        For an object that preserves unknown fields, an unnamed field gets an ``any`` schema.
        """
        props = self.properties
        if name in props:
            return self._node(props[name])
        extra = self.raw.get("additionalProperties")
        if isinstance(extra, Mapping):
            return self._node(extra)
        if self.crd and name in ("apiVersion", "kind", "metadata") and self._is_crd_root():
            return self._crd_root_field(name)
        if self.preserves_unknown_fields:
            return ANY_NODE
        return None

    def _is_crd_root(self) -> bool:
        return self.raw.get("type") == "object" and "apiVersion" not in self.properties

    def _crd_root_field(self, name: str) -> SchemaNode:
        if name == "metadata":
            meta = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
            return SchemaNode(raw=self.defs[meta], defs=self.defs, ref=meta)
        return SchemaNode(raw={"type": "string"}, defs=self.defs)

    # -- lists ---------------------------------------------------------------------------------

    def items(self) -> SchemaNode | None:
        """The schema of list items, or None if this is not a list schema."""
        item = self.raw.get("items")
        if isinstance(item, Mapping):
            return self._node(item)
        return None

    @property
    def list_type(self) -> ListType:
        """How server-side apply merges this list: ``atomic`` unless the schema says otherwise."""
        declared = self.raw.get("x-kubernetes-list-type")
        if declared in ("set", "map"):
            return declared  # type: ignore[no-any-return]
        if declared is None and self.patch_merge_key is not None:
            # Older built-in lists have only a patch merge key; apply treats them as maps.
            return "map"
        return "atomic"

    @property
    def list_map_keys(self) -> tuple[str, ...]:
        """Fields identifying an item of a ``map`` list (``("containerPort", "protocol")``)."""
        keys = self.raw.get("x-kubernetes-list-map-keys")
        if keys:
            return tuple(keys)
        merge_key = self.patch_merge_key
        return (merge_key,) if merge_key else ()

    @property
    def patch_strategy(self) -> frozenset[str]:
        """Strategic merge patch strategies: subset of ``{"merge", "retainKeys", "replace"}``."""
        declared = self.raw.get("x-kubernetes-patch-strategy")
        if not declared:
            return frozenset()
        return frozenset(part.strip() for part in str(declared).split(",") if part.strip())

    @property
    def patch_merge_key(self) -> str | None:
        """The strategic-merge-patch key of a merging list (``name`` for containers)."""
        key = self.raw.get("x-kubernetes-patch-merge-key")
        return str(key) if key else None

    def at(self, *path: str) -> SchemaNode | None:
        """Follow field names (``"[]"`` steps into list items) from this node; None if absent."""
        node: SchemaNode | None = self
        for step in path:
            if node is None:
                return None
            node = node.items() if step == "[]" else node.field(step)
        return node


ANY_NODE = SchemaNode(raw={"x-kubernetes-preserve-unknown-fields": True}, defs={}, ref=None)
"""A schema that accepts any value (unknown fields of preserving objects, CRDs without schema)."""


def dump_definition(name: str) -> str:
    """The JSON text of one definition (debugging aid for developers)."""
    return json.dumps(definitions()[name], indent=2, sort_keys=True)
