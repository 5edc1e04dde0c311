"""Bootstrap tokens and joins: the hub side of ``kfed token create`` and ``kfed join``.

Layer: ``kfed_hub`` service, implementing :class:`kfed_hub.ports.Bootstrap` over the
:class:`~kfed_hub.store.protocol.Store` and :class:`~kfed_hub.pki.HubPki`. It knows nothing of
HTTP: the API turns :class:`~kfed_hub.ports.JoinRefused` into a Status. It must never put a
token's secret into a message, a log line or the store (only its hash is stored).

A join is checked in an order that wastes nothing: the name and the CSR first, then whether the
name is taken, and only then is the token consumed, so a typo does not burn a single-use token.
Joins are serialised by a lock, so two joins racing for one name cannot both consume a token.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
import shlex

from cryptography.hazmat.primitives.serialization import Encoding

from kfed_core.identity import serial_hex, valid_cluster_name
from kfed_hub import tokens
from kfed_hub.pki import Clock, CsrRejected, HubPki
from kfed_hub.ports import ClusterInfo, IssuedToken, JoinGrant, JoinRefusal, JoinRefused
from kfed_hub.store.protocol import BootstrapToken, ClusterRecord, Conflict, Store, TokenUse

DEFAULT_AGENT_CERT_TTL = dt.timedelta(days=30)
MAX_TOKEN_TTL = dt.timedelta(days=7)  # a join token is for joining now, not a standing credential
_ID_ATTEMPTS = 5  # 36**6 ids: a collision is rare, five in a row means something else is wrong

_NEW_TOKEN = "create a new one with `kfed token create` on the hub"
_TOKEN_REFUSALS = {
    TokenUse.UNKNOWN: (
        JoinRefusal.TOKEN_UNKNOWN,
        f"the hub does not know this bootstrap token (or its secret is wrong); {_NEW_TOKEN}",
    ),
    TokenUse.USED: (
        JoinRefusal.TOKEN_USED,
        f"this bootstrap token was already used, and tokens are single-use; {_NEW_TOKEN}",
    ),
    TokenUse.EXPIRED: (
        JoinRefusal.TOKEN_EXPIRED,
        f"this bootstrap token has expired; {_NEW_TOKEN} (--ttl sets how long it lasts)",
    ),
}


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class HubBootstrap:
    """Makes bootstrap tokens and turns a token plus a CSR into a joined cluster."""

    def __init__(
        self,
        *,
        store: Store,
        pki: HubPki,
        api_address: str,
        sync_address: str,
        agent_cert_ttl: dt.timedelta = DEFAULT_AGENT_CERT_TTL,
        clock: Clock = _utcnow,
        rng: tokens.Chooser = secrets,
    ) -> None:
        self._store, self._pki, self._clock, self._rng = store, pki, clock, rng
        self._api_address, self._sync_address = api_address, sync_address
        self._agent_cert_ttl = agent_cert_ttl
        self._join_lock = asyncio.Lock()

    def cluster_info(self) -> ClusterInfo:
        return ClusterInfo(
            ca_pem=self._pki.ca_pem,
            ca_hash=self._pki.ca_hash,
            api_address=self._api_address,
            sync_address=self._sync_address,
        )

    def join_command(self, token: str) -> str:
        """The ``kfed join`` line that uses ``token`` (angle brackets: the operator fills them)."""
        return (
            f"kfed join <NAME> --hub {shlex.quote(self._api_address)} --token {token} "
            f"--ca-hash {self._pki.ca_hash} --kubeconfig <KUBECONFIG> --out <DIR>"
        )

    async def create_token(self, *, ttl: dt.timedelta, description: str = "") -> IssuedToken:
        """A fresh single-use token valid for ``ttl``; raises ``ValueError`` for a bad ``ttl``."""
        if not dt.timedelta(0) < ttl <= MAX_TOKEN_TTL:
            raise ValueError(
                f"a token's ttl must be more than 0 and at most {MAX_TOKEN_TTL}, got {ttl}"
            )
        now = self._clock()
        for _ in range(_ID_ATTEMPTS):
            token_id, secret = tokens.new_token(self._rng)
            record = BootstrapToken(
                token_id=token_id,
                secret_hash=tokens.hash_secret(secret),
                created_at=now,
                expires_at=now + ttl,
                description=description,
            )
            try:
                await self._store.create_token(record)
            except Conflict:
                continue
            token = tokens.format_token(token_id, secret)
            return IssuedToken(
                token=token, expires_at=record.expires_at, join_command=self.join_command(token)
            )
        raise RuntimeError(f"no free token id after {_ID_ATTEMPTS} attempts; try again")

    async def join(self, *, name: str, token: str, csr_pem: bytes) -> JoinGrant:
        """Check and consume ``token``, then sign ``csr_pem`` for cluster ``name``.

        Raises :class:`JoinRefused`; its message is meant for the person running ``kfed join``.
        """
        problem = valid_cluster_name(name)
        if problem is not None:
            raise JoinRefused(JoinRefusal.INVALID, f"invalid cluster name {name[:80]!r}: {problem}")
        try:
            token_id, secret = tokens.parse_token(token)
        except tokens.InvalidToken as exc:
            raise JoinRefused(JoinRefusal.INVALID, str(exc)) from None
        try:
            self._pki.check_csr(csr_pem)
        except CsrRejected as exc:
            raise JoinRefused(
                JoinRefusal.INVALID, f"the hub cannot sign this certificate request: {exc}"
            ) from None
        async with self._join_lock:
            if await self._store.get_cluster(name) is not None:
                raise JoinRefused(JoinRefusal.NAME_TAKEN, self._taken(name, token_consumed=False))
            now = self._clock()
            use = await self._store.use_token(
                token_id, tokens.hash_secret(secret), cluster=name, now=now
            )
            if use is not TokenUse.ACCEPTED:
                reason, message = _TOKEN_REFUSALS[use]
                raise JoinRefused(reason, message)
            cert = self._pki.sign_agent(csr_pem, cluster=name, valid_for=self._agent_cert_ttl)
            record = ClusterRecord(name=name, joined_at=now, cert_serials=(serial_hex(cert),))
            try:
                await self._store.create_cluster(record)
            except Conflict:  # joined by another hub process sharing the store
                raise JoinRefused(
                    JoinRefusal.NAME_TAKEN, self._taken(name, token_consumed=True)
                ) from None
        return JoinGrant(
            cluster=name,
            certificate_pem=cert.public_bytes(Encoding.PEM),
            ca_pem=self._pki.ca_pem,
            sync_address=self._sync_address,
        )

    @staticmethod
    def _taken(name: str, *, token_consumed: bool) -> str:
        message = (
            f'cluster "{name}" has already joined; choose another name, or remove it first '
            f"with `kfed cluster remove {name}`"
        )
        if token_consumed:
            message += f"; the token was used up, so {_NEW_TOKEN}"
        return message
