"""How the OpenStack provider calls the cloud: retries, waiting out PENDING_*, error messages.

Layer: ``kfed_openstack`` shell helper. :class:`Calls` wraps every :class:`OpenStackApi` call in
the retry policy, waits (polling with a deadline) for an Octavia load balancer to be ACTIVE
before the next change, and turns a :class:`CloudError` that is not retried away into a
:class:`ProviderError` saying what failed, on which resource, and what to do. The clock, the
sleep and the random source are injectable so tests never wait for real.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from kfed_core.providers import ProviderError
from kfed_openstack.api import CloudError, LoadBalancer, OpenStackApi
from kfed_openstack.retry import Failure, RetryPolicy, classify, retryable, retrying

_T = TypeVar("_T")

_HINTS = {
    Failure.THROTTLED: "the cloud is throttling kfed; it will try again later",
    Failure.TRANSIENT: "the cloud is failing or busy; kfed will try again later",
    Failure.CONFLICT: "something else holds that name or slot; remove it or rename the Ingress",
}


@dataclass(slots=True, kw_only=True)
class Calls:
    """The provider's way to the cloud. ``poll_interval``/``poll_timeout`` bound the waits."""

    api: OpenStackApi
    retry: RetryPolicy
    poll_interval: float
    poll_timeout: float
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    clock: Callable[[], float] = time.monotonic
    draw: Callable[[], float] = field(default=random.random)

    async def __call__(self, doing: str, call: Callable[[], Awaitable[_T]]) -> _T:
        """``call()`` with retries; a ProviderError naming ``doing`` when it fails for good."""
        try:
            return await retrying(
                call, self.retry, sleep=self.sleep, clock=self.clock, draw=self.draw
            )
        except CloudError as e:
            raise provider_error(doing, e) from e

    async def absent_ok(self, doing: str, call: Callable[[], Awaitable[None]]) -> None:
        """Like calling, but NotFound counts as done (deletes)."""
        try:
            await retrying(call, self.retry, sleep=self.sleep, clock=self.clock, draw=self.draw)
        except CloudError as e:
            if classify(e) is not Failure.NOT_FOUND:
                raise provider_error(doing, e) from e

    async def wait_active(self, region: str, lb: LoadBalancer) -> LoadBalancer:
        """Read ``lb`` until it is ACTIVE (Octavia refuses changes while PENDING_*); call it
        after every change. ERROR and a passing deadline are ProviderErrors, the first not
        retryable, the second retryable."""
        deadline = self.clock() + self.poll_timeout
        while True:
            current = await self(
                f"reading load balancer {lb.name} in region {region}",
                lambda: self.api.get_load_balancer(region, lb.id),
            )
            status = current.provisioning_status
            if status == "ACTIVE":
                return current
            if status == "ERROR":
                raise ProviderError(
                    f"Octavia load balancer {lb.name} ({lb.id}) in region {region} is in ERROR; "
                    "delete it (kfed will create it again) or ask the cloud's operators why it "
                    "failed",
                    retryable=False,
                )
            if self.clock() >= deadline:
                raise ProviderError(
                    f"Octavia load balancer {lb.name} ({lb.id}) in region {region} is still "
                    f"{status} after {self.poll_timeout:g} s; kfed will check again later "
                    "(raise the 'pollTimeout' option if the cloud is slow)",
                    retryable=True,
                )
            await self.sleep(self.poll_interval)

    async def wait_gone(self, region: str, lb: LoadBalancer) -> None:
        """Poll until ``lb`` is deleted (404), within the poll deadline."""
        deadline = self.clock() + self.poll_timeout
        while True:
            try:
                current = await retrying(
                    lambda: self.api.get_load_balancer(region, lb.id),
                    self.retry,
                    sleep=self.sleep,
                    clock=self.clock,
                    draw=self.draw,
                )
            except CloudError as e:
                if classify(e) is Failure.NOT_FOUND:
                    return
                raise provider_error(f"reading load balancer {lb.name} in {region}", e) from e
            if current.provisioning_status == "ERROR":
                raise ProviderError(
                    f"deleting Octavia load balancer {lb.name} ({lb.id}) in region {region} "
                    "failed: it is in ERROR; ask the cloud's operators to remove it",
                    retryable=False,
                )
            if self.clock() >= deadline:
                raise ProviderError(
                    f"Octavia load balancer {lb.name} ({lb.id}) in region {region} is still "
                    f"{current.provisioning_status} after {self.poll_timeout:g} s of deleting; "
                    "kfed will check again later",
                    retryable=True,
                )
            await self.sleep(self.poll_interval)


def provider_error(doing: str, e: CloudError) -> ProviderError:
    """A ProviderError for a failed call: what, where (in ``doing`` and the error), what to do."""
    kind = classify(e)
    if e.status in (401, 403):
        hint = (
            "check the credentials (the environment variable named by 'passwordEnv' or "
            "'applicationCredentialSecretEnv', or the clouds.yaml entry) and the project's roles"
        )
    elif e.status == 413 or "quota" in str(e).lower():
        hint = "a quota is exhausted; raise it or free resources"
    elif kind is Failure.NOT_FOUND:
        # Something found a moment ago vanished (deleted by hand or by a concurrent delete):
        # the next ensure starts from what exists and creates it again.
        hint = "it vanished while kfed worked on it; kfed will try again"
        return ProviderError(f"{doing}: {e}; {hint}", retryable=True)
    else:
        hint = _HINTS.get(kind, "fix the request's cause in the provider's options or the cloud")
    return ProviderError(f"{doing}: {e}; {hint}", retryable=retryable(e))
