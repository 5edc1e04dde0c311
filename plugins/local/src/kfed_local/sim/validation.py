"""Object validation of the simulated API server: the decoder stage and the semantic rules.

Layer: pure (beside ``selectors`` and ``strategic``, above ``schema`` and ``names``). Two entry
points mirror the two stages of a kube-apiserver write:

* :func:`check_structure` (from :mod:`~kfed_local.sim.validation_decode`) is the decoder:
  unknown fields per ``fieldValidation`` mode, pruning, Go's JSON type errors; the API layer
  answers its errors with ``400 BadRequest``.
* :func:`validate_object` is the validation strategy: metadata rules, required fields, and the
  kind rules of :mod:`~kfed_local.sim.validation_kinds` and
  :mod:`~kfed_local.sim.validation_services`; the API layer answers a non-empty result with
  ``422 Invalid``. Custom resources get the checks of their CRD schema instead (types,
  required, enums), as the real server's OpenAPI validator reports them.

Nothing here mutates its inputs, raises for bad objects, or touches clocks, storage or I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kfed_local.sim import validation_kinds, validation_services
from kfed_local.sim.errors import FieldError
from kfed_local.sim.names import is_dns1123_label, is_qualified_name, name_validator_for
from kfed_local.sim.resources import ResourceType
from kfed_local.sim.schema import SchemaNode
from kfed_local.sim.validation_common import (
    IMMUTABLE,
    GoText,
    Rule,
    UpdateRule,
    annotations_errors,
    forbidden,
    go_json,
    invalid,
    labels_errors,
    mapping,
    nonnegative,
    not_supported,
    required,
    sequence,
    text,
)
from kfed_local.sim.validation_decode import (
    QUANTITY_FORMAT_ERROR,
    QUANTITY_SUFFIX_ERROR,
    DecodeProblem,
    FieldValidation,
    StructureResult,
    base64_error_offset,
    cannot_handle_message,
    check_structure,
    is_integral,
    quantity_error,
)

__all__ = [
    "QUANTITY_FORMAT_ERROR",
    "QUANTITY_SUFFIX_ERROR",
    "DecodeProblem",
    "FieldValidation",
    "StructureResult",
    "base64_error_offset",
    "cannot_handle_message",
    "check_structure",
    "quantity_error",
    "validate_object",
]

_KIND_RULES: Mapping[tuple[str, str], Rule] = {
    **validation_kinds.KIND_RULES,
    **validation_services.KIND_RULES,
}
_UPDATE_RULES_FIRST: Mapping[tuple[str, str], UpdateRule] = validation_services.UPDATE_RULES_FIRST
_UPDATE_RULES_LAST: Mapping[tuple[str, str], UpdateRule] = validation_kinds.UPDATE_RULES_LAST


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def validate_object(
    resource_type: ResourceType, obj: Mapping[str, Any], *, old: Mapping[str, Any] | None = None
) -> list[FieldError]:
    """Every validation error kube-apiserver would report for this create (or update).

    The API layer fills ``metadata.namespace`` from the URL, generates ``metadata.name`` from
    ``generateName`` and applies defaults before calling. ``old`` is the stored object on
    update: immutable fields are then checked too. Errors come in kube-apiserver's order,
    duplicates removed; an empty list means the object is valid.
    """
    key = (resource_type.group, resource_type.kind)
    errors: list[FieldError] = []
    if old is not None:
        errors.extend(_metadata_update_errors(obj, old))
        if not resource_type.is_custom and key in _UPDATE_RULES_FIRST:
            errors.extend(_UPDATE_RULES_FIRST[key](obj, old))
    errors.extend(_metadata_errors(resource_type, obj))
    if resource_type.schema is not None:
        errors.extend(_schema_errors(resource_type.schema, obj, custom=resource_type.is_custom))
    if not resource_type.is_custom:
        rule = _KIND_RULES.get(key)
        if rule is not None:
            errors.extend(rule(obj))
        if old is not None and key in _UPDATE_RULES_LAST:
            errors.extend(_UPDATE_RULES_LAST[key](obj, old))
    unique: dict[str, FieldError] = {}
    for error in errors:
        unique.setdefault(error.message(), error)
    return list(unique.values())


_STANDARD_FINALIZERS = frozenset({"kubernetes", "orphan", "foregroundDeletion"})


def _metadata_errors(resource_type: ResourceType, obj: Mapping[str, Any]) -> list[FieldError]:
    """``ValidateObjectMeta``: names, namespace, labels, annotations, owners, finalizers."""
    meta = mapping(obj.get("metadata"))
    errors: list[FieldError] = []
    check_name = name_validator_for(resource_type.group, resource_type.plural)
    generate_name, name = text(meta.get("generateName")), text(meta.get("name"))
    if generate_name:
        errors.extend(
            invalid("metadata.generateName", generate_name, msg)
            for msg in check_name(generate_name, True)
        )
    if name:
        errors.extend(invalid("metadata.name", name, msg) for msg in check_name(name, False))
        if (resource_type.group, resource_type.kind) == (
            "apiextensions.k8s.io",
            "CustomResourceDefinition",
        ):
            errors.extend(validation_services.crd_name_errors(obj))
    elif not generate_name:
        errors.append(required("metadata.name", "name or generateName is required"))
    namespace = text(meta.get("namespace"))
    if resource_type.namespaced:
        if not namespace:
            errors.append(required("metadata.namespace"))
        else:
            errors.extend(
                invalid("metadata.namespace", namespace, msg) for msg in is_dns1123_label(namespace)
            )
    elif namespace:
        errors.append(forbidden("metadata.namespace", "not allowed on this type"))
    errors.extend(nonnegative("metadata.generation", meta.get("generation")))
    errors.extend(labels_errors(meta.get("labels"), "metadata.labels"))
    errors.extend(annotations_errors(meta.get("annotations"), "metadata.annotations"))
    errors.extend(_owner_errors(meta.get("ownerReferences")))
    core = not resource_type.is_custom and resource_type.group != "apiextensions.k8s.io"
    errors.extend(_finalizer_errors(meta.get("finalizers"), core=core))
    return errors


def _owner_errors(owners: Any) -> list[FieldError]:
    errors: list[FieldError] = []
    path = "metadata.ownerReferences"
    first_controller = ""
    for raw in sequence(owners):
        owner = mapping(raw)
        api_version = text(owner.get("apiVersion"))
        kind, name, uid = text(owner.get("kind")), text(owner.get("name")), text(owner.get("uid"))
        if not api_version.rpartition("/")[2]:
            errors.append(invalid(f"{path}.apiVersion", api_version, "version must not be empty"))
        if not kind:
            errors.append(invalid(f"{path}.kind", kind, "kind must not be empty"))
        if not name:
            errors.append(invalid(f"{path}.name", name, "name must not be empty"))
        if not uid:
            errors.append(invalid(f"{path}.uid", uid, "uid must not be empty"))
        if owner.get("controller") is True:
            current = f"{kind}/{name}"
            if first_controller:
                errors.append(
                    invalid(
                        path,
                        _owners_value(owners),
                        'Only one reference can have Controller set to true. Found "true" in '
                        f"references for {first_controller} and {current}",
                    )
                )
            else:
                first_controller = current
    return errors


def _owners_value(owners: Any) -> GoText:
    # Go prints the OwnerReference structs in field order, not sorted.
    shown = []
    for raw in sequence(owners):
        owner = mapping(raw)
        item = {key: text(owner.get(key)) for key in ("apiVersion", "kind", "name", "uid")}
        item.update(
            {key: owner[key] for key in ("controller", "blockOwnerDeletion") if key in owner}
        )
        shown.append(item)
    return GoText(go_json(shown))


def _finalizer_errors(finalizers: Any, *, core: bool) -> list[FieldError]:
    errors: list[FieldError] = []
    path = "metadata.finalizers"
    names = [text(f) for f in sequence(finalizers)]
    for name in names:
        errors.extend(invalid(path, name, msg) for msg in is_qualified_name(name))
    if "orphan" in names and "foregroundDeletion" in names:
        errors.append(
            invalid(path, names, "finalizer orphan and foregroundDeletion cannot be both set")
        )
    if core:
        # Core types check each finalizer again, by index, and want unqualified names standard.
        for i, name in enumerate(names):
            at = f"{path}[{i}]"
            errors.extend(invalid(at, name, msg) for msg in is_qualified_name(name))
            if "/" not in name and name not in _STANDARD_FINALIZERS:
                errors.append(
                    invalid(
                        at,
                        name,
                        "name is neither a standard finalizer name nor is it fully qualified",
                    )
                )
    return errors


def _metadata_update_errors(obj: Mapping[str, Any], old: Mapping[str, Any]) -> list[FieldError]:
    """``ValidateObjectMetaUpdate``: identity fields never change."""
    meta, old_meta = mapping(obj.get("metadata")), mapping(old.get("metadata"))
    errors: list[FieldError] = []
    if old_meta.get("deletionTimestamp"):
        added = sorted(
            set(map(text, sequence(meta.get("finalizers"))))
            - set(map(text, sequence(old_meta.get("finalizers"))))
        )
        if added:
            listed = ", ".join(f'"{name}"' for name in added)
            errors.append(
                forbidden(
                    "metadata.finalizers",
                    "no new finalizers can be added if the object is being deleted, found new "
                    f"finalizers []string{{{listed}}}",
                )
            )
    for name in ("name", "namespace", "uid"):
        new_value, old_value = text(meta.get(name)), text(old_meta.get(name))
        if name == "uid" and not new_value:
            continue  # an update without uid keeps the stored one
        if new_value != old_value:
            errors.append(invalid(f"metadata.{name}", new_value, IMMUTABLE))
    return errors


# Required fields of the OpenAPI documents that kube-apiserver does not report as "Required
# value" for built-in kinds: the Go validation reports them otherwise (a missing Service port is
# "Invalid value: 0"), or a missing struct is simply empty (a Deployment without spec).
_NOT_REQUIRED = frozenset(
    {
        ("io.k8s.api.apps.v1.Deployment", "spec"),
        ("io.k8s.api.apps.v1.ReplicaSet", "spec"),
        ("io.k8s.api.apps.v1.DeploymentSpec", "template"),
        ("io.k8s.api.core.v1.Event", "metadata"),
        ("io.k8s.api.core.v1.ServicePort", "port"),
        ("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement", "key"),
        ("io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement", "operator"),
        (
            "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition",
            "spec",
        ),
    }
)


def _schema_errors(schema: SchemaNode, obj: Mapping[str, Any], *, custom: bool) -> list[FieldError]:
    errors: list[FieldError] = []
    # metadata has its own rules; a built-in's status is written by our own controllers.
    skip = {"metadata"} if custom else {"metadata", "status"}
    _check_node(schema, obj, "", errors, custom=custom, skip=skip)
    return errors


def _openapi_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, str):
        return "string"
    if is_integral(value):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "object" if isinstance(value, dict) else "array"


def _custom_type_error(node: SchemaNode, value: Any, path: str) -> FieldError | None:
    actual = _openapi_type(value)
    if node.int_or_string:
        expected, ok = "integer,string", actual in ("integer", "string")
    else:
        expected = node.value_type
        ok = expected == "any" or actual == expected or (expected, actual) == ("number", "integer")
    if ok:
        return None
    detail = f'{path} in body must be of type {expected}: "{actual}"'
    return FieldError(type="FieldValueTypeInvalid", field=path, value=actual, detail=detail)


def _check_node(
    node: SchemaNode,
    value: Any,
    path: str,
    errors: list[FieldError],
    *,
    custom: bool,
    skip: frozenset[str] | set[str] = frozenset(),
) -> None:
    if value is None:
        return
    if custom and node.crd:
        problem = _custom_type_error(node, value, path)
        if problem is not None:
            errors.append(problem)
            return
        allowed = node.enum
        if allowed is not None and value not in allowed:
            errors.append(not_supported(path, value, [str(v) for v in allowed]))
    kind = node.value_type
    if kind == "object" and isinstance(value, Mapping) and not node.int_or_string:
        if node.is_map:
            for key, item in value.items():
                child = node.field(key)
                if child is not None:
                    _check_node(child, item, _join(path, key), errors, custom=custom)
            return
        for name in node.required:
            if (
                value.get(name) is None
                and name not in skip
                and (node.ref, name) not in _NOT_REQUIRED
            ):
                errors.append(required(_join(path, name)))
        for key, item in value.items():
            child = node.field(key)
            if child is not None and key not in skip:
                _check_node(child, item, _join(path, key), errors, custom=custom)
    elif kind == "array" and isinstance(value, list):
        items = node.items()
        if items is not None:
            for i, item in enumerate(value):
                _check_node(items, item, f"{path}[{i}]", errors, custom=custom)
