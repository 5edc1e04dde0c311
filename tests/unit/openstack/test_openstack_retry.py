"""Retry policy of the OpenStack provider: classification, backoff, bounds (fake clock)."""

from __future__ import annotations

import pytest

from kfed_openstack.api import CloudError
from kfed_openstack.retry import Failure, RetryPolicy, backoff_delay, classify, retrying


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.mark.parametrize(
    ("status", "text", "expected"),
    [
        (429, "", Failure.THROTTLED),
        (503, "", Failure.TRANSIENT),
        (None, "connection refused", Failure.TRANSIENT),
        (409, "Load Balancer x is immutable and cannot be updated.", Failure.TRANSIENT),
        (409, "Duplicate RecordSet", Failure.CONFLICT),
        (404, "", Failure.NOT_FOUND),
        (400, "", Failure.FATAL),
        (401, "", Failure.FATAL),
    ],
)
def test_failures_are_classified(status: int | None, text: str, expected: Failure) -> None:
    assert classify(CloudError(text, status=status)) is expected


def test_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=8.0)
    assert [backoff_delay(n, policy, 0.0) for n in range(5)] == [0.5, 1.0, 2.0, 4.0, 4.0]
    assert [backoff_delay(n, policy, 0.999) for n in range(5)] == pytest.approx(
        [1.0, 2.0, 4.0, 8.0, 8.0], rel=1e-2
    )


def test_retry_after_is_honoured_up_to_the_cap() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=8.0)
    assert backoff_delay(0, policy, 0.0, retry_after=3.0) == 3.0
    assert backoff_delay(0, policy, 0.0, retry_after=3600.0) == 8.0


async def test_transient_errors_are_retried_until_success() -> None:
    time, answers = FakeTime(), [CloudError("busy", status=503), CloudError("slow", status=429)]

    async def call() -> str:
        if answers:
            raise answers.pop(0)
        return "done"

    result = await retrying(
        call, RetryPolicy(), sleep=time.sleep, clock=time.clock, draw=lambda: 0.0
    )
    assert result == "done" and time.slept == [0.25, 0.5]


async def test_attempts_are_bounded() -> None:
    time, calls = FakeTime(), []

    async def call() -> None:
        calls.append(1)
        raise CloudError("busy", status=503)

    with pytest.raises(CloudError):
        await retrying(
            call, RetryPolicy(attempts=3), sleep=time.sleep, clock=time.clock, draw=lambda: 0.5
        )
    assert len(calls) == 3


async def test_total_time_is_bounded() -> None:
    time, calls = FakeTime(), []

    async def call() -> None:
        calls.append(1)
        raise CloudError("busy", status=503)

    policy = RetryPolicy(attempts=100, base_delay=1.0, max_delay=1.0, total=3.0)
    with pytest.raises(CloudError):
        await retrying(call, policy, sleep=time.sleep, clock=time.clock, draw=lambda: 0.99)
    assert time.now <= 3.0 and len(calls) == 4  # three waits of 0.995 s fit in 3 s


async def test_errors_an_operator_must_fix_are_not_retried() -> None:
    time, calls = FakeTime(), []

    async def call() -> None:
        calls.append(1)
        raise CloudError("forbidden", status=403)

    with pytest.raises(CloudError):
        await retrying(call, RetryPolicy(), sleep=time.sleep, clock=time.clock, draw=lambda: 0.0)
    assert len(calls) == 1 and time.slept == []
