"""The AWS provider's settings, read from string options, and each load balancer's options.

Layer: ``kfed_aws`` pure helpers: values in, values out; no I/O (a credentials file's path is
checked for form, not opened: the factory must not touch the disk or network). Errors are
:class:`~kfed_core.providers.ProviderError` with ``retryable=False`` naming the bad option, so
the operator knows which line of the hub's settings to fix.

Provider options come from the hub's settings and a typo there would silently change
behaviour, so unknown ones are refused. Load balancer options come from a federated Ingress's
annotations, shared with other providers, so unknown ones are ignored.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from kfed_aws.retry import RetryPolicy
from kfed_core.providers import ProviderError

GA_API_REGION = "us-west-2"
"""Global Accelerator's API answers in this one region, wherever the accelerator serves."""

CLIENT_AFFINITIES = ("NONE", "SOURCE_IP")

PROVIDER_OPTIONS = {
    "endpoint": "one URL for every AWS API (moto, a proxy); the others override it",
    "globalAcceleratorEndpoint": "URL of the Global Accelerator API",
    "elbv2Endpoint": "URL of the ELBv2 API (every region)",
    "route53Endpoint": "URL of the Route 53 API",
    "globalAcceleratorRegion": f"region of the Global Accelerator API (default {GA_API_REGION})",
    "profile": "profile in the credentials/config files",
    "sharedCredentialsFile": "path of an AWS credentials file",
    "configFile": "path of an AWS config file",
    "ownerId": "value of the kfed.io/managed-by tag (default: the provider's name)",
    "clientAffinity": "NONE or SOURCE_IP (default NONE)",
    "hostedZoneId": "default Route 53 hosted zone for load balancers with a hostname",
    "dnsTtl": "TTL of the Route 53 records, seconds (default 60)",
    "retryAttempts": "calls per AWS request, first included (default 6)",
    "retryBaseDelay": "first backoff, seconds (default 0.25)",
    "retryMaxDelay": "longest backoff, seconds (default 8)",
    "retryDeadline": "seconds one AWS request may keep retrying (default 60)",
    "pollInterval": "seconds between status polls while deleting (default 5)",
    "deleteTimeout": "seconds to wait for a disabled accelerator to deploy (default 600)",
    "timeout": "connect and read timeout of each HTTP request, seconds (default 30)",
}
"""Every provider option, with one line for people (docs/providers/aws.md has the table)."""

