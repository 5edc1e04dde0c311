"""The Sync service on the hub: the gRPC servicer that authenticates each call and runs one
:class:`~kfed_hub.stream.ClusterStream` per member cluster, plus certificate renewal.

Layer: ``kfed_hub`` I/O shell. Together with :mod:`kfed_hub.stream` it is the one place in the
hub that produces gRPC status codes.

Identity comes only from the verified client certificate (its ``spiffe://kfed/cluster/<name>``
URI SAN) and must be one the hub issued to a joined cluster and did not revoke. A stream therefore
only ever reads its own cluster's desired state and writes its own cluster's results and status;
nothing in a message can name another cluster.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from grpc import aio

from kfed_core import rpc
from kfed_core.identity import cluster_of, serial_hex
from kfed_core.keys import ResourceKey
from kfed_hub.desired_index import DesiredIndex
from kfed_hub.health import HealthPolicy
from kfed_hub.metrics import HubMetrics
from kfed_hub.registry import ClusterRegistry
from kfed_hub.states import StateSink
from kfed_hub.stream import ClusterStream, ProtocolViolation, StreamSettings, read_message

log = logging.getLogger(__name__)


class CertificateSigner(Protocol):
    """What Renew needs from the hub's PKI (:class:`kfed_hub.pki.HubPki` is one)."""

    @property
    def ca_pem(self) -> bytes: ...

    def sign_agent(
        self, csr_pem: bytes, *, cluster: str, valid_for: dt.timedelta
    ) -> x509.Certificate: ...


class SyncService(rpc.SyncServicer):
    """The gRPC servicer of the Sync service."""

    def __init__(
        self,
        *,
        registry: ClusterRegistry,
        index: DesiredIndex,
        sink: StateSink,
        signer: CertificateSigner,
        metrics: HubMetrics,
        policy: HealthPolicy,
        settings: StreamSettings,
        hub_version: str,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        observer: Callable[[str, ResourceKey, Mapping[str, Any] | None], None] | None = None,
        record: Callable[..., None] | None = None,
    ) -> None:
        self.observer = observer
        self.record = record
        self.registry = registry
        self.index = index
        self.sink = sink
        self.signer = signer
        self.metrics = metrics
        self.policy = policy
        self.settings = settings
        self.hub_version = hub_version
        self.clock = clock
        self.wall_clock = wall_clock
        self._nonces = itertools.count(1)
        self._boot = format(int(time.time() * 1000), "x")

    def next_nonce(self) -> str:
        """A nonce never used before by this hub process (a restart changes the prefix)."""
        return f"{self._boot}-{next(self._nonces)}"

    async def _identify(self, context: aio.ServicerContext[object, object]) -> tuple[str, str]:
        """The cluster and certificate serial of the peer, or the call is aborted."""
        pems = list(context.auth_context().get("x509_pem_cert") or [])
        if not pems:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "a client certificate is needed")
        try:
            cert = x509.load_pem_x509_certificate(pems[0])
        except ValueError:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "unreadable client certificate")
        cluster = cluster_of(cert)
        if cluster is None:
            await context.abort(
                grpc.StatusCode.PERMISSION_DENIED,
                "the client certificate names no cluster (spiffe://kfed/cluster/<name>)",
            )
        assert cluster is not None
        serial = serial_hex(cert)
        problem = await self.registry.authorize(cluster, serial)
        if problem is not None:
            log.warning("refused a stream for cluster %s: %s", cluster, problem)
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, problem)
        return cluster, serial

    async def Sync(  # type: ignore[override]
        self, request_iterator: object, context: aio.ServicerContext[object, object]
    ) -> None:
        cluster, _ = await self._identify(context)
        try:
            async with asyncio.timeout(self.settings.hello_timeout):
                first = await read_message(context)
        except TimeoutError:
            await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, "no Hello in time")
        except ProtocolViolation as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        if first is aio.EOF:
            return
        assert isinstance(first, rpc.AgentMessage)
        if first.WhichOneof("body") != "hello":
            await context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, "the first message of a stream must be Hello"
            )
        stream = ClusterStream(self, cluster, context)
        reason = "Error"
        log.info("cluster %s connected (%d objects known)", cluster, len(first.hello.known))
        try:
            reason = await stream.run(first.hello)
        except ProtocolViolation as exc:
            reason = "ProtocolViolation"
            log.warning("cluster %s broke the protocol: %s", cluster, exc)
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        finally:
            self.registry.detach(cluster, stream, reason)
            log.info("cluster %s stream ended: %s", cluster, reason)
        if reason == "Revoked":
            await context.abort(grpc.StatusCode.PERMISSION_DENIED, "the cluster was removed")

    async def Renew(
        self, request: rpc.RenewRequest, context: aio.ServicerContext[object, object]
    ) -> rpc.RenewResponse:
        cluster, _ = await self._identify(context)
        try:
            cert = self.signer.sign_agent(
                request.csr_pem, cluster=cluster, valid_for=self.settings.agent_cert_ttl
            )
        except ValueError as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"certificate request: {exc}")
        await self.registry.add_serial(cluster, serial_hex(cert))
        log.info("renewed the certificate of cluster %s", cluster)
        return rpc.RenewResponse(
            certificate_pem=cert.public_bytes(serialization.Encoding.PEM),
            ca_pem=self.signer.ca_pem,
        )
