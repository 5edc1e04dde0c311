"""API errors of the simulated clusters, shaped like the real API server's ``Status`` objects.

Layer: pure (bottom of ``kfed_local.sim``). Every failure a client can see is an :class:`ApiError`;
the HTTP layer turns it into a ``Status`` body with the same ``code``, ``reason`` and ``details``
that kube-apiserver sends, so clients (kubectl, client-go, the Python client) react exactly as they
would against a real cluster. Field-level problems are :class:`FieldError` values collected by the
validators and reported together as one ``Invalid`` (422) error.

The exception tree::

    ApiError                 an error answered to the client as a Status (code, reason, message)
    PatchError(ValueError)   a patch document that cannot be applied (becomes 400/422 at the API)
    SelectorError(ValueError) a label or field selector that does not parse (becomes 400)
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

FieldErrorType = Literal[
    "FieldValueRequired",
    "FieldValueInvalid",
    "FieldValueNotSupported",
    "FieldValueDuplicate",
    "FieldValueForbidden",
    "FieldValueTooLong",
    "FieldValueTooMany",
    "FieldValueTypeInvalid",
]

_DETAIL_PREFIX: Mapping[str, str] = {
    "FieldValueRequired": "Required value",
    "FieldValueInvalid": "Invalid value",
    "FieldValueNotSupported": "Unsupported value",
    "FieldValueDuplicate": "Duplicate value",
    "FieldValueForbidden": "Forbidden",
    "FieldValueTooLong": "Too long",
    "FieldValueTooMany": "Too many",
    "FieldValueTypeInvalid": "Invalid value",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldError:
    """One problem with one field, in the Kubernetes ``field.Error`` form.

    ``field`` is the dotted path (``spec.template.spec.containers[0].name``); ``value`` is the bad
    value when it helps the user (omitted for Required/Forbidden); ``detail`` says what is wrong.
    """

    type: FieldErrorType
    field: str
    detail: str = ""
    value: Any = None
    show_value: bool = True

    def message(self) -> str:
        """The text kube-apiserver prints (``spec.replicas: Invalid value: -1: must be ...``)."""
        prefix = _DETAIL_PREFIX[self.type]
        if self.type in ("FieldValueRequired", "FieldValueForbidden", "FieldValueTooLong"):
            body = prefix
        elif self.show_value and self.type != "FieldValueTooMany":
            body = f"{prefix}: {_go_value(self.value)}"
        else:
            body = prefix
        text = f"{self.field}: {body}" if self.field else body
        return f"{text}: {self.detail}" if self.detail else text

    def cause(self) -> dict[str, Any]:
        """The ``StatusCause`` for ``details.causes``."""
        return {"reason": self.type, "message": self.message(), "field": self.field}


def _go_value(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return str(value)


@dataclass(slots=True)
class ApiError(Exception):
    """An error answered to the client as a ``Status`` object."""

    code: int
    reason: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message

    def status(self) -> dict[str, Any]:
        """The ``Status`` body (``kind: Status``, ``status: Failure``)."""
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            body["details"] = self.details
        return body


def _qualified(kind_or_resource: str, group: str) -> str:
    return f"{kind_or_resource}.{group}" if group else kind_or_resource


def _details(name: str, group: str, kind: str, **extra: Any) -> dict[str, Any]:
    details: dict[str, Any] = {"name": name, "kind": kind}
    if group:
        details["group"] = group
    details.update(extra)
    return details


def not_found(plural: str, group: str, name: str) -> ApiError:
    """``404 NotFound``: ``deployments.apps "web" not found``."""
    return ApiError(
        404,
        "NotFound",
        f'{_qualified(plural, group)} "{name}" not found',
        _details(name, group, plural),
    )


def already_exists(plural: str, group: str, name: str) -> ApiError:
    """``409 AlreadyExists``: ``configmaps "x" already exists``."""
    return ApiError(
        409,
        "AlreadyExists",
        f'{_qualified(plural, group)} "{name}" already exists',
        _details(name, group, plural),
    )


def conflict(plural: str, group: str, name: str, why: str) -> ApiError:
    """``409 Conflict``: an optimistic-concurrency failure or a rejected change."""
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {_qualified(plural, group)} "{name}": {why}',
        _details(name, group, plural),
    )


def stale(plural: str, group: str, name: str) -> ApiError:
    """``409 Conflict`` for a write based on an old resourceVersion."""
    return conflict(
        plural,
        group,
        name,
        "the object has been modified; please apply your changes to the latest version and try "
        "again",
    )


def invalid(kind: str, group: str, name: str, errors: Sequence[FieldError]) -> ApiError:
    """``422 Invalid`` listing every field error, as kube-apiserver words it."""
    messages = [e.message() for e in errors]
    summary = messages[0] if len(messages) == 1 else "[" + ", ".join(messages) + "]"
    return ApiError(
        422,
        "Invalid",
        f'{_qualified(kind, group)} "{name}" is invalid: {summary}',
        _details(name, group, kind, causes=[e.cause() for e in errors]),
    )


def bad_request(message: str) -> ApiError:
    """``400 BadRequest`` (undecodable bodies, bad selectors, bad query parameters)."""
    return ApiError(400, "BadRequest", message)


def invalid_options(field_name: str, value: Any, detail: str) -> ApiError:
    """``422 Invalid`` for bad DeleteOptions (or other option objects)."""
    error = FieldError(type="FieldValueNotSupported", field=field_name, value=value, detail=detail)
    return ApiError(
        422,
        "Invalid",
        f'DeleteOptions.meta.k8s.io "" is invalid: {error.message()}',
        {"kind": "DeleteOptions", "group": "meta.k8s.io", "causes": [error.cause()]},
    )


def forbidden(plural: str, group: str, name: str, why: str) -> ApiError:
    """``403 Forbidden`` (for example a create in a terminating namespace)."""
    qualified = _qualified(plural, group)
    return ApiError(
        403,
        "Forbidden",
        f'{qualified} "{name}" is forbidden: {why}',
        _details(name, group, plural),
    )


def method_not_allowed(message: str) -> ApiError:
    """``405 MethodNotAllowed``: a verb the resource does not support."""
    return ApiError(405, "MethodNotAllowed", message)


def gone(message: str) -> ApiError:
    """``410 Expired``: a resourceVersion older than the history the server keeps."""
    return ApiError(410, "Expired", message)


def unsupported_media_type(content_type: str) -> ApiError:
    """``415 UnsupportedMediaType`` for an unknown request or patch content type."""
    return ApiError(
        415,
        "UnsupportedMediaType",
        f"the body of the request was in an unknown format ({content_type!r}) - accepted "
        "media types include: application/json, application/yaml, application/apply-patch+yaml, "
        "application/json-patch+json, application/merge-patch+json, "
        "application/strategic-merge-patch+json",
    )


def too_large(limit: int) -> ApiError:
    """``413 RequestEntityTooLarge``."""
    return ApiError(413, "RequestEntityTooLarge", f"the request body is larger than {limit} bytes")


def unauthorized() -> ApiError:
    """``401 Unauthorized``: no or unknown client credentials."""
    return ApiError(401, "Unauthorized", "Unauthorized")


def service_unavailable(message: str) -> ApiError:
    """``503 ServiceUnavailable``."""
    return ApiError(503, "ServiceUnavailable", message)


class PatchError(ValueError):
    """A patch that cannot be applied to the object; the message says where and why."""


class SelectorError(ValueError):
    """A label or field selector that does not parse or names an unsupported field."""


def join_paths(parts: Iterable[str]) -> str:
    """Join field path parts into ``a.b[0].c`` form (``[...]`` parts attach directly)."""
    out = ""
    for part in parts:
        if part.startswith("["):
            out += part
        elif out:
            out += "." + part
        else:
            out = part
    return out
