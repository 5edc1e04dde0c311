"""The hub's HTTPS API over real TLS on loopback, and the kfed CLI end to end against it.

The harness (``hubharness.py``) serves the API with the in-memory store and fakes; the CLI runs
in a worker thread against it, as after ``kfed hub serve``.
"""

from __future__ import annotations

import asyncio
import http.client
import shutil
import socket
from pathlib import Path

import aiohttp
import pytest
import yaml
from hubharness import EXAMPLES, ZONEFETCH, Hub, kfed, status_of

from kfed_hub import client as client_module
from kfed_hub.cliconfig import save_config

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
    # Kinds of named groups go as they are; the core group has only the kinds kfed serves.
    (folder / "b.yaml").write_text(
        "apiVersion: v1\nkind: Widget\nmetadata:\n  name: w\n  namespace: team\n"
    )
    code, out, err = await kfed(capsys, "apply", "-f", str(folder))
    assert code == 1
    assert err.startswith(
        f'error: resource mapping not found for name: "w" namespace: "team" from '
        f'"{folder / "b.yaml"}": no matches for kind "Widget" in version "v1"\n'
        "kfed federates these core kinds: v1 Namespace, v1 ConfigMap, "
    )
    assert "custom resources" in err
    (folder / "b.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n")
    code, out, err = await kfed(capsys, "apply", "-f", str(folder))
    assert code == 1 and "kfed federates workloads, not pods" in err
    (folder / "b.yaml").write_text(
        "apiVersion: kfed.io/v1alpha1\nkind: Cluster\nmetadata:\n  name: east\n"
    )
    code, out, err = await kfed(capsys, "apply", "-f", str(folder))
    assert code == 1 and 'no matches for kind "Cluster" in version "kfed.io/v1alpha1"' in err
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


async def test_one_client_shared_by_threads_keeps_one_connection(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Async callers share a HubClient through ``asyncio.to_thread``: requests take turns on
    its one connection (before, two threads could each open one and leave one unclosed)."""
    opened: set[http.client.HTTPSConnection] = set()
    connect = client_module.HubClient._connect

    def counted(self: client_module.HubClient) -> http.client.HTTPSConnection:
        connection = connect(self)
        opened.add(connection)
        return connection

    monkeypatch.setattr(client_module.HubClient, "_connect", counted)
    with client_module.HubClient.from_config() as shared:
        path = "/api/v1/namespaces/default/configmaps"
        answers = await asyncio.gather(
            *(asyncio.to_thread(shared.request, "GET", path) for _ in range(40))
        )
    assert all(answer["kind"] == "ConfigMapList" for answer in answers)
    assert len(opened) == 1
