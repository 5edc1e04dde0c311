"""The OpenStack provider's lifecycle against the fake cloud, through the real openstacksdk:
create, add and remove clusters, drain, a hub restart in the middle, delete."""

from __future__ import annotations

from dataclasses import replace

import pytest
from oshelpers import BACKENDS, NAME, a_records, balancer, kinds, provider, vip, weights

from kfed_core.providers import ProviderError
from kfed_openstack.fake import FakeOpenStack


async def test_create_makes_a_load_balancer_per_region_and_one_dns_record(
    cloud: FakeOpenStack,
) -> None:
    p = provider(cloud)
    try:
        first = await p.ensure(balancer())
        again = await p.ensure(balancer())
    finally:
        await p.close()
    assert first.address == again.address == "kfed-shop-web.apps.example.org"
    assert not first.ready and "propagating" in first.message  # Designate still PENDING
    assert again.ready, again.message
    assert kinds(cloud) == {
        "octavia/RegionOne/loadbalancer": 1,
        "octavia/RegionOne/listener": 1,
        "octavia/RegionOne/pool": 1,
        "octavia/RegionOne/healthmonitor": 1,
        "octavia/RegionOne/member": 2,
        "octavia/RegionTwo/loadbalancer": 1,
        "octavia/RegionTwo/listener": 1,
        "octavia/RegionTwo/pool": 1,
        "octavia/RegionTwo/healthmonitor": 1,
        "octavia/RegionTwo/member": 1,
        "designate/recordset/kfed-shop-web.apps.example.org.": 1,
    }
    assert a_records(cloud) == sorted([vip(cloud, "RegionOne"), vip(cloud, "RegionTwo")])
    assert weights(cloud) == {"192.0.2.11:8080": 1, "192.0.2.12:8080": 1, "198.51.100.21:80": 1}
    (monitor,) = cloud.octavia["RegionOne"].monitors.values()
    assert (monitor["type"], monitor["url_path"], monitor["delay"]) == ("HTTP", "/", 5)
    (listener,) = cloud.octavia["RegionOne"].listeners.values()
    assert (listener["protocol"], listener["protocol_port"]) == ("HTTP", 80)
    (lb,) = cloud.octavia["RegionOne"].lbs.values()
    assert "kfed-owner=openstack" in lb["tags"] and "kfed-ingress=shop/kfed-shop-web" in lb["tags"]


async def test_adding_and_removing_clusters_converges_members_and_regions(
    cloud: FakeOpenStack,
) -> None:
    third_region = replace(
        BACKENDS[0], cluster="three", region="RegionThree", address="192.0.2.31:80"
    )
    p = provider(cloud)
    try:
        status = await p.ensure(balancer(BACKENDS[:2]))
        assert set(weights(cloud)) == {"192.0.2.11:8080", "192.0.2.12:8080"}
        assert kinds(cloud)["octavia/RegionTwo/loadbalancer"] == 0
        grown = await p.ensure(balancer([*BACKENDS, third_region]))
        assert set(weights(cloud)) == {
            "192.0.2.11:8080",
            "192.0.2.12:8080",
            "198.51.100.21:80",
            "192.0.2.31:80",
        }
        assert len(a_records(cloud)) == 3
        shrunk = await p.ensure(balancer([BACKENDS[1], third_region]))
    finally:
        await p.close()
    assert status.address == grown.address == shrunk.address
    assert weights(cloud) == {"192.0.2.12:8080": 1, "192.0.2.31:80": 1}
    assert kinds(cloud)["octavia/RegionTwo/loadbalancer"] == 0  # no cluster left there
    assert kinds(cloud)["octavia/RegionOne/member"] == 1
    assert a_records(cloud) == sorted([vip(cloud, "RegionOne"), vip(cloud, "RegionThree")])


