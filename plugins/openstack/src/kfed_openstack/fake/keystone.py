"""A fake Keystone v3: version documents, tokens and a service catalog.

Layer: ``kfed_openstack.fake``, pure (no I/O, no clock: tokens expire in 2099). It accepts
password auth (user and project scoped by name or ID) and application credentials, answers
401 in Keystone's shape otherwise, and returns a catalog listing for every region a
``load-balancer`` endpoint (``<base>/<region>/load-balancer``) and the ``dns`` endpoint
(``<base>/dns``, one global Designate listed in every region) on public, internal and admin
interfaces. It has no users API, roles beyond ``member``, domains beyond ``Default``, nor trusts.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

from kfed_openstack.fake.common import ApiError, Json, Reply

EXPIRES = "2099-01-01T00:00:00.000000Z"
ISSUED = "2024-01-01T00:00:00.000000Z"


def unauthorized(message: str = "The request you have made requires authentication.") -> ApiError:
    return ApiError(
        401,
        {"error": {"code": 401, "title": "Unauthorized", "message": message}},
        {"WWW-Authenticate": 'Keystone uri="fake"'},
    )


def versions_doc(base: str) -> Json:
    """Keystone's root document (``GET /identity``)."""
    return {"versions": {"values": [version_doc(base)["version"]]}}


def version_doc(base: str) -> Json:
    return {
        "version": {
            "id": "v3.14",
            "status": "stable",
            "updated": "2020-04-07T00:00:00Z",
            "links": [{"rel": "self", "href": f"{base}/identity/v3/"}],
            "media-types": [
                {"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}
            ],
        }
    }


class Keystone:
    """Credentials it accepts, and the tokens it issued."""

    def __init__(
        self,
        *,
        regions: Sequence[str],
        users: Mapping[str, str],
        project: str,
        application_credentials: Mapping[str, str],
    ) -> None:
        self.regions = tuple(regions)
        self.users = dict(users)
        self.project = project
        self.application_credentials = dict(application_credentials)
        self.tokens: set[str] = set()
        self._count = itertools.count(1)

    def valid(self, token: str | None) -> bool:
        return token is not None and token in self.tokens

    def revoke_all(self) -> None:
        """Forget every token (as after a Keystone restart with non-persistent tokens)."""
        self.tokens.clear()

    def issue(self, body: Json | None, base: str) -> Reply:
        """``POST /v3/auth/tokens``: a scoped token with the catalog, or 401."""
        identity = ((body or {}).get("auth") or {}).get("identity") or {}
        methods = identity.get("methods") or []
        user = "kfed-app"
        if "password" in methods:
            spec = (identity.get("password") or {}).get("user") or {}
            user = str(spec.get("name") or spec.get("id") or "")
            if self.users.get(user) is None or self.users[user] != spec.get("password"):
                raise unauthorized("The request you have made requires authentication.")
            scope = ((body or {}).get("auth") or {}).get("scope") or {}
            project = (scope.get("project") or {}).get("name") or (scope.get("project") or {}).get(
                "id"
            )
            if project != self.project:
                raise unauthorized(f"User {user} has no access to project {project}.")
        elif "application_credential" in methods:
            spec = identity.get("application_credential") or {}
            secret = self.application_credentials.get(str(spec.get("id")))
            if secret is None or secret != spec.get("secret"):
                raise unauthorized("The request you have made requires authentication.")
        else:
            raise ApiError(
                400,
                {
                    "error": {
                        "code": 400,
                        "title": "Bad Request",
                        "message": "Expecting to find identity methods",
                    }
                },
            )
        token = f"fake-token-{next(self._count):06d}"
        self.tokens.add(token)
        return Reply(201, self._token(user, base, methods), {"X-Subject-Token": token})

    def _token(self, user: str, base: str, methods: list[str]) -> Json:
        domain = {"id": "default", "name": "Default"}
        return {
            "token": {
                "methods": methods,
                "expires_at": EXPIRES,
                "issued_at": ISSUED,
                "audit_ids": ["fake-audit"],
                "user": {
                    "id": f"user-{user}",
                    "name": user,
                    "domain": domain,
                    "password_expires_at": None,
                },
                "project": {
                    "id": f"project-{self.project}",
                    "name": self.project,
                    "domain": domain,
                },
                "roles": [{"id": "role-member", "name": "member"}],
                "is_domain": False,
                "catalog": self.catalog(base),
            }
        }

    def catalog(self, base: str) -> list[Json]:
        def endpoints(url_of: str) -> list[Json]:
            return [
                {
                    "id": f"ep-{kind}-{region}",
                    "interface": kind,
                    "region": region,
                    "region_id": region,
                    "url": url_of.format(region=region),
                }
                for region in self.regions
                for kind in ("public", "internal", "admin")
            ]

        return [
            {
                "id": "svc-keystone",
                "type": "identity",
                "name": "keystone",
                "endpoints": endpoints(f"{base}/identity"),
            },
            {
                "id": "svc-octavia",
                "type": "load-balancer",
                "name": "octavia",
                "endpoints": endpoints(base + "/{region}/load-balancer"),
            },
            {
                "id": "svc-designate",
                "type": "dns",
                "name": "designate",
                "endpoints": endpoints(f"{base}/dns"),
            },
        ]
