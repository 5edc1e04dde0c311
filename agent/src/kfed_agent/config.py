"""The agent's config directory: what ``kfed join`` writes and ``kfed agent run --config`` reads.

Layer: ``kfed_agent`` I/O shell (files only; no network, no Kubernetes). It must not log or put
key material into an error message.

Layout (directory 0700; every file written to a temporary name, fsynced, then renamed):

- ``agent.yaml``: :class:`AgentConfig` (written last by :func:`save`, so its presence means the
  directory is complete);
- ``ca.crt``: the hub CA, pinned at join;
- ``tls.crt`` / ``tls.key`` (0600): the agent's certificate, naming its cluster, and its key.

Rotation replaces the pair with :func:`replace_certificate`. Two renames cannot be one atomic step,
so the new files are staged first as ``*.new``; :func:`load` finishes a rotation that a crash
interrupted after the key was renamed, and discards one interrupted before, so ``tls.crt`` and
``tls.key`` always end up matching.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm

from kfed_core import pki
from kfed_core.identity import cluster_of

CONFIG_FILE, CA_FILE, CERT_FILE, KEY_FILE = "agent.yaml", "ca.crt", "tls.crt", "tls.key"
FILES = (CONFIG_FILE, CA_FILE, CERT_FILE, KEY_FILE)
API_VERSION, KIND = "kfed.io/v1alpha1", "AgentConfig"


class ConfigError(Exception):
    """The config directory is missing, incomplete or damaged; the message names the file."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentConfig:
    """Where the agent connects and which cluster it manages."""

    cluster: str
    hub_api: str  # host:port of the hub's HTTPS API
    hub_sync: str  # host:port of the hub's gRPC Sync service
    kubeconfig: str = ""  # path of the member cluster's kubeconfig; "" for in-cluster config
    context: str | None = None  # kubeconfig context; None for its current context