async def test_draining_sets_weight_zero_and_a_fully_drained_region_leaves_dns(
    cloud: FakeOpenStack,
) -> None:
    p = provider(cloud)
    try:
        await p.ensure(balancer())
        one_drained = [replace(BACKENDS[0], weight=0), *BACKENDS[1:]]
        status = await p.ensure(balancer(one_drained))
        assert weights(cloud)["192.0.2.11:8080"] == 0
        assert len(a_records(cloud)) == 2  # RegionOne still has a serving member
        region_drained = [
            replace(BACKENDS[0], weight=0),
            replace(BACKENDS[1], healthy=False),
            BACKENDS[2],
        ]
        status = await p.ensure(balancer(region_drained))
        assert a_records(cloud) == [vip(cloud, "RegionTwo")]
        assert "RegionOne: drained" in status.message
        everything_drained = [replace(b, healthy=False) for b in BACKENDS]
        status = await p.ensure(balancer(everything_drained))
        assert a_records(cloud) == [] and not status.ready
        assert status.address == "kfed-shop-web.apps.example.org"
        assert "no region serves" in status.message
        await p.ensure(balancer())
        restored = await p.ensure(balancer())
    finally:
        await p.close()
    assert restored.ready
    assert all(w == 1 for w in weights(cloud).values())
    assert kinds(cloud)["octavia/RegionOne/member"] == 2  # drained members were kept, not remade


async def test_capacity_weights_scale_into_octavias_range(cloud: FakeOpenStack) -> None:
    heavy = [replace(BACKENDS[0], weight=1000), replace(BACKENDS[1], weight=10), BACKENDS[2]]
    p = provider(cloud)
    try:
        await p.ensure(balancer(heavy))
    finally:
        await p.close()
    assert weights(cloud) == {"192.0.2.11:8080": 256, "192.0.2.12:8080": 3, "198.51.100.21:80": 1}


async def test_a_restarted_hub_adopts_a_half_made_load_balancer_without_duplicates(
    cloud: FakeOpenStack,
) -> None:
    cloud.fail_next(100, 503, method="POST", path="/members")  # the first hub dies at members
    before = provider(cloud, retryAttempts="2")
    try:
        with pytest.raises(ProviderError) as failed:
            await before.ensure(balancer())
    finally:
        await before.close()
    assert failed.value.retryable
    assert (
        kinds(cloud)["octavia/RegionOne/pool"] == 1
        and kinds(cloud)["octavia/RegionOne/member"] == 0
    )
    cloud.faults.clear()
    after = provider(cloud)  # a new instance knows nothing but the cloud
    try:
        assert await after.owned() == [NAME]
        await after.ensure(balancer())
        status = await after.ensure(balancer())
    finally:
        await after.close()
    assert status.ready
    per_kind = kinds(cloud)
    assert (
        per_kind["octavia/RegionOne/loadbalancer"]
        == per_kind["octavia/RegionTwo/loadbalancer"]
        == 1
    )
    assert per_kind["octavia/RegionOne/member"] == 2 and per_kind["octavia/RegionTwo/member"] == 1


async def test_delete_leaves_nothing_and_spares_other_load_balancers(cloud: FakeOpenStack) -> None:
    p = provider(cloud)
    try:
        await p.ensure(balancer(name="kfed-shop-api"))
        kept = cloud.resource_ids()
        await p.ensure(balancer())
        await p.delete(NAME)
        assert cloud.resource_ids() == kept
        assert await p.owned() == ["kfed-shop-api"]
        await p.delete(NAME)  # again: absent is deleted
        await p.delete("kfed-shop-api")
    finally:
        await p.close()
    assert cloud.resource_ids() == []


async def test_changing_port_protocol_and_monitor_replaces_or_updates_in_place(
    cloud: FakeOpenStack,
) -> None:
    p = provider(cloud)
    try:
        await p.ensure(balancer())
        changed = replace(
            balancer(protocol="TCP", lbAlgorithm="LEAST_CONNECTIONS", dnsTtl="60"), port=8443
        )
        status = await p.ensure(changed)
        status = await p.ensure(changed)
    finally:
        await p.close()
    assert status.ready
    region = cloud.octavia["RegionOne"]
    (listener,) = region.listeners.values()
    (pool,) = region.pools.values()
    (monitor,) = region.monitors.values()
    assert (listener["protocol"], listener["protocol_port"]) == ("TCP", 8443)
    assert (pool["protocol"], pool["lb_algorithm"]) == ("TCP", "LEAST_CONNECTIONS")
    assert monitor["type"] == "TCP" and len(region.members) == 2
    (record,) = [r for r in cloud.designate.recordsets.values() if r["type"] == "A"]
    assert record["ttl"] == 60


async def test_application_credential_auth_works(
    cloud: FakeOpenStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KFED_TEST_APP_SECRET", "fake-app-secret")
    p = provider(
        cloud,
        authType="applicationCredential",
        applicationCredentialId="kfed-app",
        applicationCredentialSecretEnv="KFED_TEST_APP_SECRET",
    )
    try:
        status = await p.ensure(balancer())
    finally:
        await p.close()
    assert status.address
