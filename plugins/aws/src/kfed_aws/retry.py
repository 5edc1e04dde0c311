"""Retries with exponential backoff and jitter for calls to AWS.

Layer: ``kfed_aws`` helper. No clock, randomness or sleeping of its own: the caller passes
``sleep``, ``clock`` and ``jitter`` (the provider passes ``asyncio.sleep``, ``time.monotonic``
and ``random.random``; tests pass fakes), so the policy is testable without waiting. It retries
only :class:`~kfed_aws.errors.AwsApiError` that say they are retryable (throttling, 5xx, no
answer); every other exception passes through at once.

botocore's own retries are switched off in :mod:`kfed_aws.aws_client`: one retry layer, whose
limits kfed's settings state, instead of two multiplying each other.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from kfed_aws.errors import AwsApiError

T = TypeVar("T")


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """How hard to try one AWS call.

    ``attempts`` bounds the calls (the first included); ``deadline`` bounds the seconds from the
    first call to the start of the last; delays grow from ``base_delay`` by doubling up to
    ``max_delay``, each between half and all of that (so retries from many hubs spread out but
    still back off).
    """

    attempts: int = 6
    base_delay: float = 0.25
    max_delay: float = 8.0
    deadline: float = 60.0


def backoff_delay(policy: RetryPolicy, failures: int, jitter: float) -> float:
    """The pause after the ``failures``-th failure (1-based), for ``jitter`` in [0, 1)."""
    cap = min(policy.max_delay, policy.base_delay * 2.0 ** max(failures - 1, 0))
    return cap / 2 + cap / 2 * jitter


async def call_with_retry(
    call: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], Awaitable[None]],
    clock: Callable[[], float],
    jitter: Callable[[], float],
) -> T:
    """Await ``call()`` until it succeeds, fails for good, or the policy's bounds are reached.

    Raises the last :class:`AwsApiError` when the attempts or the deadline run out.
    """
    started = clock()
    failures = 0
    while True:
        try:
            return await call()
        except AwsApiError as e:
            if not e.retryable:
                raise
            failures += 1
            delay = backoff_delay(policy, failures, jitter())
            if failures >= policy.attempts or clock() + delay - started > policy.deadline:
                raise
        await sleep(delay)
