"""The seam between the OpenStack provider and openstacksdk: typed values and one Protocol.

Layer: ``kfed_openstack`` contract, pure (no I/O, no SDK). :class:`OpenStackApi` lists the
Octavia and Designate calls the provider makes; :mod:`kfed_openstack.os_client` implements it
over openstacksdk (blocking calls in ``asyncio.to_thread``), and tests may put an in-memory
fake behind it. Every call raises :class:`CloudError` for an API failure: the provider decides
from ``status`` whether to retry, never from an SDK exception type.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


class CloudError(Exception):
    """What an OpenStack API answered instead of a result.

    ``status`` is the HTTP status, or None when no answer came (connection refused, timeout,
    a catalog without the service); ``retry_after`` the seconds a 429/503 asked to wait.
    The message never holds a token or a password.
    """

    def __init__(self, message: str, *, status: int | None, retry_after: float | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadBalancer:
    """An Octavia load balancer as the provider sees it."""

    id: str
    name: str
    vip_address: str
    provisioning_status: str
    operating_status: str = ""
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Listener:
    id: str
    name: str
    protocol: str
    port: int
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Pool:
    id: str
    name: str
    protocol: str
    algorithm: str
    healthmonitor_id: str = ""
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class MonitorSpec:
    """The health monitor fields the provider owns (``url_path``/``expected_codes`` for HTTP)."""

    type: str
    delay: int
    timeout: int
    max_retries: int
    url_path: str = ""
    expected_codes: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class HealthMonitor:
    id: str
    name: str
    spec: MonitorSpec
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Member:
    id: str
    name: str
    address: str
    port: int
    weight: int
    operating_status: str = ""
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Zone:
    id: str
    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Recordset:
    id: str
    name: str
    type: str
    records: tuple[str, ...]
    ttl: int
    description: str = ""
    status: str = ""


class OpenStackApi(Protocol):
    """The Octavia (per region) and Designate calls the provider makes. All raise CloudError."""

    async def regions(self) -> list[str]:
        """Regions whose service catalog lists a load-balancer endpoint, sorted."""
        ...

    async def load_balancers(
        self, region: str, *, name: str | None = None, tags: Sequence[str] = ()
    ) -> list[LoadBalancer]: ...
    async def get_load_balancer(self, region: str, lb_id: str) -> LoadBalancer: ...
    async def create_load_balancer(
        self, region: str, *, name: str, vip_subnet_id: str, description: str, tags: Sequence[str]
    ) -> LoadBalancer: ...
    async def delete_load_balancer(self, region: str, lb_id: str, *, cascade: bool) -> None: ...

    async def listeners(self, region: str, lb_id: str) -> list[Listener]: ...
    async def create_listener(
        self, region: str, *, lb_id: str, name: str, protocol: str, port: int, tags: Sequence[str]
    ) -> Listener: ...
    async def delete_listener(self, region: str, listener_id: str) -> None: ...

    async def pools(self, region: str, lb_id: str) -> list[Pool]: ...
    async def create_pool(
        self,
        region: str,
        *,
        listener_id: str,
        name: str,
        protocol: str,
        algorithm: str,
        tags: Sequence[str],
    ) -> Pool: ...
    async def update_pool(self, region: str, pool_id: str, *, algorithm: str) -> None: ...
    async def delete_pool(self, region: str, pool_id: str) -> None: ...

    async def get_health_monitor(self, region: str, monitor_id: str) -> HealthMonitor: ...
    async def create_health_monitor(
        self, region: str, *, pool_id: str, name: str, spec: MonitorSpec, tags: Sequence[str]
    ) -> HealthMonitor: ...
    async def update_health_monitor(
        self, region: str, monitor_id: str, *, spec: MonitorSpec
    ) -> None: ...

    async def members(self, region: str, pool_id: str) -> list[Member]: ...
    async def create_member(
        self,
        region: str,
        pool_id: str,
        *,
        name: str,
        address: str,
        port: int,
        weight: int,
        tags: Sequence[str],
    ) -> Member: ...
    async def update_member(
        self, region: str, pool_id: str, member_id: str, *, weight: int
    ) -> None: ...
    async def delete_member(self, region: str, pool_id: str, member_id: str) -> None: ...

    async def zones(self, name: str) -> list[Zone]: ...
    async def recordsets(self, zone_id: str, *, type: str = "A") -> list[Recordset]: ...
    async def create_recordset(
        self,
        zone_id: str,
        *,
        name: str,
        type: str,
        records: Sequence[str],
        ttl: int,
        description: str,
    ) -> Recordset: ...
    async def update_recordset(
        self, zone_id: str, recordset_id: str, *, records: Sequence[str], ttl: int
    ) -> Recordset: ...
    async def delete_recordset(self, zone_id: str, recordset_id: str) -> None: ...

    async def close(self) -> None:
        """Close connections; deletes nothing."""
        ...
