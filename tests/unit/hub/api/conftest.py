"""Fixtures for the API tests: a real TLS server on loopback with the MemoryStore and fakes.

Certificates are made per test session by ``kfed_core.pki``: a hub CA, the hub's serving
certificate, an operator's admin certificate and an agent's cluster certificate.
"""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client import CollectorRegistry

from kfed_core import pki, tls
from kfed_hub.api import build_api_app
from kfed_hub.api.fakes import FakeBootstrap, FakeClusterDirectory, FakePlacements, cluster_view
from kfed_hub.store.memory import MemoryStore

LIMIT = 64 * 1024  # small, so the size tests stay fast


@dataclass(frozen=True, slots=True, kw_only=True)
class Certificates:
    ca: pki.KeyPair
    server: pki.KeyPair
    admin: pki.KeyPair
    cluster: pki.KeyPair

    def server_context(self) -> ssl.SSLContext:
        return tls.server_ssl_context(
            cert_pem=self.server.cert_pem,
            key_pem=self.server.key_pem,
            ca_pem=self.ca.cert_pem,
            client_certs="optional",
        )

    def client_context(self, who: pki.KeyPair | None) -> ssl.SSLContext:
        if who is None:
            return tls.client_ssl_context(ca_pem=self.ca.cert_pem)
        return tls.client_ssl_context(
            ca_pem=self.ca.cert_pem, cert_pem=who.cert_pem, key_pem=who.key_pem
        )


@pytest.fixture(scope="session")
def certificates() -> Certificates:
    now = dt.datetime.now(dt.UTC)
    ca = pki.create_ca("kfed test hub CA", now=now)

    def leaf(name: str, *, uri: str, server: bool = False) -> pki.KeyPair:
        spec = pki.LeafSpec(
            common_name=name,
            uris=[uri],
            dns_names=["localhost"] if server else [],
            ip_addresses=["127.0.0.1"] if server else [],
            server=server,
            client=not server,
        )
        return pki.issue_key_pair(ca, spec, now=now)

    return Certificates(
        ca=ca,
        server=leaf("hub", uri="spiffe://kfed/hub", server=True),
        admin=leaf("alice", uri="spiffe://kfed/admin/alice"),
        cluster=leaf("east", uri="spiffe://kfed/cluster/east"),
    )


Client = TestClient[web.Request, web.Application]


@pytest.fixture
async def store() -> AsyncIterator[MemoryStore]:
    opened = MemoryStore()
    yield opened
    await opened.close()


@pytest.fixture
def clusters() -> FakeClusterDirectory:
    return FakeClusterDirectory([cluster_view("east"), cluster_view("west")])


@pytest.fixture
def bootstrap() -> FakeBootstrap:
    return FakeBootstrap()


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


async def start_client(
    certificates: Certificates, app: web.Application, who: pki.KeyPair | None
) -> Client:
    """A client of ``app`` served over TLS, presenting ``who``'s certificate (if any)."""
    server = TestServer(app)
    await server.start_server(ssl=certificates.server_context())
    connector = aiohttp.TCPConnector(ssl=certificates.client_context(who))
    client = TestClient(server, connector=connector)
    await client.start_server()
    return client


@pytest.fixture
async def api(
    certificates: Certificates,
    store: MemoryStore,
    clusters: FakeClusterDirectory,
    bootstrap: FakeBootstrap,
    registry: CollectorRegistry,
) -> AsyncIterator[Client]:
    """An operator's client of the API (admin certificate)."""
    app = build_api_app(
        store=store,
        clusters=clusters,
        bootstrap=bootstrap,
        metrics_registry=registry,
        max_body_bytes=LIMIT,
    )
    client = await start_client(certificates, app, certificates.admin)
    yield client
    await client.close()


@pytest.fixture
def placements() -> FakePlacements:
    return FakePlacements()


@pytest.fixture
async def placed_api(
    certificates: Certificates,
    store: MemoryStore,
    clusters: FakeClusterDirectory,
    bootstrap: FakeBootstrap,
    placements: FakePlacements,
) -> AsyncIterator[Client]:
    """Like ``api``, with the reconciler's placements (``placements``) behind it."""
    app = build_api_app(
        store=store,
        clusters=clusters,
        bootstrap=bootstrap,
        metrics_registry=CollectorRegistry(),
        max_body_bytes=LIMIT,
        placements=placements,
    )
    client = await start_client(certificates, app, certificates.admin)
    yield client
    await client.close()


@pytest.fixture
async def restarted_api(
    certificates: Certificates,
    store: MemoryStore,
    clusters: FakeClusterDirectory,
    bootstrap: FakeBootstrap,
) -> AsyncIterator[Callable[[], Awaitable[Client]]]:
    """Starts a new API application on the same store, as after a restart of the hub."""
    started: list[Client] = []

    async def start() -> Client:
        app = build_api_app(
            store=store,
            clusters=clusters,
            bootstrap=bootstrap,
            metrics_registry=CollectorRegistry(),
            max_body_bytes=LIMIT,
        )
        started.append(await start_client(certificates, app, certificates.admin))
        return started[-1]

    yield start
    for client in started:
        await client.close()
