"""HTTP helpers shared by the simulator's servers: JSON and Status answers, bodies, shutdown.

Layer: I/O helpers below the API server, its watch and subresource handlers and the control API.
Request bodies are read with a size limit (413 beyond it) and decoded from JSON, YAML or
Kubernetes protobuf (400 with the decoder's message otherwise); every error answer is a ``Status``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import yaml
from aiohttp import web

from kfed_local.sim import errors, k8sproto, objects
from kfed_local.sim.errors import ApiError


def json_response(
    body: Mapping[str, Any], status: int = 200, *, warnings: list[str] | None = None
) -> web.Response:
    """A JSON response, with ``Warning`` headers for field-validation warnings."""
    response = web.Response(
        body=json.dumps(body, separators=(",", ":")).encode(),
        status=status,
        content_type="application/json",
    )
    for warning in warnings or ():
        escaped = warning.replace("\\", "\\\\").replace('"', '\\"')
        response.headers.add("Warning", f'299 - "{escaped}"')
    return response


def status_response(error: ApiError) -> web.Response:
    """A ``Status`` body with the error's HTTP code."""
    return json_response(error.status(), error.code)


async def read_body(request: web.Request, limit: int) -> bytes:
    """The raw request body; 413 beyond ``limit`` bytes."""
    if request.content_length is not None and request.content_length > limit:
        raise errors.too_large(limit)
    raw = await request.read()
    if len(raw) > limit:
        raise errors.too_large(limit)
    return raw


async def read_object(request: web.Request, limit: int) -> dict[str, Any]:
    """A JSON, YAML or Kubernetes protobuf object body; 400 if it does not decode to an object."""
    raw = await read_body(request, limit)
    content_type = request.content_type
    if content_type == k8sproto.PROTOBUF_CONTENT_TYPE:
        try:
            return k8sproto.decode_kubernetes_protobuf(raw)
        except k8sproto.UnsupportedKindError as exc:
            # Kinds without a protobuf form (custom resources): what kube-apiserver answers.
            raise errors.unsupported_media_type(content_type) from exc
        except k8sproto.ProtobufDecodeError as exc:
            raise errors.bad_request(
                f"the request body is not valid Kubernetes protobuf: {exc}"
            ) from exc
    try:
        if content_type in ("application/yaml", "application/x-yaml"):
            value = objects.load_json_or_yaml(raw)
        elif content_type in ("application/json", "application/octet-stream", ""):
            value = json.loads(raw)
        else:
            raise errors.unsupported_media_type(content_type)
    except (ValueError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise errors.bad_request(f"the request body is not valid JSON or YAML: {exc}") from exc
    if not isinstance(value, dict):
        raise errors.bad_request("the request body must be an object")
    return value


async def read_optional_object(request: web.Request, limit: int) -> dict[str, Any] | None:
    """A body that may be empty (DeleteOptions)."""
    if not request.can_read_body:
        return None
    raw = await read_body(request, limit)
    if not raw.strip():
        return None
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise errors.bad_request(f"the request body is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise errors.bad_request("the request body must be an object")
    return value


def abort_connections(runner: web.AppRunner) -> None:
    """Drop every open connection at once, as a stopped process would.

    A graceful TLS close waits for the peer's close_notify, which idle pooled clients never
    send; the connection would outlive the server.
    """
    server = runner.server
    for handler in list(server.connections if server is not None else ()):
        if handler.transport is not None:
            handler.transport.abort()
