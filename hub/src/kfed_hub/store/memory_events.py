"""EventLog: the in-memory store's federated events, aggregated and bounded like SQLite's.

Layer: ``kfed_hub.store``, pure (no clock, no I/O). :class:`~.memory.MemoryStore` owns one; the
rules (what aggregates, which events are dropped, how filters match) come from :mod:`.codec`, the
same helpers the SQLite store's queries follow, so both stores keep the same events.

Concurrency: none; the memory store calls it from the event loop only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

from kfed_core.keys import ResourceKey
from kfed_hub.store import codec
from kfed_hub.store.protocol import FederatedEvent, NewEvent


class EventLog:
    """Events by identity; at most ``max_events`` kept (oldest last time dropped first)."""

    def __init__(self, *, max_events: int) -> None:
        if max_events < 1:
            raise ValueError(f"max_events must be at least 1, not {max_events}")
        self._max = max_events
        self._events: dict[codec.EventIdentity, FederatedEvent] = {}
        self._last_id = 0

    def add(self, events: Sequence[NewEvent]) -> None:
        """Record ``events`` (all checked first, so a bad one changes nothing)."""
        for event in events:
            codec.check_event(event)
        for event in events:
            identity = codec.event_identity(event)
            last = _utc(event.time)
            first = _utc(event.first_time or event.time)
            found = self._events.get(identity)
            if found is None:
                self._last_id += 1
                self._events[identity] = FederatedEvent(
                    id=self._last_id,
                    type=event.type,
                    reason=event.reason,
                    message=identity[-1],
                    key=event.key,
                    cluster=event.cluster,
                    count=event.count,
                    first_time=first,
                    last_time=last,
                )
            else:
                self._events[identity] = dataclasses.replace(
                    found,
                    count=found.count + event.count,
                    first_time=min(found.first_time, first),
                    last_time=max(found.last_time, last),
                )
        excess = len(self._events) - self._max
        if excess > 0:
            oldest = sorted(self._events.items(), key=lambda item: _order(item[1]))[:excess]
            for identity, _ in oldest:
                del self._events[identity]

    def list(
        self,
        *,
        key: ResourceKey | None,
        cluster: str | None,
        namespace: str | None,
        kind: str | None,
        name: str | None,
        limit: int,
    ) -> list[FederatedEvent]:
        """The newest ``limit`` matching events, newest last."""
        chosen = sorted(
            (
                event
                for event in self._events.values()
                if codec.event_matches(
                    event, key=key, cluster=cluster, namespace=namespace, kind=kind, name=name
                )
            ),
            key=_order,
        )
        return chosen[-limit:] if limit > 0 else []


def _utc(when: dt.datetime) -> dt.datetime:
    # Through microseconds, as SQLite stores them, so both stores hand out equal values.
    return codec.from_micros(codec.micros(when))


def _order(event: FederatedEvent) -> tuple[dt.datetime, int]:
    return (event.last_time, event.id)
