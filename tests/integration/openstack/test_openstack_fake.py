"""The fake OpenStack cloud behaves like the services it stands for, errors included (raw HTTP,
as any client would see it)."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from kfed_openstack.fake import FakeOpenStack, running_in_thread


class Client:
    def __init__(self, cloud: FakeOpenStack, session: aiohttp.ClientSession) -> None:
        self.cloud, self.session, self.token = cloud, session, ""

    async def login(self) -> None:
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": "kfed", "domain": {"name": "Default"}, "password": self.cloud.password}}},
            "scope": {"project": {"name": "kfed", "domain": {"name": "Default"}}}}}  # fmt: skip
        async with self.session.post(f"{self.cloud.auth_url}/auth/tokens", json=body) as r:
            assert r.status == 201
            self.token = r.headers["X-Subject-Token"]
            catalog = (await r.json())["token"]["catalog"]
        types = {service["type"] for service in catalog}
        assert {"load-balancer", "dns", "identity"} <= types

    async def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = {"X-Auth-Token": self.token} if self.token else {}
        url = f"{self.cloud.base_url}{path}"
        async with self.session.request(method, url, json=body, headers=headers) as r:
            return r.status, (await r.json() if r.content_length else None)


@pytest.fixture
async def client(cloud: FakeOpenStack) -> Any:
    async with aiohttp.ClientSession() as session:
        yield Client(cloud, session)


LBS = "/RegionOne/load-balancer/v2/lbaas/loadbalancers"


async def _lb(client: Client) -> str:
    status, body = await client.call(
        "POST", LBS, {"loadbalancer": {"name": "x", "vip_subnet_id": "regionone-subnet"}}
    )
    assert status == 201 and body["loadbalancer"]["provisioning_status"] == "PENDING_CREATE"
    return str(body["loadbalancer"]["id"])


async def test_calls_without_a_valid_token_get_401(client: Client) -> None:
    status, body = await client.call("GET", LBS)
    assert status == 401 and body["error"]["code"] == 401
    client.token = "forged"
    assert (await client.call("GET", "/dns/v2/zones"))[0] == 401
    client.token = ""
    await client.login()
    assert (await client.call("GET", LBS))[0] == 200


async def test_a_pending_load_balancer_is_immutable_until_it_settles(client: Client) -> None:
    await client.login()
    lb = await _lb(client)
    listener = {"listener": {"loadbalancer_id": lb, "protocol": "HTTP", "protocol_port": 80}}
    status, body = await client.call(
        "POST", "/RegionOne/load-balancer/v2/lbaas/listeners", listener
    )
    assert status == 409 and "immutable" in body["faultstring"]
    _, seen = await client.call("GET", f"{LBS}/{lb}")
    assert seen["loadbalancer"]["provisioning_status"] == "ACTIVE"  # the second read settles it
    status, _ = await client.call("POST", "/RegionOne/load-balancer/v2/lbaas/listeners", listener)
    assert status == 201
    status, _ = await client.call("POST", "/RegionOne/load-balancer/v2/lbaas/listeners", listener)
    assert status == 409  # still PENDING_UPDATE after the listener


async def test_a_load_balancer_with_children_needs_cascade_and_then_goes_away(
    client: Client,
) -> None:
    await client.login()
    lb = await _lb(client)
    for _ in range(2):  # PENDING_CREATE, then ACTIVE
        await client.call("GET", f"{LBS}/{lb}")
    listener = {"listener": {"loadbalancer_id": lb, "protocol": "TCP", "protocol_port": 443}}
    assert (await client.call("POST", "/RegionOne/load-balancer/v2/lbaas/listeners", listener))[
        0
    ] == 201
    for _ in range(2):
        await client.call("GET", f"{LBS}/{lb}")
    status, body = await client.call("DELETE", f"{LBS}/{lb}")
    assert status == 400 and "it has children" in body["faultstring"]
    assert (await client.call("DELETE", f"{LBS}/{lb}?cascade=true"))[0] == 204
    _, seen = await client.call("GET", f"{LBS}/{lb}")
    assert seen["loadbalancer"]["provisioning_status"] == "PENDING_DELETE"
    status, body = await client.call("GET", f"{LBS}/{lb}")
    assert status == 404 and "not found" in body["faultstring"]
    assert client.cloud.resource_ids() == []


async def test_designate_refuses_duplicates_and_names_outside_the_zone(client: Client) -> None:
    await client.login()
    _, zones = await client.call("GET", "/dns/v2/zones?name=apps.example.org.")
    (zone,) = zones["zones"]
    path = f"/dns/v2/zones/{zone['id']}/recordsets"
    record = {"name": "www.apps.example.org.", "type": "A", "records": ["192.0.2.1"], "ttl": 30}
    status, body = await client.call("POST", path, record)
    assert status == 202 and body["status"] == "PENDING"
    status, body = await client.call("POST", path, record)
    assert status == 409 and body["type"] == "duplicate_recordset"
    status, _ = await client.call("POST", path, {**record, "name": "www.other.org."})
    assert status == 400
    status, _ = await client.call("POST", path, {**record, "records": ["not-an-ip"]})
    assert status == 400
    assert (await client.call("GET", f"{path}/no-such-id"))[0] == 404


async def test_injected_faults_answer_the_next_calls_then_stop(client: Client) -> None:
    await client.login()
    client.cloud.fail_next(2, 429, service="octavia", retry_after=1)
    assert (await client.call("GET", LBS))[0] == 429
    assert (await client.call("GET", LBS))[0] == 429
    assert (await client.call("GET", LBS))[0] == 200


def test_the_fake_runs_in_a_thread_for_synchronous_callers() -> None:
    import urllib.error
    import urllib.request

    with running_in_thread(FakeOpenStack(regions=("RegionOne",))) as cloud:
        url = cloud.auth_url
        with urllib.request.urlopen(url) as answer:
            assert answer.status == 200
    with pytest.raises(urllib.error.URLError):  # stopped: nothing listens any more
        urllib.request.urlopen(url, timeout=2)
