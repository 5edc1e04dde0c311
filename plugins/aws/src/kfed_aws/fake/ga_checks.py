"""Input rules of the fake Global Accelerator: what the real API refuses, and how.

Layer: ``kfed_aws.fake`` pure helpers (no I/O). Each function raises :class:`FakeAwsError` with
the error code and HTTP status the real service answers, so clients see the same failures
against the fake as against AWS. Rules that need state (referential integrity, duplicates,
idempotency) live in :mod:`kfed_aws.fake.ga_state`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

MAX_ENDPOINTS = 10
MAX_TAGS = 200

_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,62}[A-Za-z0-9])?$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
_ARN = re.compile(r"^arn:aws[a-z-]*:(?P<service>[a-z0-9-]+):(?P<region>[a-z0-9-]*):\d{12}:.+$")
_OTHER_ENDPOINT = re.compile(r"^(eipalloc-[0-9a-f]{8,17}|i-[0-9a-f]{8,17})$")


class FakeAwsError(Exception):
    """An error answer: ``code`` goes to ``__type``, ``status`` is the HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


def invalid(message: str) -> FakeAwsError:
    return FakeAwsError("InvalidArgumentException", message)


def required(body: Mapping[str, Any], key: str) -> Any:
    """A required member, or the ValidationException-like error AWS gives without it."""
    if key not in body or body[key] in (None, ""):
        raise invalid(f"{key} is required")
    return body[key]


def check_name(name: Any) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise invalid(
            "The name can have a maximum of 64 characters, must contain only alphanumeric "
            "characters, periods (.), or hyphens (-), and must not begin or end with a hyphen "
            "or period."
        )
    return name


def check_tags(tags: Any) -> dict[str, str]:
    if not isinstance(tags, list) or len(tags) > MAX_TAGS:
        raise invalid(f"Tags must be a list of at most {MAX_TAGS} tags")
    out: dict[str, str] = {}
    for tag in tags:
        key, value = tag.get("Key"), tag.get("Value")
        if not isinstance(key, str) or not 1 <= len(key) <= 128:
            raise invalid(f"tag key {key!r} must be 1 to 128 characters")
        if not isinstance(value, str) or len(value) > 256:
            raise invalid(f"tag value for {key} must be at most 256 characters")
        out[key] = value
    return out


def check_port_ranges(ranges: Any) -> list[tuple[int, int]]:
    if not isinstance(ranges, list) or not 1 <= len(ranges) <= 10:
        raise FakeAwsError("InvalidPortRangeException", "PortRanges must hold 1 to 10 ranges")
    out: list[tuple[int, int]] = []
    for item in ranges:
        low, high = item.get("FromPort"), item.get("ToPort")
        if not (isinstance(low, int) and isinstance(high, int) and 1 <= low <= high <= 65535):
            raise FakeAwsError("InvalidPortRangeException", f"invalid port range {item}")
        out.append((low, high))
    for i, (low, high) in enumerate(out):
        for other_low, other_high in out[i + 1 :]:
            if low <= other_high and other_low <= high:
                raise FakeAwsError("InvalidPortRangeException", "port ranges overlap")
    return out


def overlaps(a: Sequence[tuple[int, int]], b: Sequence[tuple[int, int]]) -> bool:
    return any(
        low <= other_high and other_low <= high for low, high in a for other_low, other_high in b
    )


def check_choice(body: Mapping[str, Any], key: str, choices: Sequence[str], default: str) -> str:
    value = body.get(key, default)
    if value not in choices:
        raise invalid(f"{key} must be one of {', '.join(choices)}")
    return str(value)


def check_region(region: Any) -> str:
    if not isinstance(region, str) or not _REGION.match(region):
        raise invalid(f"EndpointGroupRegion {region!r} is not a valid AWS Region")
    return region


def check_endpoints(configs: Any, region: str) -> list[dict[str, Any]]:
    """Endpoint configurations: well-formed ids (ELB ARNs of the group's region, Elastic IP
    allocations or instances), no duplicates, weights 0-255, at most ten."""
    if not isinstance(configs, list):
        raise invalid("EndpointConfigurations must be a list")
    if len(configs) > MAX_ENDPOINTS:
        raise FakeAwsError(
            "LimitExceededException", f"an endpoint group holds at most {MAX_ENDPOINTS} endpoints"
        )
    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    for config in configs:
        endpoint_id = config.get("EndpointId")
        if not isinstance(endpoint_id, str):
            raise invalid("EndpointId is required")
        match = _ARN.match(endpoint_id)
        if match is None and not _OTHER_ENDPOINT.match(endpoint_id):
            raise invalid(f"EndpointId {endpoint_id!r} is not a valid endpoint id")
        if match is not None and match["region"] and match["region"] != region:
            raise invalid(
                f"endpoint {endpoint_id} is in {match['region']}, not in the endpoint group's "
                f"Region {region}"
            )
        if endpoint_id in seen:
            raise invalid(f"endpoint {endpoint_id} is listed twice")
        seen.add(endpoint_id)
        weight = config.get("Weight", 128)
        if not isinstance(weight, int) or not 0 <= weight <= 255:
            raise invalid(f"Weight {weight!r} must be from 0 to 255")
        out.append(
            {
                "EndpointId": endpoint_id,
                "Weight": weight,
                "ClientIPPreservationEnabled": bool(
                    config.get("ClientIPPreservationEnabled", False)
                ),
            }
        )
    return out


def check_dial(value: Any) -> float:
    if not isinstance(value, int | float) or not 0 <= value <= 100:
        raise invalid(f"TrafficDialPercentage {value!r} must be from 0 to 100")
    return float(value)


def check_port_overrides(value: Any, ranges: Sequence[tuple[int, int]]) -> list[dict[str, int]]:
    if not isinstance(value, list) or len(value) > 10:
        raise invalid("PortOverrides must be a list of at most 10 overrides")
    out: list[dict[str, int]] = []
    for item in value:
        listener_port, endpoint_port = item.get("ListenerPort"), item.get("EndpointPort")
        if not isinstance(listener_port, int) or not any(
            low <= listener_port <= high for low, high in ranges
        ):
            raise invalid(f"ListenerPort {listener_port!r} is not in the listener's port ranges")
        if not isinstance(endpoint_port, int) or not 1 <= endpoint_port <= 65535:
            raise invalid(f"EndpointPort {endpoint_port!r} must be from 1 to 65535")
        out.append({"ListenerPort": listener_port, "EndpointPort": endpoint_port})
    return out


def listener_ranges(listener: Mapping[str, Any]) -> list[tuple[int, int]]:
    """A stored listener's port ranges as (from, to) pairs."""
    return [(r["FromPort"], r["ToPort"]) for r in listener["PortRanges"]]


def page(
    items: list[Any], body: Mapping[str, Any], default_size: int
) -> tuple[list[Any], dict[str, str]]:
    """One page of ``items`` for a List* call (``MaxResults``, ``NextToken``) and the token of
    the next page, if any, as the real API pages (10 per page by default)."""
    size = body.get("MaxResults", default_size)
    if not isinstance(size, int) or not 1 <= size <= 100:
        raise invalid("MaxResults must be from 1 to 100")
    start = 0
    if "NextToken" in body:
        token = str(body["NextToken"])
        if not token.startswith("page-") or not token[5:].isdigit():
            raise FakeAwsError("InvalidNextTokenException", "The NextToken is not valid.")
        start = int(token[5:])
    more = start + size < len(items)
    return items[start : start + size], ({"NextToken": f"page-{start + size}"} if more else {})
