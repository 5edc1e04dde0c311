"""``kfed sim`` as a user runs it: a foreground process, a kubeconfig, faults from another shell."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from kfed_local.sim.threaded import wait_for

KFED = str(Path(sys.executable).parent / "kfed")


def kfed(*args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([KFED, *args], capture_output=True, text=True, timeout=60)
    if check and result.returncode != 0:
        raise AssertionError(f"kfed {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def address_block() -> str:
    return f"127.{random.randint(2, 250)}.{random.randint(0, 255)}.0"


@contextlib.contextmanager
def sim_up(kubeconfig: Path, *source: str) -> Iterator[subprocess.Popen[str]]:
    """``kfed sim up`` in the background until its kubeconfig exists; Ctrl-C on the way out."""
    process = subprocess.Popen(
        [
            KFED,
            "sim",
            "up",
            *source,
            "--kubeconfig",
            str(kubeconfig),
            "--address-base",
            address_block(),
            "--api-port",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(
            lambda: kubeconfig.exists() or process.poll() is not None,
            timeout=60,
            what="the kubeconfig",
        )
        if process.poll() is not None:
            raise AssertionError(f"kfed sim up exited early:\n{process.communicate()}")
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)


@pytest.fixture
def seed_up(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    kubeconfig = tmp_path / "k.yaml"
    with sim_up(kubeconfig, "--preset", "seed") as process:
        yield process, kubeconfig


def test_sim_up_seed_serves_nine_clusters_until_ctrl_c(
    seed_up: tuple[subprocess.Popen[str], Path], kubectl: str
) -> None:
    process, kubeconfig = seed_up
    config = yaml.safe_load(kubeconfig.read_text())
    names = [c["name"] for c in config["contexts"]]
    assert names == [
        "gce-asia-east1-a",
        "gce-asia-east1-b",
        "gce-asia-east1-c",
        "gce-europe-west1-b",
        "gce-europe-west1-c",
        "gce-europe-west1-d",
        "gce-us-central1-a",
        "gce-us-central1-b",
        "gce-us-central1-c",
    ]
    assert oct(kubeconfig.stat().st_mode & 0o777) == "0o600"
    servers = {c["cluster"]["server"] for c in config["clusters"]}
    assert len(servers) == 9  # each cluster on its own address
    env = {**os.environ, "KUBECONFIG": str(kubeconfig)}
    for context in ("gce-asia-east1-b", "gce-us-central1-c"):
        zone = subprocess.run(
            [
                kubectl,
                f"--context={context}",
                "get",
                "nodes",
                "-o",
                "jsonpath={.items[0].metadata.labels.topology\\.kubernetes\\.io/zone}",
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=True,
        ).stdout
        assert zone == context.removeprefix("gce-")
    status = kfed("sim", "status", "--kubeconfig", str(kubeconfig), check=True).stdout
    assert status.count("gce-") == 9

    down = kfed(
        "sim",
        "fault",
        "--kubeconfig",
        str(kubeconfig),
        "--region",
        "asia-east1",
        "down",
        check=True,
    )
    assert "gce-asia-east1-a, gce-asia-east1-b, gce-asia-east1-c" in down.stdout
    status = kfed("sim", "status", "--kubeconfig", str(kubeconfig), check=True).stdout
    assert sum(1 for line in status.splitlines() if line.endswith("down")) == 3
    unreachable = subprocess.run(
        [kubectl, "--context=gce-asia-east1-a", "--request-timeout=1s", "get", "ns"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert unreachable.returncode != 0
    kfed(
        "sim", "fault", "--kubeconfig", str(kubeconfig), "--region", "asia-east1", "up", check=True
    )
    subprocess.run(
        [kubectl, "--context=gce-asia-east1-a", "get", "ns"],
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )

    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "stopping" in err and not kubeconfig.exists()


def test_fault_with_unknown_names_fails_with_the_known_ones(
    seed_up: tuple[subprocess.Popen[str], Path],
) -> None:
    _, kubeconfig = seed_up
    result = kfed("sim", "fault", "--kubeconfig", str(kubeconfig), "--zone", "mars-1a", "down")
    assert result.returncode == 1
    assert "no cluster in zone 'mars-1a'" in result.stderr and "asia-east1-a" in result.stderr


def test_fault_without_a_running_simulator_says_so(tmp_path: Path) -> None:
    result = kfed(
        "sim", "fault", "--kubeconfig", str(tmp_path / "none.yaml"), "--cluster", "x", "down"
    )
    assert result.returncode == 1
    assert "cannot read --kubeconfig" in result.stderr
    plain = tmp_path / "plain.yaml"
    plain.write_text("apiVersion: v1\nkind: Config\nclusters: []\n")
    result = kfed("sim", "fault", "--kubeconfig", str(plain), "--cluster", "x", "down")
    assert "has no kfed.io/sim extension" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--clusters", "east"], "is not NAME=REGION/ZONE"),
        (["--clusters", "East=us/us-a"], "must be a DNS label"),
        (["--clusters", "a=r/z,a=r/z"], "is given twice"),
        (["--config", "/nonexistent.yaml"], "cannot read --config"),
        (["--preset", "seed", "--address-base", "10.0.0.0"], "is not a loopback address"),
    ],
)
def test_sim_up_refuses_bad_input_clearly(args: list[str], message: str) -> None:
    result = kfed("sim", "up", *args)
    assert result.returncode != 0
    assert message in result.stderr


def test_sim_up_reads_a_config_file(tmp_path: Path) -> None:
    config = tmp_path / "clusters.yaml"
    config.write_text(
        "clusters:\n  - name: one\n    region: r1\n    zone: r1-a\n    nodes: 1\n"
        "    capacity: {cpu: '1', memory: 1Gi, pods: 5}\n    podStartDelay: 0\n"
    )
    kubeconfig = tmp_path / "k.yaml"
    with sim_up(kubeconfig, "--config", str(config)) as process:
        assert [c["name"] for c in yaml.safe_load(kubeconfig.read_text())["contexts"]] == ["one"]
    assert process.returncode == 0


def test_bad_config_file_names_the_line(tmp_path: Path) -> None:
    config = tmp_path / "clusters.yaml"
    config.write_text("clusters:\n  - name: one\n    region: [unclosed\n")
    result = kfed("sim", "up", "--config", str(config))
    assert result.returncode == 1
    assert "not valid YAML at line" in result.stderr


def test_kfed_without_a_command_prints_help() -> None:
    result = kfed()
    assert result.returncode == 2
    assert "sim" in result.stderr
