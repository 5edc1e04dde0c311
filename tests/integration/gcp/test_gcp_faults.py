"""Throttling, 5xx and operator errors from GCE: retried, or surfaced as ProviderError."""

import pytest
from gcphelpers import balancer, provider

from kfed_core.providers import ProviderError
from kfed_gcp.fake import FakeGce
from kfed_gcp.names import names_for


@pytest.mark.parametrize(
    ("status", "method"),
    [
        (429, "backendServices.insert"),
        (503, "addresses.get"),
        (500, "networkEndpointGroups.attachNetworkEndpoints"),
        (503, "networkEndpointGroups.aggregatedList"),
        (429, "backendServices.getHealth"),
    ],
)
async def test_throttling_and_server_errors_are_retried(
    fake: FakeGce, status: int, method: str
) -> None:
    fake.fail(status, count=2, method=method)
    gcp = provider(fake)
    result = await gcp.ensure(balancer())
    await gcp.close()
    assert result.ready
    assert fake.calls.count(method) >= 3  # two failures, then the call that worked
    assert all(fault.count == 0 for fault in fake.faults)


async def test_an_operation_that_fails_inside_gce_is_retried(fake: FakeGce) -> None:
    fake.fail(503, method="urlMaps.insert", in_operation=True)
    gcp = provider(fake)
    status = await gcp.ensure(balancer())
    await gcp.close()
    assert status.ready and fake.calls.count("urlMaps.insert") == 2


async def test_a_stale_fingerprint_is_read_again_and_retried(fake: FakeGce) -> None:
    gcp = provider(fake)
    await gcp.ensure(balancer())
    fake.fail(412, method="backendServices.patch", reason="conditionNotMet")
    await gcp.ensure(balancer(backends=balancer().backends[:2]))
    await gcp.close()
    assert fake.calls.count("backendServices.patch") == 2


async def test_throttling_that_outlasts_the_retries_is_a_retryable_error(fake: FakeGce) -> None:
    fake.fail(429, count=100, method="healthChecks.insert")
    gcp = provider(fake)
    with pytest.raises(ProviderError) as raised:
        await gcp.ensure(balancer())
    await gcp.close()
    assert raised.value.retryable
    message = str(raised.value)
    assert "health check hc-kfed-shop-web" in message and "after 4 tries" in message
    assert "rateLimitExceeded" in message
    assert fake.calls.count("healthChecks.insert") == 4  # retry_attempts in the helpers


async def test_a_permission_error_is_not_retried_and_says_what_to_do(fake: FakeGce) -> None:
    fake.fail(403, method="addresses.insert", reason="forbidden")
    gcp = provider(fake)
    with pytest.raises(ProviderError) as raised:
        await gcp.ensure(balancer())
    await gcp.close()
    assert not raised.value.retryable
    assert "global address ip-kfed-shop-web" in str(raised.value)
    assert "credentials" in str(raised.value)
    assert fake.calls.count("addresses.insert") == 1


async def test_quota_exceeded_is_not_retried(fake: FakeGce) -> None:
    fake.fail(403, method="forwardingRules.insert", reason="quotaExceeded")
    gcp = provider(fake)
    with pytest.raises(ProviderError, match="quota") as raised:
        await gcp.ensure(balancer())
    await gcp.close()
    assert not raised.value.retryable


async def test_delete_blocked_by_a_foreign_user_keeps_it_and_can_be_retried(fake: FakeGce) -> None:
    gcp = provider(fake)
    await gcp.ensure(balancer())
    names = names_for("kfed-shop-web")
    # Someone else's URL map uses kfed's backend service: GCE refuses to delete the service.
    fake.model.insert(
        "global",
        "urlMaps",
        {"name": "theirs", "defaultService": f"global/backendServices/{names.backend_service}"},
        request_id="",
    )
    with pytest.raises(ProviderError, match="resourceInUseByAnotherResource") as raised:
        await gcp.delete("kfed-shop-web")
    await gcp.close()
    assert raised.value.retryable
    assert "global/urlMaps/theirs" in fake.resource_ids()
    assert f"global/backendServices/{names.backend_service}" in fake.resource_ids()


async def test_an_unreachable_endpoint_is_a_retryable_error() -> None:
    async with FakeGce() as gone:
        url = gone.url
    fake = FakeGce()
    fake.url = url  # nothing listens there any more
    gcp = provider(fake, retry_attempts="2")
    with pytest.raises(ProviderError, match="connectionFailed") as raised:
        await gcp.ensure(balancer())
    await gcp.close()
    assert raised.value.retryable
