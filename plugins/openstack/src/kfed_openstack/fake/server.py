"""The fake OpenStack cloud over HTTP: Keystone, Octavia per region and Designate on one port.

Layer: ``kfed_openstack.fake`` I/O shell (aiohttp on 127.0.0.1, port 0 by default). Its state
belongs to the event loop serving it: start and stop it from async code (``async with
FakeOpenStack() as cloud``) or with :func:`running_in_thread` from synchronous code. Paths:

- ``/identity`` and ``/identity/v3`` (version documents), ``POST /identity/v3/auth/tokens``;
- ``/<region>/load-balancer/`` (versions) and ``/<region>/load-balancer/v2/lbaas/...``
  (``v2.0`` accepted as Octavia does);
- ``/dns/`` (versions) and ``/dns/v2/zones/...``.

Every call but auth and version discovery needs a valid ``X-Auth-Token`` (401 otherwise).
:meth:`FakeOpenStack.fail_next` injects 429/5xx answers for the next N matching calls.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType

from aiohttp import web

from kfed_openstack.fake.common import ApiError, Json, Reply
from kfed_openstack.fake.designate import Designate
from kfed_openstack.fake.keystone import Keystone, unauthorized, version_doc, versions_doc
from kfed_openstack.fake.octavia import OctaviaRegion

PASSWORD_ENV = "KFED_FAKE_OS_PASSWORD"
"""The environment variable :meth:`FakeOpenStack.options` names for the password."""


@dataclass(slots=True, kw_only=True)
class Fault:
    """Answer ``status`` to the next ``count`` calls matching ``service``/``method``/``path``."""

    status: int
    count: int
    service: str | None = None  # "octavia", "designate" or "keystone"; None: both APIs
    method: str | None = None
    path: str | None = None  # a substring of the path
    retry_after: float | None = None

    def matches(self, service: str, method: str, path: str) -> bool:
        if self.count <= 0:
            return False
        if self.service is None and service == "keystone":
            return False
        return (
            (self.service is None or self.service == service)
            and (self.method is None or self.method == method)
            and (self.path is None or self.path in path)
        )


@dataclass(frozen=True, slots=True)
class Call:
    """One request the fake answered (for tests that count retries)."""

    service: str
    method: str
    path: str
    status: int


class FakeOpenStack:
    """A small OpenStack cloud: Keystone, one Octavia per region, one global Designate."""

    def __init__(
        self,
        *,
        regions: Sequence[str] = ("RegionOne", "RegionTwo", "RegionThree"),
        zones: Sequence[str] = ("apps.example.org.",),
        username: str = "kfed",
        password: str = "fake-password",
        project: str = "kfed",
        application_credentials: Mapping[str, str] | None = None,
        pending_reads: int = 1,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.regions = tuple(regions)
        self.username, self.password, self.project = username, password, project
        self.keystone = Keystone(
            regions=self.regions,
            users={username: password},
            project=project,
            application_credentials=application_credentials or {"kfed-app": "fake-app-secret"},
        )
        self.octavia = {
            region: OctaviaRegion(
                region, {f"{region.lower()}-subnet": f"10.{i}.0"}, i, pending_reads=pending_reads
            )
            for i, region in enumerate(self.regions, start=1)
        }
        self.designate = Designate(pending_reads=pending_reads)
        for zone in zones:
            self.designate.add_zone(zone)
        self.faults: list[Fault] = []
        self.calls: list[Call] = []
        self._host, self._port = host, port
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=1 << 20)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeOpenStack:
        await self.start()
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # -- for tests and demos -------------------------------------------------------------------

    @property
    def auth_url(self) -> str:
        return f"{self.base_url}/identity/v3"

    def vip_subnet(self, region: str) -> str:
        return next(iter(self.octavia[region].subnets))

    def options(self, **extra: str) -> dict[str, str]:
        """Provider options that reach this fake (the password from :data:`PASSWORD_ENV`)."""
        options = {
            "authUrl": self.auth_url,
            "username": self.username,
            "projectName": self.project,
            "passwordEnv": PASSWORD_ENV,
            "dnsZone": next(iter(self.designate.zones.values()))["name"],
            "pollInterval": "0.001",
            "retryBaseDelay": "0.001",
            "retryMaxDelay": "0.01",
        }
        options |= {f"vipSubnet.{r}": self.vip_subnet(r) for r in self.regions}
        return options | extra

    def fail_next(
        self,
        count: int = 1,
        status: int = 503,
        *,
        service: str | None = None,
        method: str | None = None,
        path: str | None = None,
        retry_after: float | None = None,
    ) -> Fault:
        """Answer ``status`` (429, 5xx, ...) to the next ``count`` matching calls."""
        fault = Fault(
            status=status,
            count=count,
            service=service,
            method=method,
            path=path,
            retry_after=retry_after,
        )
        self.faults.append(fault)
        return fault

    def break_load_balancer(self, region: str, name: str) -> None:
        """Put the load balancer ``name`` of ``region`` into ERROR (a failed amphora)."""
        for lb in self.octavia[region].lbs.values():
            if lb["name"] == name:
                lb["provisioning_status"] = "ERROR"
                lb["operating_status"] = "ERROR"

    def resource_ids(self) -> list[str]:
        """One string per resource kfed could have made (zones and their SOA/NS excluded)."""
        ids = []
        for region, octavia in self.octavia.items():
            for kind, table in (
                ("loadbalancer", octavia.lbs),
                ("listener", octavia.listeners),
                ("pool", octavia.pools),
                ("healthmonitor", octavia.monitors),
                ("member", octavia.members),
            ):
                ids += [f"octavia/{region}/{kind}/{x['name']}/{x['id']}" for x in table.values()]
        ids += [
            f"designate/recordset/{r['name']}/{r['type']}/{r['id']}"
            for r in self.designate.recordsets.values()
            if r["type"] not in ("SOA", "NS")
        ]
        return sorted(ids)

    def member_weights(self, lb_name: str) -> dict[str, float]:
        """``{"ip:port": weight}`` of the members under the load balancers named ``lb_name``
        in every region, weight 0 where the region's VIP is in no A record of any zone (DNS
        sends it no clients)."""
        published = {
            address
            for r in self.designate.recordsets.values()
            if r["type"] == "A"
            for address in r["records"]
        }
        weights: dict[str, float] = {}
        for octavia in self.octavia.values():
            for lb in octavia.lbs.values():
                if lb["name"] != lb_name:
                    continue
                for member in octavia.members.values():
                    if member["_lb"] == lb["id"]:
                        weight = member["weight"] if lb["vip_address"] in published else 0
                        weights[f"{member['address']}:{member['protocol_port']}"] = weight
        return weights

    # -- HTTP ----------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        path = request.path.rstrip("/")
        parts = [p for p in path.split("/") if p]
        service = (
            "keystone"
            if parts[:1] == ["identity"]
            else "designate"
            if parts[:1] == ["dns"]
            else "octavia"
        )
        body: Json | None = None
        if request.can_read_body:
            try:
                loaded = await request.json()
            except (json.JSONDecodeError, UnicodeDecodeError):
                loaded = None
            body = loaded if isinstance(loaded, dict) else None
        try:
            reply = self._dispatch(service, request, parts, body)
        except ApiError as e:
            reply = Reply(e.status, e.body, e.headers)
        self.calls.append(Call(service, request.method, request.path, reply.status))
        if reply.body is None:
            return web.Response(status=reply.status, headers=reply.headers)
        return web.json_response(reply.body, status=reply.status, headers=reply.headers)

    def _dispatch(
        self, service: str, request: web.Request, parts: list[str], body: Json | None
    ) -> Reply:
        method, base = request.method, self.base_url
        for fault in self.faults:
            if fault.matches(service, method, request.path):
                fault.count -= 1
                headers = (
                    {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}
                )
                text = "Rate limit exceeded" if fault.status == 429 else "Service Unavailable"
                raise ApiError(
                    fault.status,
                    {"faultcode": "Server", "faultstring": text, "debuginfo": None},
                    headers,
                )
        query = {key: request.query.getall(key) for key in request.query}
        if service == "keystone":
            if parts == ["identity"] and method == "GET":
                return Reply(300, versions_doc(base))
            if parts == ["identity", "v3"] and method == "GET":
                return Reply(200, version_doc(base))
            if parts == ["identity", "v3", "auth", "tokens"] and method == "POST":
                return self.keystone.issue(body, base)
            raise ApiError(
                404,
                {
                    "error": {
                        "code": 404,
                        "title": "Not Found",
                        "message": "The resource could not be found.",
                    }
                },
            )
        if service == "designate":
            if parts == ["dns"] and method == "GET":
                return Reply(
                    200,
                    {
                        "versions": {
                            "values": [
                                {
                                    "id": "v2",
                                    "status": "CURRENT",
                                    "links": [{"rel": "self", "href": f"{base}/dns/v2"}],
                                }
                            ]
                        }
                    },
                )
            self._authenticate(request)
            if parts[1:2] != ["v2"]:
                raise ApiError(404, {"code": 404, "type": "not_found", "message": "Not Found"})
            return self.designate.handle(method, parts[2:], query, body, f"{base}/dns")
        region = parts[0] if parts else ""
        if region not in self.octavia or parts[1:2] != ["load-balancer"]:
            raise ApiError(
                404, {"faultcode": "Client", "faultstring": "Not Found", "debuginfo": None}
            )
        root = f"{base}/{region}/load-balancer"
        if len(parts) == 2 and method == "GET":
            return Reply(
                200,
                {
                    "versions": [
                        {
                            "id": "v2.0",
                            "status": "SUPPORTED",
                            "updated": "2016-12-11T00:00:00Z",
                            "links": [{"href": f"{root}/v2.0", "rel": "self"}],
                        },
                        {
                            "id": "v2",
                            "status": "CURRENT",
                            "updated": "2018-04-20T00:00:00Z",
                            "links": [{"href": f"{root}/v2", "rel": "self"}],
                        },
                    ]
                },
            )
        self._authenticate(request)
        if parts[2:3] not in (["v2"], ["v2.0"]) or parts[3:4] != ["lbaas"]:
            raise ApiError(
                404, {"faultcode": "Client", "faultstring": "Not Found", "debuginfo": None}
            )
        return self.octavia[region].handle(method, parts[4:], query, body)

    def _authenticate(self, request: web.Request) -> None:
        if not self.keystone.valid(request.headers.get("X-Auth-Token")):
            raise unauthorized()


@contextmanager
def running_in_thread(cloud: FakeOpenStack, timeout: float = 10.0) -> Iterator[FakeOpenStack]:
    """Serve ``cloud`` from an event loop in a thread of its own (for synchronous callers)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fake-openstack", daemon=True)
    thread.start()
    try:
        asyncio.run_coroutine_threadsafe(cloud.start(), loop).result(timeout)
        try:
            yield cloud
        finally:
            asyncio.run_coroutine_threadsafe(cloud.stop(), loop).result(timeout)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        loop.close()