_ZONE_ID = re.compile(r"^(/hostedzone/)?[A-Z0-9]{1,32}$")
_HOSTNAME = re.compile(
    r"^(?=.{1,253}\.?$)([a-z0-9_]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{1,63}\.?$"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class AwsSettings:
    """Settings of one started AWS provider."""

    name: str
    owner_id: str
    ga_region: str = GA_API_REGION
    ga_endpoint: str | None = None
    elbv2_endpoint: str | None = None
    route53_endpoint: str | None = None
    profile: str | None = None
    credentials_file: str | None = None
    config_file: str | None = None
    client_affinity: str = "NONE"
    hosted_zone_id: str | None = None
    dns_ttl: int = 60
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    poll_interval: float = 5.0
    delete_timeout: float = 600.0
    timeout: float = 30.0


@dataclass(frozen=True, slots=True, kw_only=True)
class LbOptions:
    """What one load balancer's options (from its Ingress) ask of the AWS provider."""

    client_affinity: str
    hosted_zone_id: str | None = None
    hostname: str | None = None  # fully qualified with the trailing dot, lowercase
    dns_ttl: int = 60


def settings_from_options(name: str, options: Mapping[str, str]) -> AwsSettings:
    """Read a provider's options (all strings); raises ProviderError naming a bad one."""
    where = f"provider {name!r}"
    unknown = sorted(set(options) - set(PROVIDER_OPTIONS))
    if unknown:
        raise _bad(
            where,
            f"unknown option(s) {', '.join(unknown)}; known: {', '.join(sorted(PROVIDER_OPTIONS))}",
        )
    endpoint = _url(where, options, "endpoint")
    default = RetryPolicy()
    retry = RetryPolicy(
        attempts=_whole(where, options, "retryAttempts", default.attempts, 1, 100),
        base_delay=_number(where, options, "retryBaseDelay", default.base_delay, 0, 60),
        max_delay=_number(where, options, "retryMaxDelay", default.max_delay, 0, 600),
        deadline=_number(where, options, "retryDeadline", default.deadline, 0, 3600),
    )
    zone = options.get("hostedZoneId")
    return AwsSettings(
        name=name,
        owner_id=_owner(where, options.get("ownerId", name)),
        ga_region=_region(where, options.get("globalAcceleratorRegion", GA_API_REGION)),
        ga_endpoint=_url(where, options, "globalAcceleratorEndpoint") or endpoint,
        elbv2_endpoint=_url(where, options, "elbv2Endpoint") or endpoint,
        route53_endpoint=_url(where, options, "route53Endpoint") or endpoint,
        profile=_plain(where, options, "profile"),
        credentials_file=_path(where, options, "sharedCredentialsFile"),
        config_file=_path(where, options, "configFile"),
        client_affinity=_affinity(where, options.get("clientAffinity", "NONE")),
        hosted_zone_id=None if zone is None else _zone(where, zone),
        dns_ttl=_whole(where, options, "dnsTtl", 60, 0, 2147483647),
        retry=retry,
        poll_interval=_number(where, options, "pollInterval", 5.0, 0, 600),
        delete_timeout=_number(where, options, "deleteTimeout", 600.0, 0, 86400),
        timeout=_number(where, options, "timeout", 30.0, 0.001, 3600),
    )


def lb_options(settings: AwsSettings, lb_name: str, options: Mapping[str, str]) -> LbOptions:
    """Read the AWS options of load balancer ``lb_name``; other providers' options are ignored."""
    where = f"load balancer {lb_name!r}"
    hostname = options.get("hostname")
    zone = options.get("hostedZoneId")
    zone_id = _zone(where, zone) if zone is not None else settings.hosted_zone_id
    if hostname is not None:
        hostname = hostname.strip().lower().rstrip(".") + "."
        if not _HOSTNAME.match(hostname) or hostname.startswith("*"):
            raise _bad(where, f"option hostname {options['hostname']!r} is not a DNS name")
        if zone_id is None:
            raise _bad(
                where,
                "option hostname needs a Route 53 hosted zone: set hostedZoneId on the Ingress "
                "or in the provider's options",
            )
    ttl = settings.dns_ttl
    if "dnsTtl" in options:
        ttl = _whole(where, options, "dnsTtl", ttl, 0, 2147483647)
    return LbOptions(
        client_affinity=_affinity(where, options.get("clientAffinity", settings.client_affinity)),
        hosted_zone_id=zone_id if hostname is not None else None,
        hostname=hostname,
        dns_ttl=ttl,
    )


def _bad(where: str, problem: str) -> ProviderError:
    return ProviderError(f"{where}: {problem}", retryable=False)


def _url(where: str, options: Mapping[str, str], key: str) -> str | None:
    value = options.get(key)
    if value is None:
        return None
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _bad(where, f"option {key} {value!r} is not an http(s) URL such as https://host:443")
    try:
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise _bad(where, f"option {key} {value!r} has a bad port") from None
    return value.strip().rstrip("/")


def _number(
    where: str, options: Mapping[str, str], key: str, default: float, low: float, high: float
) -> float:
    if key not in options:
        return default
    try:
        value = float(options[key])
    except ValueError:
        value = math.nan
    if not low <= value <= high:  # NaN fails too
        raise _bad(where, f"option {key} {options[key]!r} must be a number from {low} to {high}")
    return value


def _whole(
    where: str, options: Mapping[str, str], key: str, default: int, low: int, high: int
) -> int:
    if key not in options:
        return default
    text = options[key].strip()
    if not text.isdigit() or not low <= int(text) <= high:
        raise _bad(
            where, f"option {key} {options[key]!r} must be a whole number from {low} to {high}"
        )
    return int(text)


def _plain(where: str, options: Mapping[str, str], key: str) -> str | None:
    value = options.get(key)
    if value is not None and (not value.strip() or any(c.isspace() for c in value.strip())):
        raise _bad(where, f"option {key} {value!r} must be one word")
    return None if value is None else value.strip()


def _path(where: str, options: Mapping[str, str], key: str) -> str | None:
    value = options.get(key)
    if value is not None and (not value.strip() or "\n" in value or "\x00" in value):
        raise _bad(where, f"option {key} must be a file path (never the secret itself)")
    return None if value is None else value.strip()


def _owner(where: str, value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_.:/=+\-@ ]{1,128}", value):
        raise _bad(where, f"option ownerId {value!r} must be 1-128 letters, digits or _.:/=+-@")
    return value


def _region(where: str, value: str) -> str:
    if not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", value):
        raise _bad(where, f"option globalAcceleratorRegion {value!r} is not an AWS region name")
    return value


def _affinity(where: str, value: str) -> str:
    if value not in CLIENT_AFFINITIES:
        raise _bad(where, f"option clientAffinity {value!r} must be NONE or SOURCE_IP")
    return value


def _zone(where: str, value: str) -> str:
    if not _ZONE_ID.match(value.strip()):
        raise _bad(where, f"option hostedZoneId {value!r} is not a Route 53 hosted zone id")
    return value.strip().removeprefix("/hostedzone/")
