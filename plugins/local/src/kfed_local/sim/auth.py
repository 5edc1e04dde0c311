"""Who is calling a simulated cluster: client certificates and bearer tokens.

Layer: beside the HTTP server. Authentication only: a verified client certificate signed by the
cluster's CA names the user (common name) and groups (organizations), as kube-apiserver's x509
authenticator does; a bearer token is looked up in the cluster's token table. Anything else is
401 Unauthorized. Every authenticated user may do everything (the simulated clusters have no
RBAC yet; say so in the docs).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class UserInfo:
    """An authenticated caller."""

    name: str
    groups: tuple[str, ...] = ()


@dataclass(slots=True)
class Authenticator:
    """Maps a request's credentials to a user, or to nobody."""

    tokens: dict[str, UserInfo] = field(default_factory=dict)

    def from_certificate(self, peercert: Mapping[str, Any] | None) -> UserInfo | None:
        """The user of a verified client certificate (``ssl`` already checked the chain)."""
        if not peercert:
            return None
        common_name = ""
        groups: list[str] = []
        for rdn in peercert.get("subject", ()):
            for key, value in rdn:
                if key == "commonName":
                    common_name = value
                elif key == "organizationName":
                    groups.append(value)
        if not common_name:
            return None
        return UserInfo(common_name, (*groups, "system:authenticated"))

    def from_token(self, authorization: str | None) -> UserInfo | None:
        """The user of a ``Bearer`` token, compared in constant time."""
        if not authorization or not authorization.startswith("Bearer "):
            return None
        presented = authorization[len("Bearer ") :].strip()
        for token, user in self.tokens.items():
            if hmac.compare_digest(token, presented):
                return user
        return None
