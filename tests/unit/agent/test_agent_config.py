"""The agent's config directory: save, load with clear errors, and crash-safe rotation."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from kfed_agent import config
from kfed_agent.config import AgentConfig, ConfigError, Credentials
from kfed_core import identity, pki

NOW = dt.datetime.now(dt.UTC)
CA = pki.create_ca("hub-ca", now=NOW)
SETTINGS = AgentConfig(
    cluster="eu-west", hub_api="hub.test:8443", hub_sync="hub.test:8444", kubeconfig="/k/config"
)


def _pair(cluster: str = "eu-west", ca: pki.KeyPair = CA) -> pki.KeyPair:
    spec = pki.LeafSpec(common_name=cluster, uris=(identity.cluster_uri(cluster),), client=True)
    return pki.issue_key_pair(ca, spec, now=NOW)


def _save(directory: Path, pair: pki.KeyPair | None = None) -> Credentials:
    pair = pair or _pair()
    credentials = Credentials(ca_pem=CA.cert_pem, cert_pem=pair.cert_pem, key_pem=pair.key_pem)
    config.save(directory, SETTINGS, credentials)
    return credentials


def test_saved_config_loads_back_with_private_modes(tmp_path: Path) -> None:
    directory = tmp_path / "agent"
    credentials = _save(directory)
    assert config.load(directory) == (SETTINGS, credentials)
    assert sorted(p.name for p in directory.iterdir()) == sorted(config.FILES)
    assert directory.stat().st_mode & 0o777 == 0o700
    assert (directory / "tls.key").stat().st_mode & 0o777 == 0o600
    assert "PRIVATE KEY" not in repr(credentials)


def test_in_cluster_config_and_a_context_round_trip(tmp_path: Path) -> None:
    pair = _pair()
    settings = AgentConfig(cluster="eu-west", hub_api="h:1", hub_sync="h:2", context="ctx")
    creds = Credentials(ca_pem=CA.cert_pem, cert_pem=pair.cert_pem, key_pem=pair.key_pem)
    config.save(tmp_path / "a", settings, creds)
    loaded, _ = config.load(tmp_path / "a")
    assert loaded == settings and loaded.kubeconfig == ""


def test_save_refuses_a_directory_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "agent.yaml").write_text("x")
    with pytest.raises(ConfigError, match="not empty"):
        _save(tmp_path)
    _save(tmp_path / "empty-is-fine")


@pytest.mark.parametrize("name", config.FILES)
def test_a_missing_file_is_named(tmp_path: Path, name: str) -> None:
    _save(tmp_path / "a")
    (tmp_path / "a" / name).unlink()
    with pytest.raises(ConfigError, match=rf"{name} is missing.*kfed join"):
        config.load(tmp_path / "a")


def test_a_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is not a directory"):
        config.load(tmp_path / "nothing")


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"{unclosed", "not valid YAML"),
        (b"- a list\n", "not a kfed AgentConfig"),
        (b"kind: AgentConfig\ncluster: eu-west\nhubApi: h:1\n", "'hubSync' must be"),
        (b"kind: AgentConfig\ncluster: 7\nhubApi: h:1\nhubSync: h:2\n", "'cluster' must be"),
    ],
)
def test_a_corrupt_agent_yaml_is_named(tmp_path: Path, content: bytes, problem: str) -> None:
    _save(tmp_path / "a")
    (tmp_path / "a" / "agent.yaml").write_bytes(content)
    with pytest.raises(ConfigError, match=rf"agent\.yaml.*{problem}"):
        config.load(tmp_path / "a")


def test_credentials_are_cross_checked(tmp_path: Path) -> None:
    directory = tmp_path / "a"
    _save(directory)
    other = _pair()
    (directory / "tls.key").write_bytes(other.key_pem)
    with pytest.raises(ConfigError, match=r"tls\.key is not the key of"):
        config.load(directory)
    (directory / "tls.key").write_bytes(b"garbage")
    with pytest.raises(ConfigError, match=r"tls\.key is not a PEM"):
        config.load(directory)


def test_a_certificate_from_another_ca_or_for_another_cluster_is_refused(tmp_path: Path) -> None:
    _save(tmp_path / "a", _pair(ca=pki.create_ca("other", now=NOW)))
    with pytest.raises(ConfigError, match="not issued by the hub CA"):
        config.load(tmp_path / "a")
    _save(tmp_path / "b", _pair("us-east"))
    with pytest.raises(ConfigError, match="does not name cluster 'eu-west'"):
        config.load(tmp_path / "b")


def test_replace_certificate_swaps_the_pair(tmp_path: Path) -> None:
    _save(tmp_path)
    rotated = _pair()
    config.replace_certificate(tmp_path, rotated.cert_pem, rotated.key_pem)
    _, credentials = config.load(tmp_path)
    assert (credentials.cert_pem, credentials.key_pem) == (rotated.cert_pem, rotated.key_pem)
    assert (tmp_path / "tls.key").stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(config.FILES)


def test_replace_certificate_refuses_a_mismatched_pair(tmp_path: Path) -> None:
    _save(tmp_path)
    with pytest.raises(ValueError, match="not for the new key"):
        config.replace_certificate(tmp_path, _pair().cert_pem, _pair().key_pem)


def test_a_rotation_interrupted_between_renames_is_finished_by_load(tmp_path: Path) -> None:
    _save(tmp_path)
    rotated = _pair()
    (tmp_path / "tls.crt.new").write_bytes(rotated.cert_pem)
    (tmp_path / "tls.key").write_bytes(rotated.key_pem)  # the key had already moved
    _, credentials = config.load(tmp_path)
    assert credentials.cert_pem == rotated.cert_pem
    assert not (tmp_path / "tls.crt.new").exists()


def test_a_rotation_interrupted_before_the_key_moved_keeps_the_old_pair(tmp_path: Path) -> None:
    old = _save(tmp_path)
    rotated = _pair()
    (tmp_path / "tls.crt.new").write_bytes(rotated.cert_pem)
    fd = os.open(tmp_path / "tls.key.new", os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, rotated.key_pem[:20])  # torn write
    os.close(fd)
    _, credentials = config.load(tmp_path)
    assert credentials == old
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(config.FILES)
