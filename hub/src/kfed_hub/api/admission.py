"""Admission of federated objects: checks a body against its path, validates and defaults it.

Layer: ``kfed_hub.api``, pure (values in, values out: the uid and the time are passed in; no I/O,
no logging). Raises :class:`kfed_hub.api.errors.ApiError` with kube-apiserver's wording:
400 BadRequest when the body does not belong at the path, 422 Invalid with one cause per field.

Only what the hub must know is checked here (names, labels, ConfigMap and Secret data, the parts
of a CustomResourceDefinition the hub reads: :mod:`.crds`); the rest of a kind's schema is
checked by each member cluster's API server, whose verdict comes back as that cluster's apply
result. Dynamic kinds (custom resources and the like) get the name and metadata checks only.
Values of Secrets never appear in a message.
"""

from __future__ import annotations

import binascii
import copy
import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kfed_hub.api import errors
from kfed_hub.api.crds import crd_causes
from kfed_hub.api.errors import Cause
from kfed_hub.api.kinds import CRD_GROUP, CRD_KIND, KindInfo, find_kind
from kfed_hub.api.names import (
    config_key_problems,
    label_key_problems,
    label_value_problems,
    name_problems,
)

REDACTED = '"<secret contents redacted>"'
MAX_DATA_BYTES = 1024 * 1024  # Kubernetes' limit on the data of one ConfigMap or Secret
_SERVER_METADATA = ("uid", "creationTimestamp", "generation", "resourceVersion", "managedFields")
_BASE64 = re.compile(r"[A-Za-z0-9+/]*")


def timestamp(now: dt.datetime) -> str:
    """RFC 3339 in UTC, seconds precision, as Kubernetes writes ``creationTimestamp``."""
    return now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _value(value: Any) -> str:
    return json.dumps(value) if isinstance(value, str) else str(value)


def _invalid(field: str, value: Any, detail: str, *, redact: bool = False) -> Cause:
    shown = REDACTED if redact else _value(value)
    return Cause(
        reason="FieldValueInvalid",
        message=f"{field}: Invalid value: {shown}: {detail}",
        field=field,
    )


def _required(field: str, detail: str) -> Cause:
    return Cause(
        reason="FieldValueRequired", message=f"{field}: Required value: {detail}", field=field
    )


def _check_type(info: KindInfo, body: Mapping[str, Any], path_name: str | None) -> None:
    api_version, kind = body.get("apiVersion"), body.get("kind")
    if api_version not in (None, "", info.api_version):
        raise errors.bad_request(
            f"the API version in the data ({api_version}) does not match the expected API "
            f"version ({info.api_version})"
        )
    if kind not in (None, "", info.kind):
        hint = ""
        other = find_kind(info.api_version, str(kind))
        if other is not None and other.federated:
            hint = f"; {kind} objects go to {other.collection_path('{namespace}')}"
        raise errors.bad_request(
            f"the kind in the data ({kind}) does not match the expected kind ({info.kind}){hint}"
        )
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, Mapping):
        raise errors.bad_request("metadata must be an object (a map of fields)")
    name = (metadata or {}).get("name")
    if path_name is not None and name not in (None, "", path_name):
        raise errors.bad_request(
            f"the name of the object ({name}) does not match the name on the URL ({path_name})"
        )


def _normalise(info: KindInfo, body: Mapping[str, Any], namespace: str | None) -> dict[str, Any]:
    manifest = copy.deepcopy(dict(body))
    manifest["apiVersion"], manifest["kind"] = info.api_version, info.kind
    manifest.pop("status", None)  # status is the hub's to write, as with a status subresource
    metadata = manifest.setdefault("metadata", {})
    metadata.pop("selfLink", None)
    if info.namespaced:
        given = metadata.get("namespace") or ""
        if given and given != namespace:
            raise errors.bad_request(
                "the namespace of the provided object does not match the namespace sent on the "
                f"request (object: {given!r}, request: {namespace!r})"
            )
        metadata["namespace"] = namespace
    else:
        metadata.pop("namespace", None)
    return manifest


def validate(info: KindInfo, manifest: Mapping[str, Any]) -> list[Cause]:
    """Field problems of a normalised manifest (empty when valid)."""
    metadata = manifest.get("metadata") or {}
    causes: list[Cause] = []
    name = metadata.get("name")
    if not name:
        causes.append(_required("metadata.name", "name or generateName is required"))
    elif not isinstance(name, str):
        causes.append(_invalid("metadata.name", name, "must be a string"))
    else:
        causes += [_invalid("metadata.name", name, p) for p in name_problems(name, info.name_rule)]
    for field in ("labels", "annotations"):
        causes += _string_map_causes(f"metadata.{field}", metadata.get(field), labels=field)
    if info.kind in ("ConfigMap", "Secret") and info.group == "":
        causes += _data_causes(info.kind, manifest)
    elif info.kind == CRD_KIND and info.group == CRD_GROUP:
        causes += crd_causes(manifest)
    return causes


