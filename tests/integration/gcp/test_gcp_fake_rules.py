"""The fake GCE keeps GCE's rules, seen through google-cloud-compute (the provider's client)."""

import json
import urllib.request
from collections.abc import AsyncIterator
from urllib.error import HTTPError

import pytest
from gcphelpers import options

from kfed_gcp.api import Kind
from kfed_gcp.errors import GceError
from kfed_gcp.fake import FakeGce, running_in_thread
from kfed_gcp.gce_client import GceClient
from kfed_gcp.options import parse_options


@pytest.fixture
async def client(fake: FakeGce) -> AsyncIterator[GceClient]:
    gce = GceClient(parse_options(options(fake), source="test"))
    yield gce
    await gce.close()


HC = {"name": "hc", "type": "HTTP", "httpHealthCheck": {"portSpecification": "USE_SERVING_PORT"}}
NEG = {
    "name": "neg",
    "networkEndpointType": "NON_GCP_PRIVATE_IP_PORT",
    "network": "global/networks/default",
}
ZONE = "us-central1-b"


def service(*groups: str) -> dict:
    return {
        "name": "bs",
        "loadBalancingScheme": "EXTERNAL_MANAGED",
        "healthChecks": ["global/healthChecks/hc"],
        "backends": [
            {"group": g, "balancingMode": "RATE", "maxRatePerEndpoint": 10.0} for g in groups
        ],
    }


async def test_missing_resources_are_404_not_found(client: GceClient) -> None:
    with pytest.raises(GceError) as raised:
        await client.get(Kind.BACKEND_SERVICE, "nope")
    assert raised.value.status == 404 and raised.value.reason == "notFound"
    assert "projects/kfed-test/global/backendServices/nope" in raised.value.message


async def test_a_taken_name_is_409_already_exists(client: GceClient) -> None:
    await client.insert(Kind.HEALTH_CHECK, HC, request_id="a")
    with pytest.raises(GceError) as raised:
        await client.insert(Kind.HEALTH_CHECK, HC, request_id="b")
    assert raised.value.status == 409 and raised.value.reason == "alreadyExists"


async def test_a_repeated_request_id_acts_once(client: GceClient, fake: FakeGce) -> None:
    await client.insert(Kind.HEALTH_CHECK, HC, request_id="same")
    await client.insert(Kind.HEALTH_CHECK, HC, request_id="same")  # a retry: no 409
    assert fake.resource_ids() == ["global/healthChecks/hc"]


async def test_references_must_exist(client: GceClient) -> None:
    with pytest.raises(GceError) as raised:
        await client.insert(Kind.BACKEND_SERVICE, service(), request_id="x")
    assert raised.value.status == 404 and "healthChecks/hc" in raised.value.message


async def test_a_used_resource_cannot_be_deleted(client: GceClient, fake: FakeGce) -> None:
    await client.insert(Kind.HEALTH_CHECK, HC, request_id="1")
    await client.insert(Kind.NEG, NEG, request_id="2", zone=ZONE)
    group = f"zones/{ZONE}/networkEndpointGroups/neg"
    await client.insert(Kind.BACKEND_SERVICE, service(group), request_id="3")
    for kind, name, zone in ((Kind.HEALTH_CHECK, "hc", ""), (Kind.NEG, "neg", ZONE)):
        with pytest.raises(GceError) as raised:
            await client.delete(kind, name, request_id=f"d-{name}", zone=zone)
        assert raised.value.status == 400
        assert raised.value.reason == "resourceInUseByAnotherResource"
        assert "global/backendServices/bs" in raised.value.message
    await client.delete(Kind.BACKEND_SERVICE, "bs", request_id="4")
    await client.delete(Kind.NEG, "neg", request_id="5", zone=ZONE)
    await client.delete(Kind.HEALTH_CHECK, "hc", request_id="6")
    assert fake.resource_ids() == []


async def test_a_stale_fingerprint_is_412(client: GceClient) -> None:
    await client.insert(Kind.HEALTH_CHECK, HC, request_id="1")
    await client.insert(Kind.BACKEND_SERVICE, service(), request_id="2")
    with pytest.raises(GceError) as raised:
        await client.patch(Kind.BACKEND_SERVICE, "bs", {"fingerprint": "c3RhbGU="}, request_id="3")
    assert raised.value.status == 412 and raised.value.reason == "conditionNotMet"


async def test_hybrid_endpoints_need_an_ip_and_port(client: GceClient) -> None:
    await client.insert(Kind.NEG, NEG, request_id="1", zone=ZONE)
    with pytest.raises(GceError) as raised:
        await client.attach_endpoints(ZONE, "neg", [{"ipAddress": "192.0.2.1"}], request_id="2")
    assert raised.value.status == 400 and raised.value.reason == "invalid"
    await client.attach_endpoints(
        ZONE, "neg", [{"ipAddress": "192.0.2.1", "port": 80}], request_id="3"
    )
    endpoints = await client.list_endpoints(ZONE, "neg")
    assert [(e["ipAddress"], e["port"]) for e in endpoints] == [("192.0.2.1", 80)]


async def test_pending_operations_are_waited_for(fake: FakeGce, client: GceClient) -> None:
    fake.model.operations.polls = 3
    await client.insert(Kind.HEALTH_CHECK, HC, request_id="1")
    assert fake.calls.count("globalOperations.wait") == 3


async def test_errors_have_gce_json_shape_and_unknown_projects_are_404(fake: FakeGce) -> None:
    url = f"{fake.url}/compute/v1/projects/someone-else/global/addresses/x"
    with pytest.raises(HTTPError) as raised:
        await _fetch(url)
    body = json.loads(raised.value.read())
    raised.value.close()
    assert raised.value.code == 404
    assert body["error"]["code"] == 404 and body["error"]["errors"][0]["reason"] == "notFound"


async def _fetch(url: str) -> bytes:
    import asyncio

    def get() -> bytes:
        with urllib.request.urlopen(url, timeout=5) as response:
            return bytes(response.read())

    return await asyncio.to_thread(get)


def test_the_fake_runs_in_a_thread_for_synchronous_callers() -> None:
    with running_in_thread() as threaded:
        url = f"{threaded.url}/compute/v1/projects/kfed-test/global/addresses"
        with urllib.request.urlopen(url, timeout=5) as response:
            assert json.loads(response.read())["kind"] == "compute#addressList"
        assert threaded.fake.calls == ["addresses.list"]
