"""A coalescing writer of per-cluster object states (results and observed status) to the store.

Layer: ``kfed_hub`` service. Agents report often and in bursts; writing each report in its own
transaction would make the store the bottleneck of propagation. States are buffered per
(cluster, key), newest wins, and flushed in one transaction every ``interval`` seconds, so the
buffer is bounded by the number of (cluster, key) pairs, never by the report rate.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from kfed_hub.store.protocol import ClusterObjectState, Store

log = logging.getLogger(__name__)


@dataclass(slots=True)
class StateSink:
    """Buffer states and flush them in batches; :meth:`run` is the flushing task."""

    store: Store
    interval: float = 0.1
    _buffer: dict[tuple[str, str], ClusterObjectState] = field(default_factory=dict)
    _ready: asyncio.Event = field(default_factory=asyncio.Event)

    def put(self, states: Iterable[ClusterObjectState]) -> None:
        """Queue states for writing (newest per cluster and key wins)."""
        for state in states:
            self._buffer[(state.cluster, str(state.key))] = state
        if self._buffer:
            self._ready.set()

    async def flush(self) -> None:
        """Write everything buffered now."""
        if not self._buffer:
            return
        batch, self._buffer = list(self._buffer.values()), {}
        self._ready.clear()
        try:
            await self.store.put_object_states(batch)
        except Exception:
            # Keep the hub serving; the next report of these objects writes them again.
            log.exception("could not write %d object states to the store", len(batch))

    async def run(self) -> None:
        """Flush whenever something is buffered, at most once per ``interval``."""
        try:
            while True:
                await self._ready.wait()
                await asyncio.sleep(self.interval)
                await self.flush()
        finally:
            await asyncio.shield(self.flush())
