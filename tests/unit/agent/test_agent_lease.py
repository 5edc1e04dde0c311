"""Unit tests for ``kfed_agent.lease``: leader election over a Lease, on a fake clock.

The electors sleep on :class:`FakeTime`, which jumps straight to the next wake-up, so the tests
cover tens of simulated seconds in milliseconds and never race the wall clock.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import heapq
import itertools
import re
from collections.abc import Callable

import pytest

from kfed_agent.fake_kube import FakeKubeApi
from kfed_agent.lease import LEASE_API_VERSION, LeaderElector, microtime
from kfed_agent.ports import KubeError, Manifest

EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
MICROTIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


class FakeTime:
    """A monotonic clock, a wall clock and ``sleep`` that only move when the test says so."""

    def __init__(self) -> None:
        self.now = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def clock(self) -> float:
        return self.now

    def wall(self) -> dt.datetime:
        return EPOCH + dt.timedelta(seconds=self.now)

    async def sleep(self, seconds: float) -> None:
        waker: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(seconds, 0.0), next(self._order), waker))
        await waker

    async def run_until(self, condition: Callable[[], bool], *, limit: float) -> None:
        """Advance from wake-up to wake-up until ``condition`` holds; fail past ``limit``."""
        while True:
            for _ in range(20):  # let woken tasks run to their next sleep
                await asyncio.sleep(0)
            if condition():
                return
            assert self._sleepers, "nothing is scheduled and the condition does not hold"
            at, _, waker = heapq.heappop(self._sleepers)
            assert at <= limit, f"condition still false at t={at} (limit {limit})"
            self.now = max(self.now, at)
            if not waker.done():
                waker.set_result(None)

    async def advance(self, seconds: float) -> None:
        end = self.now + seconds
        await self.run_until(
            lambda: bool(not self._sleepers or self._sleepers[0][0] > end), limit=end
        )
        self.now = end


@pytest.fixture
def time_() -> FakeTime:
    return FakeTime()


def elector(kube: FakeKubeApi, time_: FakeTime, identity: str) -> LeaderElector:
    return LeaderElector(
        kube, identity=identity, clock=time_.clock, wall=time_.wall, sleep=time_.sleep
    )


async def lease_of(kube: FakeKubeApi) -> Manifest:
    lease = await kube.get(LEASE_API_VERSION, "Lease", "kfed-system", "kfed-agent")
    assert lease is not None
    return lease


async def stop(*tasks: asyncio.Task[None]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def test_microtime_is_utc_with_microseconds() -> None:
    moment = dt.datetime(2026, 5, 4, 3, 2, 1, 7, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert microtime(moment) == "2026-05-04T01:02:01.000007Z"


def test_timings_that_cannot_work_are_refused() -> None:
    with pytest.raises(ValueError, match="renew_period"):
        LeaderElector(FakeKubeApi(), identity="a", lease_duration=5, renew_period=5)
    with pytest.raises(ValueError, match="identity"):
        LeaderElector(FakeKubeApi(), identity="")


async def test_first_elector_creates_the_namespace_and_the_lease(time_: FakeTime) -> None:
    kube = FakeKubeApi(namespaces=("default",))
    a = elector(kube, time_, "a")

    await a.acquire()

    assert a.is_leader
    assert await kube.get("v1", "Namespace", "", "kfed-system") is not None
    spec = (await lease_of(kube))["spec"]
    assert spec["holderIdentity"] == "a"
    assert spec["leaseDurationSeconds"] == 15
    assert spec["leaseTransitions"] == 0
    assert MICROTIME.match(spec["renewTime"]) and MICROTIME.match(spec["acquireTime"])


async def test_standby_waits_while_the_leader_renews(time_: FakeTime) -> None:
    kube = FakeKubeApi()
    a, b = elector(kube, time_, "a"), elector(kube, time_, "b")
    await a.acquire()
    holding = asyncio.create_task(a.hold())
    waiting = asyncio.create_task(b.acquire())

    await time_.advance(60)

    assert a.is_leader and not b.is_leader
    assert not waiting.done() and not holding.done()
    assert (await lease_of(kube))["spec"]["renewTime"] == microtime(
        time_.wall() - dt.timedelta(seconds=60 % 5)
    )
    await stop(holding, waiting)


async def test_standby_takes_over_at_once_after_the_leader_releases(time_: FakeTime) -> None:
    kube = FakeKubeApi()
    a, b = elector(kube, time_, "a"), elector(kube, time_, "b")
    await a.acquire()
    waiting = asyncio.create_task(b.acquire())
    await time_.advance(3)

    await a.release()
    released_at = time_.now
    await time_.run_until(waiting.done, limit=released_at + b.retry_period)

    assert b.is_leader and not a.is_leader
    spec = (await lease_of(kube))["spec"]
    assert (spec["holderIdentity"], spec["leaseTransitions"]) == ("b", 1)


async def test_standby_takes_over_when_the_leader_stops_renewing(time_: FakeTime) -> None:
    kube = FakeKubeApi()
    a, b = elector(kube, time_, "a"), elector(kube, time_, "b")
    await a.acquire()  # and never renews: it "died"
    waiting = asyncio.create_task(b.acquire())

    await time_.run_until(waiting.done, limit=15 + b.retry_period)

    assert time_.now >= 15, "the lease must not be taken before it expired"
    assert b.is_leader
    assert (await lease_of(kube))["spec"]["holderIdentity"] == "b"


async def test_leader_steps_down_when_the_api_is_unreachable_for_the_lease_duration(
    time_: FakeTime,
) -> None:
    kube = FakeKubeApi()
    a = elector(kube, time_, "a")
    await a.acquire()
    kube.set_reachable(False)

    holding = asyncio.create_task(a.hold())
    await time_.run_until(holding.done, limit=15)

    assert time_.now == pytest.approx(15)
    assert not a.is_leader


async def test_leader_survives_an_outage_shorter_than_the_lease(time_: FakeTime) -> None:
    kube = FakeKubeApi()
    a = elector(kube, time_, "a")
    await a.acquire()
    holding = asyncio.create_task(a.hold())
    await time_.advance(4)
    kube.set_reachable(False)
    await time_.advance(8)
    kube.set_reachable(True)
    await time_.advance(30)

    assert a.is_leader and not holding.done()
    await stop(holding)


async def test_leader_notices_another_holder_at_its_next_renewal(time_: FakeTime) -> None:
    kube = FakeKubeApi()
    a = elector(kube, time_, "a")
    await a.acquire()
    lease = await lease_of(kube)
    lease["spec"]["holderIdentity"] = "intruder"
    await kube.replace(lease)

    holding = asyncio.create_task(a.hold())
    await time_.run_until(holding.done, limit=a.renew_period)

    assert not a.is_leader


async def test_a_conflicting_write_is_retried(time_: FakeTime) -> None:
    kube = FakeKubeApi()
    a = elector(kube, time_, "a")
    await a.acquire()
    await a.release()
    conflict = KubeError("modified", status=409, reason="Conflict")
    kube.fail_next("Lease", "kfed-agent", conflict, verb="replace")

    waiting = asyncio.create_task(a.acquire())
    await time_.run_until(waiting.done, limit=a.retry_period)

    assert a.is_leader


async def test_acquire_keeps_trying_while_the_api_is_unreachable(time_: FakeTime) -> None:
    kube = FakeKubeApi()
    kube.set_reachable(False)
    a = elector(kube, time_, "a")
    waiting = asyncio.create_task(a.acquire())
    await time_.advance(10)
    assert not waiting.done()

    kube.set_reachable(True)
    await time_.run_until(waiting.done, limit=10 + a.retry_period)

    assert a.is_leader


async def test_release_is_best_effort_when_the_api_is_unreachable(time_: FakeTime) -> None:
    kube = FakeKubeApi()
    a = elector(kube, time_, "a")
    await a.acquire()
    kube.set_reachable(False)

    await a.release()

    assert not a.is_leader
    kube.set_reachable(True)
    assert (await lease_of(kube))["spec"]["holderIdentity"] == "a"
