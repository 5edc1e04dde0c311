"""Retries and errors of the OpenStack provider: throttling and 5xx are retried and succeed;
what an operator must fix surfaces as ProviderError(retryable=False), saying what to do."""

from __future__ import annotations

import pytest
from oshelpers import NAME, balancer, kinds, provider

from kfed_core.providers import ProviderError
from kfed_openstack import naming
from kfed_openstack.fake import FakeOpenStack


async def test_throttling_and_server_errors_are_retried_until_they_succeed(
    cloud: FakeOpenStack,
) -> None:
    throttled = cloud.fail_next(2, 429, method="POST", path="/listeners", retry_after=0)
    unavailable = cloud.fail_next(2, 503, service="designate", method="POST")
    broken = cloud.fail_next(1, 500, method="GET", path="/loadbalancers")
    p = provider(cloud)
    try:
        await p.ensure(balancer())
        status = await p.ensure(balancer())
    finally:
        await p.close()
    assert status.ready, status.message
    assert throttled.count == unavailable.count == broken.count == 0
    answered = [(c.method, c.status) for c in cloud.calls]
    assert answered.count(("POST", 429)) == 2 and answered.count(("POST", 503)) == 2
    assert kinds(cloud)["octavia/RegionOne/listener"] == 1  # retried, not duplicated


async def test_retries_are_bounded_and_the_error_is_retryable(cloud: FakeOpenStack) -> None:
    cloud.fail_next(50, 503, service="octavia")
    p = provider(cloud, retryAttempts="3")
    try:
        with pytest.raises(ProviderError) as failed:
            await p.ensure(balancer())
    finally:
        await p.close()
    assert failed.value.retryable
    assert "503" in str(failed.value) and "RegionOne" in str(failed.value)
    assert sum(1 for c in cloud.calls if c.status == 503) == 3


async def test_an_unknown_vip_subnet_is_not_retryable(cloud: FakeOpenStack) -> None:
    p = provider(cloud, **{"vipSubnet.RegionOne": "no-such-subnet"})
    try:
        with pytest.raises(ProviderError) as failed:
            await p.ensure(balancer())
    finally:
        await p.close()
    assert not failed.value.retryable
    assert "no-such-subnet" in str(failed.value) and "RegionOne" in str(failed.value)
    assert sum(1 for c in cloud.calls if c.status == 400) == 1  # not retried


async def test_a_wrong_password_is_not_retryable_and_not_shown(
    cloud: FakeOpenStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KFED_TEST_WRONG_PASSWORD", "not-the-password")
    p = provider(cloud, passwordEnv="KFED_TEST_WRONG_PASSWORD")
    try:
        with pytest.raises(ProviderError) as failed:
            await p.ensure(balancer())
    finally:
        await p.close()
    assert not failed.value.retryable
    assert "401" in str(failed.value) and "credentials" in str(failed.value)
    assert "not-the-password" not in str(failed.value)


async def test_a_missing_password_variable_says_which(
    cloud: FakeOpenStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KFED_TEST_UNSET_PASSWORD", raising=False)
    p = provider(cloud, passwordEnv="KFED_TEST_UNSET_PASSWORD")
    try:
        with pytest.raises(ProviderError, match="KFED_TEST_UNSET_PASSWORD") as failed:
            await p.ensure(balancer())
    finally:
        await p.close()
    assert not failed.value.retryable


async def test_a_load_balancer_in_error_is_reported_not_retried(cloud: FakeOpenStack) -> None:
    p = provider(cloud)
    try:
        await p.ensure(balancer())
        cloud.break_load_balancer("RegionTwo", naming.dns_label(NAME))
        with pytest.raises(ProviderError, match="ERROR") as failed:
            await p.ensure(balancer())
        assert not failed.value.retryable
        await p.delete(NAME)  # an ERROR load balancer can still be deleted
    finally:
        await p.close()
    assert cloud.resource_ids() == []


async def test_a_foreign_load_balancer_of_the_same_name_is_refused(cloud: FakeOpenStack) -> None:
    region = cloud.octavia["RegionOne"]
    region.handle(
        "POST",
        ["loadbalancers"],
        {},
        {"loadbalancer": {"name": naming.dns_label(NAME), "vip_subnet_id": "regionone-subnet"}},
    )
    p = provider(cloud)
    try:
        with pytest.raises(ProviderError, match="did not make it") as failed:
            await p.ensure(balancer())
        assert await p.owned() == []
    finally:
        await p.close()
    assert not failed.value.retryable


async def test_a_slow_load_balancer_times_out_retryably(cloud: FakeOpenStack) -> None:
    for region in cloud.octavia.values():
        region.pending_reads = 10_000
    p = provider(cloud, pollTimeout="0.05")
    try:
        with pytest.raises(ProviderError, match="still PENDING_CREATE") as failed:
            await p.ensure(balancer())
    finally:
        await p.close()
    assert failed.value.retryable


async def test_a_missing_dns_zone_is_not_retryable(cloud: FakeOpenStack) -> None:
    p = provider(cloud, dnsZone="other.example.org.")
    try:
        with pytest.raises(ProviderError, match=r"other\.example\.org\. does not exist") as failed:
            await p.ensure(balancer())
    finally:
        await p.close()
    assert not failed.value.retryable


async def test_a_backend_without_an_ip_is_refused_before_any_call(cloud: FakeOpenStack) -> None:
    from dataclasses import replace

    from oshelpers import BACKENDS

    p = provider(cloud)
    try:
        named = [replace(BACKENDS[0], address="lb.example.org:80"), *BACKENDS[1:]]
        with pytest.raises(ProviderError, match="IP address") as failed:
            await p.ensure(balancer(named))
    finally:
        await p.close()
    assert not failed.value.retryable
    assert cloud.calls == []
