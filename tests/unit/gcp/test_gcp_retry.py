"""Retry policy and the retrying caller of the gcp provider, on a fake clock."""

import pytest

from kfed_core.providers import ProviderError
from kfed_gcp.calls import Caller
from kfed_gcp.errors import GceError
from kfed_gcp.retry import RetryPolicy, backoff, is_retryable, next_delay


@pytest.mark.parametrize(
    ("status", "reason", "retryable"),
    [
        (429, "rateLimitExceeded", True),
        (403, "rateLimitExceeded", True),
        (403, "userRateLimitExceeded", True),
        (503, "backendError", True),
        (500, "", True),
        (0, "connectionFailed", True),
        (412, "conditionNotMet", True),
        (400, "resourceNotReady", True),
        (400, "resourceInUseByAnotherResource", True),
        (403, "quotaExceeded", False),
        (403, "forbidden", False),
        (401, "credentials", False),
        (400, "invalid", False),
        (404, "notFound", False),
        (409, "alreadyExists", False),
    ],
)
def test_errors_are_classified(status: int, reason: str, retryable: bool) -> None:
    assert is_retryable(GceError(status, reason, "x")) is retryable


def test_backoff_doubles_up_to_the_cap_with_half_of_it_jittered() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=5.0)
    assert [backoff(policy, n, 0.0) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 2.5]
    assert [backoff(policy, n, 0.999) for n in (1, 4)] == pytest.approx([0.9995, 4.9975])


def test_retries_stop_at_the_attempt_limit_and_at_the_deadline() -> None:
    policy = RetryPolicy(attempts=3, base_delay=1.0, max_delay=8.0, deadline=10.0)
    throttled = GceError(429, "rateLimitExceeded", "slow down")
    assert next_delay(policy, throttled, attempt=2, elapsed=0.0, jitter=0.0) == 1.0
    assert next_delay(policy, throttled, attempt=3, elapsed=0.0, jitter=0.0) is None
    assert next_delay(policy, throttled, attempt=2, elapsed=9.5, jitter=0.0) is None
    assert (
        next_delay(policy, GceError(400, "invalid", "no"), attempt=1, elapsed=0, jitter=0) is None
    )


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def caller(time: FakeTime, policy: RetryPolicy | None = None) -> Caller:
    return Caller(policy or RetryPolicy(), sleep=time.sleep, clock=time.clock, jitter=lambda: 0.0)


class Flaky:
    def __init__(self, *errors: GceError) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "done"


async def test_throttling_is_retried_with_growing_waits_then_succeeds() -> None:
    time = FakeTime()
    call = Flaky(GceError(429, "rateLimitExceeded", "a"), GceError(503, "backendError", "b"))
    assert await caller(time, RetryPolicy(base_delay=1.0)).run("creating x", call) == "done"
    assert call.calls == 3 and time.slept == [0.5, 1.0]


async def test_giving_up_raises_a_retryable_provider_error_naming_the_work() -> None:
    time = FakeTime()
    call = Flaky(*[GceError(503, "backendError", "down")] * 10)
    with pytest.raises(ProviderError) as raised:
        await caller(time, RetryPolicy(attempts=3)).run("creating health check hc-x", call)
    assert raised.value.retryable and call.calls == 3
    assert "creating health check hc-x (after 3 tries)" in str(raised.value)
    assert isinstance(raised.value.__cause__, GceError)


async def test_operator_errors_are_not_retried() -> None:
    time = FakeTime()
    call = Flaky(GceError(403, "forbidden", "denied"))
    with pytest.raises(ProviderError) as raised:
        await caller(time).run("reading address ip-x", call)
    assert not raised.value.retryable and call.calls == 1 and time.slept == []
    assert "credentials" in str(raised.value)


async def test_errors_the_caller_handles_pass_through_untranslated() -> None:
    time = FakeTime()
    call = Flaky(GceError(404, "notFound", "gone"))
    with pytest.raises(GceError):
        await caller(time).run("reading x", call, passthrough=lambda e: e.not_found)
