"""The hub's HTTPS API over real TLS on loopback, and the kfed CLI end to end against it.

The API runs with the in-memory store and fake cluster directory and bootstrap; certificates come
from ``kfed_core.pki``. The CLI runs in a worker thread (it blocks) with ``KFED_CONFIG`` pointing
at a config written by ``save_config``, exactly as after ``kfed hub serve``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
import socket
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
import yaml
from aiohttp import web
from prometheus_client import CollectorRegistry

from kfed_core import pki, tls
from kfed_hub.api import build_api_app
from kfed_hub.api.fakes import FakeBootstrap, FakeClusterDirectory, cluster_view
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

    def context(self, who: pki.KeyPair | None) -> ssl.SSLContext:
        if who is None:
            return tls.client_ssl_context(ca_pem=self.certs.ca.cert_pem)
        return tls.client_ssl_context(
            ca_pem=self.certs.ca.cert_pem, cert_pem=who.cert_pem, key_pem=who.key_pem
        )


@pytest.fixture
async def hub(certs: Pki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Hub]:
    store = MemoryStore()
    clusters = FakeClusterDirectory([cluster_view("east"), cluster_view("west", region="eu")])
    app = build_api_app(
        store=store,
        clusters=clusters,
        bootstrap=FakeBootstrap(),
        metrics_registry=CollectorRegistry(),
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
        yield Hub(url=url, store=store, clusters=clusters, certs=certs)
    finally:
        await runner.cleanup()
        await store.close()


async def status_of(hub: Hub, who: pki.KeyPair | None, method: str, path: str) -> int:
    connector = aiohttp.TCPConnector(ssl=hub.context(who))
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        session.request(method, hub.url + path) as response,
    ):
        if response.status >= 400:
            assert (await response.json())["kind"] == "Status"
        return response.status


# -- who may use the API ---------------------------------------------------------------------


async def test_the_admin_api_needs_an_admin_certificate(hub: Hub) -> None:
    for path in ("/api/v1/namespaces/default/secrets", "/apis/kfed.io/v1alpha1/clusters"):
        assert await status_of(hub, None, "GET", path) == 401
        assert await status_of(hub, hub.certs.cluster, "GET", path) == 403
        assert await status_of(hub, hub.certs.admin, "GET", path) == 200
    assert await status_of(hub, None, "GET", "/metrics") == 401
    assert (
        await status_of(hub, hub.certs.cluster, "POST", "/apis/kfed.io/v1alpha1/bootstraptokens")
        == 403
    )


async def test_joining_endpoints_are_open_and_only_them(hub: Hub) -> None:
    assert await status_of(hub, None, "GET", "/kfed/v1/cluster-info") == 200
    assert await status_of(hub, None, "GET", "/healthz") == 200
    assert await status_of(hub, None, "POST", "/kfed/v1/join") == 415  # reached the handler
    assert await status_of(hub, None, "GET", "/kfed/v1/join") == 401  # a join is a POST
    assert await status_of(hub, None, "GET", "/kfed/v1/join/../../api/v1/secrets") == 401
    assert await status_of(hub, None, "GET", "/no/such/path") == 401


async def test_a_certificate_from_another_ca_is_refused_at_the_handshake(hub: Hub) -> None:
    with pytest.raises(aiohttp.ClientError):
        await status_of(hub, hub.certs.stranger, "GET", "/api/v1/namespaces/default/configmaps")


# -- the CLI end to end ----------------------------------------------------------------------


async def kfed(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = await asyncio.to_thread(main, list(argv))
    out, err = capsys.readouterr()
    return code, out, err


async def test_apply_get_describe_delete_the_walkthrough(
    hub: Hub, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = await kfed(capsys, "apply", "-f", str(ZONEFETCH))
    assert (code, out) == (0, "configmap/zone-fetch created\n")
    code, out, _ = await kfed(capsys, "apply", "-f", str(ZONEFETCH))
    assert (code, out) == (0, "configmap/zone-fetch unchanged\n")
    changed = tmp_path / "changed.yaml"
    changed.write_text(ZONEFETCH.read_text().replace("sleep 3600", "sleep 60"))
    code, out, _ = await kfed(capsys, "apply", "-f", str(changed))
    assert (code, out) == (0, "configmap/zone-fetch configured\n")

    for folder in ("services", "replicasets", "ingress"):
        code, out, err = await kfed(capsys, "apply", "-f", str(EXAMPLES / folder))
        assert code == 0, err
    assert (
        "replicaset.extensions/nginx-us created" in out or "ingress.extensions/nginx created" in out
    )

    code, out, _ = await kfed(capsys, "get", "configmaps")
    assert out.splitlines()[0].split() == ["NAME", "DATA", "AGE"]
    assert out.splitlines()[1].split()[:2] == ["zone-fetch", "1"]
    code, out, _ = await kfed(capsys, "get", "rs")  # the seed's legacy group is found too
    assert [line.split()[0] for line in out.splitlines()] == ["NAME", "nginx", "nginx-us"]
    code, out, _ = await kfed(capsys, "get", "cm", "zone-fetch", "-o", "yaml")
    served = yaml.safe_load(out)
    assert served["kind"] == "ConfigMap" and "sleep 60" in served["data"]["zonefetch.sh"]
    code, out, _ = await kfed(capsys, "get", "cm", "--clusters")
    assert [line for line in out.splitlines() if line.startswith("CLUSTER")] == [
        "CLUSTER east (Ready)",
        "CLUSTER west (Ready)",
    ]
    assert "zone-fetch   <none>    no        Pending" in out
    code, out, _ = await kfed(capsys, "describe", "configmap", "zone-fetch")
    assert code == 0 and "Name:         zone-fetch" in out and "Propagated:   False" in out

    code, out, err = await kfed(capsys, "create", "-f", str(ZONEFETCH))
    assert code == 1 and out == ""
    assert err == (
        f'Error from server (AlreadyExists): error when creating "{ZONEFETCH}": '
        'configmaps "zone-fetch" already exists\n'
    )
    code, out, _ = await kfed(capsys, "delete", "-f", str(ZONEFETCH))
    assert (code, out) == (0, 'configmap "zone-fetch" deleted\n')
    code, out, err = await kfed(capsys, "delete", "cm", "zone-fetch")
    assert code == 1 and err == 'Error from server (NotFound): configmaps "zone-fetch" not found\n'
    code, out, _ = await kfed(capsys, "delete", "svc", "nginx")
    assert (code, out) == (0, 'service "nginx" deleted\n')


async def test_bad_files_send_nothing(
    hub: Hub, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = tmp_path / "manifests"
    folder.mkdir()
    shutil.copy(ZONEFETCH, folder / "a.yaml")
    (folder / "b.yaml").write_text("apiVersion: v1\nkind: Secret\nmetadata:\n  name: [x\n")
    code, out, err = await kfed(capsys, "apply", "-f", str(folder))
    assert code == 1 and out == ""
    assert err.startswith(f"error: error parsing {folder / 'b.yaml'}: ") and "(line " in err
    (folder / "b.yaml").write_text(
        "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n  namespace: team\n"
    )
    code, out, err = await kfed(capsys, "apply", "-f", str(folder))
    assert code == 1
    assert err.startswith(
        f'error: resource mapping not found for name: "w" namespace: "team" from '
        f'"{folder / "b.yaml"}": no matches for kind "Widget" in version "example.com/v1"'
    )
    assert await hub.store.revision() == 0


async def test_clusters_and_tokens(hub: Hub, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = await kfed(capsys, "get", "clusters")
    assert [line.split()[:2] for line in out.splitlines()] == [
        ["NAME", "STATUS"],
        ["east", "Ready"],
        ["west", "Ready"],
    ]
    code, out, _ = await kfed(capsys, "get", "clusters", "-o", "wide")
    assert out.splitlines()[0].split() == ["NAME", "STATUS", "AGE", "REGION", "ZONE", "VERSION"]
    assert out.splitlines()[2].split()[3] == "eu"
    code, out, _ = await kfed(capsys, "cluster", "remove", "east")
    assert code == 0 and out.startswith('cluster "east" removed')
    assert hub.clusters.removed == ["east"]
    code, _, err = await kfed(capsys, "cluster", "remove", "east")
    assert code == 1 and 'clusters.kfed.io "east" not found' in err
    code, out, err = await kfed(capsys, "token", "create", "--ttl", "30m")
    assert code == 0 and out.startswith("kfed join NAME --hub ") and "--token t00000." in out
    code, _, err = await kfed(capsys, "token", "create", "--ttl", "soon")
    assert code == 1 and "Error from server (BadRequest): ttl: invalid duration 'soon'" in err


async def test_a_hub_that_is_down_is_named(
    hub: Hub, capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    config = tmp_path / "down"
    save_config(
        config,
        server=f"https://127.0.0.1:{port}",
        ca_pem=hub.certs.ca.cert_pem,
        cert_pem=hub.certs.admin.cert_pem,
        key_pem=hub.certs.admin.key_pem,
    )
    monkeypatch.setenv("KFED_CONFIG", str(config))
    code, _, err = await kfed(capsys, "get", "clusters")
    assert code == 1
    assert err == (
        f"error: cannot connect to the kfed hub at https://127.0.0.1:{port}: connection "
        "refused; is `kfed hub serve` running there?\n"
    )


async def test_an_oversized_object_is_refused_with_the_limit(
    hub: Hub, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    big = tmp_path / "big.yaml"
    blob = "x" * (3 * 1024 * 1024 + 1)
    big.write_text(
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n  blob: {blob}\n"
    )
    code, out, err = await kfed(capsys, "create", "-f", str(big))
    assert code == 1 and out == ""
    assert err.startswith(
        f'Error from server (RequestEntityTooLarge): error when creating "{big}": Request entity '
        "too large: the body is larger than the hub's limit of 3145728 bytes (3.0 MiB)"
    )
    code, out, _ = await kfed(capsys, "get", "cm")  # the connection and the hub are still fine
    assert code == 0
