"""The HTTPS API on real TLS on loopback, with the in-memory store and fakes, for the CLI tests.

The API runs with the in-memory store, the fake cluster directory and bootstrap and, for
``placed_hub``, fake placements (what the reconciler decided); certificates come from
``kfed_core.pki``. The CLI runs in a worker thread (it blocks) with ``KFED_CONFIG`` pointing at a
config written by ``save_config``, exactly as after ``kfed hub serve``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from prometheus_client import CollectorRegistry

from kfed_core import pki, tls
from kfed_hub.api import build_api_app
from kfed_hub.api.fakes import FakeBootstrap, FakeClusterDirectory, FakePlacements, cluster_view
from kfed_hub.cli.main import main
from kfed_hub.cliconfig import save_config
from kfed_hub.store.memory import MemoryStore

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "federation-2016"
ZONEFETCH = EXAMPLES / "configmaps" / "zonefetch.yaml"


@dataclass(frozen=True)
class Pki:
    ca: pki.KeyPair
    server: pki.KeyPair
    admin: pki.KeyPair
    cluster: pki.KeyPair
    stranger: pki.KeyPair  # an admin URI, but signed by another CA


def _leaf(ca: pki.KeyPair, name: str, uri: str, *, server: bool = False) -> pki.KeyPair:
    spec = pki.LeafSpec(
        common_name=name,
        uris=[uri],
        ip_addresses=["127.0.0.1"] if server else [],
        server=server,
        client=not server,
    )
    return pki.issue_key_pair(ca, spec, now=dt.datetime.now(dt.UTC))


@pytest.fixture(scope="module")
def certs() -> Pki:
    now = dt.datetime.now(dt.UTC)
    ca, other = pki.create_ca("hub CA", now=now), pki.create_ca("other CA", now=now)
    return Pki(
        ca=ca,
        server=_leaf(ca, "hub", "spiffe://kfed/hub", server=True),
        admin=_leaf(ca, "alice", "spiffe://kfed/admin/alice"),
        cluster=_leaf(ca, "east", "spiffe://kfed/cluster/east"),
        stranger=_leaf(other, "mallory", "spiffe://kfed/admin/mallory"),
    )


@dataclass
class Hub:
    url: str
    store: MemoryStore
    clusters: FakeClusterDirectory
    certs: Pki
    placements: FakePlacements | None = None

    def context(self, who: pki.KeyPair | None) -> ssl.SSLContext:
        if who is None:
            return tls.client_ssl_context(ca_pem=self.certs.ca.cert_pem)
        return tls.client_ssl_context(
            ca_pem=self.certs.ca.cert_pem, cert_pem=who.cert_pem, key_pem=who.key_pem
        )


async def serve(
    certs: Pki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, placements: FakePlacements | None
) -> AsyncIterator[Hub]:
    store = MemoryStore()
    clusters = FakeClusterDirectory([cluster_view("east"), cluster_view("west", region="eu")])
    app = build_api_app(
        store=store,
        clusters=clusters,
        bootstrap=FakeBootstrap(),
        metrics_registry=CollectorRegistry(),
        placements=placements,
    )
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server_context = tls.server_ssl_context(
        cert_pem=certs.server.cert_pem,
        key_pem=certs.server.key_pem,
        ca_pem=certs.ca.cert_pem,
        client_certs="optional",
    )
    await web.SockSite(runner, sock, ssl_context=server_context).start()
    url = f"https://127.0.0.1:{sock.getsockname()[1]}"
    config = tmp_path / "kfed" / "config"
    save_config(
        config,
        server=url,
        ca_pem=certs.ca.cert_pem,
        cert_pem=certs.admin.cert_pem,
        key_pem=certs.admin.key_pem,
    )
    monkeypatch.setenv("KFED_CONFIG", str(config))
    try:
        yield Hub(url=url, store=store, clusters=clusters, certs=certs, placements=placements)
    finally:
        await runner.cleanup()
        await store.close()


@pytest.fixture
async def hub(certs: Pki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Hub]:
    """A hub without placements: every object is placed in every joined cluster."""
    async for served in serve(certs, tmp_path, monkeypatch, None):
        yield served


@pytest.fixture
async def placed_hub(
    certs: Pki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Hub]:
    """A hub whose placements the test decides (``hub.placements``)."""
    async for served in serve(certs, tmp_path, monkeypatch, FakePlacements()):
        yield served


async def status_of(hub: Hub, who: pki.KeyPair | None, method: str, path: str) -> int:
    connector = aiohttp.TCPConnector(ssl=hub.context(who))
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        session.request(method, hub.url + path) as response,
    ):
        if response.status >= 400:
            assert (await response.json())["kind"] == "Status"
        return response.status


async def kfed(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = await asyncio.to_thread(main, list(argv))
    out, err = capsys.readouterr()
    return code, out, err
