"""openstacksdk behind :class:`~kfed_openstack.api.OpenStackApi`: the only module importing it.

Layer: ``kfed_openstack`` I/O adapter. It authenticates against Keystone v3 lazily, on the first
call (a password or application credential secret is read from the environment variable the
settings name, or clouds.yaml supplies everything through ``cloud``), keeps one keystoneauth
session and one SDK connection per region on it, runs every blocking SDK call in
``asyncio.to_thread``, and turns SDK and keystoneauth exceptions into :class:`CloudError`
(HTTP status kept, secrets never copied into messages). It makes no decisions: no retries
(keystoneauth's own are switched off), no waiting, no naming.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import openstack
import openstack.connection
import openstack.exceptions
from keystoneauth1 import exceptions as ks_exceptions
from openstack.dns.v2.recordset import Recordset as SdkRecordset

from kfed_openstack import os_values
from kfed_openstack.api import (
    CloudError,
    HealthMonitor,
    Listener,
    LoadBalancer,
    Member,
    MonitorSpec,
    Pool,
    Recordset,
    Zone,
)
from kfed_openstack.settings import AuthSettings

_T = TypeVar("_T")
_NO_RETRIES: dict[str, Any] = {"connect_retries": 0, "status_code_retries": 0}


class SdkOpenStackApi:
    """Octavia and Designate through openstacksdk. Thread-safe connection setup; the SDK calls
    themselves run in worker threads, one at a time per caller."""

    def __init__(
        self, auth: AuthSettings, *, dns_region: str = "", environ: Mapping[str, str] | None = None
    ) -> None:
        self._auth = auth
        self._dns_region = dns_region or auth.region
        self._environ = os.environ if environ is None else environ
        self._base: Any = None
        self._regional: dict[str, Any] = {}
        self._lock = threading.Lock()

    # -- connections ---------------------------------------------------------------------------

    def _connect(self) -> Any:
        with self._lock:
            if self._base is None:
                self._base = openstack.connect(**self._connect_args(), **_NO_RETRIES)
            return self._base

    def _connect_args(self) -> dict[str, Any]:
        a = self._auth
        common: dict[str, Any] = {"interface": a.interface, "identity_api_version": "3"}
        if a.region:
            common["region_name"] = a.region
        if a.ca_file:
            common["cacert"] = a.ca_file
        if a.cloud:
            return {"cloud": a.cloud, **common}
        auth: dict[str, str] = {"auth_url": a.auth_url}
        if a.auth_type == "v3applicationcredential":
            auth["application_credential_id"] = a.application_credential_id
            auth["application_credential_secret"] = self._secret(
                a.application_credential_secret_env
            )
        else:
            auth |= {
                "username": a.username,
                "user_domain_name": a.user_domain,
                "project_name": a.project_name,
                "project_domain_name": a.project_domain,
                "password": self._secret(a.password_env),
            }
        return {
            "auth_type": a.auth_type,
            "auth": auth,
            "load_yaml_config": False,
            "load_envvars": False,
            **common,
        }

    def _secret(self, variable: str) -> str:
        value = self._environ.get(variable, "")
        if not value:
            raise CloudError(
                f"the environment variable {variable} (named in the provider's options) is "
                "empty or unset; set it in the hub's environment",
                status=401,
            )
        return value

    def _conn(self, region: str | None) -> Any:
        base = self._connect()
        if not region or region == self._auth.region:
            return base
        with self._lock:
            conn = self._regional.get(region)
            if conn is None:
                conn = openstack.connection.Connection(
                    session=base.session,
                    region_name=region,
                    interface=self._auth.interface,
                    **_NO_RETRIES,
                )
                self._regional[region] = conn
            return conn

    async def _run(self, doing: str, region: str | None, call: Callable[[Any], _T]) -> _T:
        def work() -> _T:
            try:
                return call(self._conn(region))
            except CloudError:
                raise
            except Exception as e:
                raise _cloud_error(doing, region, e) from e

        return await asyncio.to_thread(work)

    async def close(self) -> None:
        def work() -> None:
            with self._lock:
                conns = [*self._regional.values(), self._base]
                self._regional.clear()
                self._base = None
            for conn in conns:
                if conn is not None:
                    conn.close()

        await asyncio.to_thread(work)

    # -- catalog -------------------------------------------------------------------------------

    async def regions(self) -> list[str]:
        def call(conn: Any) -> list[str]:
            access = conn.session.auth.get_access(conn.session)
            found = access.service_catalog.get_endpoints(
                service_type="load-balancer", interface=self._auth.interface
            )
            return sorted(
                {e.get("region_id") or e.get("region") for ends in found.values() for e in ends}
                - {None, ""}
            )

        return await self._run("reading the service catalog", None, call)

    # -- Octavia -------------------------------------------------------------------------------

    async def load_balancers(
        self, region: str, *, name: str | None = None, tags: Sequence[str] = ()
    ) -> list[LoadBalancer]:
        query: dict[str, str] = {}
        if name is not None:
            query["name"] = name
        if tags:
            query["tags"] = ",".join(tags)
        return await self._run(
            "listing load balancers",
            region,
            lambda c: [os_values.lb(x) for x in c.load_balancer.load_balancers(**query)],
        )

    async def get_load_balancer(self, region: str, lb_id: str) -> LoadBalancer:
        return await self._run(
            f"reading load balancer {lb_id}",
            region,
            lambda c: os_values.lb(c.load_balancer.get_load_balancer(lb_id)),
        )

    async def create_load_balancer(
        self, region: str, *, name: str, vip_subnet_id: str, description: str, tags: Sequence[str]
    ) -> LoadBalancer:
        return await self._run(
            f"creating load balancer {name}",
            region,
            lambda c: os_values.lb(
                c.load_balancer.create_load_balancer(
                    name=name, vip_subnet_id=vip_subnet_id, description=description, tags=list(tags)
                )
            ),
        )

    async def delete_load_balancer(self, region: str, lb_id: str, *, cascade: bool) -> None:
        await self._run(
            f"deleting load balancer {lb_id}",
            region,
            lambda c: c.load_balancer.delete_load_balancer(
                lb_id, ignore_missing=False, cascade=cascade
            ),
        )

    async def listeners(self, region: str, lb_id: str) -> list[Listener]:
        # The load balancer lists its children's IDs; list filters differ between releases.
        def call(c: Any) -> list[Listener]:
            lb = c.load_balancer.get_load_balancer(lb_id)
            found = [c.load_balancer.get_listener(ref["id"]) for ref in lb.listeners or ()]
            return [os_values.listener(x) for x in found]

        return await self._run(f"listing listeners of load balancer {lb_id}", region, call)

    async def create_listener(
        self, region: str, *, lb_id: str, name: str, protocol: str, port: int, tags: Sequence[str]
    ) -> Listener:
        return await self._run(
            f"creating listener {name}",
            region,
            lambda c: os_values.listener(
                c.load_balancer.create_listener(
                    loadbalancer_id=lb_id,
                    name=name,
                    protocol=protocol,
                    protocol_port=port,
                    tags=list(tags),
                )
            ),
        )

    async def delete_listener(self, region: str, listener_id: str) -> None:
        await self._run(
            f"deleting listener {listener_id}",
            region,
            lambda c: c.load_balancer.delete_listener(listener_id, ignore_missing=False),
        )

    async def pools(self, region: str, lb_id: str) -> list[Pool]:
        def call(c: Any) -> list[Pool]:
            lb = c.load_balancer.get_load_balancer(lb_id)
            return [os_values.pool(c.load_balancer.get_pool(ref["id"])) for ref in lb.pools or ()]

        return await self._run(f"listing pools of load balancer {lb_id}", region, call)

    async def create_pool(
        self,
        region: str,
        *,
        listener_id: str,
        name: str,
        protocol: str,
        algorithm: str,
        tags: Sequence[str],
    ) -> Pool:
        return await self._run(
            f"creating pool {name}",
            region,
            lambda c: os_values.pool(
                c.load_balancer.create_pool(
                    listener_id=listener_id,
                    name=name,
                    protocol=protocol,
                    lb_algorithm=algorithm,
                    tags=list(tags),
                )
            ),
        )

    async def update_pool(self, region: str, pool_id: str, *, algorithm: str) -> None:
        await self._run(
            f"updating pool {pool_id}",
            region,
            lambda c: c.load_balancer.update_pool(pool_id, lb_algorithm=algorithm),
        )

    async def delete_pool(self, region: str, pool_id: str) -> None:
        await self._run(
            f"deleting pool {pool_id}",
            region,
            lambda c: c.load_balancer.delete_pool(pool_id, ignore_missing=False),
        )

    async def get_health_monitor(self, region: str, monitor_id: str) -> HealthMonitor:
        return await self._run(
            f"reading health monitor {monitor_id}",
            region,
            lambda c: os_values.monitor(c.load_balancer.get_health_monitor(monitor_id)),
        )

    async def create_health_monitor(
        self, region: str, *, pool_id: str, name: str, spec: MonitorSpec, tags: Sequence[str]
    ) -> HealthMonitor:
        return await self._run(
            f"creating health monitor {name}",
            region,
            lambda c: os_values.monitor(
                c.load_balancer.create_health_monitor(
                    pool_id=pool_id, name=name, tags=list(tags), **os_values.monitor_fields(spec)
                )
            ),
        )

    async def update_health_monitor(
        self, region: str, monitor_id: str, *, spec: MonitorSpec
    ) -> None:
        fields = os_values.monitor_fields(spec)
        fields.pop("type")  # immutable in Octavia; the provider replaces a monitor to change it
        await self._run(
            f"updating health monitor {monitor_id}",
            region,
            lambda c: c.load_balancer.update_health_monitor(monitor_id, **fields),
        )

    async def members(self, region: str, pool_id: str) -> list[Member]:
        return await self._run(
            f"listing members of pool {pool_id}",
            region,
            lambda c: [os_values.member(x) for x in c.load_balancer.members(pool_id)],
        )

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
    ) -> Member:
        return await self._run(
            f"creating member {name} ({address}:{port})",
            region,
            lambda c: os_values.member(
                c.load_balancer.create_member(
                    pool_id,
                    name=name,
                    address=address,
                    protocol_port=port,
                    weight=weight,
                    tags=list(tags),
                )
            ),
        )

    async def update_member(
        self, region: str, pool_id: str, member_id: str, *, weight: int
    ) -> None:
        await self._run(
            f"updating member {member_id}",
            region,
            lambda c: c.load_balancer.update_member(member_id, pool_id, weight=weight),
        )

    async def delete_member(self, region: str, pool_id: str, member_id: str) -> None:
        await self._run(
            f"deleting member {member_id}",
            region,
            lambda c: c.load_balancer.delete_member(member_id, pool_id, ignore_missing=False),
        )

    # -- Designate -----------------------------------------------------------------------------

    async def zones(self, name: str) -> list[Zone]:
        return await self._run(
            f"finding DNS zone {name}",
            self._dns_region,
            lambda c: [Zone(id=z.id, name=z.name) for z in c.dns.zones(name=name)],
        )

    async def recordsets(self, zone_id: str, *, type: str = "A") -> list[Recordset]:
        return await self._run(
            f"listing recordsets of zone {zone_id}",
            self._dns_region,
            lambda c: [os_values.recordset(r) for r in c.dns.recordsets(zone_id, type=type)],
        )

    async def create_recordset(
        self,
        zone_id: str,
        *,
        name: str,
        type: str,
        records: Sequence[str],
        ttl: int,
        description: str,
    ) -> Recordset:
        def call(c: Any) -> Recordset:
            zone = c.dns.get_zone(zone_id)
            created = c.dns.create_recordset(
                zone, name=name, type=type, records=list(records), ttl=ttl, description=description
            )
            return os_values.recordset(created)

        return await self._run(f"creating recordset {name}", self._dns_region, call)

    async def update_recordset(
        self, zone_id: str, recordset_id: str, *, records: Sequence[str], ttl: int
    ) -> Recordset:
        def call(c: Any) -> Recordset:
            existing = SdkRecordset.existing(id=recordset_id, zone_id=zone_id)
            return os_values.recordset(
                c.dns.update_recordset(existing, records=list(records), ttl=ttl)
            )

        return await self._run(f"updating recordset {recordset_id}", self._dns_region, call)

    async def delete_recordset(self, zone_id: str, recordset_id: str) -> None:
        def call(c: Any) -> None:
            existing = SdkRecordset.existing(id=recordset_id, zone_id=zone_id)
            c.dns.delete_recordset(existing, ignore_missing=False)

        await self._run(f"deleting recordset {recordset_id}", self._dns_region, call)


def _cloud_error(doing: str, region: str | None, e: Exception) -> CloudError:
    where = f" in region {region}" if region else ""
    if isinstance(e, openstack.exceptions.HttpException):
        status = e.status_code
        detail = e.details or e.message or type(e).__name__
        return CloudError(
            f"{doing}{where}: HTTP {status}: {detail}",
            status=status,
            retry_after=os_values.retry_after(getattr(e, "response", None)),
        )
    if isinstance(e, ks_exceptions.HttpError):
        status = e.http_status
        return CloudError(
            f"{doing}{where}: Keystone or the catalog answered HTTP {status}: {e.message}",
            status=status,
            retry_after=os_values.retry_after(getattr(e, "response", None)),
        )
    if isinstance(e, ks_exceptions.ConnectionError):
        return CloudError(f"{doing}{where}: no answer ({type(e).__name__})", status=None)
    if isinstance(e, ks_exceptions.EndpointNotFound | openstack.exceptions.EndpointNotFound):
        # A catalog without the service in that region: an operator fixes the options or the
        # cloud, so it is reported like a 400 (never as 404, which would read as "absent").
        return CloudError(
            f"{doing}{where}: the service catalog has no endpoint for it; check the region "
            "names and the 'interface' option",
            status=400,
        )
    if isinstance(e, ks_exceptions.ClientException | openstack.exceptions.SDKException):
        return CloudError(f"{doing}{where}: {type(e).__name__}: {e}", status=400)
    return CloudError(f"{doing}{where}: {type(e).__name__}: {e}", status=None)
