"""The typed binding of the Sync service: stubs, servicer registration, channel options, and the
conversions between protobuf messages and :mod:`kfed_core.sync`'s plain values.

Layer: ``kfed_core`` (contract). The generated code lives in :mod:`kfed_core.v1`; everything else
in kfed goes through this module rather than importing it, so the generated names stay in one
place and mypy sees typed calls (the ``.pyi`` stubs come from mypy-protobuf).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import grpc
from grpc import aio

from kfed_core.sync.hub_side import APPLIED, FAILED, REMOVED, Batch, ResultItem
from kfed_core.v1 import sync_pb2 as pb
from kfed_core.v1 import sync_pb2_grpc as pb_grpc

SERVICE_NAME = "kfed.sync.v1.Sync"
MAX_MESSAGE_BYTES = 16 * 1024 * 1024
"""Largest message either side accepts: a batch is capped at 4 MiB of manifests by the hub, and a
Kubernetes object at 3 MiB by etcd, so this leaves room without inviting abuse."""

KEEPALIVE_OPTIONS: tuple[tuple[str, int], ...] = (
    ("grpc.keepalive_time_ms", 20_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.max_pings_without_data", 0),
)
CHANNEL_OPTIONS: tuple[tuple[str, int | str], ...] = (
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    *KEEPALIVE_OPTIONS,
)
SERVER_OPTIONS: tuple[tuple[str, int | str], ...] = (
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    # Agents send keepalive pings every 20 s; allow that without calling it abuse.
    ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
)

AgentMessage = pb.AgentMessage
HubMessage = pb.HubMessage
Hello = pb.Hello
Welcome = pb.Welcome
DeltaBatch = pb.DeltaBatch
BatchResult = pb.BatchResult
ResourceResult = pb.ResourceResult
StatusReport = pb.StatusReport
ObjectStatus = pb.ObjectStatus
ClusterHealth = pb.ClusterHealth
Resources = pb.Resources
Heartbeat = pb.Heartbeat
Goodbye = pb.Goodbye
RenewRequest = pb.RenewRequest
RenewResponse = pb.RenewResponse
SyncServicer = pb_grpc.SyncServicer


def sync_stub(channel: aio.Channel) -> pb_grpc.SyncAsyncStub:
    """The asyncio client stub of the Sync service on ``channel``."""
    stub: pb_grpc.SyncAsyncStub = pb_grpc.SyncStub(channel)
    return stub


def add_sync_servicer(server: aio.Server, servicer: pb_grpc.SyncServicer) -> None:
    """Serve ``servicer`` as the Sync service on ``server``."""
    pb_grpc.add_SyncServicer_to_server(servicer, server)


_OUTCOME_TO_PB = {
    APPLIED: pb.ResourceResult.APPLIED,
    FAILED: pb.ResourceResult.FAILED,
    REMOVED: pb.ResourceResult.REMOVED,
}
_OUTCOME_FROM_PB = {value: key for key, value in _OUTCOME_TO_PB.items()}


def batch_message(
    batch: Batch, *, orphaned: Callable[[str], bool] = lambda key: False
) -> pb.HubMessage:
    """The hub's DeltaBatch message for a batch; ``orphaned`` says which removals only release
    the object (``--cascade=orphan``)."""
    return pb.HubMessage(
        batch=pb.DeltaBatch(
            nonce=batch.nonce,
            upserts=[
                pb.Upsert(key=e.key, version=e.version, manifest=e.manifest) for e in batch.upserts
            ],
            removals=[pb.Removal(key=key, orphan=orphaned(key)) for key in batch.removals],
        )
    )


def result_message(nonce: str, results: Iterable[ResultItem]) -> pb.AgentMessage:
    """The agent's BatchResult message."""
    return pb.AgentMessage(
        result=pb.BatchResult(
            nonce=nonce,
            results=[
                pb.ResourceResult(
                    key=r.key,
                    version=r.version,
                    outcome=_OUTCOME_TO_PB[r.outcome],
                    reason=r.reason,
                    message=r.message,
                )
                for r in results
            ],
        )
    )


def results_of(message: pb.BatchResult) -> list[ResultItem]:
    """Plain result items from a BatchResult; an unknown outcome is read as failed."""
    return [
        ResultItem(
            key=r.key,
            version=r.version,
            outcome=_OUTCOME_FROM_PB.get(r.outcome, FAILED),
            reason=r.reason,
            message=r.message,
        )
        for r in message.results
    ]


def upserts_of(batch: pb.DeltaBatch) -> Sequence[tuple[str, str, bytes]]:
    """A DeltaBatch's upserts as ``(key, version, manifest)``."""
    return [(u.key, u.version, u.manifest) for u in batch.upserts]


def is_grpc_error(exc: BaseException) -> bool:
    """Whether ``exc`` is an error raised by gRPC for a call (as opposed to kfed's own)."""
    return isinstance(exc, grpc.RpcError)
