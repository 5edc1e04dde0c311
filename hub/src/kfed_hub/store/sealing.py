"""SecretSealer: AES-256-GCM encryption of secret values at rest, with rotatable keys in a key file.

Layer: ``kfed_hub.store`` (below the store implementations). The key file lives in the hub's data
dir, beside the database and never inside it, as JSON ``{"active": "<id>", "keys": {"<id>":
"<base64 of 32 bytes>"}}`` with mode 0600. Each sealed value carries the id of the key that sealed
it, so :meth:`SecretSealer.rotate` can add a new active key while old values stay readable until
the store re-seals them.

Every value is bound to where it belongs through AES-GCM's associated data (the caller passes the
resource key), so a ciphertext copied onto another object does not open.

It must never put key material or plaintext in an error message or a log. File I/O is blocking:
async callers run :meth:`load_or_create` and :meth:`rotate` through ``asyncio.to_thread``.
Thread-safety: :meth:`seal` and :meth:`unseal` may run on any thread while :meth:`rotate` runs on
another; the key ring is replaced as a whole under a lock.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kfed_hub.store.protocol import StoreError

_KEY_BYTES = 32  # AES-256
_NONCE_BYTES = 12  # GCM's standard nonce; random nonces are safe far beyond any hub's write count


class SealingError(StoreError):
    """A sealed value cannot be opened, or the key file cannot be used."""


class UnknownSealingKey(SealingError):
    """The value was sealed with a key id that is not in the key file."""


class TamperedValue(SealingError):
    """The value, its nonce or its associated data do not match what was sealed."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Sealed:
    """An encrypted value: which key sealed it, the nonce and the ciphertext (with GCM's tag)."""

    key_id: str
    nonce: bytes
    ciphertext: bytes


class SecretSealer:
    """Seals and unseals with the keys of one key file; see the module docstring."""

    def __init__(self, path: Path, active: str, keys: Mapping[str, bytes]) -> None:
        if active not in keys:
            raise SealingError(f"key file {path}: the active key {active!r} is not among its keys")
        self._path = path
        self._lock = threading.Lock()
        self._active = active
        self._keys: Mapping[str, bytes] = MappingProxyType(dict(keys))

    @classmethod
    def load_or_create(cls, path: Path | str) -> SecretSealer:
        """Read the key file at ``path``, creating it with one fresh key if it does not exist."""
        path = Path(path)
        if not path.exists():
            key_id = _new_key_id()
            # If another process created it meanwhile, FileExistsError: use theirs.
            with contextlib.suppress(FileExistsError):
                _write_key_file(
                    path, key_id, {key_id: AESGCM.generate_key(bit_length=256)}, new=True
                )
        active, keys = _read_key_file(path)
        return cls(path, active, keys)

    @property
    def path(self) -> Path:
        return self._path

    @property
    def active_key_id(self) -> str:
        return self._active

    @property
    def key_ids(self) -> frozenset[str]:
        return frozenset(self._keys)

    def seal(self, plaintext: bytes, *, aad: bytes) -> Sealed:
        """Encrypt ``plaintext`` with the active key, bound to ``aad``."""
        with self._lock:
            key_id, key = self._active, self._keys[self._active]
        nonce = secrets.token_bytes(_NONCE_BYTES)
        return Sealed(
            key_id=key_id, nonce=nonce, ciphertext=AESGCM(key).encrypt(nonce, plaintext, aad)
        )

    def unseal(self, sealed: Sealed, *, aad: bytes) -> bytes:
        """Decrypt a value sealed for ``aad``; raises :class:`UnknownSealingKey` or
        :class:`TamperedValue`."""
        with self._lock:
            key = self._keys.get(sealed.key_id)
        if key is None:
            raise UnknownSealingKey(
                f"a value for {aad.decode(errors='replace')} was sealed with key "
                f"{sealed.key_id!r}, which is not in {self._path}; restore the key file that "
                "holds it"
            )
        try:
            return AESGCM(key).decrypt(sealed.nonce, sealed.ciphertext, aad)
        except (InvalidTag, ValueError):
            raise TamperedValue(
                f"the sealed value for {aad.decode(errors='replace')} (key {sealed.key_id!r}) "
                "does not authenticate: it was altered, or belongs to another object; "
                "restore it from a backup or write the object again"
            ) from None

    def rotate(self) -> str:
        """Add a fresh key, make it the active one, save the key file; returns the new id.

        Older keys stay for reading; re-seal the stored values (``SqliteStore.reseal_all``) and
        then :meth:`retire` them.
        """
        with self._lock:
            key_id = _new_key_id()
            keys = {**self._keys, key_id: AESGCM.generate_key(bit_length=256)}
            _write_key_file(self._path, key_id, keys, new=False)
            self._active, self._keys = key_id, MappingProxyType(keys)
        return key_id

    def retire(self, key_id: str) -> None:
        """Remove an old key from the key file (values it sealed can no longer be opened)."""
        with self._lock:
            if key_id == self._active:
                raise SealingError(f"key {key_id!r} is the active key; rotate before retiring it")
            if key_id not in self._keys:
                raise UnknownSealingKey(f"key {key_id!r} is not in {self._path}")
            keys = {k: v for k, v in self._keys.items() if k != key_id}
            _write_key_file(self._path, self._active, keys, new=False)
            self._keys = MappingProxyType(keys)


def _new_key_id() -> str:
    return "k" + secrets.token_hex(6)


def _read_key_file(path: Path) -> tuple[str, dict[str, bytes]]:
    mode = path.stat().st_mode
    if mode & 0o077:
        raise SealingError(
            f"key file {path} can be read by other users (mode {mode & 0o777:o}); "
            f"run `chmod 600 {path}`"
        )
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        active = document["active"]
        keys = {str(k): base64.b64decode(v, validate=True) for k, v in document["keys"].items()}
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as e:
        raise SealingError(
            f"key file {path} is not a kfed key file ({type(e).__name__}); "
            "restore it from a backup (without it, sealed secrets cannot be read)"
        ) from None
    if not isinstance(active, str) or active not in keys:
        raise SealingError(f"key file {path}: the active key is not among its keys")
    if any(len(key) != _KEY_BYTES for key in keys.values()):
        raise SealingError(f"key file {path}: every key must be {_KEY_BYTES} bytes")
    return active, keys


def _write_key_file(path: Path, active: str, keys: Mapping[str, bytes], *, new: bool) -> None:
    """Write the whole file to a temporary name, then link (new) or rename it into place, so a
    crash leaves either the old or the new file, never a torn one."""
    document = {
        "active": active,
        "keys": {k: base64.b64encode(v).decode("ascii") for k, v in keys.items()},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(document, out, indent=2, sort_keys=True)
            out.flush()
            os.fsync(out.fileno())
        if new:
            os.link(temporary, path)  # fails if the file appeared meanwhile: never overwrite keys
        else:
            os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # make the new name itself durable
    finally:
        os.close(directory)
