"""SecretSealer: AES-GCM sealing with a rotatable key file."""

from __future__ import annotations

import dataclasses
import json
import stat
from pathlib import Path

import pytest

from kfed_hub.store.sealing import (
    SealingError,
    SecretSealer,
    TamperedValue,
    UnknownSealingKey,
)

PLAIN = b"correct horse battery staple"
AAD = b"kfed-object:core/Secret/default/db"


def test_first_use_creates_a_private_key_file_that_later_loads_read(tmp_path: Path) -> None:
    path = tmp_path / "data" / "store.key"
    first = SecretSealer.load_or_create(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    document = json.loads(path.read_text())
    assert document["active"] == first.active_key_id
    assert set(document["keys"]) == {first.active_key_id}
    sealed = first.seal(PLAIN, aad=AAD)
    again = SecretSealer.load_or_create(path)
    assert again.active_key_id == first.active_key_id
    assert again.unseal(sealed, aad=AAD) == PLAIN
    assert [p.name for p in path.parent.iterdir()] == ["store.key"]  # no temporary left behind


def test_sealing_hides_the_plaintext_and_never_reuses_a_nonce(tmp_path: Path) -> None:
    sealer = SecretSealer.load_or_create(tmp_path / "store.key")
    one, two = sealer.seal(PLAIN, aad=AAD), sealer.seal(PLAIN, aad=AAD)
    assert PLAIN not in one.ciphertext
    assert one.nonce != two.nonce and one.ciphertext != two.ciphertext
    assert one.key_id == sealer.active_key_id


def test_an_altered_ciphertext_or_nonce_is_refused_without_showing_the_value(
    tmp_path: Path,
) -> None:
    sealer = SecretSealer.load_or_create(tmp_path / "store.key")
    sealed = sealer.seal(PLAIN, aad=AAD)
    flipped = bytes([sealed.ciphertext[0] ^ 1]) + sealed.ciphertext[1:]
    for bad in (
        dataclasses.replace(sealed, ciphertext=flipped),
        dataclasses.replace(sealed, nonce=bytes(12)),
        dataclasses.replace(sealed, ciphertext=b""),
    ):
        with pytest.raises(TamperedValue, match="does not authenticate") as caught:
            sealer.unseal(bad, aad=AAD)
        assert "horse" not in str(caught.value)


def test_a_value_moved_to_another_object_does_not_open(tmp_path: Path) -> None:
    sealer = SecretSealer.load_or_create(tmp_path / "store.key")
    sealed = sealer.seal(PLAIN, aad=AAD)
    with pytest.raises(TamperedValue, match="core/Secret/default/other"):
        sealer.unseal(sealed, aad=b"kfed-object:core/Secret/default/other")


def test_a_value_sealed_with_an_unknown_key_names_the_key_and_the_key_file(
    tmp_path: Path,
) -> None:
    sealed = SecretSealer.load_or_create(tmp_path / "a.key").seal(PLAIN, aad=AAD)
    other = SecretSealer.load_or_create(tmp_path / "b.key")
    with pytest.raises(UnknownSealingKey, match=sealed.key_id) as caught:
        other.unseal(sealed, aad=AAD)
    assert "b.key" in str(caught.value) and "restore the key file" in str(caught.value)


def test_rotation_adds_an_active_key_and_keeps_old_ones_for_reading(tmp_path: Path) -> None:
    path = tmp_path / "store.key"
    sealer = SecretSealer.load_or_create(path)
    old_id = sealer.active_key_id
    old = sealer.seal(PLAIN, aad=AAD)
    new_id = sealer.rotate()
    assert new_id != old_id and sealer.active_key_id == new_id
    assert sealer.seal(PLAIN, aad=AAD).key_id == new_id
    assert sealer.unseal(old, aad=AAD) == PLAIN
    reloaded = SecretSealer.load_or_create(path)
    assert reloaded.active_key_id == new_id and reloaded.key_ids == {old_id, new_id}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_retiring_drops_an_old_key_but_never_the_active_one(tmp_path: Path) -> None:
    path = tmp_path / "store.key"
    sealer = SecretSealer.load_or_create(path)
    old_id = sealer.active_key_id
    old = sealer.seal(PLAIN, aad=AAD)
    sealer.rotate()
    with pytest.raises(SealingError, match="active key"):
        sealer.retire(sealer.active_key_id)
    sealer.retire(old_id)
    assert SecretSealer.load_or_create(path).key_ids == {sealer.active_key_id}
    with pytest.raises(UnknownSealingKey):
        sealer.unseal(old, aad=AAD)


def test_a_key_file_readable_by_others_is_refused_with_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "store.key"
    SecretSealer.load_or_create(path)
    path.chmod(0o644)
    with pytest.raises(SealingError, match="chmod 600"):
        SecretSealer.load_or_create(path)


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        '{"keys": {}}',
        '{"active": "k1", "keys": {"k1": "!!!"}}',
        '{"active": "k2", "keys": {"k1": "AAAA"}}',
        '{"active": "k1", "keys": {"k1": "AAAA"}}',
    ],
)
def test_a_damaged_key_file_is_refused_clearly(tmp_path: Path, content: str) -> None:
    path = tmp_path / "store.key"
    path.write_text(content)
    path.chmod(0o600)
    with pytest.raises(SealingError, match=r"key file .*store\.key"):
        SecretSealer.load_or_create(path)