def _string_map_causes(field: str, value: Any, *, labels: str) -> list[Cause]:
    if value is None:
        return []
    if not isinstance(value, Mapping):
        return [_invalid(field, value, "must be a map of string keys to string values")]
    causes: list[Cause] = []
    for key, item in value.items():
        causes += [_invalid(field, key, p) for p in label_key_problems(str(key))]
        if not isinstance(item, str):
            causes.append(_invalid(f"{field}[{key}]", item, "must be a string"))
        elif labels == "labels":
            causes += [_invalid(field, item, p) for p in label_value_problems(item)]
    return causes


def _base64_problem(value: str) -> str | None:
    bad = _BASE64.match(value.rstrip("="))
    position = bad.end() if bad else 0
    if position < len(value.rstrip("=")):
        return f"illegal base64 data at input byte {position}"
    try:
        binascii.a2b_base64(value.encode("ascii"), strict_mode=True)
    except (binascii.Error, ValueError):
        return f"illegal base64 data at input byte {len(value)}"
    return None


def _data_causes(kind: str, manifest: Mapping[str, Any]) -> list[Cause]:
    secret = kind == "Secret"
    causes: list[Cause] = []
    size = 0
    fields = ("data", "stringData") if secret else ("data", "binaryData")
    for field in fields:
        data = manifest.get(field)
        if data is None:
            continue
        if not isinstance(data, Mapping):
            causes.append(_invalid(field, "", "must be a map of keys to strings", redact=True))
            continue
        encoded = field == "binaryData" or (secret and field == "data")
        for key, value in data.items():
            path = f"{field}[{key}]"
            causes += [_invalid(path, key, p) for p in config_key_problems(str(key))]
            if not isinstance(value, str):
                causes.append(_invalid(path, value, "must be a string", redact=secret))
                continue
            problem = _base64_problem(value) if encoded else None
            if problem:
                causes.append(_invalid(path, value, problem, redact=secret))
            size += len(value) * 3 // 4 if encoded else len(value.encode())
    if size > MAX_DATA_BYTES:
        causes.append(
            Cause(
                reason="FieldValueTooLong",
                message=f"data: Too long: must have at most {MAX_DATA_BYTES} bytes",
                field="data",
            )
        )
    if secret and not isinstance(manifest.get("type", ""), str):
        causes.append(_invalid("type", manifest.get("type"), "must be a string"))
    return causes


def _admit(info: KindInfo, manifest: dict[str, Any]) -> dict[str, Any]:
    causes = validate(info, manifest)
    if causes:
        name = manifest["metadata"].get("name")
        raise errors.invalid(info.kind, str(name or ""), causes, group=info.group)
    return manifest


def prepare_create(
    info: KindInfo, body: Mapping[str, Any], *, namespace: str | None, uid: str, now: dt.datetime
) -> dict[str, Any]:
    """The manifest to store for a create at the collection of ``namespace``."""
    _check_type(info, body, None)
    manifest = _normalise(info, body, namespace)
    metadata = manifest["metadata"]
    if metadata.get("resourceVersion"):
        raise errors.bad_request("resourceVersion should not be set on objects to be created")
    for field in _SERVER_METADATA:
        metadata.pop(field, None)
    _admit(info, manifest)
    metadata.update(uid=uid, creationTimestamp=timestamp(now), generation=1)
    return manifest


@dataclass(frozen=True, slots=True, kw_only=True)
class Update:
    """A checked replacement: the manifest to store and the client's revision precondition."""

    manifest: dict[str, Any]
    expected_revision: int | None


def prepare_update(
    info: KindInfo,
    body: Mapping[str, Any],
    existing: Mapping[str, Any],
    *,
    namespace: str | None,
    name: str,
) -> Update:
    """The manifest that replaces ``existing`` (the stored form) at ``name``."""
    _check_type(info, body, name)
    manifest = _normalise(info, body, namespace)
    metadata = manifest["metadata"]
    metadata["name"] = name
    requested = metadata.pop("resourceVersion", None)
    expected: int | None = None
    if requested not in (None, ""):
        try:
            expected = int(str(requested))
        except ValueError:
            raise errors.bad_request(
                f"metadata.resourceVersion {str(requested)!r} is not one this hub issued (a "
                "decimal number): get the object again and retry with its resourceVersion"
            ) from None
    metadata.pop("managedFields", None)
    _admit(info, manifest)
    old_metadata = existing.get("metadata") or {}
    for field in ("uid", "creationTimestamp"):
        if field in old_metadata:
            metadata[field] = old_metadata[field]
    generation = int(old_metadata.get("generation") or 1)
    metadata["generation"] = generation + 1 if content_changed(existing, manifest) else generation
    return Update(manifest=manifest, expected_revision=expected)


def content_changed(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """Whether anything outside ``metadata`` and ``status`` differs (what bumps generation)."""

    def content(manifest: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in manifest.items() if k not in ("metadata", "status")}

    return content(old) != content(new)


def merge_patch(target: Any, patch: Any) -> Any:
    """``target`` with the JSON merge patch (RFC 7386) ``patch`` applied; inputs are untouched."""
    if not isinstance(patch, Mapping):
        return copy.deepcopy(patch)
    result = copy.deepcopy(dict(target)) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result
