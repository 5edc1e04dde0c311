"""The OpenStack provider's options, parsed from strings into frozen values.

Layer: ``kfed_openstack``, pure (no I/O: the password is read from the environment by
:mod:`kfed_openstack.os_client` when it connects, never here). Options come from
:attr:`ProviderSettings.options` (the hub's settings) and, for the per load balancer ones, from
:attr:`GlobalLoadBalancer.options` (the Ingress's annotations). Secrets are never options: the
password or application credential secret is named by an environment variable
(``passwordEnv``, ``applicationCredentialSecretEnv``) or comes from clouds.yaml (``cloud``).
Errors are :class:`SettingsError`, naming the option and what to do.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from kfed_openstack.retry import RetryPolicy


class SettingsError(ValueError):
    """An option is missing or wrong; the message names it and says what to set."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthSettings:
    """How to reach Keystone v3. Either ``cloud`` (a clouds.yaml entry) or ``auth_url`` plus a
    user (password) or an application credential; secrets come from environment variables."""

    cloud: str = ""
    auth_url: str = ""
    auth_type: str = "password"  # or "v3applicationcredential"
    username: str = ""
    user_domain: str = "Default"
    project_name: str = ""
    project_domain: str = "Default"
    password_env: str = "OS_PASSWORD"
    application_credential_id: str = ""
    application_credential_secret_env: str = "OS_APPLICATION_CREDENTIAL_SECRET"
    region: str = ""
    interface: str = "public"
    ca_file: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class LbSettings:
    """What each regional Octavia load balancer looks like (overridable per Ingress)."""

    protocol: str = "HTTP"
    algorithm: str = "ROUND_ROBIN"
    health_path: str = "/"
    health_delay: int = 5
    health_timeout: int = 3
    health_max_retries: int = 3
    health_expected_codes: str = "200-399"
    dns_ttl: int = 30


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenStackSettings:
    """Everything the provider needs, parsed and checked."""

    owner: str
    auth: AuthSettings
    dns_zone: str
    dns_region: str = ""
    regions: tuple[str, ...] = ()  # empty: every region with Octavia in the catalog
    vip_subnets: Mapping[str, str] = field(default_factory=dict)  # "" is the default
    lb: LbSettings = LbSettings()
    retry: RetryPolicy = RetryPolicy()
    poll_interval: float = 2.0
    poll_timeout: float = 600.0

    def vip_subnet(self, region: str) -> str:
        """The subnet for ``region``'s VIP; SettingsError when none is set."""
        subnet = self.vip_subnets.get(region) or self.vip_subnets.get("")
        if not subnet:
            raise SettingsError(
                f"no VIP subnet for OpenStack region {region!r}: set the option "
                f"'vipSubnet.{region}' (or 'vipSubnet' for every region) to a subnet ID"
            )
        return subnet


PER_LB_OPTIONS = {
    "protocol": "protocol",
    "lbAlgorithm": "algorithm",
    "healthPath": "health_path",
    "healthDelay": "health_delay",
    "healthTimeout": "health_timeout",
    "healthMaxRetries": "health_max_retries",
    "healthExpectedCodes": "health_expected_codes",
    "dnsTtl": "dns_ttl",
}
"""Options an Ingress may override through ``GlobalLoadBalancer.options``."""

_AUTH_OPTIONS = {
    "cloud": "cloud",
    "authUrl": "auth_url",
    "username": "username",
    "userDomain": "user_domain",
    "projectName": "project_name",
    "projectDomain": "project_domain",
    "passwordEnv": "password_env",
    "applicationCredentialId": "application_credential_id",
    "applicationCredentialSecretEnv": "application_credential_secret_env",
    "region": "region",
    "interface": "interface",
    "caFile": "ca_file",
}
_OTHER_OPTIONS = {
    "authType",
    "owner",
    "dnsZone",
    "dnsRegion",
    "regions",
    "vipSubnet",
    "retryAttempts",
    "retryBaseDelay",
    "retryMaxDelay",
    "retryTotal",
    "pollInterval",
    "pollTimeout",
}
_SECRETS = {"password", "applicationCredentialSecret", "token", "secret"}
_AUTH_TYPES = {"password": "password", "applicationCredential": "v3applicationcredential"}
_INTS = {"health_delay", "health_timeout", "health_max_retries", "dns_ttl"}
KNOWN_OPTIONS = sorted({*PER_LB_OPTIONS, *_AUTH_OPTIONS, *_OTHER_OPTIONS, "vipSubnet.<region>"})


