"""Harness: the hub and agents as real processes (``kfed hub serve``, ``kfed agent run``) beside
simulated clusters in a background thread, driven through the real CLI, for crash tests."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: Callable[[], Any], *, within: float = 20.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + within
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.05)
    raise AssertionError(f"timed out after {within}s waiting for {what} (last: {last!r})")


@dataclass
class Processes:
    """Hub and agent processes of one test, with their logs in ``tmp``."""

    tmp: Path
    kubeconfig: Path
    api_port: int = field(default_factory=free_port)
    sync_port: int = field(default_factory=free_port)
    hub: subprocess.Popen[bytes] | None = None
    agents: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "KFED_CONFIG": str(self.tmp / "kfedconfig")}

    def kfed(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [str(BIN / "kfed"), *args], capture_output=True, text=True, env=self.env, timeout=60
        )
        if check and done.returncode != 0:
            raise AssertionError(f"kfed {' '.join(args)} failed: {done.stdout}{done.stderr}")
        return done

    def start_hub(self) -> None:
        log_path = self.tmp / "hub.log"
        offset = log_path.stat().st_size if log_path.exists() else 0
        log = log_path.open("ab")
        self.hub = subprocess.Popen(
            [
                str(BIN / "kfed"),
                "-v",
                "hub",
                "serve",
                "--data-dir",
                str(self.tmp / "hub"),
                "--api-addr",
                f"127.0.0.1:{self.api_port}",
                "--sync-addr",
                f"127.0.0.1:{self.sync_port}",
                "--heartbeat-interval",
                "0.2",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self.env,
        )
        log.close()
        wait_until(
            lambda: (
                b"kfed hub serving" in log_path.read_bytes()[offset:]
                or self.hub is None
                or self.hub.poll() is not None
            ),
            what="hub to serve",
        )
        assert self.hub.poll() is None, (self.tmp / "hub.log").read_text()

    def kill_hub(self) -> None:
        assert self.hub is not None
        self.hub.send_signal(signal.SIGKILL)
        self.hub.wait()
        self.hub = None

    def join(self, name: str) -> Path:
        created = self.kfed("token", "create", "--ttl", "10m").stdout
        line = next(row for row in created.splitlines() if row.strip().startswith("kfed join"))
        out = self.tmp / f"agent-{name}"
        words = line.split()[1:]
        replace = {"<NAME>": name, "<KUBECONFIG>": str(self.kubeconfig), "<DIR>": str(out)}
        words = [replace.get(w, w) for w in words]
        self.kfed(*words, "--context", name)
        return out

    def start_agent(self, name: str, *, tag: str = "a") -> subprocess.Popen[bytes]:
        log = (self.tmp / f"agent-{name}-{tag}.log").open("ab")
        process = subprocess.Popen(
            [
                str(BIN / "kfed-agent"),
                "--config",
                str(self.tmp / f"agent-{name}"),
                "--lease-duration",
                "1.5",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self.env,
        )
        log.close()
        self.agents[f"{name}/{tag}"] = process
        return process

    def cluster_table(self) -> dict[str, str]:
        done = self.kfed("get", "clusters", check=False)
        rows = [row.split() for row in done.stdout.splitlines()[1:] if row.strip()]
        return {row[0]: row[1] for row in rows if len(row) >= 2}

    def stop(self) -> None:
        for process in [*self.agents.values(), *([self.hub] if self.hub else [])]:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        for process in [*self.agents.values(), *([self.hub] if self.hub else [])]:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextlib.contextmanager
def processes(tmp: Path, kubeconfig: Path) -> Iterator[Processes]:
    running = Processes(tmp=tmp, kubeconfig=kubeconfig)
    try:
        yield running
    finally:
        running.stop()


def lease_holder(kube: Any) -> str:
    lease = kube.get("coordination.k8s.io/v1", "Lease", "kfed-system", "kfed-agent")
    return str((lease or {}).get("spec", {}).get("holderIdentity") or "")


PID_IN_IDENTITY = re.compile(r"-(\d+)-[0-9a-f]{6}$")
