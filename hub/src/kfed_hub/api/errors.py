"""Kubernetes ``Status`` errors of the hub's HTTPS API: the one place HTTP status codes are made.

Layer: ``kfed_hub.api`` (bottom). Handlers and the pure admission code raise :class:`ApiError`
with a :class:`Reason`; the app's middleware turns it into the JSON ``Status`` body that
kube-apiserver would send (same ``reason``, ``code`` and ``details``), so Kubernetes clients and
the ``kfed`` CLI react to it as they would to a real API server.

Messages name objects, fields and limits, never values of Secrets: callers pass names only, and
field causes of Secret data carry a redacted placeholder instead of the value.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web


class Reason(enum.StrEnum):
    """``Status.reason`` values the API uses (Kubernetes' ``metav1.StatusReason``)."""

    BAD_REQUEST = "BadRequest"
    UNAUTHORIZED = "Unauthorized"
    FORBIDDEN = "Forbidden"
    NOT_FOUND = "NotFound"
    METHOD_NOT_ALLOWED = "MethodNotAllowed"
    ALREADY_EXISTS = "AlreadyExists"
    CONFLICT = "Conflict"
    REQUEST_ENTITY_TOO_LARGE = "RequestEntityTooLarge"
    UNSUPPORTED_MEDIA_TYPE = "UnsupportedMediaType"
    INVALID = "Invalid"
    INTERNAL_ERROR = "InternalError"


_CODES: dict[Reason, int] = {
    Reason.BAD_REQUEST: 400,
    Reason.UNAUTHORIZED: 401,
    Reason.FORBIDDEN: 403,
    Reason.NOT_FOUND: 404,
    Reason.METHOD_NOT_ALLOWED: 405,
    Reason.ALREADY_EXISTS: 409,
    Reason.CONFLICT: 409,
    Reason.REQUEST_ENTITY_TOO_LARGE: 413,
    Reason.UNSUPPORTED_MEDIA_TYPE: 415,
    Reason.INVALID: 422,
    Reason.INTERNAL_ERROR: 500,
}

_REASON_OF_CODE = {code: reason for reason, code in _CODES.items() if reason != Reason.CONFLICT}


@dataclass(frozen=True, slots=True, kw_only=True)
class Cause:
    """One field-level problem (``StatusCause``): ``reason`` like ``FieldValueInvalid``."""

    reason: str
    message: str
    field: str = ""


class ApiError(Exception):
    """An error answered to the client as a ``Status``; ``str()`` is the message."""

    def __init__(
        self,
        reason: Reason,
        message: str,
        *,
        name: str = "",
        group: str = "",
        kind: str = "",
        causes: Sequence[Cause] = (),
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.name = name
        self.group = group
        self.kind = kind
        self.causes = tuple(causes)

    @property
    def code(self) -> int:
        """The HTTP status code."""
        return _CODES[self.reason]


def status_body(error: ApiError) -> dict[str, Any]:
    """The ``Status`` object for ``error``."""
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": error.message,
        "reason": str(error.reason),
        "code": error.code,
    }
    details: dict[str, Any] = {}
    if error.name:
        details["name"] = error.name
    if error.group:
        details["group"] = error.group
    if error.kind:
        details["kind"] = error.kind
    if error.causes:
        details["causes"] = [
            {"reason": c.reason, "message": c.message, **({"field": c.field} if c.field else {})}
            for c in error.causes
        ]
    if details:
        body["details"] = details
    return body


def status_response(error: ApiError) -> web.Response:
    """The HTTP response carrying ``error`` as a ``Status``."""
    return web.Response(
        status=error.code,
        body=json.dumps(status_body(error)).encode(),
        content_type="application/json",
    )


def json_response(body: Any, *, created: bool = False) -> web.Response:
    """A successful JSON answer: 201 for a creation, 200 otherwise."""
    return web.Response(
        status=201 if created else 200,
        body=json.dumps(body, ensure_ascii=False).encode(),
        content_type="application/json",
    )


def from_http_exception(exc: web.HTTPException) -> ApiError:
    """aiohttp's own refusals (no route, wrong method) as Status errors."""
    if exc.status == 404:
        return resource_not_found()
    if exc.status == 405:
        return ApiError(
            Reason.METHOD_NOT_ALLOWED, f"the server does not allow this method on {exc.reason}"
        )
    reason = _REASON_OF_CODE.get(exc.status, Reason.BAD_REQUEST)
    return ApiError(reason, exc.text or exc.reason)


# -- the common errors, worded as kube-apiserver words them ---------------------------------


def resource_not_found() -> ApiError:
    """No such resource (unknown kind or path)."""
    return ApiError(
        Reason.NOT_FOUND,
        "the server could not find the requested resource",
        causes=[Cause(reason="UnexpectedServerResponse", message="404 page not found")],
    )


def not_found(resource: str, name: str, *, group: str = "") -> ApiError:
    """``configmaps "x" not found`` (``resource`` is the plural, ``group`` "" for core)."""
    qualified = f"{resource}.{group}" if group else resource
    return ApiError(
        Reason.NOT_FOUND, f'{qualified} "{name}" not found', name=name, group=group, kind=resource
    )


def already_exists(resource: str, name: str, *, group: str = "") -> ApiError:
    """``configmaps "x" already exists``."""
    qualified = f"{resource}.{group}" if group else resource
    return ApiError(
        Reason.ALREADY_EXISTS,
        f'{qualified} "{name}" already exists',
        name=name,
        group=group,
        kind=resource,
    )


def modified(resource: str, name: str, *, group: str = "") -> ApiError:
    """The optimistic-concurrency failure of an update."""
    qualified = f"{resource}.{group}" if group else resource
    return ApiError(
        Reason.CONFLICT,
        f'Operation cannot be fulfilled on {qualified} "{name}": the object has been modified; '
        "please apply your changes to the latest version and try again",
        name=name,
        group=group,
        kind=resource,
    )


def invalid(kind: str, name: str, causes: Sequence[Cause], *, group: str = "") -> ApiError:
    """``ConfigMap "x" is invalid: <cause>`` (or ``[<cause>, <cause>]``), 422."""
    messages = [c.message for c in causes]
    text = messages[0] if len(messages) == 1 else "[" + ", ".join(messages) + "]"
    return ApiError(
        Reason.INVALID,
        f'{kind} "{name}" is invalid: {text}',
        name=name,
        group=group,
        kind=kind,
        causes=causes,
    )


def bad_request(message: str) -> ApiError:
    return ApiError(Reason.BAD_REQUEST, message)


def method_not_allowed(message: str) -> ApiError:
    return ApiError(Reason.METHOD_NOT_ALLOWED, message)
