"""Writes a member Ingress's global address into its status, and stops fighting over it.

Layer: ``kfed_agent`` shell, through the :class:`~kfed_agent.ports.KubeApi` port. The hub puts
``kfed.io/global-address`` on each member copy of a federated Ingress; this writes that address
into the member's ``status.loadBalancer`` (the status subresource), only when it is not shown
yet, and once more from a fresh read after a Conflict.

A cluster's own ingress controller that also serves the Ingress's class writes its address into
the same status; each write would make the other write again, for ever. So writes per Ingress
are limited (:data:`MAX_WRITES` per :data:`WINDOW` seconds): past that, the status is left to
the other writer until the window has passed, with one warning that says why and what to do.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from kfed_agent.drift import with_global_address
from kfed_agent.ports import KubeApi, KubeError, KubeUnreachable

log = logging.getLogger(__name__)

MAX_WRITES = 5
WINDOW = 60.0


class AddressWriter:
    """Shows global addresses in member Ingresses' status (see the module docstring)."""

    def __init__(self, kube: KubeApi, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.kube = kube
        self.clock = clock
        self._writes: dict[str, deque[float]] = {}
        self._warned: set[str] = set()

    def _allowed(self, key: str) -> bool:
        now = self.clock()
        recent = self._writes.setdefault(key, deque())
        while recent and recent[0] <= now - WINDOW:
            recent.popleft()
        if len(recent) < MAX_WRITES:
            self._warned.discard(key)
            recent.append(now)
            return True
        if key not in self._warned:
            self._warned.add(key)
            log.warning(
                "another writer keeps changing the status of %s (%d writes of the global "
                "address in %gs): leaving it alone for now. A cluster's own ingress controller "
                "that serves this Ingress's class does this; give the federated Ingress a class "
                "no member controller serves",
                key,
                MAX_WRITES,
                WINDOW,
            )
        return False

    def forget(self, key: str) -> None:
        self._writes.pop(key, None)
        self._warned.discard(key)

    async def show(self, key: str, live: dict[str, Any]) -> dict[str, Any]:
        """Write the annotated global address into ``live``'s status if it is not shown yet;
        returns the object as it now is. A failure is only logged (the object itself was
        applied); the next watch event of the Ingress tries again."""
        try:
            for attempt in range(2):
                updated = with_global_address(live)
                if updated is None or not self._allowed(key):
                    break
                try:
                    return await self.kube.replace_status(updated)
                except KubeError as exc:
                    if exc.reason != "Conflict" or attempt:
                        raise
                meta = live.get("metadata") or {}
                fresh = await self.kube.get(
                    str(live.get("apiVersion", "")),
                    str(live.get("kind", "")),
                    str(meta.get("namespace") or ""),
                    str(meta.get("name", "")),
                )
                if fresh is None:
                    break
                live = fresh
        except KubeUnreachable:
            raise
        except KubeError as exc:
            log.warning("could not write the global address into the status of %s: %s", key, exc)
        return live
