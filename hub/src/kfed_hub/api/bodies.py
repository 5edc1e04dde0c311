"""Reading request bodies: JSON only, bounded in size, with errors that say where they failed.

Layer: ``kfed_hub.api`` (I/O shell around aiohttp's request stream). A body larger than the limit
is refused as soon as that is known, from ``Content-Length`` or while streaming, so an oversized
body is never held in memory. Error messages say where the JSON broke, never what it contained
(a body may hold Secret data).
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from kfed_hub.api.errors import ApiError, Reason, bad_request

JSON = "application/json"
MERGE_PATCH = "application/merge-patch+json"
_CHUNK = 64 * 1024


def _mebibytes(limit: int) -> str:
    return f"{limit / (1024 * 1024):.1f} MiB"


def too_large(limit: int) -> ApiError:
    return ApiError(
        Reason.REQUEST_ENTITY_TOO_LARGE,
        f"Request entity too large: the body is larger than the hub's limit of {limit} bytes "
        f"({_mebibytes(limit)}); Kubernetes objects must stay well below it (etcd keeps at most "
        "1.5 MiB per object): move large data out of the manifest or split it across objects",
    )


def _check_media_type(request: web.Request, accepted: tuple[str, ...]) -> None:
    if request.content_type not in accepted:
        given = request.headers.get("Content-Type", "none")
        raise ApiError(
            Reason.UNSUPPORTED_MEDIA_TYPE,
            f"the body of the request was in an unknown format ({given}) - accepted media types "
            f"include: {', '.join(accepted)}",
        )


async def read_limited(request: web.Request, limit: int) -> bytes:
    """The raw body; 413 as soon as it is known to exceed ``limit`` bytes."""
    declared = request.content_length
    if declared is not None and declared > limit:
        raise too_large(limit)
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.read(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def parse_json(raw: bytes, *, what: str = "request body") -> Any:
    """Parse JSON, or 400 naming the line and column where it broke."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise bad_request(
            f"the {what} is not UTF-8 text (bad byte at offset {exc.start})"
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise bad_request(
            f"the {what} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno} "
            f"(char {exc.pos})"
        ) from None


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "a string" if isinstance(value, str) else "an array"


async def read_object(
    request: web.Request, limit: int, *, media_types: tuple[str, ...] = (JSON,)
) -> dict[str, Any]:
    """A JSON object body of one of ``media_types``."""
    _check_media_type(request, media_types)
    body = parse_json(await read_limited(request, limit))
    if not isinstance(body, dict):
        raise bad_request(f"the request body must be a JSON object, not {_json_type(body)}")
    return body


async def read_optional_object(request: web.Request, limit: int) -> dict[str, Any] | None:
    """A JSON object body if there is one (DELETE may carry ``DeleteOptions``), else None."""
    if request.content_length == 0 or (request.content_length is None and not request.body_exists):
        return None
    raw = await read_limited(request, limit)
    if not raw.strip():
        return None
    _check_media_type(request, (JSON,))
    body = parse_json(raw)
    if not isinstance(body, dict):
        raise bad_request("the request body must be a JSON object (DeleteOptions)")
    return body
