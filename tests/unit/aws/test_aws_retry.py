"""Retries back off exponentially with jitter, within attempts and a deadline (fake clock)."""

from __future__ import annotations

import pytest

from kfed_aws.errors import AwsApiError
from kfed_aws.retry import RetryPolicy, backoff_delay, call_with_retry


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class Flaky:
    def __init__(self, failures: int, code: str = "ThrottlingException", status: int = 400) -> None:
        self.failures = failures
        self.code = code
        self.status = status
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise AwsApiError(operation="Op", code=self.code, status=self.status, message="x")
        return "done"


POLICY = RetryPolicy(attempts=5, base_delay=1.0, max_delay=4.0, deadline=100.0)


async def run(call: Flaky, policy: RetryPolicy, clock: Clock, jitter: float = 0.5) -> str:
    return await call_with_retry(
        call, policy, sleep=clock.sleep, clock=clock, jitter=lambda: jitter
    )


def test_delays_double_up_to_the_cap_and_jitter_stays_within_half_to_all() -> None:
    assert [backoff_delay(POLICY, n, 1.0) for n in (1, 2, 3, 4, 5)] == [1.0, 2.0, 4.0, 4.0, 4.0]
    assert backoff_delay(POLICY, 3, 0.0) == 2.0
    assert 2.0 <= backoff_delay(POLICY, 3, 0.999) < 4.0


async def test_throttling_is_retried_until_it_succeeds() -> None:
    clock, call = Clock(), Flaky(3)
    assert await run(call, POLICY, clock, jitter=1.0) == "done"
    assert call.calls == 4
    assert clock.sleeps == [1.0, 2.0, 4.0]


async def test_5xx_is_retried() -> None:
    clock, call = Clock(), Flaky(1, code="InternalServiceErrorException", status=500)
    assert await run(call, POLICY, clock) == "done"
    assert call.calls == 2


async def test_attempts_bound_the_calls() -> None:
    clock, call = Clock(), Flaky(100)
    with pytest.raises(AwsApiError):
        await run(call, POLICY, clock)
    assert call.calls == POLICY.attempts


async def test_the_deadline_bounds_the_time() -> None:
    clock, call = Clock(), Flaky(100)
    policy = RetryPolicy(attempts=100, base_delay=1.0, max_delay=4.0, deadline=10.0)
    with pytest.raises(AwsApiError):
        await run(call, policy, clock, jitter=1.0)
    assert clock.now <= 10.0
    assert call.calls < 100


async def test_errors_that_need_an_operator_are_not_retried() -> None:
    clock, call = Clock(), Flaky(1, code="AccessDeniedException")
    with pytest.raises(AwsApiError):
        await run(call, POLICY, clock)
    assert call.calls == 1 and clock.sleeps == []


async def test_other_exceptions_pass_through_at_once() -> None:
    clock = Clock()

    async def broken() -> str:
        raise ValueError("bug")

    with pytest.raises(ValueError, match="bug"):
        await call_with_retry(broken, POLICY, sleep=clock.sleep, clock=clock, jitter=lambda: 0.0)
    assert clock.sleeps == []
