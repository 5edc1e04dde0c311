"""The local provider's settings, and how a load balancer's options adjust them.

Layer: plain values and their parsing (no I/O). The hub (or whoever builds the provider) passes
:class:`LocalSettings`, possibly parsed with :func:`settings_from_mapping` from the ``local``
section of its configuration; each federated Ingress may carry ``options`` (from its
annotations) that :func:`listen_address` and :func:`proxy_config` read. Every mistake raises
:class:`SettingsError` saying which key and what to write.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from kfed_local.glb.health import HealthSettings
from kfed_local.glb.regions import Coordinates, RegionError, RegionTable, parse_regions
from kfed_local.glb.routing import ClientNetwork, RoutingError, parse_client_networks

OPTION_ADDRESS = "address"
"""Option: ``host:port`` (or ``host``) the load balancer listens on."""
OPTION_IN_FLIGHT = "in-flight-per-weight"
"""Option: in-flight requests allowed per unit of backend weight (0: no limit)."""
OPTION_HEALTH_PATH = "health-path"
"""Option: the path the active health checks request."""


class SettingsError(ValueError):
    """Provider settings or load balancer options that cannot be used."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ProxyConfig:
    """How one proxy routes and forwards (built by the provider from its settings)."""

    regions: RegionTable
    networks: tuple[ClientNetwork, ...] = ()
    trust_client_region_header: bool = False
    in_flight_per_weight: int = 0
    """Each backend's in-flight limit is its weight times this; 0 for no limit."""
    shed_when_full: bool = False
    connect_timeout: float = 1.0
    read_timeout: float = 30.0
    """Seconds without a byte from the backend before the request fails (504)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LocalSettings:
    """How the local provider listens, locates clients, checks and limits backends."""

    host: str = "127.0.0.200"
    """The address global load balancers listen on, each on its own port (an IP literal)."""
    client_networks: Mapping[str, str] = field(default_factory=dict)
    """Client CIDR → region (``{"10.1.0.0/16": "us-east1"}``); the longest prefix wins."""
    trust_client_region_header: bool = False
    """Believe a request's ``X-Client-Region`` header (demos and tests only: clients can lie)."""
    health: HealthSettings = field(default_factory=HealthSettings)
    regions: Mapping[str, Coordinates] = field(default_factory=dict)
    """Regions added to (or moved in) the built-in table, e.g. an OpenStack ``RegionOne``."""
    in_flight_per_weight: int = 100
    """A backend's in-flight limit is its weight times this; beyond it, requests spill over to
    the next closest backend. 0: no limit."""
    shed_when_full: bool = False
    """When every backend is at its limit: 503 (True) or overload the least loaded (False)."""
    connect_timeout: float = 1.0
    read_timeout: float = 30.0

    def __post_init__(self) -> None:
        _check_host(self.host, "host")
        if self.in_flight_per_weight < 0:
            raise SettingsError("in_flight_per_weight must be 0 (no limit) or more")
        if self.connect_timeout <= 0 or self.read_timeout <= 0:
            raise SettingsError("connect_timeout and read_timeout must be positive seconds")

    def region_table(self) -> RegionTable:
        """The built-in regions with this configuration's additions."""
        return RegionTable().with_overrides(self.regions)


def settings_from_mapping(data: Mapping[str, Any], *, source: str = "local") -> LocalSettings:
    """Settings from plain configuration data (keys are the field names; ``health`` and
    ``regions`` are mappings)."""
    known = {f.name for f in fields(LocalSettings)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise SettingsError(
            f"{source}: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    values = dict(data)
    try:
        if "health" in values:
            values["health"] = HealthSettings(**dict(values["health"]))
        if "regions" in values:
            values["regions"] = parse_regions(values["regions"], source=f"{source}.regions")
        if "client_networks" in values:
            parse_client_networks(values["client_networks"])
        return LocalSettings(**values)
    except (TypeError, ValueError) as exc:  # RegionError, RoutingError, SettingsError included
        raise SettingsError(f"{source}: {exc}") from None


def listen_address(settings: LocalSettings, options: Mapping[str, str]) -> tuple[str, int]:
    """Where a load balancer listens: its ``address`` option, else the provider's host on a
    free port (0)."""
    text = options.get(OPTION_ADDRESS, "").strip()
    if not text:
        return settings.host, 0
    host, port_text = text, ""
    if text.startswith("["):  # [::1]:8080
        host, _, rest = text[1:].partition("]")
        port_text = rest.removeprefix(":")
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
    _check_host(host, f"option {OPTION_ADDRESS}")
    try:
        port = int(port_text) if port_text else 0
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise SettingsError(
            f"option {OPTION_ADDRESS}={text!r}: the port must be a number from 0 to 65535"
        )
    return host, port


def proxy_config(settings: LocalSettings, options: Mapping[str, str]) -> ProxyConfig:
    """The routing and forwarding configuration of one load balancer."""
    per_weight = settings.in_flight_per_weight
    if OPTION_IN_FLIGHT in options:
        try:
            per_weight = int(options[OPTION_IN_FLIGHT])
        except ValueError:
            per_weight = -1
        if per_weight < 0:
            raise SettingsError(
                f"option {OPTION_IN_FLIGHT}={options[OPTION_IN_FLIGHT]!r} must be a whole number "
                "of requests, 0 for no limit"
            )
    try:
        networks = parse_client_networks(settings.client_networks)
    except (RoutingError, RegionError) as exc:
        raise SettingsError(str(exc)) from None
    return ProxyConfig(
        regions=settings.region_table(),
        networks=networks,
        trust_client_region_header=settings.trust_client_region_header,
        in_flight_per_weight=per_weight,
        shed_when_full=settings.shed_when_full,
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
    )


def health_settings(settings: LocalSettings, options: Mapping[str, str]) -> HealthSettings:
    """The health checks of one load balancer (its ``health-path`` option applied)."""
    path = options.get(OPTION_HEALTH_PATH)
    if path is None:
        return settings.health
    try:
        return HealthSettings(
            interval=settings.health.interval,
            timeout=settings.health.timeout,
            unhealthy_threshold=settings.health.unhealthy_threshold,
            healthy_threshold=settings.health.healthy_threshold,
            path=path,
        )
    except ValueError as exc:
        raise SettingsError(f"option {OPTION_HEALTH_PATH}: {exc}") from None


def _check_host(host: str, where: str) -> None:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise SettingsError(
            f"{where}: {host!r} is not an IP address; write one such as 127.0.0.200"
        ) from None
