"""Runs the provider's GCE calls with retries, and turns what still fails into ProviderError.

Layer: shell of the ``gcp`` provider: owns the clock, the random jitter and the sleeping that
:mod:`kfed_gcp.retry` (pure) decides about. All three are injectable so tests run retries in
no time. It never logs response bodies or credentials, only what was tried and the error.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from kfed_gcp.errors import GceError, provider_error
from kfed_gcp.retry import RetryPolicy, is_retryable, next_delay

log = logging.getLogger(__name__)

_T = TypeVar("_T")


class Caller:
    """Calls with bounded retries: exponential backoff with jitter on throttling, 5xx and
    transient GCE errors (see :mod:`kfed_gcp.retry`). Stateless between calls, so safe to
    share between concurrent ensures."""

    def __init__(
        self,
        policy: RetryPolicy,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.policy = policy
        self._sleep = sleep
        self._clock = clock
        self._jitter = jitter

    async def run(
        self,
        doing: str,
        call: Callable[[], Awaitable[_T]],
        *,
        passthrough: Callable[[GceError], bool] | None = None,
    ) -> _T:
        """Await ``call()`` until it succeeds or may not be retried.

        ``doing`` names what and where for messages (``"creating health check hc-x"``).
        An error ``passthrough`` accepts (NotFound, say, that the caller handles) is raised as
        the :class:`GceError` itself; any other failure as ``ProviderError``, chained.
        """
        start = self._clock()
        attempt = 0
        while True:
            attempt += 1
            try:
                return await call()
            except GceError as error:
                if passthrough is not None and passthrough(error):
                    raise
                delay = next_delay(
                    self.policy,
                    error,
                    attempt=attempt,
                    elapsed=self._clock() - start,
                    jitter=self._jitter(),
                )
                if delay is None:
                    tries = f" (after {attempt} tries)" if attempt > 1 else ""
                    raise provider_error(
                        f"{doing}{tries}", error, retryable=is_retryable(error)
                    ) from error
                log.info(
                    "gcp: %s failed (%s %s), try %d of %d in %.2fs",
                    doing,
                    error.status,
                    error.reason,
                    attempt + 1,
                    self.policy.attempts,
                    delay,
                )
                await self._sleep(delay)
