"""The agent's only gRPC code: dial the hub over mutual TLS, open the Sync stream, renew the
certificate.

Layer: ``kfed_agent`` I/O shell. It knows the wire (:mod:`kfed_core.rpc`) but nothing of
Kubernetes; errors come out as :class:`LinkError` with the gRPC status translated to words.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

import grpc
from grpc import aio

from kfed_core import rpc, tls


class LinkError(Exception):
    """The hub could not be reached, refused the agent, or ended the stream with an error.

    ``code`` is the gRPC status code's name (``UNAVAILABLE``, ``PERMISSION_DENIED``, ...);
    ``fatal`` is True when retrying with the same certificate cannot help (it was revoked, or the
    hub does not know the cluster).
    """

    def __init__(self, message: str, *, code: str = "UNAVAILABLE") -> None:
        super().__init__(message)
        self.code = code

    @property
    def fatal(self) -> bool:
        return self.code in ("PERMISSION_DENIED", "UNAUTHENTICATED")


def _error(exc: grpc.aio.AioRpcError, doing: str, address: str) -> LinkError:
    code = exc.code()
    details = exc.details() or code.name
    if code is grpc.StatusCode.UNAVAILABLE:
        message = f"hub {address} unavailable while {doing}: {details}"
    elif code in (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED):
        message = f"hub {address} refused the agent while {doing}: {details}"
    else:
        message = f"hub {address} ended the stream while {doing}: {code.name}: {details}"
    return LinkError(message, code=code.name)


@dataclass(frozen=True, slots=True, kw_only=True)
class Endpoint:
    """Where the hub's Sync service is and the agent's mTLS material (PEM)."""

    address: str
    ca_pem: bytes
    cert_pem: bytes
    key_pem: bytes

    def channel(self) -> aio.Channel:
        """A new channel with these credentials (certificates are fixed per channel, so a
        rotated certificate takes effect on the next connection)."""
        credentials = tls.grpc_channel_credentials(
            ca_pem=self.ca_pem, cert_pem=self.cert_pem, key_pem=self.key_pem
        )
        return aio.secure_channel(self.address, credentials, options=rpc.CHANNEL_OPTIONS)


class SyncLink:
    """One open Sync stream. Use :func:`open_link` and close it with :meth:`close`."""

    def __init__(self, endpoint: Endpoint, channel: aio.Channel) -> None:
        self.endpoint = endpoint
        self._channel = channel
        self._call = rpc.sync_stub(channel).Sync()
        # gRPC allows one write at a time on a stream; results, status and heartbeats come from
        # different tasks, so writes take turns.
        self._writing = asyncio.Lock()

    async def send(self, message: rpc.AgentMessage) -> None:
        try:
            async with self._writing:
                await self._call.write(message)
        except grpc.aio.AioRpcError as exc:
            raise _error(exc, "sending", self.endpoint.address) from exc
        except (grpc.aio.UsageError, asyncio.InvalidStateError) as exc:  # the call already ended
            raise LinkError(f"stream to {self.endpoint.address} is closed") from exc

    async def receive(self) -> rpc.HubMessage | None:
        """The next message from the hub, or None when the hub ended the stream cleanly."""
        try:
            message = await self._call.read()
        except grpc.aio.AioRpcError as exc:
            raise _error(exc, "receiving", self.endpoint.address) from exc
        if message is aio.EOF:
            return None
        assert isinstance(message, rpc.HubMessage)
        return message

    async def close(self) -> None:
        self._call.cancel()
        # Bounded: closing must end even if gRPC's completion events never arrive.
        with contextlib.suppress(Exception):
            async with asyncio.timeout(10.0):
                await self._channel.close()


async def open_link(endpoint: Endpoint) -> SyncLink:
    """Dial the hub and open the stream (the TLS handshake happens on the first message)."""
    return SyncLink(endpoint, endpoint.channel())


async def renew(
    endpoint: Endpoint, csr_pem: bytes, *, deadline: float = 30.0
) -> tuple[bytes, bytes]:
    """Exchange a CSR for a new certificate; returns ``(certificate_pem, ca_pem)``."""
    channel = endpoint.channel()
    try:
        response = await rpc.sync_stub(channel).Renew(
            rpc.RenewRequest(csr_pem=csr_pem), timeout=deadline
        )
    except grpc.aio.AioRpcError as exc:
        raise _error(exc, "renewing the certificate", endpoint.address) from exc
    finally:
        await channel.close()
    return response.certificate_pem, response.ca_pem
