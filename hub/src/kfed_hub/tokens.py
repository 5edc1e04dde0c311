"""Bootstrap tokens in kubeadm's form: ``<id>.<secret>``, ``[a-z0-9]{6}.[a-z0-9]{16}``.

Layer: ``kfed_hub`` domain helpers. Pure apart from :func:`new_token`, whose randomness is passed in
(``secrets`` by default, a seeded ``random.Random`` in tests). No I/O, no logging.

The id is public (it names the token in listings); the secret is shown once, when the token is made,
and only its SHA-256 is stored. Error messages here never repeat the text they were given, because
that text may hold the secret.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Sequence
from typing import Protocol

ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"
ID_LENGTH = 6
SECRET_LENGTH = 16  # 36**16 ≈ 2**82: out of reach of guessing within a token's lifetime

_TOKEN = re.compile(rf"([a-z0-9]{{{ID_LENGTH}}})\.([a-z0-9]{{{SECRET_LENGTH}}})")


class InvalidToken(ValueError):
    """The text is not a token of the form ``abcdef.0123456789abcdef``."""


class Chooser(Protocol):
    """A source of random choices: the ``secrets`` module or a ``random.Random``."""

    def choice(self, seq: Sequence[str], /) -> str: ...


def new_token(rng: Chooser = secrets) -> tuple[str, str]:
    """A fresh ``(token_id, secret)``; join them with a dot to show the token."""
    token_id = "".join(rng.choice(ALPHABET) for _ in range(ID_LENGTH))
    secret = "".join(rng.choice(ALPHABET) for _ in range(SECRET_LENGTH))
    return token_id, secret


def format_token(token_id: str, secret: str) -> str:
    """The token as people type it."""
    return f"{token_id}.{secret}"


def parse_token(text: str) -> tuple[str, str]:
    """``(token_id, secret)`` of a token; raises :class:`InvalidToken`, never echoing ``text``."""
    match = _TOKEN.fullmatch(text.strip())
    if match is None:
        raise InvalidToken(
            f"a bootstrap token is {ID_LENGTH} lower-case letters or digits, a dot, then "
            f"{SECRET_LENGTH} more (like abcdef.0123456789abcdef); copy it from the "
            "`kfed join` line that `kfed token create` printed"
        )
    return match.group(1), match.group(2)


def hash_secret(secret: str) -> str:
    """The stored form of a token's secret: SHA-256, hex."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()