@dataclass(frozen=True, slots=True, kw_only=True)
class Credentials:
    """The agent's mTLS material, PEM."""

    ca_pem: bytes
    cert_pem: bytes
    key_pem: bytes = field(repr=False)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _stage(path: Path, data: bytes, mode: int) -> None:
    """Write ``data`` to ``path`` (replacing it) and flush it to disk; no rename."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())


def _write(path: Path, data: bytes, mode: int) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    _stage(temporary, data, mode)
    os.replace(temporary, path)
    _fsync_dir(path.parent)


def _render(config: AgentConfig) -> bytes:
    document = {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "cluster": config.cluster,
        "hubApi": config.hub_api,
        "hubSync": config.hub_sync,
        "kubeconfig": config.kubeconfig,
        "context": config.context,
    }
    return yaml.safe_dump(document, sort_keys=False).encode()


def holds_config(directory: Path) -> bool:
    """Whether ``directory`` exists and is not empty (``kfed join`` refuses to write there)."""
    return directory.exists() and (not directory.is_dir() or any(directory.iterdir()))


def save(directory: Path, config: AgentConfig, credentials: Credentials) -> None:
    """Create the config directory; it must be absent or empty."""
    if holds_config(directory):
        raise ConfigError(
            f"{directory} already exists and is not empty; give another directory, "
            "or remove it if its old agent config is no longer needed"
        )
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    _write(directory / CA_FILE, credentials.ca_pem, 0o644)
    _write(directory / KEY_FILE, credentials.key_pem, 0o600)
    _write(directory / CERT_FILE, credentials.cert_pem, 0o644)
    _write(directory / CONFIG_FILE, _render(config), 0o600)


def replace_certificate(directory: Path, cert_pem: bytes, key_pem: bytes) -> None:
    """Swap in a rotated certificate and key (see the module docstring for crash safety)."""
    try:
        cert, key = pki.load_certificate(cert_pem), pki.load_private_key(key_pem)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise ValueError(f"the new certificate or key is not valid PEM: {exc}") from exc
    if cert.public_key() != key.public_key():
        raise ValueError("the new certificate is not for the new key")
    cert_new, key_new = directory / f"{CERT_FILE}.new", directory / f"{KEY_FILE}.new"
    _stage(cert_new, cert_pem, 0o644)
    _stage(key_new, key_pem, 0o600)
    _fsync_dir(directory)
    os.replace(key_new, directory / KEY_FILE)  # from here on, load() finishes the rotation
    _fsync_dir(directory)
    os.replace(cert_new, directory / CERT_FILE)
    _fsync_dir(directory)


def _recover(directory: Path) -> None:
    cert_new, key_new = directory / f"{CERT_FILE}.new", directory / f"{KEY_FILE}.new"
    if key_new.exists():  # interrupted before the key moved: the old pair is intact
        key_new.unlink()
        cert_new.unlink(missing_ok=True)
    elif cert_new.exists():  # interrupted between the renames: the new key is in place
        os.replace(cert_new, directory / CERT_FILE)
    else:
        return
    _fsync_dir(directory)


def _read(directory: Path, name: str) -> bytes:
    path = directory / name
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"{path} is missing; the agent config is incomplete: "
            f"join again with `kfed join ... --out {directory}` into an empty directory"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path} cannot be read: {exc.strerror}") from None


def _parse_config(path: Path, raw: bytes) -> AgentConfig:
    try:
        document: Any = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(document, dict) or document.get("kind") != KIND:
        raise ConfigError(f"{path} is not a kfed {KIND} (kind: {KIND} expected)")
    values: dict[str, str] = {}
    for key in ("cluster", "hubApi", "hubSync", "kubeconfig"):
        value = document.get(key, "" if key == "kubeconfig" else None)
        if not isinstance(value, str) or (key != "kubeconfig" and not value):
            raise ConfigError(f"{path}: {key!r} must be a non-empty string")
        values[key] = value
    context = document.get("context")
    if context is not None and not isinstance(context, str):
        raise ConfigError(f"{path}: 'context' must be a string or null")
    return AgentConfig(
        cluster=values["cluster"],
        hub_api=values["hubApi"],
        hub_sync=values["hubSync"],
        kubeconfig=values["kubeconfig"],
        context=context or None,
    )


def _check(directory: Path, config: AgentConfig, credentials: Credentials) -> None:
    try:
        ca = pki.load_certificate(credentials.ca_pem)
    except ValueError:
        raise ConfigError(f"{directory / CA_FILE} is not a PEM certificate") from None
    try:
        cert = pki.load_certificate(credentials.cert_pem)
    except ValueError:
        raise ConfigError(f"{directory / CERT_FILE} is not a PEM certificate") from None
    try:
        key = pki.load_private_key(credentials.key_pem)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ConfigError(f"{directory / KEY_FILE} is not a PEM EC private key") from None
    if cert.public_key() != key.public_key():
        raise ConfigError(f"{directory / KEY_FILE} is not the key of {directory / CERT_FILE}")
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        raise ConfigError(
            f"{directory / CERT_FILE} was not issued by the hub CA in {directory / CA_FILE}"
        ) from None
    if cluster_of(cert) != config.cluster:
        raise ConfigError(
            f"{directory / CERT_FILE} does not name cluster {config.cluster!r} "
            f"(it names {cluster_of(cert)!r}), which {directory / CONFIG_FILE} says this is"
        )


def load(directory: Path) -> tuple[AgentConfig, Credentials]:
    """Read and cross-check the config directory; raises :class:`ConfigError`."""
    if not directory.is_dir():
        raise ConfigError(f"{directory} is not a directory; make one with `kfed join ... --out`")
    _recover(directory)
    config = _parse_config(directory / CONFIG_FILE, _read(directory, CONFIG_FILE))
    credentials = Credentials(
        ca_pem=_read(directory, CA_FILE),
        cert_pem=_read(directory, CERT_FILE),
        key_pem=_read(directory, KEY_FILE),
    )
    _check(directory, config, credentials)
    return config, credentials


def certificate(credentials: Credentials) -> x509.Certificate:
    """The agent's certificate (for its expiry, serial and rotation time)."""
    return pki.load_certificate(credentials.cert_pem)
