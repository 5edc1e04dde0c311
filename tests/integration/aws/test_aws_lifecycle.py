"""The AWS provider's lifecycle against moto and the fake Global Accelerator: create, add and
remove clusters, drain, a hub restart in the middle, delete leaving nothing, Route 53."""

from __future__ import annotations

import asyncio
import time

import pytest

from kfed_core.providers import GlobalLoadBalancer, ProviderError

NAME = "kfed-default-web"


async def ensure_until_ready(provider, lb, within: float = 5.0):
    deadline = time.monotonic() + within
    while True:
        status = await provider.ensure(lb)
        if status.ready or time.monotonic() > deadline:
            return status


async def groups(world, region: str | None = None) -> list[dict]:
    """The fake's endpoint groups, read through boto3 (off the loop that serves the fake)."""
    return await asyncio.to_thread(read_groups, world, region)


def read_groups(world, region: str | None) -> list[dict]:
    ga = world.client("globalaccelerator", "us-west-2")
    try:
        out = []
        for acc in ga.list_accelerators()["Accelerators"]:
            for listener in ga.list_listeners(AcceleratorArn=acc["AcceleratorArn"])["Listeners"]:
                out += ga.list_endpoint_groups(ListenerArn=listener["ListenerArn"])[
                    "EndpointGroups"
                ]
        return [g for g in out if region in (None, g["EndpointGroupRegion"])]
    finally:
        ga.close()


async def test_create_gives_one_address_that_becomes_ready_once_deployed(world) -> None:
    provider = world.provider()
    try:
        lb = world.lb(NAME, world.backends())
        first = await provider.ensure(lb)
        assert first.address.endswith(".awsglobalaccelerator.com")
        assert not first.ready and "IN_PROGRESS" in first.message
        status = await ensure_until_ready(provider, lb)
        assert status.ready and status.address == first.address
        assert "3 of 3 backends serving" in status.message
        assert "static IPs 198.51.100." in status.message
        kinds = sorted(r.split("/")[0] for r in world.fake.resource_ids())
        assert kinds == [
            "accelerator",
            "endpoint-group",
            "endpoint-group",
            "endpoint-group",
            "listener",
        ]
        tags = next(iter(world.fake.accelerator_tags().values()))
        assert tags["kfed.io/owner"] == NAME and tags["kfed.io/ingress"] == f"default/{NAME}"
    finally:
        await provider.close()


async def test_adding_and_removing_a_cluster_converges(world) -> None:
    provider = world.provider()
    try:
        two = world.backends("virginia", "ireland")
        first = await provider.ensure(world.lb(NAME, two))
        made = world.fake.resource_ids()
        more = [*two, world.backend("ohio-2", weight=2), world.backend("tokyo")]
        added = await provider.ensure(world.lb(NAME, more))
        assert added.address == first.address
        us = (await groups(world, "us-east-1"))[0]
        weights = {e["EndpointId"]: e["Weight"] for e in us["EndpointDescriptions"]}
        assert weights == {world.arns["virginia"]: 128, world.arns["ohio-2"]: 255}
        assert len(await groups(world)) == 3
        removed = await provider.ensure(world.lb(NAME, two))
        assert removed.address == first.address
        assert len(await groups(world)) == 2
        assert set(world.weights(NAME)) == {b.address for b in two}
        assert len(world.fake.resource_ids()) == len(made)
    finally:
        await provider.close()


async def test_draining_keeps_endpoints_at_zero_and_dials_a_drained_region_down(world) -> None:
    provider = world.provider()
    try:
        lb = world.lb(
            NAME,
            world.backends(
                "virginia",
                "ohio-2",
                "tokyo",
                "ireland",
                virginia={"weight": 0},
                tokyo={"healthy": False},
            ),
        )
        status = await ensure_until_ready(provider, lb)
        assert status.ready
        tokyo = (await groups(world, "ap-northeast-1"))[0]
        assert tokyo["TrafficDialPercentage"] == 0.0
        assert [e["Weight"] for e in tokyo["EndpointDescriptions"]] == [0]
        us = (await groups(world, "us-east-1"))[0]
        assert us["TrafficDialPercentage"] == 100.0
        weights = {e["EndpointId"]: e["Weight"] for e in us["EndpointDescriptions"]}
        assert weights == {world.arns["virginia"]: 0, world.arns["ohio-2"]: 255}
        assert "virginia drained (weight 0)" in status.message
        assert "tokyo drained (reported unhealthy by the hub)" in status.message
        everything_drained = world.lb(
            NAME, world.backends(**{c: {"weight": 0} for c in ("virginia", "ireland", "tokyo")})
        )
        status = await provider.ensure(everything_drained)
        assert not status.ready and "0 of 3 backends serving" in status.message
        assert all(g["TrafficDialPercentage"] == 0.0 for g in await groups(world))
    finally:
        await provider.close()


