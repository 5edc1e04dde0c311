"""The controller framework of a simulated cluster: work queues fed by store changes.

Layer: controllers (above the API logic). A :class:`Controller` says which stored resources it
watches and which keys a change concerns; :class:`ControllerRunner` feeds a de-duplicating,
delay-aware :class:`WorkQueue` from the store's change stream and calls ``reconcile(key)`` on the
event loop, one key at a time per controller, retrying failures with capped exponential backoff.
Reconcilers are synchronous (the API is synchronous and in memory), so each runs atomically.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kfed_local.sim.api import ClusterApi, RequestContext
from kfed_local.sim.errors import ApiError
from kfed_local.sim.store import Change

if TYPE_CHECKING:
    from kfed_local.sim.config import ClusterSpec
    from kfed_local.sim.controllers.events import EventRecorder
    from kfed_local.sim.faults import FaultState
    from kfed_local.sim.traffic import TrafficManager

log = logging.getLogger(__name__)


class WorkQueue:
    """Keys to reconcile: each key at most once in the queue; delayed keys wait for their time."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._ready: list[Hashable] = []
        self._queued: set[Hashable] = set()
        self._delayed: list[tuple[float, int, Hashable]] = []
        self._counter = itertools.count()
        self._wakeup = asyncio.Event()

    def add(self, key: Hashable) -> None:
        """Reconcile ``key`` soon (no-op if already waiting)."""
        if key not in self._queued:
            self._queued.add(key)
            self._ready.append(key)
        self._wakeup.set()

    def add_after(self, key: Hashable, delay: float) -> None:
        """Reconcile ``key`` after ``delay`` seconds."""
        if delay <= 0:
            self.add(key)
            return
        heapq.heappush(self._delayed, (self._clock() + delay, next(self._counter), key))
        self._wakeup.set()

    def _promote_due(self) -> float | None:
        now = self._clock()
        while self._delayed and self._delayed[0][0] <= now:
            _, _, key = heapq.heappop(self._delayed)
            if key not in self._queued:
                self._queued.add(key)
                self._ready.append(key)
        return self._delayed[0][0] - now if self._delayed else None

    async def get(self) -> Hashable:
        """The next key to reconcile, waiting as long as needed."""
        while True:
            wait = self._promote_due()
            if self._ready:
                key = self._ready.pop(0)
                self._queued.discard(key)
                return key
            self._wakeup.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._wakeup.wait()

    def __len__(self) -> int:
        return len(self._ready) + len(self._delayed)


@dataclass(slots=True, kw_only=True)
class ControllerContext:
    """What every controller of one cluster shares."""

    api: ClusterApi
    spec: ClusterSpec
    address: str
    """The cluster's loopback address (LoadBalancer and Ingress addresses)."""
    events: EventRecorder
    faults: FaultState
    traffic: TrafficManager
    monotonic: Callable[[], float]
    eviction_timeout: float = 5.0
    """Seconds a pod stays on an unreachable node before eviction (tolerationSeconds cap)."""
    extra: dict[str, Any] = field(default_factory=dict)


class Controller(ABC):
    """One control loop. Subclasses name their resources, keys and reconcile function."""

    name = "controller"
    manager = "kube-controller-manager"
    watches: tuple[str, ...] = ()
    """Storage keys (``apps/deployments``) whose changes feed this controller; ``*`` for all."""

    def __init__(self, ctx: ControllerContext) -> None:
        self.ctx = ctx
        self.api = ctx.api
        self.queue = WorkQueue(ctx.monotonic)
        self.writer = RequestContext(field_manager=self.manager, field_validation="Ignore")

    def keys_for(self, change: Change) -> Iterable[Hashable]:
        """The keys a change concerns (default: the changed object's namespace and name)."""
        meta = change.obj["metadata"]
        return ((meta.get("namespace", ""), meta["name"]),)

    def resync(self) -> Iterable[Hashable]:
        """Keys to reconcile at start (default: every object of the first watched resource)."""
        if not self.watches:
            return ()
        return (
            (e.obj["metadata"].get("namespace", ""), e.obj["metadata"]["name"])
            for e in self.api.store.items(self.watches[0])
        )

    @abstractmethod
    def reconcile(self, key: Any) -> float | None:
        """Bring ``key`` towards its desired state; return seconds until a re-check, or None."""


class ControllerRunner:
    """Runs the controllers of one cluster on the event loop."""

    def __init__(self, controllers: list[Controller]) -> None:
        self.controllers = controllers
        self._tasks: list[asyncio.Task[None]] = []
        self._unsubscribe: Callable[[], None] | None = None
        self.paused = False

    def start(self, api: ClusterApi) -> None:
        """Subscribe to the store and start one task per controller."""
        by_resource: dict[str, list[Controller]] = {}
        for controller in self.controllers:
            for storage_key in controller.watches:
                by_resource.setdefault(storage_key, []).append(controller)

        everything = by_resource.pop("*", [])

        def route(change: Change) -> None:
            for controller in (*by_resource.get(change.storage_key, ()), *everything):
                for key in controller.keys_for(change):
                    controller.queue.add(key)

        self._unsubscribe = api.store.subscribe(route)
        for controller in self.controllers:
            for key in controller.resync():
                controller.queue.add(key)
            self._tasks.append(
                asyncio.create_task(self._run(controller), name=f"controller-{controller.name}")
            )

    async def _run(self, controller: Controller) -> None:
        failures: dict[Hashable, int] = {}
        while True:
            key = await controller.queue.get()
            try:
                requeue = controller.reconcile(key)
            except ApiError as exc:
                failures[key] = failures.get(key, 0) + 1
                delay = min(0.05 * 2 ** failures[key], 5.0)
                if exc.code not in (404, 409):
                    log.debug("%s: %s: %s (retry in %.2fs)", controller.name, key, exc, delay)
                controller.queue.add_after(key, delay)
                continue
            except Exception:
                failures[key] = failures.get(key, 0) + 1
                delay = min(0.1 * 2 ** failures[key], 10.0)
                log.exception("%s failed on %s; retrying in %.1fs", controller.name, key, delay)
                controller.queue.add_after(key, delay)
                continue
            failures.pop(key, None)
            if requeue is not None:
                controller.queue.add_after(key, requeue)
            await asyncio.sleep(0)  # let requests in between reconciles

    async def stop(self) -> None:
        """Cancel every controller task and unsubscribe."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
