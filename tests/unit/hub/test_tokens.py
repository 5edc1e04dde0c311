"""Bootstrap tokens: kubeadm's form, parsing without echoing secrets, hashing."""

from __future__ import annotations

import hashlib
import random
import re

import pytest

from kfed_hub import tokens

FORM = re.compile(r"[a-z0-9]{6}\.[a-z0-9]{16}")


def test_new_tokens_have_kubeadms_form_and_differ() -> None:
    made = {tokens.format_token(*tokens.new_token()) for _ in range(50)}
    assert len(made) == 50
    assert all(FORM.fullmatch(token) for token in made)


def test_a_seeded_rng_makes_the_same_token() -> None:
    assert tokens.new_token(random.Random(7)) == tokens.new_token(random.Random(7))


def test_parse_splits_id_and_secret() -> None:
    assert tokens.parse_token(" abcdef.0123456789abcdef\n") == ("abcdef", "0123456789abcdef")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "k3y1d7s3cr3ts3cr3ts3cr3t",
        "K3Y1D7.S3CR3TS3CR3TS3CR",
        "k3y1d.s3cr3ts3cr3ts3cr3",
        "k3y1d7.s3cr3ts3cr3ts3c",
        "k3y1d7.s3cr3ts3cr3ts3cr3ts",
        "k3y1d7.s3cr3ts3cr3t-s3cr",
    ],
)
def test_malformed_tokens_are_refused_without_echoing_them(text: str) -> None:
    with pytest.raises(tokens.InvalidToken, match="kfed token create") as caught:
        tokens.parse_token(text)
    assert "s3cr3t" not in str(caught.value).lower()


def test_the_stored_hash_is_the_secrets_sha256() -> None:
    secret = "0123456789abcdef"
    assert tokens.hash_secret(secret) == hashlib.sha256(secret.encode()).hexdigest()
    assert tokens.hash_secret(secret) != tokens.hash_secret("0123456789abcdee")
