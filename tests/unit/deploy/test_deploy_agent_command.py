"""``kfed agent manifests NAME --config DIR``: one YAML stream with the base objects and the
credentials Secret, which restores a loadable agent config; clear errors; the key only on stdout."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from kfed_agent import config
from kfed_agent.config import AgentConfig, Credentials
from kfed_agent.manifests import CREDENTIALS_SECRET, DEFAULT_IMAGE, base_objects
from kfed_core import identity, pki
from kfed_hub.cli.main import main

NOW = dt.datetime.now(dt.UTC)
CA = pki.create_ca("hub-ca", now=NOW)
PAIR = pki.issue_key_pair(
    CA,
    pki.LeafSpec(common_name="eu-west", uris=(identity.cluster_uri("eu-west"),), client=True),
    now=NOW,
)
Objects = list[dict[str, Any]]


def joined(directory: Path, *, kubeconfig: str = "", hub: str = "hub.example.com") -> Path:
    settings = AgentConfig(
        cluster="eu-west", hub_api=f"{hub}:7443", hub_sync=f"{hub}:7444", kubeconfig=kubeconfig
    )
    credentials = Credentials(ca_pem=CA.cert_pem, cert_pem=PAIR.cert_pem, key_pem=PAIR.key_pem)
    config.save(directory, settings, credentials)
    return directory


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def documents(text: str) -> Objects:
    return [d for d in yaml.safe_load_all(text) if d]


def test_renders_the_base_and_the_credentials_secret(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    validate: Callable[[Objects], list[str]],
) -> None:
    directory = joined(tmp_path / "agent")
    code, out, err = run(["agent", "manifests", "eu-west", "--config", str(directory)], capsys)
    assert (code, err) == (0, "")
    objects = documents(out)
    assert validate(objects) == []
    secret = next(o for o in objects if o["kind"] == "Secret")
    assert secret["metadata"] == {
        "name": CREDENTIALS_SECRET,
        "namespace": "kfed-system",
        "labels": {
            "app.kubernetes.io/name": "kfed-agent",
            "app.kubernetes.io/part-of": "kfed",
            "kfed.io/cluster": "eu-west",
        },
    }
    without_secret = [o for o in objects if o["kind"] != "Secret"]
    template = without_secret[-1]["spec"]["template"]["metadata"]
    assert len(template.pop("annotations")["kfed.io/credentials-sha256"]) == 64
    assert without_secret == base_objects()
    # The Secret, written out as the pod's init container does, is a complete agent config.
    restored = tmp_path / "restored"
    restored.mkdir()
    for name, value in secret["data"].items():
        (restored / name).write_bytes(base64.b64decode(value))
    loaded, credentials = config.load(restored)
    assert loaded == AgentConfig(
        cluster="eu-west", hub_api="hub.example.com:7443", hub_sync="hub.example.com:7444"
    )
    assert credentials.key_pem == PAIR.key_pem
    assert sorted(secret["data"]) == sorted(config.FILES)


def test_image_option_sets_every_container_image(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = joined(tmp_path / "agent")
    argv = ["agent", "manifests", "eu-west", "--config", str(directory)]
    code, out, _ = run([*argv, "--image", "registry.local/kfed-agent@sha256:" + "a" * 64], capsys)
    assert code == 0
    daemonset = documents(out)[-1]["spec"]["template"]["spec"]
    images = {c["image"] for c in daemonset["initContainers"] + daemonset["containers"]}
    assert images == {"registry.local/kfed-agent@sha256:" + "a" * 64}
    assert DEFAULT_IMAGE not in out


def test_a_kubeconfig_join_is_rendered_with_in_cluster_credentials_and_a_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = joined(tmp_path / "agent", kubeconfig="/home/me/.kube/config", hub="127.0.0.1")
    code, out, err = run(["agent", "manifests", "eu-west", "--config", str(directory)], capsys)
    assert code == 0
    assert "in-cluster" in err and "loopback" in err and "--advertise-host" in err
    secret = next(o for o in documents(out) if o["kind"] == "Secret")
    rendered = yaml.safe_load(base64.b64decode(secret["data"]["agent.yaml"]))
    assert rendered["kubeconfig"] == "" and rendered["context"] is None


@pytest.mark.parametrize(
    ("setup", "name", "expected"),
    [
        ("missing", "eu-west", "is not a directory"),
        ("empty", "eu-west", "agent.yaml is missing"),
        ("no-key", "eu-west", "tls.key is missing"),
        ("garbage", "eu-west", "is not valid YAML"),
        ("joined", "us-east", "is for cluster 'eu-west', not 'us-east'"),
        ("joined", "Not_A_Name", "invalid cluster name"),
    ],
)
def test_a_missing_or_invalid_config_is_a_clear_error_without_key_material(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], setup: str, name: str, expected: str
) -> None:
    directory = tmp_path / "agent"
    if setup == "empty":
        directory.mkdir()
    elif setup in ("joined", "no-key", "garbage"):
        joined(directory)
        if setup == "no-key":
            (directory / "tls.key").unlink()
        if setup == "garbage":
            (directory / "agent.yaml").write_text("kind: [")
    code, out, err = run(["agent", "manifests", name, "--config", str(directory)], capsys)
    assert (code, out) == (1, "")
    assert err.startswith("error: ") and expected in err
    assert "PRIVATE KEY" not in err and "Traceback" not in err


def test_the_key_appears_only_inside_the_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = joined(tmp_path / "agent")
    code, out, err = run(["agent", "manifests", "eu-west", "--config", str(directory)], capsys)
    assert code == 0
    key_b64 = base64.b64encode(PAIR.key_pem).decode()
    assert out.count(key_b64) == 1 and "PRIVATE KEY" not in out and "PRIVATE KEY" not in err
