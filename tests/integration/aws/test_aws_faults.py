"""Throttling and 5xx from AWS are retried (by kfed, botocore's retries are off) and end in
success; errors an operator must fix surface at once as ProviderError(retryable=False)."""

from __future__ import annotations

import socket

import pytest

from kfed_core.providers import ProviderError

NAME = "kfed-default-web"


async def test_throttling_on_every_operation_is_retried_and_succeeds(world) -> None:
    provider = world.provider()
    try:
        lb = world.lb(NAME, world.backends())
        world.fake.throttle(times=2)  # whatever comes next
        for operation in (
            "ListAccelerators",
            "CreateAccelerator",
            "CreateListener",
            "CreateEndpointGroup",
            "ListTagsForResource",
        ):
            world.fake.throttle(times=2, operation=operation)
        status = await provider.ensure(lb)
        assert status.address
        assert world.fake.calls["CreateAccelerator"] == 3  # two throttled, one made it
        assert world.fake.calls["CreateEndpointGroup"] == 5  # three groups, two throttled
        assert len(world.fake.resource_ids()) == 5
        world.fake.throttle(times=2, operation="DeleteAccelerator")
        world.fake.throttle(times=2, operation="UpdateAccelerator")
        await provider.delete(NAME)
        assert world.fake.resource_ids() == []
    finally:
        await provider.close()


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_5xx_is_retried_and_succeeds(world, status: int) -> None:
    provider = world.provider()
    try:
        world.fake.server_error(times=3, operation="CreateEndpointGroup", status=status)
        world.fake.server_error(times=1, operation="DescribeAccelerator", status=status)
        status_ = await provider.ensure(world.lb(NAME, world.backends()))
        assert status_.address
        assert world.fake.calls["CreateEndpointGroup"] == 6
        assert len(world.fake.resource_ids()) == 5  # no duplicate from a retried create
    finally:
        await provider.close()


async def test_a_lost_create_answer_is_retried_without_a_duplicate(world) -> None:
    """A create whose answer is lost (a 5xx after AWS made it) is retried with the same
    idempotency token, so AWS hands back the first accelerator."""
    provider = world.provider()
    try:
        lb = world.lb(NAME, world.backends())
        world.fake.server_error(operation="CreateAccelerator", after=True)
        world.fake.server_error(operation="CreateListener", after=True)
        world.fake.server_error(operation="CreateEndpointGroup", after=True)
        first = await provider.ensure(lb)
        assert world.fake.calls["CreateAccelerator"] == 2
        assert world.fake.calls["CreateEndpointGroup"] == 4
        assert len(world.fake.resource_ids()) == 5  # one of each, no duplicates
        await provider.delete(NAME)
        again = await provider.ensure(lb)
        assert again.address != first.address  # a deleted accelerator is never handed back
        assert len([r for r in world.fake.resource_ids() if r.startswith("accelerator")]) == 1
    finally:
        await provider.close()


async def test_endless_5xx_ends_in_a_retryable_error_within_the_bounds(world) -> None:
    provider = world.provider(retryAttempts="3")
    try:
        world.fake.server_error(times=1000, operation="ListAccelerators", status=503)
        with pytest.raises(ProviderError) as caught:
            await provider.ensure(world.lb(NAME, world.backends()))
        assert caught.value.retryable
        assert "ListAccelerators answered InternalServiceErrorException (HTTP 503)" in str(
            caught.value
        )
        assert world.fake.calls["ListAccelerators"] == 3  # kfed's three, botocore adds none
    finally:
        await provider.close()


async def test_access_denied_is_not_retried_and_says_what_to_do(world) -> None:
    provider = world.provider()
    try:
        world.fake.inject(
            "AccessDeniedException",
            operation="CreateAccelerator",
            message="User is not authorized to perform globalaccelerator:CreateAccelerator",
        )
        with pytest.raises(ProviderError) as caught:
            await provider.ensure(world.lb(NAME, world.backends()))
        assert not caught.value.retryable
        text = str(caught.value)
        assert f"load balancer {NAME}" in text and "creating its accelerator" in text
        assert "IAM" in text
        assert world.fake.calls["CreateAccelerator"] == 1
        assert isinstance(caught.value.__cause__, Exception)  # chained from the SDK's error
    finally:
        await provider.close()


async def test_an_unreachable_endpoint_is_a_retryable_error(world) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    provider = world.provider(
        globalAcceleratorEndpoint=f"http://127.0.0.1:{port}", retryAttempts="2"
    )
    try:
        with pytest.raises(ProviderError) as caught:
            await provider.owned()
        assert caught.value.retryable and "ConnectionError" in str(caught.value)
    finally:
        await provider.close()


async def test_missing_credentials_are_an_operators_problem(world, tmp_path) -> None:
    empty = tmp_path / "empty-credentials"
    empty.write_text("[default]\n")
    provider = world.provider(sharedCredentialsFile=str(empty), profile="default")
    try:
        with pytest.raises(ProviderError) as caught:
            await provider.owned()
        assert not caught.value.retryable
        assert "NoCredentials" in str(caught.value) or "credentials" in str(caught.value)
    finally:
        await provider.close()
