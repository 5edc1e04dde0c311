"""Leader election over a coordination.k8s.io/v1 Lease: one active agent per member cluster.

Layer: ``kfed_agent`` service over the :class:`~kfed_agent.ports.KubeApi` seam (no ``kubernetes``
import). It follows client-go's leaderelection package:

* a Lease is free when its ``holderIdentity`` is empty, or when ``leaseDurationSeconds`` have
  passed on *this* elector's clock since it last saw the record change. Wall-clock
  ``renewTime`` values written by another machine are never compared with ours, so clock skew
  between nodes cannot hand the Lease to two agents;
* every write is a ``replace`` carrying the ``resourceVersion`` read just before, so of two
  standbys racing for a free Lease exactly one wins (the other gets ``Conflict``);
* the leader renews every ``renew_period``; when it cannot renew for ``lease_duration`` (API
  unreachable) it stops leading, measured from the moment it *sent* its last successful renewal,
  so it always gives up before any standby can see the Lease expire.

Timing comes from the injected ``clock``, ``wall`` and ``sleep`` (tests pass a fake clock).
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any

from kfed_agent.ports import KubeApi, KubeError, Manifest
from kfed_core.conventions import AGENT_LEASE_NAME, AGENT_NAMESPACE

log = logging.getLogger(__name__)

LEASE_API_VERSION = "coordination.k8s.io/v1"
MICROTIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # Kubernetes MicroTime: 2006-01-02T15:04:05.000000Z


def microtime(moment: dt.datetime) -> str:
    """``moment`` in Kubernetes MicroTime format (UTC, microseconds)."""
    return moment.astimezone(dt.UTC).strftime(MICROTIME_FORMAT)


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class LeaderElector:
    """Acquire, hold and release the agent Lease of one member cluster.

    Use: ``await acquire()`` (returns once leading), run the work beside ``await hold()``
    (returns when leadership is lost; stop the work then), and ``await release()`` on shutdown
    so a standby takes over at its next try instead of after the lease duration. Cancelling
    ``hold()`` keeps the Lease (``is_leader`` stays True) until it expires or is released.
    """

    def __init__(
        self,
        kube: KubeApi,
        *,
        identity: str,
        namespace: str = AGENT_NAMESPACE,
        name: str = AGENT_LEASE_NAME,
        lease_duration: float = 15.0,
        renew_period: float = 5.0,
        retry_period: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], dt.datetime] = _utc_now,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if not identity:
            raise ValueError("the leader election identity must not be empty")
        if not 0 < renew_period < lease_duration or retry_period <= 0:
            raise ValueError(
                f"leader election timings need 0 < renew_period ({renew_period}) < "
                f"lease_duration ({lease_duration}) and retry_period ({retry_period}) > 0"
            )
        self.kube = kube
        self.identity = identity
        self.namespace = namespace
        self.name = name
        self.lease_duration = lease_duration
        self.renew_period = renew_period
        self.retry_period = retry_period
        self._clock = clock
        self._wall = wall
        self._sleep = sleep
        self._leader = False
        self._last_renew = 0.0  # clock time when the last successful write was started
        self._observed: dict[str, Any] | None = None  # the Lease spec last seen
        self._observed_at = 0.0  # clock time when it was first seen
        self._last_problem = ""

    @property
    def is_leader(self) -> bool:
        """True from a successful :meth:`acquire` until leadership is lost or released."""
        return self._leader

    async def acquire(self) -> None:
        """Wait until this elector holds the Lease (retrying every ``retry_period``)."""
        while True:
            try:
                if await self._try_acquire_or_renew():
                    log.info("%s leads (lease %s/%s)", self.identity, self.namespace, self.name)
                    return
            except KubeError as exc:
                self._report(exc)
            await self._sleep(self.retry_period)

    async def hold(self) -> None:
        """Renew until leadership is lost (another holder, or no renewal for the lease
        duration); then ``is_leader`` is False and this returns. Returns at once if not leading."""
        next_try = self._last_renew + self.renew_period
        while self._leader:
            deadline = self._last_renew + self.lease_duration
            wait = next_try - self._clock()
            if wait > 0:
                await self._sleep(min(wait, max(deadline - self._clock(), 0.0)))
            if self._clock() >= deadline:
                log.warning(
                    "%s could not renew lease %s/%s for %.1f s; stepping down",
                    self.identity,
                    self.namespace,
                    self.name,
                    self.lease_duration,
                )
                self._leader = False
                return
            try:
                # A renewal that would land after the deadline is worthless: cut it off.
                async with asyncio.timeout(max(deadline - self._clock(), 0.0)):
                    held = await self._try_acquire_or_renew()
            except (KubeError, TimeoutError) as exc:
                self._report(exc)
                next_try = self._clock() + self.retry_period
                continue
            if not held:
                log.warning("%s lost lease %s/%s to another holder", self.identity, *self._where())
                return
            next_try = self._last_renew + self.renew_period

    async def release(self) -> None:
        """Give the Lease up (holderIdentity cleared) so a standby takes over at once. Best
        effort: if the API cannot be reached, the Lease simply expires."""
        if not self._leader:
            return
        self._leader = False
        try:
            lease = await self.kube.get(LEASE_API_VERSION, "Lease", self.namespace, self.name)
            spec = (lease or {}).get("spec") or {}
            if lease is None or spec.get("holderIdentity") != self.identity:
                return
            now = microtime(self._wall())
            lease["spec"] = {
                **spec,
                "holderIdentity": "",
                "leaseDurationSeconds": 1,
                "acquireTime": now,
                "renewTime": now,
            }
            await self.kube.replace(lease)
            log.info("%s released lease %s/%s", self.identity, self.namespace, self.name)
        except KubeError as exc:
            log.warning("%s could not release lease %s/%s: %s", self.identity, *self._where(), exc)

    # -- internals -----------------------------------------------------------------------------

    def _where(self) -> tuple[str, str]:
        return self.namespace, self.name

    def _report(self, exc: BaseException) -> None:
        problem = str(exc) or type(exc).__name__
        conflict = isinstance(exc, KubeError) and exc.reason == "Conflict"
        if problem != self._last_problem and not conflict:
            log.warning("leader election for %s: %s", self.identity, problem)
        self._last_problem = problem

    def _spec(self, previous: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
        spec = dict(previous)
        if previous.get("holderIdentity") != self.identity:
            spec["acquireTime"] = microtime(now)
            spec["leaseTransitions"] = int(previous.get("leaseTransitions") or 0) + (
                1 if previous else 0
            )
        spec["holderIdentity"] = self.identity
        spec["leaseDurationSeconds"] = max(1, math.ceil(self.lease_duration))
        spec["renewTime"] = microtime(now)
        return spec

    def _observe(self, spec: dict[str, Any], at: float) -> None:
        if spec != self._observed:
            self._observed = copy.deepcopy(spec)
            self._observed_at = at

    def _free(self, spec: dict[str, Any], now: float) -> bool:
        holder = spec.get("holderIdentity") or ""
        if not holder or holder == self.identity:
            return True
        duration = spec.get("leaseDurationSeconds") or math.ceil(self.lease_duration)
        return now >= self._observed_at + float(duration)

    async def _try_acquire_or_renew(self) -> bool:
        started, now = self._clock(), self._wall()
        lease = await self.kube.get(LEASE_API_VERSION, "Lease", self.namespace, self.name)
        if lease is None:
            stored = await self._create(self._spec({}, now))
        else:
            spec = dict(lease.get("spec") or {})
            self._observe(spec, started)
            if not self._free(spec, started):
                self._leader = False
                return False
            lease["spec"] = self._spec(spec, now)
            stored = await self.kube.replace(lease)  # carries the resourceVersion just read
        self._observe(dict(stored.get("spec") or {}), started)
        self._leader = True
        self._last_renew = started
        self._last_problem = ""
        return True

    async def _create(self, spec: dict[str, Any]) -> Manifest:
        lease = {
            "apiVersion": LEASE_API_VERSION,
            "kind": "Lease",
            "metadata": {"namespace": self.namespace, "name": self.name},
            "spec": spec,
        }
        try:
            return await self.kube.create(lease)
        except KubeError as exc:
            if exc.status != 404:
                raise
        # The namespace is missing (a fresh cluster): make it, then try once more.
        namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": self.namespace}}
        try:
            await self.kube.create(namespace)
        except KubeError as exc:
            if exc.reason != "AlreadyExists":
                raise
        return await self.kube.create(lease)
