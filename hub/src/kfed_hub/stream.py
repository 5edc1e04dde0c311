"""One member cluster's Sync stream on the hub: Hello, batches, results, status, Goodbye.

Layer: ``kfed_hub`` I/O shell around :class:`kfed_core.sync.hub_side.HubSession`. This module is
the one place in the hub that produces gRPC status codes.

Identity comes only from the verified client certificate (its ``spiffe://kfed/cluster/<name>``
URI SAN) and must be one the hub issued to a joined cluster and did not revoke. A stream therefore
only ever reads its own cluster's desired state and writes its own cluster's results and status;
nothing in a message can name another cluster.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from google.protobuf.message import DecodeError
from grpc import aio

from kfed_core import rpc
from kfed_core.keys import KeyError_, ResourceKey
from kfed_core.sync.hub_side import (
    APPLIED,
    FAILED,
    REMOVED,
    DesiredView,
    HubSession,
    ResultItem,
)
from kfed_hub.ports import Capacity
from kfed_hub.registry import ReportedHealth
from kfed_hub.store.protocol import ClusterObjectState

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from kfed_hub.sync_service import SyncService

_OUTCOME_NAMES = {APPLIED: "Applied", FAILED: "Failed", REMOVED: "Removed"}


@dataclass(frozen=True, slots=True, kw_only=True)
class StreamSettings:
    """Timings and limits of the stream server."""

    hello_timeout: float = 10.0
    max_batch_items: int = 500
    max_batch_bytes: int = 4 * 1024 * 1024
    agent_cert_ttl: dt.timedelta = dt.timedelta(days=30)


def _capacity(resources: rpc.Resources) -> Capacity:
    return Capacity(
        cpu_millis=resources.cpu_millis, memory_bytes=resources.memory_bytes, pods=resources.pods
    )


def reported_health(health: rpc.ClusterHealth) -> ReportedHealth:
    """Plain values of a ClusterHealth message."""
    return ReportedHealth(
        kubernetes_version=health.kubernetes_version,
        region=health.region,
        zones=tuple(health.zones),
        nodes_total=health.nodes_total,
        nodes_ready=health.nodes_ready,
        allocatable=_capacity(health.allocatable),
        requested=_capacity(health.requested),
        unschedulable_pods=health.unschedulable_pods,
        provider=health.provider,
    )


class ProtocolViolation(Exception):
    """The agent broke the protocol; the stream ends with INVALID_ARGUMENT and this message."""


async def read_message(context: aio.ServicerContext[object, object]) -> object:
    """The next message, with undecodable bytes turned into a :class:`ProtocolViolation`."""
    try:
        return await context.read()
    except DecodeError as exc:
        raise ProtocolViolation(f"a message is not a valid AgentMessage: {exc}") from None


class ClusterStream:
    """One live stream (see :class:`SyncService`)."""

    def __init__(
        self, service: SyncService, cluster: str, context: aio.ServicerContext[object, object]
    ) -> None:
        self.service = service
        self.cluster = cluster
        self.context = context
        self.wake = asyncio.Event()
        self.closing: tuple[str, str] | None = None
        self.session = HubSession(
            known={},
            max_items=service.settings.max_batch_items,
            max_bytes=service.settings.max_batch_bytes,
        )
        self.states: dict[str, ClusterObjectState] = {}

    def close(self, reason: str, message: str) -> None:
        """Ask the stream to end (called by the registry: replaced or revoked)."""
        if self.closing is None:
            self.closing = (reason, message)
        self.wake.set()

    def on_keys(self, keys: object) -> None:
        self.session.mark(keys)  # type: ignore[arg-type]
        self.wake.set()

    async def run(self, hello: rpc.Hello) -> str:
        """Serve the stream after Hello; returns why it ended."""
        service = self.service
        index = service.index
        view = index.view(self.cluster)
        self.session.known.update(hello.known)
        for state in await service.registry.store.object_states(cluster=self.cluster):
            self.states[str(state.key)] = state
        self._record_held(view, hello.known)
        service.registry.attach(self.cluster, self, hello.agent_version)
        if hello.HasField("health"):
            await service.registry.report_health(self.cluster, reported_health(hello.health))
        await self.context.write(
            rpc.HubMessage(
                welcome=rpc.Welcome(
                    cluster=self.cluster,
                    heartbeat_interval_ms=int(service.policy.heartbeat_interval * 1000),
                    hub_version=service.hub_version,
                )
            )
        )
        self.session.start(view)
        unsubscribe = index.subscribe(self.cluster, self.on_keys)
        reader = asyncio.create_task(self._read_loop(), name=f"sync-read-{self.cluster}")
        reader.add_done_callback(lambda _: self.wake.set())
        try:
            while True:
                # Clear first: a wake-up from here on (a change, a result, close()) is never lost.
                self.wake.clear()
                if self.closing is not None:
                    reason, message = self.closing
                    await self.context.write(
                        rpc.HubMessage(goodbye=rpc.Goodbye(reason=reason, message=message))
                    )
                    return reason
                if reader.done():
                    reader.result()  # re-raise a ProtocolViolation or transport error
                    return "AgentClosed"
                batch = self.session.next_batch(view, service.next_nonce())
                if batch is not None:
                    await self.context.write(rpc.batch_message(batch, orphaned=view.orphaned))
                    continue
                service.metrics.pending_objects.labels(self.cluster).set(self.session.pending)
                await self.wake.wait()
        finally:
            unsubscribe()
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)

    async def _read_loop(self) -> None:
        registry = self.service.registry
        while True:
            message = await read_message(self.context)
            if message is aio.EOF:
                return
            assert isinstance(message, rpc.AgentMessage)
            registry.touch(self.cluster)
            body = message.WhichOneof("body")
            if body == "result":
                self._on_result(message.result)
                self.wake.set()
            elif body == "status":
                await self._on_status(message.status)
            elif body == "heartbeat":
                pass
            elif body == "hello":
                raise ProtocolViolation("Hello was sent twice on one stream")
            else:
                raise ProtocolViolation("a message with no known body arrived")

    def _on_result(self, result: rpc.BatchResult) -> None:
        service = self.service
        items = rpc.results_of(result)
        digest = self.session.on_result(result.nonce, items)
        if digest.stale:
            service.metrics.stale_results.labels(self.cluster).inc()
            return
        now = service.clock()
        service.metrics.last_result_timestamp.labels(self.cluster).set(time.time())
        changed: list[ClusterObjectState] = []
        for item in (*digest.applied, *digest.failed, *digest.removed):
            service.metrics.results.labels(self.cluster, item.outcome).inc()
            if item.outcome == FAILED:
                service.metrics.apply_errors.labels(self.cluster, item.reason or "Unknown").inc()
                if service.record is not None:
                    try:
                        failed_key: ResourceKey | None = ResourceKey.parse(item.key)
                    except KeyError_:
                        failed_key = None
                    service.record(
                        type="Warning",
                        reason="ApplyFailed",
                        message=f"cluster {self.cluster}: {item.reason}: {item.message[:512]}",
                        key=failed_key,
                        cluster=self.cluster,
                    )
            if item.outcome == APPLIED:
                started = service.index.changed_at(item.key, item.version)
                if started is not None:
                    service.metrics.propagation_seconds.observe(now - started)
                if service.record is not None:  # repeats of one message merge into a count
                    with contextlib.suppress(KeyError_):
                        service.record(
                            type="Normal",
                            reason="Propagated",
                            message=f"applied in cluster {self.cluster}",
                            key=ResourceKey.parse(item.key),
                            cluster=self.cluster,
                        )
            state = self._state(item)
            if state is not None:
                changed.append(state)
        service.sink.put(changed)
        self._retry_after_crds(digest.applied)
        if digest.unexpected:
            log.warning(
                "cluster %s answered for keys outside the batch (ignored): %s",
                self.cluster,
                ", ".join(digest.unexpected[:5]),
            )

    def _record_held(self, view: DesiredView, known: Mapping[str, str]) -> None:
        """Objects the cluster already holds at their desired version count as applied there
        (no result will come for them: nothing is sent)."""
        held: list[ClusterObjectState] = []
        now = self.service.wall_clock()
        for raw_key, version in known.items():
            entry = view.get(raw_key)
            previous = self.states.get(raw_key)
            if entry is None or entry.version != version:
                continue
            if (
                previous is not None
                and previous.version == version
                and previous.outcome == "Applied"
            ):
                continue
            try:
                key = ResourceKey.parse(raw_key)
            except KeyError_:
                continue
            state = ClusterObjectState(
                cluster=self.cluster,
                key=key,
                version=version,
                outcome="Applied",
                status=previous.status if previous else None,
                updated_at=now,
            )
            self.states[raw_key] = state
            held.append(state)
        self.service.sink.put(held)

    def _retry_after_crds(self, applied: Sequence[ResultItem]) -> None:
        """A CustomResourceDefinition now applied here: resend its group's resources that
        failed before it existed (they are not resent otherwise until they change)."""
        groups = {
            item.key.rsplit("/", 1)[-1].partition(".")[2]
            for item in applied
            if item.key.split("/", 2)[1:2] == ["CustomResourceDefinition"]
        }
        if groups:
            retried = self.session.retry_failed(lambda key: key.split("/", 1)[0] in groups)
            if retried:
                self.wake.set()

    def _state(self, item: ResultItem) -> ClusterObjectState | None:
        try:
            key = ResourceKey.parse(item.key)
        except KeyError_:
            return None
        previous = self.states.get(item.key)
        if item.outcome == REMOVED:
            self.states.pop(item.key, None)
            if self.service.index.view(self.cluster).get(item.key) is None:
                return None  # the federated object is gone; its states went with it
            state = ClusterObjectState(
                cluster=self.cluster, key=key, outcome="Removed", absent=True
            )
            return state
        state = ClusterObjectState(
            cluster=self.cluster,
            key=key,
            version=item.version,  # the version this result is about (applied or failed)
            outcome=_OUTCOME_NAMES[item.outcome],
            reason=item.reason,
            message=item.message[:1024],
            status=previous.status if previous else None,
            absent=False if item.outcome == APPLIED else (previous.absent if previous else True),
            updated_at=self.service.wall_clock(),
        )
        self.states[item.key] = state
        return state

    async def _on_status(self, report: rpc.StatusReport) -> None:
        changed: list[ClusterObjectState] = []
        for observed in report.objects:
            if observed.key not in self.session.known and observed.key not in self.states:
                continue  # only objects kfed sent to this cluster
            try:
                key = ResourceKey.parse(observed.key)
                status = json.loads(observed.status) if observed.status else None
            except (KeyError_, ValueError):
                raise ProtocolViolation(f"status of {observed.key!r} is malformed") from None
            held = self.session.known.get(observed.key)
            if held is not None and observed.version != held:
                # The agent lost the object or kfed's marks on it (drift): send it again.
                if observed.version:
                    self.session.known[observed.key] = observed.version
                else:
                    self.session.known.pop(observed.key, None)
                self.session.mark([observed.key])
                self.wake.set()
            previous = self.states.get(observed.key)
            state = ClusterObjectState(
                cluster=self.cluster,
                key=key,
                version=observed.version,
                outcome=previous.outcome if previous else "",
                reason=previous.reason if previous else "",
                message=previous.message if previous else "",
                status=status if isinstance(status, dict) else None,
                absent=observed.absent,
                updated_at=self.service.wall_clock(),
            )
            self.states[observed.key] = state
            changed.append(state)
            if self.service.observer is not None:
                self.service.observer(self.cluster, key, state.status)
        self.service.sink.put(changed)
        if report.HasField("health"):
            await self.service.registry.report_health(self.cluster, reported_health(report.health))
