"""The ``kfed`` CLI's config file: where the hub is and the operator's credentials.

Layer: ``kfed_hub`` (file I/O only; no network). The file is YAML shaped like a kubeconfig's
cluster and user entries, with base64 PEM data::

    server: https://127.0.0.1:7443
    certificate-authority-data: <base64 PEM of the hub CA>
    client-certificate-data: <base64 PEM of the admin certificate>
    client-key-data: <base64 PEM of its private key>

Default path ``~/.kfed/config``; ``$KFED_CONFIG`` overrides it. ``kfed hub serve`` writes it with
:func:`save_config` (file 0600, a directory it creates 0700, replaced atomically, so a reader
never sees half a key); the CLI reads it with :func:`load_config`. Key material never appears in
an error message.
"""

from __future__ import annotations

import base64
import binascii
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

CONFIG_ENV = "KFED_CONFIG"
DEFAULT_PATH = Path("~/.kfed/config")

_FIELDS = {
    "certificate-authority-data": "ca_pem",
    "client-certificate-data": "cert_pem",
    "client-key-data": "key_pem",
}


class ConfigError(Exception):
    """The CLI config is missing or unusable; ``str()`` says which file, what and what to do."""


@dataclass(frozen=True, slots=True, kw_only=True)
class CliConfig:
    """Where the hub's API is and the credentials to reach it."""

    server: str  # https://host:port
    ca_pem: bytes
    cert_pem: bytes
    key_pem: bytes = b""

    def __repr__(self) -> str:  # never print the key, even in a traceback's locals
        return f"CliConfig(server={self.server!r})"


def default_config_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$KFED_CONFIG`` if set, else ``~/.kfed/config`` (user home expanded)."""
    env = os.environ if environ is None else environ
    return Path(env.get(CONFIG_ENV) or DEFAULT_PATH).expanduser()


def save_config(path: Path, *, server: str, ca_pem: bytes, cert_pem: bytes, key_pem: bytes) -> None:
    """Write a config to ``path`` (mode 0600), creating its directory (0700) if missing."""
    path = Path(path).expanduser()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    document = {
        "server": server,
        "certificate-authority-data": base64.b64encode(ca_pem).decode("ascii"),
        "client-certificate-data": base64.b64encode(cert_pem).decode("ascii"),
        "client-key-data": base64.b64encode(key_pem).decode("ascii"),
    }
    text = yaml.safe_dump(document, sort_keys=False, width=1 << 20)
    # mkstemp creates the file 0600; the rename makes the new file appear whole.
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load_config(path: Path | None = None) -> CliConfig:
    """Read the config at ``path`` (default: :func:`default_config_path`)."""
    path = default_config_path() if path is None else Path(path).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"no kfed config at {path}: start the hub with `kfed hub serve` or set "
            f"{CONFIG_ENV} to the config it wrote"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the kfed config {path}: {exc}") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise ConfigError(f"the kfed config {path} is not valid YAML{where}") from None
    if not isinstance(document, dict):
        raise ConfigError(f"the kfed config {path} must be a YAML mapping with a server entry")
    server = document.get("server")
    if not isinstance(server, str) or not server.startswith("https://"):
        raise ConfigError(
            f"the kfed config {path} has no `server: https://host:port` entry; `kfed hub serve` "
            "writes a complete one"
        )
    values: dict[str, bytes] = {}
    for field, attribute in _FIELDS.items():
        encoded = document.get(field)
        if not isinstance(encoded, str) or not encoded:
            raise ConfigError(f"the kfed config {path} has no {field}")
        try:
            values[attribute] = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise ConfigError(f"the kfed config {path}: {field} is not base64 data") from None
    return CliConfig(server=server.rstrip("/"), **values)