def parse_settings(options: Mapping[str, str], *, name: str) -> OpenStackSettings:
    """Parse the provider's options; ``name`` is the provider's name (the default owner)."""
    for key in options:
        if key in _SECRETS:
            raise SettingsError(
                f"option {key!r} would put a secret in the hub's settings; name an environment "
                "variable instead (passwordEnv, applicationCredentialSecretEnv) or use clouds.yaml"
                " through the 'cloud' option"
            )
        known = key in PER_LB_OPTIONS or key in _AUTH_OPTIONS or key in _OTHER_OPTIONS
        if not known and not key.startswith("vipSubnet."):
            raise SettingsError(f"unknown option {key!r}; known: {', '.join(KNOWN_OPTIONS)}")
    auth_type = options.get("authType", "password")
    if auth_type not in _AUTH_TYPES:
        raise SettingsError(f"option 'authType' is {auth_type!r}; use one of {sorted(_AUTH_TYPES)}")
    auth = AuthSettings(
        auth_type=_AUTH_TYPES[auth_type],
        **{attr: options[key].strip() for key, attr in _AUTH_OPTIONS.items() if key in options},
    )
    _check_auth(auth)
    zone = options.get("dnsZone", "").strip()
    if not zone or " " in zone or zone.strip(".") == "":
        raise SettingsError(
            "set the option 'dnsZone' to a Designate zone such as apps.example.org."
        )
    owner = options.get("owner", name).strip()
    if not owner or "," in owner or len(owner) > 64:
        raise SettingsError(f"option 'owner' is {owner!r}; use 1-64 characters without commas")
    subnets = {
        key.removeprefix("vipSubnet").removeprefix("."): value.strip()
        for key, value in options.items()
        if key == "vipSubnet" or key.startswith("vipSubnet.")
    }
    retry = RetryPolicy(
        attempts=int(_number(options, "retryAttempts", 5, low=1)),
        base_delay=_number(options, "retryBaseDelay", 0.5, low=0),
        max_delay=_number(options, "retryMaxDelay", 8.0, low=0),
        total=_number(options, "retryTotal", 60.0, low=0),
    )
    return OpenStackSettings(
        owner=owner,
        auth=auth,
        dns_zone=zone if zone.endswith(".") else zone + ".",
        dns_region=options.get("dnsRegion", "").strip(),
        regions=tuple(r.strip() for r in options.get("regions", "").split(",") if r.strip()),
        vip_subnets=subnets,
        lb=lb_settings(LbSettings(), options),
        retry=retry,
        poll_interval=_number(options, "pollInterval", 2.0, low=0),
        poll_timeout=_number(options, "pollTimeout", 600.0, low=0),
    )


def lb_settings(base: LbSettings, options: Mapping[str, str]) -> LbSettings:
    """``base`` with the per load balancer options in ``options`` applied (others ignored)."""
    changes: dict[str, object] = {}
    for key, attr in PER_LB_OPTIONS.items():
        if key in options:
            raw = options[key].strip()
            changes[attr] = int(_number({key: raw}, key, 0, low=0)) if attr in _INTS else raw
    result = replace(base, **changes)  # type: ignore[arg-type]
    if result.protocol not in ("HTTP", "TCP"):
        raise SettingsError(f"option 'protocol' is {result.protocol!r}; use HTTP or TCP")
    if result.algorithm not in ("ROUND_ROBIN", "LEAST_CONNECTIONS"):
        raise SettingsError(
            f"option 'lbAlgorithm' is {result.algorithm!r}; use ROUND_ROBIN or LEAST_CONNECTIONS"
        )
    if not result.health_path.startswith("/"):
        raise SettingsError(f"option 'healthPath' is {result.health_path!r}; start it with /")
    if not 1 <= result.health_timeout <= result.health_delay:
        raise SettingsError("options 'healthTimeout' and 'healthDelay': need 1 <= timeout <= delay")
    if not 1 <= result.health_max_retries <= 10:
        raise SettingsError("option 'healthMaxRetries' must be 1-10 (Octavia's range)")
    if not 1 <= result.dns_ttl <= 2147483647:
        raise SettingsError("option 'dnsTtl' must be a positive number of seconds")
    return result


def _check_auth(auth: AuthSettings) -> None:
    if auth.cloud:
        return
    if not auth.auth_url.startswith(("http://", "https://")):
        raise SettingsError(
            "set the option 'cloud' (a clouds.yaml entry) or 'authUrl' (Keystone v3, "
            "e.g. https://keystone.example.org:5000/v3)"
        )
    if auth.auth_type == "password" and not (auth.username and auth.project_name):
        raise SettingsError(
            "password auth needs the options 'username' and 'projectName' (the password comes "
            f"from the environment variable named by 'passwordEnv', now {auth.password_env!r})"
        )
    if auth.auth_type == "v3applicationcredential" and not auth.application_credential_id:
        raise SettingsError("application credential auth needs 'applicationCredentialId'")


def _number(options: Mapping[str, str], key: str, default: float, *, low: float) -> float:
    raw = options.get(key)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"option {key!r} is {raw!r}, not a number") from None
    if not math.isfinite(value) or value < low:
        raise SettingsError(f"option {key!r} is {raw!r}; it must be at least {low}")
    return value
