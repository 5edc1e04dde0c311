"""Federated events: a non-blocking recorder that buffers events and writes them in batches.

Layer: ``kfed_hub`` service, above the store. Reconcilers, the registry and the stream call
:meth:`EventRecorder.record` from the event loop; it never awaits and never fails because the
store is slow or down. Occurrences are merged in the buffer the way the store aggregates them
(same key, cluster, type, reason and message: one entry whose count grows), so the buffer holds
distinct events, at most ``max_pending`` of them: past that the oldest waiting one is dropped and
counted (:attr:`EventRecorder.dropped`), as Kubernetes' own recorder drops events under pressure
rather than slowing its caller. :meth:`EventRecorder.run` flushes at most every
``flush_interval`` seconds and once more when cancelled (like :class:`kfed_hub.states.StateSink`).

Events are kept in the hub only (the store bounds how many); they are never sent to members.
Messages are for people: callers must never put Secret data, tokens or keys in them.

Reasons kfed records are the constants below (CamelCase, as Kubernetes reasons are).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace

from kfed_core.keys import ResourceKey
from kfed_hub.store.codec import clip_message
from kfed_hub.store.protocol import EVENT_TYPES, NewEvent, Store

log = logging.getLogger(__name__)

NORMAL = "Normal"
WARNING = "Warning"

# Reasons about a federated object (the reconciler's vocabulary).
SCHEDULED = "Scheduled"  # a workload's replica plan made or changed
PLACED = "Placed"  # another kind's set of clusters made or changed
TRANSLATED = "Translated"  # a legacy apiVersion translated (the note says how)
PLACEMENT_PROBLEM = "PlacementProblem"  # bad placement, preferences or overrides: default used
PLAN_FAILED = "PlanFailed"  # planning raised: the object keeps its previous plan
FAILED_OVER = "FailedOver"  # replicas planned away from a cluster that is not Ready
APPLY_FAILED = "ApplyFailed"  # a cluster refused it (the Kubernetes reason is in the message)
ORPHANED = "Orphaned"  # deleted with --cascade=orphan: members keep their copies
# Reasons about a member cluster (``key`` None): "Cluster" + its status.
CLUSTER_READY = "ClusterReady"
CLUSTER_NOT_READY = "ClusterNotReady"
CLUSTER_OFFLINE = "ClusterOffline"

Identity = tuple[ResourceKey | None, str, str, str, str]


class EventRecorder:
    """Buffer events for the store; see the module docstring."""

    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], dt.datetime],
        flush_interval: float = 0.1,
        max_pending: int = 1000,
    ) -> None:
        if max_pending < 1:
            raise ValueError(f"max_pending must be at least 1, not {max_pending}")
        self._store = store
        self._clock = clock
        self._interval = flush_interval
        self._max = max_pending
        self._pending: OrderedDict[Identity, NewEvent] = OrderedDict()
        self._ready = asyncio.Event()
        self.dropped = 0
        """Events dropped because too many were waiting, or because the store refused them."""

    @property
    def pending(self) -> int:
        """Distinct events waiting to be written."""
        return len(self._pending)

    def record(
        self,
        *,
        type: str,  # Kubernetes calls it "type"; shadowing the builtin here is harmless
        reason: str,
        message: str,
        key: ResourceKey | None = None,
        cluster: str = "",
    ) -> None:
        """Note that something happened now. Never blocks; raises ValueError only for a type
        other than Normal or Warning or an empty reason (a bug in the caller)."""
        if type not in EVENT_TYPES:
            raise ValueError(f"event type {type!r} is not one of {', '.join(EVENT_TYPES)}")
        if not reason:
            raise ValueError("an event needs a reason (a CamelCase word such as ApplyFailed)")
        now = self._clock()
        message = clip_message(message)
        identity: Identity = (key, cluster, type, reason, message)
        waiting = self._pending.get(identity)
        if waiting is not None:
            self._pending[identity] = replace(
                waiting,
                count=waiting.count + 1,
                time=now,
                first_time=waiting.first_time or waiting.time,
            )
            self._pending.move_to_end(identity)  # the most recent occurrence is kept longest
        else:
            self._pending[identity] = NewEvent(
                type=type, reason=reason, message=message, time=now, key=key, cluster=cluster
            )
            while len(self._pending) > self._max:
                self._pending.popitem(last=False)
                self.dropped += 1
        self._ready.set()

    async def flush(self) -> None:
        """Write everything waiting now, in one store transaction."""
        if not self._pending:
            return
        batch = list(self._pending.values())
        self._pending.clear()
        self._ready.clear()
        try:
            await self._store.add_events(batch)
        except Exception:
            # Events are for people; losing a batch must not take reconciliation down with it.
            self.dropped += len(batch)
            log.exception("could not write %d federated events to the store", len(batch))

    async def run(self) -> None:
        """Flush whenever something waits, at most once per ``flush_interval``; flush once more
        when cancelled."""
        try:
            while True:
                await self._ready.wait()
                await asyncio.sleep(self._interval)
                await self.flush()
        finally:
            await asyncio.shield(self.flush())
