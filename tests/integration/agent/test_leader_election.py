"""Leader election between agents on one simulated cluster, over real HTTPS (short leases)."""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest

from kfed_agent.kube import RealKubeApi
from kfed_agent.lease import LEASE_API_VERSION, LeaderElector
from kfed_local.sim.cluster import SimOptions
from kfed_local.sim.config import ClusterSpec
from kfed_local.sim.fleet import SimFleet

LEASE = 1.0  # seconds; the Lease records ceil(LEASE) = 1
RENEW = 0.3
RETRY = 0.1


@pytest.fixture
async def fleet():
    spec = ClusterSpec(name="east", region="us-east1", zones=("us-east1-b",), nodes=1)
    async with SimFleet([spec], options=SimOptions(bookmark_interval=0.5)) as running:
        yield running


@pytest.fixture
async def apis(fleet, tmp_path):
    """Two agents' own API clients, as two pods of the DaemonSet would have."""
    path = str(fleet.write_kubeconfig(tmp_path / "kubeconfig"))
    opened = [await asyncio.to_thread(RealKubeApi.from_kubeconfig, path, "east") for _ in "ab"]
    yield opened
    for api in opened:
        await api.close()


def electors(apis):
    return [
        LeaderElector(
            api, identity=name, lease_duration=LEASE, renew_period=RENEW, retry_period=RETRY
        )
        for api, name in zip(apis, "ab", strict=True)
    ]


async def holder(api):
    lease = await api.get(LEASE_API_VERSION, "Lease", "kfed-system", "kfed-agent")
    return (lease or {}).get("spec", {}).get("holderIdentity")


async def stop(*tasks):
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def test_exactly_one_of_two_electors_leads(apis):
    a, b = electors(apis)
    tasks = {asyncio.create_task(e.acquire()): e for e in (a, b)}
    done, pending = await asyncio.wait(tasks, timeout=5, return_when=asyncio.FIRST_COMPLETED)
    assert len(done) == 1, "one elector must win the free Lease"
    leader = tasks[done.pop()]
    standby = a if leader is b else b
    holding = asyncio.create_task(leader.hold())

    # The standby keeps waiting through several renewals of the leader.
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(asyncio.shield(next(iter(pending))), timeout=2 * LEASE)

    assert leader.is_leader and not standby.is_leader
    assert await holder(apis[0]) == leader.identity
    assert await apis[0].get("v1", "Namespace", "", "kfed-system") is not None
    await stop(holding, *pending)


async def test_standby_takes_over_at_once_when_the_leader_releases(apis):
    a, b = electors(apis)
    await a.acquire()
    holding = asyncio.create_task(a.hold())
    waiting = asyncio.create_task(b.acquire())

    await stop(holding)
    released = time.monotonic()
    await a.release()
    await asyncio.wait_for(waiting, timeout=5)

    assert time.monotonic() - released < LEASE, "release must not make the standby wait it out"
    assert b.is_leader and not a.is_leader
    assert await holder(apis[1]) == "b"


async def test_standby_takes_over_when_the_leader_stops_renewing(apis):
    a, b = electors(apis)
    await a.acquire()
    stopped = time.monotonic()  # a never renews: it died
    await asyncio.wait_for(b.acquire(), timeout=5)

    assert time.monotonic() - stopped >= LEASE, "the Lease was taken before it expired"
    assert await holder(apis[1]) == "b"


async def test_leader_steps_down_when_its_api_server_is_down(fleet, apis):
    a, _ = electors(apis)
    await a.acquire()
    holding = asyncio.create_task(a.hold())
    cluster = fleet.cluster("east")
    await cluster.set_api_server_running(False)
    down = time.monotonic()
    try:
        await asyncio.wait_for(holding, timeout=5)
        assert not a.is_leader
        assert time.monotonic() - down <= LEASE + RENEW, "it must stop before the Lease expires"
    finally:
        await cluster.set_api_server_running(True)
        with contextlib.suppress(asyncio.CancelledError):
            await stop(holding)
