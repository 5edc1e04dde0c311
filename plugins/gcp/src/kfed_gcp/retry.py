"""When and how long the ``gcp`` provider waits before trying a GCE call again.

Layer: pure (no clock, no randomness, no sleeping): the caller (:mod:`kfed_gcp.calls`) owns the
clock, the random source and the sleep, and asks :func:`next_delay` what to do. Backoff is
exponential with "equal jitter": half of the capped delay is fixed, the other half random, so
many hubs retrying at once spread out yet still back off. Attempts and total time are both
bounded, so a call never retries forever.
"""

from __future__ import annotations

from dataclasses import dataclass

from kfed_gcp.errors import GceError

RETRYABLE_REASONS = frozenset(
    {
        "rateLimitExceeded",
        "userRateLimitExceeded",
        "backendError",
        "internalError",
        "resourceNotReady",
        "conditionNotMet",
        "resourceInUseByAnotherResource",
    }
)
"""Reasons worth retrying whatever the status: throttling, GCE's transient failures, a stale
fingerprint (re-read and retry), and a resource still referenced while a delete elsewhere is
settling."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """At most ``attempts`` tries, waits growing from ``base_delay`` by 2x up to ``max_delay``,
    and no new try once ``deadline`` seconds have passed since the first."""

    attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 16.0
    deadline: float = 120.0


def is_retryable(error: GceError) -> bool:
    """Whether trying the same call again may succeed without an operator acting."""
    if error.reason == "quotaExceeded":
        return False  # a 403 that no wait fixes: someone must raise the quota
    return (
        error.status == 429
        or error.status >= 500
        or error.status == 0  # the connection failed or timed out
        or error.reason in RETRYABLE_REASONS
    )


def backoff(policy: RetryPolicy, attempt: int, jitter: float) -> float:
    """The wait after failed try number ``attempt`` (1-based); ``jitter`` is uniform in [0, 1)."""
    capped = min(policy.max_delay, policy.base_delay * 2.0 ** (attempt - 1))
    return capped / 2 + capped / 2 * jitter


def next_delay(
    policy: RetryPolicy, error: GceError, *, attempt: int, elapsed: float, jitter: float
) -> float | None:
    """How long to wait before the next try after ``error`` on try ``attempt``, or None to give
    up (not retryable, out of attempts, or the wait would pass the deadline)."""
    if not is_retryable(error) or attempt >= policy.attempts:
        return None
    delay = backoff(policy, attempt, jitter)
    if elapsed + delay > policy.deadline:
        return None
    return delay
