"""The gcp provider's lifecycle on the fake GCE: create, change, drain, restart, delete."""

import json
from dataclasses import replace

import pytest
from gcphelpers import balancer, provider, rates

from kfed_core.conformance import DEFAULT_BACKENDS
from kfed_core.providers import Backend, ProviderError
from kfed_gcp.fake import FakeGce
from kfed_gcp.names import names_for

US, EU, ASIA = DEFAULT_BACKENDS
NAMES = names_for("kfed-shop-web")


def item(fake: FakeGce, collection: str, name: str, scope: str = "global") -> dict:
    return fake.model.get((scope, collection, name))


async def test_create_makes_the_whole_load_balancer_marked_and_ready(fake: FakeGce) -> None:
    gcp = provider(fake)
    status = await gcp.ensure(balancer())
    await gcp.close()

    assert status.ready and status.address.startswith("203.0.113.")
    ids = fake.resource_ids()
    assert len(ids) == 7 + 3  # seven global resources and one NEG per cluster
    for resource in ids:
        scope, collection, name = resource.rsplit("/", 2)
        found = item(fake, collection, name, scope)
        mark = json.loads(found["description"])
        assert mark["kfed.io/owner"] == "kfed" and mark["kfed.io/lb"] == "kfed-shop-web"
        assert mark["kfed.io/ingress"] == "shop/kfed-shop-web"
    assert item(fake, "addresses", NAMES.address)["labels"]["kfed-owner"] == "kfed"
    rule = item(fake, "forwardingRules", NAMES.forwarding_rule)
    assert rule["IPAddress"] == status.address and rule["portRange"] == "80-80"
    assert rule["loadBalancingScheme"] == "EXTERNAL_MANAGED"
    firewall = item(fake, "firewalls", NAMES.firewall)
    assert sorted(firewall["sourceRanges"]) == ["130.211.0.0/22", "35.191.0.0/16"]
    assert firewall["allowed"] == [{"IPProtocol": "tcp", "ports": ["80"]}]
    neg = item(fake, "networkEndpointGroups", NAMES.neg("us"), "zones/us-central1-b")
    assert neg["networkEndpointType"] == "NON_GCP_PRIVATE_IP_PORT" and neg["size"] == 1
    service = item(fake, "backendServices", NAMES.backend_service)
    assert {b["balancingMode"] for b in service["backends"]} == {"RATE"}
    assert rates(fake, "kfed-shop-web") == {
        "192.0.2.10:80": 100.0,
        "192.0.2.20:80": 100.0,
        "192.0.2.30:80": 100.0,
    }


async def test_weights_become_max_rate_per_endpoint(fake: FakeGce) -> None:
    gcp = provider(fake, rate_per_weight="50")
    await gcp.ensure(balancer(backends=[replace(US, weight=3), EU, ASIA]))
    await gcp.close()
    assert rates(fake, "kfed-shop-web")["192.0.2.10:80"] == 150.0
    assert rates(fake, "kfed-shop-web")["192.0.2.20:80"] == 50.0


async def test_adding_and_removing_a_cluster_converges_and_keeps_the_address(fake: FakeGce) -> None:
    gcp = provider(fake)
    first = await gcp.ensure(balancer(backends=[US, EU]))
    added = await gcp.ensure(balancer(backends=[US, EU, ASIA]))
    assert set(rates(fake, "kfed-shop-web")) == {"192.0.2.10:80", "192.0.2.20:80", "192.0.2.30:80"}
    removed = await gcp.ensure(balancer(backends=[EU, ASIA]))
    await gcp.close()
    assert first.address == added.address == removed.address
    assert set(rates(fake, "kfed-shop-web")) == {"192.0.2.20:80", "192.0.2.30:80"}
    assert not [i for i in fake.resource_ids() if i.endswith(NAMES.neg("us"))]


async def test_a_moved_cluster_gets_its_new_endpoint_and_port(fake: FakeGce) -> None:
    gcp = provider(fake)
    await gcp.ensure(balancer())
    await gcp.ensure(balancer(backends=[replace(US, address="192.0.2.11:8443"), EU, ASIA]))
    await gcp.close()
    assert "192.0.2.10:80" not in rates(fake, "kfed-shop-web")
    assert rates(fake, "kfed-shop-web")["192.0.2.11:8443"] == 100.0
    ports = item(fake, "firewalls", NAMES.firewall)["allowed"][0]["ports"]
    assert ports == ["80", "8443"]