async def test_a_hub_restart_in_the_middle_adopts_without_duplicates(world) -> None:
    before = world.provider(retryAttempts="2")
    lb = world.lb(NAME, world.backends())
    world.fake.server_error(times=100, operation="CreateEndpointGroup")  # the hub dies here
    with pytest.raises(ProviderError) as caught:
        await before.ensure(lb)
    assert caught.value.retryable
    await before.close()
    half = world.fake.resource_ids()
    assert [r.split("/")[0] for r in half] == ["accelerator", "listener"]
    world.fake.clear_faults()  # the outage is over
    after = world.provider()
    try:
        assert await after.owned() == [NAME]
        status = await ensure_until_ready(after, lb)
        assert status.ready
        ids = world.fake.resource_ids()
        assert [r for r in ids if r.startswith(("accelerator", "listener"))] == half
        assert len(ids) == 5
        assert world.fake.calls["CreateAccelerator"] == 1
    finally:
        await after.close()


async def test_delete_leaves_zero_resources_in_the_fakes(world) -> None:
    route53 = world.client("route53")
    zone = world.zone(route53)
    provider = world.provider()
    try:
        lb = world.lb(
            NAME, world.backends(), hostname="www.example.com", hostedZoneId=zone.split("/")[-1]
        )
        await ensure_until_ready(provider, lb)
        assert world.fake.resource_ids()
        await provider.delete(NAME)
        assert world.fake.resource_ids() == []
        records = route53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
        assert sorted(r["Type"] for r in records) == ["NS", "SOA"]
        assert await provider.owned() == []
        await provider.delete(NAME)  # again: absent is deleted
        calls = world.fake.calls
        assert calls["UpdateAccelerator"] == 1 and calls["DeleteAccelerator"] == 1
    finally:
        await provider.close()
        route53.close()


async def test_delete_waits_for_the_disabled_accelerator_to_deploy(world) -> None:
    world.fake.settle_polls = 4
    provider = world.provider()
    try:
        await provider.ensure(world.lb(NAME, world.backends()))
        polls = world.fake.calls["DescribeAccelerator"]
        await provider.delete(NAME)
        assert world.fake.calls["DescribeAccelerator"] - polls >= 3
        assert world.fake.resource_ids() == []
    finally:
        await provider.close()


async def test_delete_gives_up_retryably_while_the_accelerator_keeps_deploying(world) -> None:
    world.fake.settle_polls = 10_000
    provider = world.provider(deleteTimeout="0.05")
    try:
        await provider.ensure(world.lb(NAME, world.backends()))
        with pytest.raises(ProviderError) as caught:
            await provider.delete(NAME)
        assert caught.value.retryable and "still deploying" in str(caught.value)
        world.fake.settle()  # it deployed in the meantime
        await provider.delete(NAME)  # the hub's next pass
        assert world.fake.resource_ids() == []
    finally:
        await provider.close()


async def test_a_backend_matching_no_load_balancer_is_left_out_and_named(world) -> None:
    provider = world.provider()
    try:
        lost = world.backend("tokyo", address="gone.ap-northeast-1.elb.amazonaws.com:80")
        wrong_region = world.backend("ireland", region="us-east-1")
        lb = world.lb(NAME, [world.backend("virginia"), lost, wrong_region])
        status = await ensure_until_ready(provider, lb)
        assert status.ready
        assert "tokyo left out: no load balancer in ap-northeast-1" in status.message
        assert "ireland left out" in status.message
        assert [g["EndpointGroupRegion"] for g in await groups(world)] == ["us-east-1"]
    finally:
        await provider.close()


async def test_backends_on_another_port_get_a_port_override(world) -> None:
    provider = world.provider()
    try:
        backends = [
            world.backend(c, address=f"{world.dns_names[c]}:8443") for c in ("virginia", "ireland")
        ]
        await provider.ensure(world.lb(NAME, backends))
        assert all(
            g["PortOverrides"] == [{"ListenerPort": 80, "EndpointPort": 8443}]
            for g in await groups(world)
        )
    finally:
        await provider.close()


