"""``kfed join`` against a stand-in hub: real HTTPS on loopback with a HubPki serving certificate,
and a real HubBootstrap over the in-memory store behind the two join endpoints.

The hub's real API serves these endpoints too; this stand-in keeps the client's test independent
of it, speaking the same JSON and Kubernetes Status shapes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from kfed_agent import config
from kfed_agent.join import JoinFailed, join_cluster, register_join
from kfed_core import identity, pki, tls
from kfed_hub.bootstrap import HubBootstrap
from kfed_hub.pki import HubPki
from kfed_hub.ports import JoinRefusal, JoinRefused
from kfed_hub.store.memory import MemoryStore

STATUS_CODES = {
    JoinRefusal.TOKEN_UNKNOWN: 401,
    JoinRefusal.TOKEN_USED: 401,
    JoinRefusal.TOKEN_EXPIRED: 401,
    JoinRefusal.NAME_TAKEN: 409,
    JoinRefusal.INVALID: 422,
}

KUBECONFIG = """\
apiVersion: v1
kind: Config
contexts:
- name: member
  context: {cluster: member, user: member}
current-context: member
"""


@dataclass
class Hub:
    address: str
    bootstrap: HubBootstrap
    store: MemoryStore
    join_bodies: list[dict[str, Any]] = field(default_factory=list)

    async def token(self) -> str:
        return (await self.bootstrap.create_token(ttl=dt.timedelta(hours=1))).token


@contextlib.asynccontextmanager
async def _serve(data_dir: Path, host: str = "127.0.0.1") -> AsyncIterator[Hub]:
    """A stand-in hub listening on ``host`` (its serving certificate names only the defaults)."""
    hub_pki = HubPki.load_or_create(data_dir, hosts=(), clock=lambda: dt.datetime.now(dt.UTC))
    store = MemoryStore()
    bootstrap = HubBootstrap(
        store=store, pki=hub_pki, api_address="127.0.0.1:0", sync_address="127.0.0.1:7443"
    )
    join_bodies: list[dict[str, Any]] = []

    async def cluster_info(request: web.Request) -> web.Response:
        info = bootstrap.cluster_info()
        return web.json_response(
            {
                "ca": info.ca_pem.decode(),
                "apiAddress": info.api_address,
                "syncAddress": info.sync_address,
            }
        )

    async def join(request: web.Request) -> web.Response:
        body = await request.json()
        join_bodies.append(body)
        try:
            grant = await bootstrap.join(
                name=body["name"], token=body["token"], csr_pem=body["csr"].encode()
            )
        except JoinRefused as exc:
            code = STATUS_CODES[exc.reason]
            status = {
                "kind": "Status",
                "apiVersion": "v1",
                "status": "Failure",
                "message": str(exc),
                "reason": exc.reason.value,
                "code": code,
            }
            return web.json_response(status, status=code)
        return web.json_response(
            {
                "cluster": grant.cluster,
                "certificate": grant.certificate_pem.decode(),
                "ca": grant.ca_pem.decode(),
                "syncAddress": grant.sync_address,
            }
        )

    app = web.Application()
    app.router.add_get("/kfed/v1/cluster-info", cluster_info)
    app.router.add_post("/kfed/v1/join", join)
    runner = web.AppRunner(app)
    await runner.setup()
    context = tls.server_ssl_context(
        cert_pem=hub_pki.serving.cert_pem,
        key_pem=hub_pki.serving.key_pem,
        ca_pem=hub_pki.ca_pem,
        client_certs="optional",
    )
    site = web.TCPSite(runner, host, 0, ssl_context=context)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield Hub(f"{host}:{port}", bootstrap, store, join_bodies)
    finally:
        await runner.cleanup()


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[Hub]:
    async with _serve(tmp_path / "hub") as serving:
        yield serving


@pytest.fixture
def kubeconfig(tmp_path: Path) -> Path:
    path = tmp_path / "kubeconfig"
    path.write_text(KUBECONFIG)
    return path.resolve()


async def _join(hub: Hub, kubeconfig: Path, out: Path, /, **overrides: Any) -> config.AgentConfig:
    arguments: dict[str, Any] = {
        "hub": hub.address,
        "token": await hub.token(),
        "ca_hash": hub.bootstrap.cluster_info().ca_hash,
        "kubeconfig": str(kubeconfig),
        "context": "member",
        "out": out,
    }
    arguments.update(overrides)
    name = arguments.pop("name", "eu-west")
    return await asyncio.to_thread(join_cluster, name, **arguments)


async def test_join_writes_a_config_the_agent_can_load(
    hub: Hub, kubeconfig: Path, tmp_path: Path
) -> None:
    out = tmp_path / "agent"
    written = await _join(hub, kubeconfig, out)
    loaded, credentials = config.load(out)
    assert loaded == written
    assert loaded.cluster == "eu-west" and loaded.hub_api == hub.address
    assert loaded.hub_sync == "127.0.0.1:7443"
    assert loaded.kubeconfig == str(kubeconfig) and loaded.context == "member"
    assert (out / "tls.key").stat().st_mode & 0o777 == 0o600
    assert out.stat().st_mode & 0o777 == 0o700
    cert = pki.load_certificate(credentials.cert_pem)
    assert identity.cluster_of(cert) == "eu-west"
    record = await hub.store.get_cluster("eu-west")
    assert record is not None and record.cert_serials == (identity.serial_hex(cert),)
    (body,) = hub.join_bodies
    assert "PRIVATE KEY" not in json.dumps(body)  # only the CSR travels


async def test_a_wrong_ca_hash_is_refused_before_the_token_is_sent(
    hub: Hub, kubeconfig: Path, tmp_path: Path
) -> None:
    wrong = "sha256:" + "0" * 64
    with pytest.raises(JoinFailed) as caught:
        await _join(hub, kubeconfig, tmp_path / "agent", ca_hash=wrong)
    message = str(caught.value)
    assert f"expected {wrong}" in message
    assert f"found {hub.bootstrap.cluster_info().ca_hash}" in message
    assert hub.join_bodies == []
    assert not (tmp_path / "agent").exists()


async def test_a_used_token_surfaces_the_hubs_message(
    hub: Hub, kubeconfig: Path, tmp_path: Path
) -> None:
    token = await hub.token()
    await _join(hub, kubeconfig, tmp_path / "one", token=token)
    with pytest.raises(JoinFailed, match=r"already used.*kfed token create"):
        await _join(hub, kubeconfig, tmp_path / "two", token=token, name="us-east")
    assert not (tmp_path / "two").exists()


async def test_a_duplicate_name_surfaces_the_hubs_message(
    hub: Hub, kubeconfig: Path, tmp_path: Path
) -> None:
    await _join(hub, kubeconfig, tmp_path / "one")
    with pytest.raises(JoinFailed, match='cluster "eu-west" has already joined'):
        await _join(hub, kubeconfig, tmp_path / "two")


async def test_local_mistakes_are_caught_before_the_hub_is_asked(
    hub: Hub, kubeconfig: Path, tmp_path: Path
) -> None:
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "agent.yaml").write_text("old")
    fresh = tmp_path / "agent"
    cases: list[tuple[Path, dict[str, Any], str]] = [
        (taken, {}, "not empty"),
        (fresh, {"context": "nope"}, 'no context "nope"'),
        (fresh, {"kubeconfig": str(tmp_path / "missing")}, "cannot read the kubeconfig"),
        (fresh, {"ca_hash": "md5:abc"}, "64 hex digits"),
        (fresh, {"name": "Bad_Name"}, "invalid cluster name"),
    ]
    for out, overrides, problem in cases:
        with pytest.raises(JoinFailed, match=problem):
            await _join(hub, kubeconfig, out, **overrides)
    assert hub.join_bodies == []


async def test_cli_reports_success_and_failure(
    hub: Hub, kubeconfig: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    parser = argparse.ArgumentParser(prog="kfed")
    register_join(parser.add_subparsers())
    common = ["--hub", hub.address, "--ca-hash", hub.bootstrap.cluster_info().ca_hash]
    common += ["--kubeconfig", str(kubeconfig), "--out", str(tmp_path / "agent")]
    token = await hub.token()
    args = parser.parse_args(["join", "eu-west", "--token", token, *common])
    assert await asyncio.to_thread(args.handler, args) == 0
    assert capsys.readouterr().out == (
        f'cluster "eu-west" joined; run: kfed agent run --config {tmp_path / "agent"}\n'
    )
    args = parser.parse_args(["join", "us-east", "--token", token, *common])
    assert await asyncio.to_thread(args.handler, args) == 1
    assert capsys.readouterr().err.startswith("error: --out ")


async def test_a_hub_whose_certificate_does_not_name_the_address_is_refused(
    kubeconfig: Path, tmp_path: Path
) -> None:
    async with _serve(tmp_path / "hub", host="127.0.0.2") as hub:
        with pytest.raises(JoinFailed, match="does not verify against its pinned CA"):
            await _join(hub, kubeconfig, tmp_path / "agent")
        assert hub.join_bodies == []


async def test_an_unreachable_hub_is_a_clear_error(
    hub: Hub, kubeconfig: Path, tmp_path: Path
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"127.0.0.1:{probe.getsockname()[1]}"
    with pytest.raises(JoinFailed, match=f"cannot reach the hub at https://{closed}/kfed/v1/"):
        await _join(hub, kubeconfig, tmp_path / "agent", hub=closed)