async def test_drained_backends_get_capacity_scaler_zero_and_come_back(fake: FakeGce) -> None:
    gcp = provider(fake)
    first = await gcp.ensure(balancer())
    drained = await gcp.ensure(
        balancer(backends=[replace(US, weight=0), replace(EU, healthy=False), ASIA])
    )
    scalers = {
        b["group"].rsplit("/", 1)[1]: b["capacityScaler"]
        for b in item(fake, "backendServices", NAMES.backend_service)["backends"]
    }
    assert scalers == {NAMES.neg("us"): 0.0, NAMES.neg("eu"): 0.0, NAMES.neg("asia"): 1.0}
    assert drained.ready and drained.address == first.address
    everything = await gcp.ensure(
        balancer(backends=[replace(b, healthy=False) for b in DEFAULT_BACKENDS])
    )
    assert not everything.ready and "no backend can take traffic" in everything.message
    assert everything.address == first.address
    restored = await gcp.ensure(balancer())
    await gcp.close()
    assert restored.ready and set(rates(fake, "kfed-shop-web").values()) == {100.0}


async def test_not_ready_until_google_reports_a_serving_backend_healthy(fake: FakeGce) -> None:
    for address in ("192.0.2.10:80", "192.0.2.20:80", "192.0.2.30:80"):
        fake.set_health(address, "UNHEALTHY")
    gcp = provider(fake)
    status = await gcp.ensure(balancer())
    assert not status.ready and "HEALTHY" in status.message
    fake.set_health("192.0.2.20:80", "HEALTHY")
    status = await gcp.ensure(balancer())
    await gcp.close()
    assert status.ready and status.message == "serving from eu"


async def test_a_restarted_hub_adopts_a_half_made_load_balancer(fake: FakeGce) -> None:
    before = provider(fake)
    fake.fail(400, method="urlMaps.insert", reason="invalid")  # the first hub stops midway
    with pytest.raises(ProviderError):
        await before.ensure(balancer())
    await before.close()
    half = fake.resource_ids()
    assert half and not any("urlMaps" in i for i in half)

    after = provider(fake)  # a new instance, no memory of the first
    assert await after.owned() == ["kfed-shop-web"]
    status = await after.ensure(balancer())
    assert status.ready
    assert set(half) < set(fake.resource_ids()) and len(fake.resource_ids()) == 10
    again = await after.ensure(balancer())
    await after.close()
    assert again.address == status.address and len(fake.resource_ids()) == 10


async def test_delete_leaves_nothing_even_after_an_interrupted_delete(fake: FakeGce) -> None:
    gcp = provider(fake)
    await gcp.ensure(balancer())
    await gcp.ensure(balancer(name="kfed-shop-other"))
    fake.fail(403, method="healthChecks.delete", reason="forbidden")
    with pytest.raises(ProviderError) as stopped:
        await gcp.delete("kfed-shop-web")
    assert not stopped.value.retryable
    assert any(i.endswith(NAMES.health_check) for i in fake.resource_ids())

    restarted = provider(fake)
    await restarted.delete("kfed-shop-web")
    await restarted.delete("kfed-shop-web")  # again: NotFound is success
    assert all("kfed-shop-other" in i for i in fake.resource_ids())
    assert await restarted.owned() == ["kfed-shop-other"]
    await restarted.delete("kfed-shop-other")
    await gcp.close()
    await restarted.close()
    assert fake.resource_ids() == []


async def test_a_same_named_resource_kfed_did_not_make_is_refused_and_kept(fake: FakeGce) -> None:
    fake.model.insert(
        "global", "healthChecks", {"name": NAMES.health_check, "type": "TCP"}, request_id=""
    )
    gcp = provider(fake)
    with pytest.raises(ProviderError) as refused:
        await gcp.ensure(balancer())
    assert not refused.value.retryable and "has no kfed mark" in str(refused.value)
    await gcp.delete("kfed-shop-web")
    await gcp.close()
    assert fake.resource_ids() == [f"global/healthChecks/{NAMES.health_check}"]


async def test_clusters_outside_gce_zones_need_a_zone_map(fake: FakeGce) -> None:
    aws = Backend(cluster="aws", region="us-east-1", zone="us-east-1a", address="198.51.100.7:80")
    gcp = provider(fake)
    with pytest.raises(ProviderError, match="zone_map") as refused:
        await gcp.ensure(balancer(backends=[US, aws]))
    assert not refused.value.retryable
    await gcp.close()

    mapped = provider(fake, zone_map="us-east-1a=us-east4-a")
    status = await mapped.ensure(balancer(backends=[US, aws]))
    await mapped.close()
    assert status.ready
    assert f"zones/us-east4-a/networkEndpointGroups/{NAMES.neg('aws')}" in fake.resource_ids()


async def test_a_host_name_backend_is_refused_with_advice(fake: FakeGce) -> None:
    elb = replace(US, address="web-123.elb.us-east-1.amazonaws.com:80")
    gcp = provider(fake)
    with pytest.raises(ProviderError, match="IP address") as refused:
        await gcp.ensure(balancer(backends=[elb]))
    await gcp.close()
    assert not refused.value.retryable and fake.resource_ids() == []
