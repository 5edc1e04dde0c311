"""A DaemonSet's agent keeps its renewed certificate in its credentials Secret, so a restarted
pod (which starts from the Secret) uses the newest certificate, not its install-time one."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import datetime as dt
import shutil
from pathlib import Path

from fedharness import FAST_AGENT, eventually, federation_of

from kfed_agent.agent import Agent
from kfed_core import pki
from kfed_core.identity import serial_hex
from kfed_hub.stream import StreamSettings

SECRET = ("kfed-system", "kfed-agent-credentials")


def _serial(pem: bytes) -> str:
    return serial_hex(pki.load_certificate(pem))


async def test_renewed_certificates_go_to_the_secret_and_a_restart_starts_from_them(
    tmp_path: Path,
) -> None:
    short = StreamSettings(agent_cert_ttl=dt.timedelta(seconds=8))
    async with federation_of(tmp_path, ("east",), stream=short) as fed:
        await fed.stop_agent("east")
        installed = tmp_path / "installed"  # what `kfed agent manifests` put in the Secret
        shutil.copytree(tmp_path / "agent-east", installed)
        kube = fed.kubes["east"]
        # kfed-system exists already: the first agent made it for its leader Lease.
        files = ("agent.yaml", "ca.crt", "tls.crt", "tls.key")
        await kube.create(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": SECRET[1], "namespace": SECRET[0]},
                "data": {f: base64.b64encode((installed / f).read_bytes()).decode() for f in files},
            }
        )
        first = _serial((installed / "tls.crt").read_bytes())

        async def stored_serial() -> str:
            secret = await kube.get("v1", "Secret", *SECRET)
            assert secret is not None
            return _serial(base64.b64decode(secret["data"]["tls.crt"]))

        pod = tmp_path / "pod-1"
        shutil.copytree(installed, pod)
        agent = Agent(config_dir=pod, kube=kube, settings=FAST_AGENT, credentials_secret=SECRET)
        fed.agents["east/pod-1"] = asyncio.create_task(agent.run())

        async def renewed_and_stored() -> bool:
            renewed = _serial((pod / "tls.crt").read_bytes())
            return renewed != first and await stored_serial() == renewed

        await eventually(renewed_and_stored, within=20, what="the renewed certificate stored")
        await fed.stop_agent("east", identity="pod-1")

        # A new pod starts from the Secret's install-time files in a fresh directory (as the
        # init container copies them), i.e. from the first certificate: it must take the
        # newer one from the Secret when it leads.
        stored = await stored_serial()
        restarted = tmp_path / "pod-2"
        shutil.copytree(installed, restarted)
        no_rotation = dataclasses.replace(FAST_AGENT, rotate=False)  # only adoption may change it
        again = Agent(
            config_dir=restarted, kube=kube, settings=no_rotation, credentials_secret=SECRET
        )
        fed.agents["east/pod-2"] = asyncio.create_task(again.run())

        async def adopted() -> bool:
            return _serial((restarted / "tls.crt").read_bytes()) == stored

        await eventually(adopted, within=20, what="the restarted agent on the stored certificate")
        await eventually(
            lambda: _ready(fed), within=20, what="the restarted agent connected and Ready"
        )


async def _ready(fed: object) -> bool:
    statuses = await fed.cluster_statuses()  # type: ignore[attr-defined]
    return bool(statuses.get("east") == "Ready")
