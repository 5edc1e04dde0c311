"""Which OpenStack failures to retry, and how: exponential backoff with jitter, bounded.

Layer: ``kfed_openstack``. :func:`classify` and :func:`backoff_delay` are pure; :func:`retrying`
runs a call with a clock, a sleep and a random source handed in (tests pass fakes), so nothing
here reads the time or draws randomness itself. It never logs and never sees a secret.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from typing import TypeVar

from kfed_openstack.api import CloudError

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """At most ``attempts`` tries within ``total`` seconds; waits grow from ``base_delay``
    doubling up to ``max_delay``, each drawn between half and all of that (equal jitter)."""

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 8.0
    total: float = 60.0


class Failure(Enum):
    """What a CloudError means for the caller."""

    THROTTLED = "throttled"  # 429: back off
    TRANSIENT = "transient"  # 5xx, no answer, a load balancer still PENDING_*: back off
    NOT_FOUND = "not found"  # 404: absent (success when deleting)
    CONFLICT = "conflict"  # 409 other than pending: a duplicate or something in the way
    FATAL = "fatal"  # 400, 401, 403, ...: an operator must act


def classify(error: CloudError) -> Failure:
    """Sort an API failure. Octavia answers 409 while a load balancer is PENDING_* (it is
    "immutable"); that passes once it is ACTIVE again, so it is transient."""
    status = error.status
    if status is None or status >= 500:
        return Failure.TRANSIENT
    if status == 429:
        return Failure.THROTTLED
    if status == 404:
        return Failure.NOT_FOUND
    if status == 409:
        text = str(error).lower()
        pending = "immutable" in text or "pending" in text or "invalid state" in text
        return Failure.TRANSIENT if pending else Failure.CONFLICT
    return Failure.FATAL


def retryable(error: CloudError) -> bool:
    """Whether backing off and calling again may succeed."""
    return classify(error) in (Failure.THROTTLED, Failure.TRANSIENT)


def backoff_delay(
    attempt: int, policy: RetryPolicy, draw: float, retry_after: float | None = None
) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (0 for the first).

    ``draw`` is a random number in [0, 1). A server's Retry-After is honoured up to
    ``max_delay``, so one bad header cannot stall a reconcile.
    """
    ceiling = min(policy.max_delay, policy.base_delay * 2.0**attempt)
    delay = ceiling / 2 + draw * ceiling / 2
    if retry_after is not None and retry_after > delay:
        delay = min(retry_after, policy.max_delay)
    return delay


async def retrying(
    call: Callable[[], Awaitable[_T]],
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], Awaitable[None]],
    clock: Callable[[], float],
    draw: Callable[[], float],
) -> _T:
    """Await ``call()``, again after a backoff while it raises a retryable CloudError.

    Gives up (re-raising the last error) after ``policy.attempts`` tries, or when the next wait
    would end past ``policy.total`` seconds from the start. Other errors pass at once.
    """
    start = clock()
    attempt = 0
    while True:
        try:
            return await call()
        except CloudError as error:
            if not retryable(error) or attempt + 1 >= policy.attempts:
                raise
            delay = backoff_delay(attempt, policy, draw(), error.retry_after)
            if clock() + delay - start > policy.total:
                raise
            attempt += 1
            await sleep(delay)
