"""Patch documents: JSON patch, merge patch and strategic merge patch applied to an object.

Layer: pure (below the API logic). Decodes a PATCH body, applies it to the current object and
turns every failure into the ``Status`` kube-apiserver answers (400 for an undecodable or
inapplicable patch, 422 for a failed JSON patch ``test`` or a bad pointer, 415 for a strategic
merge patch on a custom resource). Server-side apply lives in :mod:`kfed_local.sim.apply`.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import jsonpatch

from kfed_local.sim import errors
from kfed_local.sim.errors import ApiError, PatchError
from kfed_local.sim.resources import ResourceType
from kfed_local.sim.strategic import json_merge_patch, strategic_merge_patch

PatchType = Literal["json", "merge", "strategic", "apply"]


def apply_patch_document(
    rt: ResourceType, name: str, patch_type: PatchType, current: dict[str, Any], body: bytes
) -> dict[str, Any]:
    """``current`` (a copy the caller owns) with the patch applied; ApiError if it cannot be."""
    if patch_type == "strategic" and rt.is_custom:
        raise errors.unsupported_media_type(
            "application/strategic-merge-patch+json (not supported for custom resources)"
        )
    try:
        if patch_type == "json":
            operations = _parse_json(body, "JSON patch")
            if not isinstance(operations, list):
                raise PatchError("a JSON patch must be a list of operations")
            patched = jsonpatch.JsonPatch(operations).apply(current)
        else:
            document = _parse_json(body, "patch")
            if not isinstance(document, dict):
                raise PatchError("a merge patch must be a JSON object")
            if patch_type == "merge":
                patched = json_merge_patch(current, document)
            else:
                patched = strategic_merge_patch(current, document, rt.schema)
    except (PatchError, jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
        raise patch_failed(rt, name, exc) from exc
    if not isinstance(patched, dict):
        raise errors.bad_request("the patch did not produce an object")
    return patched


def _parse_json(body: bytes, what: str) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise PatchError(f"the {what} is not valid JSON: {exc}") from exc


def patch_failed(rt: ResourceType, name: str, exc: Exception) -> ApiError:
    text = str(exc)
    if isinstance(exc, jsonpatch.JsonPatchTestFailed):
        return ApiError(
            422,
            "Invalid",
            f"the server rejected our request due to an error in our request: {text}",
        )
    if isinstance(exc, jsonpatch.JsonPatchException | jsonpatch.JsonPointerException):
        return ApiError(
            422,
            "Invalid",
            f"the server rejected our request due to an error in our request: {text}",
        )
    return errors.bad_request(f'error applying patch to {rt.kind} "{name}": {text}')
