"""The hub side of the Sync benchmark: run ``kfed hub serve`` in its own process, read its memory
and CPU from ``/proc``, join clusters through the real API, scrape its metrics, and fill its
store before it starts.

Layer: ``bench`` (benchmark code). Blocking helpers (HTTP, joins, ``/proc``): the orchestrator
calls them through ``asyncio.to_thread``. Keys made here stay in memory and in the benchmark's
temporary directory.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from bench.sync_agents import Credentials
from kfed_core import pki, tls
from kfed_core.identity import make_csr
from kfed_core.keys import ResourceKey
from kfed_hub.cliconfig import CliConfig, load_config
from kfed_hub.client import HubClient
from kfed_hub.store.sealing import SecretSealer
from kfed_hub.store.sqlite import SqliteStore

_SERVING = re.compile(r"API (https://\S+), Sync (\S+),")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class HubProcess:
    """A hub running as ``kfed hub serve`` in a child process."""

    process: subprocess.Popen[bytes]
    data_dir: Path
    config_path: Path
    api_url: str
    sync_target: str
    log_path: Path

    @classmethod
    def start(cls, folder: Path, *, timeout: float = 60.0) -> HubProcess:
        """Start a hub with its data and CLI config in ``folder``; wait until it serves."""
        folder.mkdir(parents=True, exist_ok=True)
        config_path = folder / "kfedconfig"
        out_path, log_path = folder / "hub.out", folder / "hub.log"
        kfed = shutil.which("kfed", path=str(Path(sys.executable).parent)) or "kfed"
        command = [kfed, "hub", "serve", "--data-dir", str(folder / "hub")]
        command += ["--api-addr", "127.0.0.1:0", "--sync-addr", "127.0.0.1:0"]
        env = {**os.environ, "KFED_CONFIG": str(config_path)}
        # Files, not pipes: nobody reads the hub's logs while it runs, and a full pipe would
        # stall it in the middle of the measurement.
        with out_path.open("wb") as out, log_path.open("wb") as log:
            process = subprocess.Popen(command, stdout=out, stderr=log, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = _SERVING.search(out_path.read_text(errors="replace"))
            if found:
                return cls(process, folder / "hub", config_path, found[1], found[2], log_path)
            if process.poll() is not None:
                break
            time.sleep(0.05)
        process.kill()
        process.wait()
        tail = log_path.read_text(errors="replace")[-2000:]
        raise RuntimeError(f"`kfed hub serve` did not start within {timeout}s:\n{tail}")

    def rss_kib(self) -> int:
        return rss_kib(self.process.pid)

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.process.pid)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def tls_files(self) -> dict[str, str]:
        """The hub's serving certificate, key and CA (PEM text), for the baseline server."""
        return {
            "cert_pem": (self.data_dir / "hub.crt").read_text(),
            "key_pem": (self.data_dir / "hub.key").read_text(),
            "ca_pem": (self.data_dir / "ca.crt").read_text(),
        }


def rss_kib(pid: int) -> int:
    """Resident set size of process ``pid`` (VmRSS), in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS in /proc/{pid}/status")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time used so far by process ``pid``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


class Admin:
    """The operator's side of the API, usable from many threads (one connection each)."""

    def __init__(self, config_path: Path) -> None:
        self.config_path = config_path
        self.config: CliConfig = load_config(config_path)
        self._local = threading.local()
        self._clients: list[HubClient] = []
        self._lock = threading.Lock()

    def client(self) -> HubClient:
        client: HubClient | None = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = HubClient(self.config)
            with self._lock:
                self._clients.append(client)
        return client

    def request(self, method: str, path: str, body: Any = None, **options: Any) -> Any:
        return self.client().request(method, path, body, **options)

    def metrics_text(self) -> str:
        """``GET /metrics`` with the admin certificate (text, which HubClient would not parse)."""
        host, port = self.config.server.removeprefix("https://").rsplit(":", 1)
        context = tls.client_ssl_context(
            ca_pem=self.config.ca_pem, cert_pem=self.config.cert_pem, key_pem=self.config.key_pem
        )
        connection = http.client.HTTPSConnection(host, int(port), context=context, timeout=60)
        try:
            connection.request("GET", "/metrics")
            response = connection.getresponse()
            return response.read().decode()
        finally:
            connection.close()

    def close(self) -> None:
        for client in self._clients:
            client.close()


