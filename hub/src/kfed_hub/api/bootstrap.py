"""Joining: the anonymous cluster-info and join endpoints, and bootstrap token creation.

Layer: ``kfed_hub.api`` over the :class:`~kfed_hub.ports.Bootstrap` seam.

- ``GET /kfed/v1/cluster-info`` (anonymous): the hub CA and addresses; a joining agent trusts
  them only after checking the CA against the hash the operator gave it.
- ``POST /kfed/v1/join`` (anonymous): ``{"name", "token", "csr"}`` → the signed certificate. Its
  body limit is small: strangers may call it.
- ``POST /apis/kfed.io/v1alpha1/bootstraptokens`` (admin): ``{"ttl", "description"}`` → token.

Tokens and certificates are never logged; refusals carry the Bootstrap's message only.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from aiohttp import web

from kfed_hub.api import errors
from kfed_hub.api.admission import timestamp
from kfed_hub.api.bodies import read_object
from kfed_hub.api.errors import ApiError, Cause, Reason, json_response
from kfed_hub.ports import Bootstrap, JoinRefusal, JoinRefused

JOIN_BODY_LIMIT = 64 * 1024  # a name, a token and one CSR fit many times over
DEFAULT_TTL = "1h"
_DURATION = re.compile(r"(?:\d+(?:\.\d+)?(?:h|m|s))+")
_PART = re.compile(r"(\d+(?:\.\d+)?)(h|m|s)")
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0}

_REFUSAL_REASONS = {
    JoinRefusal.TOKEN_UNKNOWN: Reason.UNAUTHORIZED,
    JoinRefusal.TOKEN_USED: Reason.UNAUTHORIZED,
    JoinRefusal.TOKEN_EXPIRED: Reason.UNAUTHORIZED,
    JoinRefusal.NAME_TAKEN: Reason.ALREADY_EXISTS,
    JoinRefusal.INVALID: Reason.INVALID,
}


def parse_duration(text: str) -> dt.timedelta:
    """A Go-style duration of hours, minutes and seconds (``30m``, ``1h``, ``1h30m``, ``90s``).

    Raises ``ValueError`` with a message naming the value and the accepted forms.
    """
    value = text.strip()
    if not _DURATION.fullmatch(value):
        raise ValueError(f"invalid duration {text!r}: use a duration like 30m, 1h or 24h")
    seconds = sum(float(n) * _UNIT_SECONDS[unit] for n, unit in _PART.findall(value))
    if seconds <= 0:
        raise ValueError(f"invalid duration {text!r}: it must be longer than zero")
    return dt.timedelta(seconds=seconds)


def _string_field(body: dict[str, Any], field: str, *, required: bool) -> str:
    value = body.get(field, "")
    if not isinstance(value, str):
        raise errors.bad_request(f"{field} must be a string")
    if required and not value:
        raise ApiError(
            Reason.INVALID,
            f"the join request is invalid: {field}: Required value",
            causes=[Cause(reason="FieldValueRequired", message="Required value", field=field)],
        )
    return value


class BootstrapHandlers:
    """The join endpoints and token creation."""

    def __init__(self, *, bootstrap: Bootstrap, max_body_bytes: int) -> None:
        self._bootstrap = bootstrap
        self._limit = max_body_bytes

    async def cluster_info(self, request: web.Request) -> web.Response:
        info = self._bootstrap.cluster_info()
        return json_response(
            {
                "ca": info.ca_pem.decode("ascii"),
                "caHash": info.ca_hash,
                "apiAddress": info.api_address,
                "syncAddress": info.sync_address,
            }
        )

    async def join(self, request: web.Request) -> web.Response:
        body = await read_object(request, min(JOIN_BODY_LIMIT, self._limit))
        name = _string_field(body, "name", required=True)
        token = _string_field(body, "token", required=True)
        csr = _string_field(body, "csr", required=True)
        try:
            grant = await self._bootstrap.join(name=name, token=token, csr_pem=csr.encode())
        except JoinRefused as refused:
            raise ApiError(_REFUSAL_REASONS[refused.reason], str(refused), name=name) from None
        return json_response(
            {
                "cluster": grant.cluster,
                "certificate": grant.certificate_pem.decode("ascii"),
                "ca": grant.ca_pem.decode("ascii"),
                "syncAddress": grant.sync_address,
            },
            created=True,
        )

    async def create_token(self, request: web.Request) -> web.Response:
        body = await read_object(request, self._limit)
        ttl_text = body.get("ttl", DEFAULT_TTL)
        if not isinstance(ttl_text, str):
            raise errors.bad_request('ttl must be a duration string like "30m", "1h" or "24h"')
        try:
            ttl = parse_duration(ttl_text)
        except ValueError as exc:
            raise errors.bad_request(f"ttl: {exc}") from None
        description = _string_field(body, "description", required=False)
        try:
            issued = await self._bootstrap.create_token(ttl=ttl, description=description)
        except ValueError as exc:  # e.g. a TTL beyond the hub's limit
            raise errors.bad_request(f"ttl: {exc}") from None
        return json_response(
            {
                "token": issued.token,
                "expiresAt": timestamp(issued.expires_at),
                "joinCommand": issued.join_command,
            },
            created=True,
        )