async def test_a_new_port_moves_the_listener_and_keeps_the_address(world) -> None:
    provider = world.provider()
    try:
        backends = world.backends("virginia", "ireland")
        first = await provider.ensure(world.lb(NAME, backends))
        moved = await provider.ensure(
            GlobalLoadBalancer(name=NAME, ingress=f"default/{NAME}", backends=backends, port=443)
        )
        assert moved.address == first.address
        ga = world.client("globalaccelerator", "us-west-2")
        try:
            arn = (await asyncio.to_thread(ga.list_accelerators))["Accelerators"][0][
                "AcceleratorArn"
            ]
            listeners = (await asyncio.to_thread(ga.list_listeners, AcceleratorArn=arn))[
                "Listeners"
            ]
        finally:
            ga.close()
        assert [item["PortRanges"] for item in listeners] == [[{"FromPort": 443, "ToPort": 443}]]
        overrides = [g["PortOverrides"] for g in await groups(world)]
        assert overrides == [[{"ListenerPort": 443, "EndpointPort": 80}]] * 2
        gcp = world.backend("tokyo", region="asia-east1")
        status = await provider.ensure(world.lb(NAME, [*backends, gcp]))
        assert "tokyo left out: region 'asia-east1' is not an AWS region" in status.message
    finally:
        await provider.close()


async def test_route53_record_follows_the_accelerator_and_refuses_foreign_records(world) -> None:
    route53 = world.client("route53")
    zone = world.zone(route53)
    zone_id = zone.split("/")[-1]
    route53.change_resource_record_sets(
        HostedZoneId=zone,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "UPSERT",
                    "ResourceRecordSet": {
                        "Name": "taken.example.com",
                        "Type": "CNAME",
                        "TTL": 300,
                        "ResourceRecords": [{"Value": "someone.else.example"}],
                    },
                }
            ]
        },
    )
    provider = world.provider(hostedZoneId=zone_id)
    try:
        status = await provider.ensure(world.lb(NAME, world.backends(), hostname="www.example.com"))
        records = {
            (r["Name"], r["Type"]): [v["Value"] for v in r.get("ResourceRecords", [])]
            for r in route53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
        }
        assert records["www.example.com.", "CNAME"] == [status.address]
        assert NAME in records["_kfed-owner.www.example.com.", "TXT"][0]
        assert "Route 53 www.example.com." in status.message

        with pytest.raises(ProviderError) as caught:
            await provider.ensure(
                world.lb("kfed-default-other", world.backends(), hostname="taken.example.com")
            )
        assert not caught.value.retryable and "kfed did not make" in str(caught.value)
        with pytest.raises(ProviderError, match="did not make"):  # nor another Ingress's name
            await provider.ensure(
                world.lb("kfed-default-third", world.backends(), hostname="www.example.com")
            )

        await provider.ensure(world.lb(NAME, world.backends(), hostname="web.example.com"))
        names = {
            r["Name"]
            for r in route53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
        }
        assert "www.example.com." not in names and "web.example.com." in names

        for name in await provider.owned():
            await provider.delete(name)
        left = route53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
        assert sorted((r["Name"], r["Type"]) for r in left) == [
            ("example.com.", "NS"),
            ("example.com.", "SOA"),
            ("taken.example.com.", "CNAME"),
        ]
        assert world.fake.resource_ids() == []
    finally:
        await provider.close()
        route53.close()


async def test_accelerators_kfed_did_not_make_are_left_alone(world) -> None:
    ga = world.client("globalaccelerator", "us-west-2")
    foreign = (
        await asyncio.to_thread(ga.create_accelerator, Name=NAME, IdempotencyToken="someone-else")
    )["Accelerator"]
    ga.close()
    provider = world.provider()
    other_owner = world.provider(ownerId="another-hub")
    try:
        await provider.ensure(world.lb(NAME, world.backends()))
        assert await provider.owned() == [NAME]
        assert await other_owner.owned() == []
        await other_owner.delete(NAME)  # not its own: deletes nothing
        assert len(world.fake.resource_ids()) == 6
        await provider.delete(NAME)
        assert world.fake.resource_ids() == [f"accelerator/{NAME}/{foreign['AcceleratorArn']}"]
    finally:
        await provider.close()
        await other_owner.close()


async def test_concurrent_ensures_of_one_name_make_one_accelerator(world) -> None:
    provider = world.provider()
    try:
        lb = world.lb(NAME, world.backends())
        results = await asyncio.gather(*(provider.ensure(lb) for _ in range(3)))
        assert len({r.address for r in results}) == 1
        assert world.fake.calls["CreateAccelerator"] == 1
    finally:
        await provider.close()