@dataclass(frozen=True, slots=True, kw_only=True)
class HistogramScrape:
    """One histogram as scraped: cumulative buckets (upper bound → count), sum and count."""

    buckets: dict[float, float]
    sum: float
    count: float


def histogram(text: str, name: str) -> HistogramScrape:
    """The histogram ``name`` (without label) from Prometheus exposition ``text``."""
    buckets: dict[float, float] = {}
    total = count = 0.0
    for family in text_string_to_metric_families(text):
        if family.name != name:
            continue
        for sample in family.samples:
            if sample.name == f"{name}_bucket":
                buckets[float(sample.labels["le"])] = sample.value
            elif sample.name == f"{name}_sum":
                total = sample.value
            elif sample.name == f"{name}_count":
                count = sample.value
    return HistogramScrape(buckets=buckets, sum=total, count=count)


@dataclass(frozen=True, slots=True, kw_only=True)
class JoinTimes:
    """Seconds spent, summed over joins: bootstrap token, key + CSR, and the join request."""

    wall: float
    token: float
    csr: float
    join: float


def join_clusters(
    admin: Admin, names: Sequence[str], *, threads: int
) -> tuple[list[Credentials], JoinTimes]:
    """Join every cluster of ``names`` as an operator would: a single-use token from
    ``POST /apis/kfed.io/v1alpha1/bootstraptokens``, a fresh key and CSR, ``POST /kfed/v1/join``
    (anonymous, the hub verified against its CA). ``threads`` joins run at once."""
    host, port = admin.config.server.removeprefix("https://").rsplit(":", 1)
    verified = tls.client_ssl_context(ca_pem=admin.config.ca_pem)
    local = threading.local()
    spent = {"token": 0.0, "csr": 0.0, "join": 0.0}
    lock = threading.Lock()
    connections: list[http.client.HTTPSConnection] = []

    def join_one(name: str) -> Credentials:
        t0 = time.perf_counter()
        token = admin.request("POST", "/apis/kfed.io/v1alpha1/bootstraptokens", {"ttl": "1h"})
        t1 = time.perf_counter()
        key = pki.new_private_key()
        body = json.dumps(
            {"name": name, "token": token["token"], "csr": make_csr(key, cluster=name).decode()}
        )
        t2 = time.perf_counter()
        connection: http.client.HTTPSConnection | None = getattr(local, "connection", None)
        if connection is None:
            connection = local.connection = http.client.HTTPSConnection(
                host, int(port), context=verified, timeout=120
            )
            with lock:
                connections.append(connection)
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        connection.request("POST", "/kfed/v1/join", body=body, headers=headers)
        response = connection.getresponse()
        answer = json.loads(response.read())
        t3 = time.perf_counter()
        if response.status not in (200, 201):
            raise RuntimeError(
                f"join of {name} refused ({response.status}): {answer.get('message')}"
            )
        with lock:
            spent["token"] += t1 - t0
            spent["csr"] += t2 - t1
            spent["join"] += t3 - t2
        cert = pki.load_certificate(answer["certificate"].encode())
        pair = pki.KeyPair(cert, key)
        return Credentials(name=name, cert_pem=pair.cert_pem, key_pem=pair.key_pem)

    started = time.perf_counter()
    try:
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="join") as pool:
            joined = list(pool.map(join_one, names))
    finally:
        for connection in connections:
            connection.close()
    wall = time.perf_counter() - started
    return joined, JoinTimes(wall=wall, token=spent["token"], csr=spent["csr"], join=spent["join"])


def configmap(name: str, data: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "default"},
        "data": data,
    }


async def prepopulate(data_dir: Path, count: int, value: str) -> float:
    """Write ``count`` ConfigMaps ``bench-obj-NNNNN`` straight into the hub's SQLite store
    (before the hub starts; one transaction each, as the API would); returns the seconds."""
    started = time.perf_counter()
    await asyncio.to_thread(data_dir.mkdir, mode=0o700, parents=True, exist_ok=True)
    sealer = await asyncio.to_thread(SecretSealer.load_or_create, data_dir / "secret-keys.json")
    store = await SqliteStore.open(data_dir / "hub.db", sealer=sealer)
    try:
        for index in range(count):
            name = f"bench-obj-{index:05d}"
            key = ResourceKey(group="core", kind="ConfigMap", namespace="default", name=name)
            await store.create_object(key, configmap(name, {"index": str(index), "value": value}))
    finally:
        await store.close()
    return time.perf_counter() - started
