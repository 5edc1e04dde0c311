"""The ``gcp`` provider's options: parsed and checked from the hub's string settings.

Layer: pure (no I/O, no SDK). :func:`parse_options` turns ``ProviderSettings.options`` into a
:class:`GcpOptions` value or raises ``ProviderError(retryable=False)`` naming the option and
what to write instead. It checks shapes only; whether the project exists or the credentials
file can be read shows on the first call to GCE, since the factory must not do I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar
from urllib.parse import urlsplit

from kfed_core.providers import ProviderError
from kfed_gcp.retry import RetryPolicy

SCHEMES = ("EXTERNAL_MANAGED", "EXTERNAL")
KNOWN = frozenset(
    {
        "project",
        "network",
        "endpoint",
        "credentials_file",
        "owner",
        "scheme",
        "rate_per_weight",
        "health_check_path",
        "health_check_interval",
        "unhealthy_threshold",
        "zone_map",
        "retry_attempts",
        "retry_base_delay",
        "retry_max_delay",
        "retry_deadline",
        "request_timeout",
        "operation_timeout",
        "operation_poll_interval",
    }
)

_PROJECT = re.compile(r"(?:[a-z][-a-z0-9.]*[a-z0-9]:)?[a-z][-a-z0-9]{4,28}[a-z0-9]")
_NAME = re.compile(r"[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?")
_ZONE = re.compile(r"[a-z]+-[a-z]+[0-9]+-[a-z]")
_OWNER = re.compile(r"[a-z0-9][-a-z0-9_.]{0,40}")

_T = TypeVar("_T", int, float)


@dataclass(frozen=True, slots=True, kw_only=True)
class GcpOptions:
    """Settings of one started ``gcp`` provider (see ``docs/providers/gcp.md``)."""

    project: str
    network: str = "default"
    endpoint: str = ""
    """API root (``http://127.0.0.1:PORT`` for the fake); empty: the real compute.googleapis.com."""
    credentials_file: str = ""
    """A service account or external account JSON file; empty: Application Default Credentials
    (or anonymous credentials when ``endpoint`` is set)."""
    owner: str = "kfed"
    scheme: str = "EXTERNAL_MANAGED"
    rate_per_weight: float = 100.0
    """Requests per second one unit of ``Backend.weight`` stands for (maxRatePerEndpoint)."""
    health_check_path: str = "/"
    health_check_interval: int = 5
    unhealthy_threshold: int = 2
    zone_map: Mapping[str, str] = field(default_factory=dict)
    """Cluster zones (other clouds, on-premises) to the GCE zone their hybrid NEG lives in."""
    retry: RetryPolicy = RetryPolicy()
    request_timeout: float = 30.0
    operation_timeout: float = 300.0
    operation_poll_interval: float = 1.0


def parse_options(options: Mapping[str, str], *, source: str) -> GcpOptions:
    """Check and convert the hub's options; ``source`` names the provider in messages."""
    unknown = sorted(set(options) - KNOWN)
    if unknown:
        raise _bad(source, unknown[0], f"is not an option of the gcp provider ({_known()})")
    project = options.get("project", "")
    if not project:
        raise _bad(source, "project", "is required: set it to the GCP project id")
    if not _PROJECT.fullmatch(project):
        raise _bad(source, "project", f"{project!r} is not a GCP project id")
    network = options.get("network", "default")
    if not _NAME.fullmatch(network):
        raise _bad(source, "network", f"{network!r} is not a VPC network name")
    endpoint = options.get("endpoint", "")
    if endpoint:
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise _bad(source, "endpoint", f"{endpoint!r} is not an http(s)://host[:port] URL")
    owner = options.get("owner", "kfed")
    if not _OWNER.fullmatch(owner):
        raise _bad(source, "owner", f"{owner!r}: use lowercase letters, digits, '-', '_', '.'")
    scheme = options.get("scheme", "EXTERNAL_MANAGED").upper()
    if scheme not in SCHEMES:
        raise _bad(source, "scheme", f"{scheme!r}: use one of {', '.join(SCHEMES)}")
    path = options.get("health_check_path", "/")
    if not path.startswith("/"):
        raise _bad(source, "health_check_path", f"{path!r} must start with '/'")
    get = _Getter(options, source)
    retry = RetryPolicy(
        attempts=get.number("retry_attempts", int, 6, low=1),
        base_delay=get.number("retry_base_delay", float, 0.5, low=0.0),
        max_delay=get.number("retry_max_delay", float, 16.0, low=0.0),
        deadline=get.number("retry_deadline", float, 120.0, low=0.0),
    )
    return GcpOptions(
        project=project,
        network=network,
        endpoint=endpoint.rstrip("/"),
        credentials_file=options.get("credentials_file", ""),
        owner=owner,
        scheme=scheme,
        rate_per_weight=get.number("rate_per_weight", float, 100.0, low=0.001),
        health_check_path=path,
        health_check_interval=get.number("health_check_interval", int, 5, low=1, high=300),
        unhealthy_threshold=get.number("unhealthy_threshold", int, 2, low=1, high=10),
        zone_map=_zone_map(options.get("zone_map", ""), source),
        retry=retry,
        request_timeout=get.number("request_timeout", float, 30.0, low=0.001),
        operation_timeout=get.number("operation_timeout", float, 300.0, low=0.001),
        operation_poll_interval=get.number("operation_poll_interval", float, 1.0, low=0.0),
    )


def gce_zone(zone: str, options: GcpOptions) -> str | None:
    """The GCE zone for a backend in ``zone`` (mapped through ``zone_map``), or None when it
    is not a GCE zone and no mapping says where its hybrid NEG should live."""
    mapped = options.zone_map.get(zone, zone)
    return mapped if _ZONE.fullmatch(mapped) else None


class _Getter:
    def __init__(self, options: Mapping[str, str], source: str) -> None:
        self._options = options
        self._source = source

    def number(
        self,
        key: str,
        kind: Callable[[str], _T],
        default: _T,
        *,
        low: float,
        high: float | None = None,
    ) -> _T:
        raw = self._options.get(key)
        if raw is None:
            return default
        try:
            value = kind(raw)
        except ValueError:
            raise _bad(self._source, key, f"{raw!r} is not a number") from None
        number = float(value)
        if number < low or (high is not None and number > high):
            span = f"at least {low}" if high is None else f"between {low} and {high}"
            raise _bad(self._source, key, f"{raw!r} must be {span}")
        return value


def _zone_map(raw: str, source: str) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        zone, sep, target = (text.strip() for text in item.partition("="))
        if not sep or not zone or not _ZONE.fullmatch(target):
            raise _bad(
                source,
                "zone_map",
                f"{item!r}: write CLUSTER_ZONE=GCE_ZONE pairs separated by commas "
                "(for example 'us-east-1a=us-east4-a,dc1=europe-west1-b')",
            )
        mapping[zone] = target
    return mapping


def _known() -> str:
    return "known: " + ", ".join(sorted(KNOWN))


def _bad(source: str, key: str, problem: str) -> ProviderError:
    return ProviderError(
        f"{source}: option {key!r} {problem}; fix it in the hub's provider settings",
        retryable=False,
    )
