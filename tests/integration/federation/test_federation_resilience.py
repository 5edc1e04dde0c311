"""Certificate rotation under a live stream, and a member API server that goes away."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from pathlib import Path

from fedharness import Federation, eventually, federation_of

from kfed_core import pki
from kfed_core.identity import serial_hex
from kfed_hub.stream import StreamSettings


def _serial(path: Path) -> str:
    return serial_hex(pki.load_certificate((path / "tls.crt").read_bytes()))


async def test_certificates_rotate_without_dropping_the_stream(tmp_path: Path) -> None:
    short = StreamSettings(agent_cert_ttl=dt.timedelta(seconds=6))
    async with federation_of(tmp_path, ("east",), stream=short) as fed:
        config_dir = tmp_path / "agent-east"
        first = _serial(config_dir)
        agent = next(iter(fed.agent_objects.values()))
        path = "/api/v1/namespaces/default/configmaps"
        await fed.api(
            "POST",
            path,
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "ticker"},
                "data": {"n": "0"},
            },
        )
        n = 0
        deadline = time.monotonic() + 20
        while _serial(config_dir) == first or n < 5:
            assert time.monotonic() < deadline, "the certificate was not rotated in time"
            n += 1
            current = await fed.api("GET", f"{path}/ticker")
            current["data"] = {"n": str(n)}
            await fed.api("PUT", f"{path}/ticker", current)
            await asyncio.sleep(0.2)

        async def latest_arrived() -> bool:
            obj = await fed.member("east", "v1", "ConfigMap", "default", "ticker")
            return obj is not None and obj["data"] == {"n": str(n)}

        await eventually(latest_arrived, what=f"update {n} to arrive")
        assert agent.metrics.reconnects._value.get() == 0, "the stream was dropped"
        # rapid updates must not look like drift to the agent (its own writes race its watch)
        assert agent.metrics.drift_repairs._value.get() == 0
        connects = fed.hub.metrics.stream_connects.labels("east")._value.get()
        assert connects == 1
        # The renewed certificate is the one a new connection uses, and the hub accepts it.
        await fed.stop_agent("east")
        await fed.start_agent("east")
        await eventually(lambda: _connected_again(fed), what="a reconnect with the new certificate")


async def _connected_again(fed: Federation) -> bool:
    return fed.hub.metrics.stream_connects.labels("east")._value.get() >= 2 and (
        (await fed.cluster_statuses())["east"] == "Ready"
    )


async def test_member_api_server_down_for_a_while(federation: Federation) -> None:
    fed = federation
    path = "/api/v1/namespaces/default/configmaps"
    await fed.api(
        "POST",
        path,
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "during-outage"},
            "data": {"v": "1"},
        },
    )

    def everywhere(value: str):  # type: ignore[no-untyped-def]
        return fed.everywhere(
            "ConfigMap",
            "default",
            "during-outage",
            lambda o: o is not None and o["data"] == {"v": value},
        )

    await eventually(lambda: everywhere("1"))
    west = fed.fleet.cluster("west")
    await west.set_api_server_running(False)
    current = await fed.api("GET", f"{path}/during-outage")
    current["data"] = {"v": "2"}
    await fed.api("PUT", f"{path}/during-outage", current)

    async def west_not_ready() -> bool:
        return (await fed.cluster_statuses())["west"] in ("NotReady", "Offline")

    await eventually(west_not_ready, what="west NotReady while its API server is down")
    await asyncio.sleep(0.5)
    await west.set_api_server_running(True)
    await eventually(lambda: everywhere("2"), what="west to converge after its API returned")
    await eventually(fed.all_ready, what="every cluster Ready again")
