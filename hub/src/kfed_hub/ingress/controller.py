"""The federated Ingress controller: converges each federated Ingress's global load balancer
through its provider, and tells the member clusters its address.

Layer: ``kfed_hub.ingress`` service, on the hub's event loop. Decisions are pure
(:mod:`kfed_hub.ingress.model`); this module keeps state, schedules and calls providers.

* Triggers mark an Ingress dirty: it or its Service was written, a cluster reported the Service
  (address, ready endpoints), a cluster changed status or placement changed; every
  ``resync_interval`` all Ingresses are re-converged (drift repair, and idempotent calls).
* Each Ingress converges in its own task, so a slow or failing provider holds up only the
  Ingresses that chose it. Failures are retried with capped exponential backoff and jitter, the
  Ingress's condition says why (reason ProviderFailed), and a Warning event is recorded once per
  distinct error. Nothing else in the hub waits for a provider.
* Once the load balancer has an address, :meth:`member_annotations` hands it to the reconciler,
  which puts it on every member Ingress (``kfed.io/global-address``); agents write it into the
  member Ingress's status, so all clusters show the one address, as in the 2016 walk-through.
* A deleted Ingress's load balancer is deleted; every ``sweep_interval`` each started provider's
  ``owned()`` load balancers that no Ingress wants are deleted too (after a hub crash between an
  Ingress's deletion and its load balancer's, say).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kfed_core.conventions import GLOBAL_ADDRESS_ANNOTATION
from kfed_core.keys import ResourceKey
from kfed_core.providers import GlobalLoadBalancer, LoadBalancerStatus, ProviderError
from kfed_hub.desired import desired_manifest
from kfed_hub.ingress import model
from kfed_hub.ingress.providers import ProviderPool
from kfed_hub.ingress.settings import IngressSettings
from kfed_hub.ingress.state import (
    INVALID_SPEC,
    NOT_READY,
    PROVIDER_FAILED,
    PROVIDER_NOT_FOUND,
    READY,
    IngressLoadBalancer,
    IngressMetrics,
)
from kfed_hub.planning.facts import ClusterFacts
from kfed_hub.planning.translate import TranslationError, translate
from kfed_hub.ports import Placements
from kfed_hub.store.protocol import ObjectChange, Store

log = logging.getLogger(__name__)

EventSink = Callable[..., None]


@dataclass(slots=True)
class _Tracked:
    key: ResourceKey
    manifest: dict[str, Any]  # networking.k8s.io/v1 form
    converged: tuple[str, GlobalLoadBalancer] | None = None  # provider, last ensured
    made: tuple[str, str] | None = None  # provider, load balancer name ensured at least once
    failures: int = 0
    retry_at: float | None = None
    last_error: str = ""


def _service_id(namespace: str, name: str) -> str:
    return f"{namespace}/{name}"


class IngressController:
    """See the module docstring. Create, :meth:`load`, run :meth:`run` as a task, then
    :meth:`close` after cancelling it."""

    def __init__(
        self,
        *,
        store: Store,
        placements: Placements,
        facts: Callable[[], list[ClusterFacts]],
        pool: ProviderPool,
        settings: IngressSettings,
        metrics: IngressMetrics,
        record: EventSink | None = None,
        refresh_member: Callable[[ResourceKey], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_parallel: int = 8,
    ) -> None:
        self.store = store
        self.placements = placements
        self.facts = facts
        self.pool = pool
        self.settings = settings
        self.metrics = metrics
        self.record = record
        self.refresh_member = refresh_member
        self.clock = clock
        self._ingresses: dict[str, _Tracked] = {}
        self._gone: dict[str, tuple[ResourceKey, tuple[str, str]]] = {}
        self._services: dict[str, dict[str, Any]] = {}
        self._observed: dict[str, dict[str, Mapping[str, Any] | None]] = {}
        self._states: dict[str, IngressLoadBalancer] = {}
        self._notified: dict[str, LoadBalancerStatus] = {}
        self._dirty: set[str] = set()
        self._wake = asyncio.Event()
        self._running: dict[str, asyncio.Task[None]] = {}
        self._limit = asyncio.Semaphore(max_parallel)

    # -- what the API and the reconciler read ------------------------------------------------

    def load_balancer(self, key: ResourceKey) -> IngressLoadBalancer | None:
        """The Ingress's load balancer state (:class:`kfed_hub.ports.IngressStatuses`)."""
        return self._states.get(str(key))

    def member_annotations(self, key: ResourceKey) -> Mapping[str, str]:
        """Annotations for the Ingress's member copies: its global address once known."""
        state = self._states.get(str(key))
        if state is None or not state.address:
            return {}
        return {GLOBAL_ADDRESS_ANNOTATION: state.address}

    # -- inputs ------------------------------------------------------------------------------

    async def load(self) -> None:
        """Read the stored Ingresses and Services and what clusters reported of the Services."""
        for stored in await self.store.list_objects():
            self._take(stored.key, desired_manifest(stored.manifest))
        for state in await self.store.object_states():
            if state.key.group == "core" and state.key.kind == "Service":
                sid = _service_id(state.key.namespace, state.key.name)
                self._observed.setdefault(sid, {})[state.cluster] = state.status
        self.mark_all()

    def on_change(self, change: ObjectChange) -> None:
        """Store listener: an object was written or deleted."""
        if change.after is not None:
            self._take(change.key, desired_manifest(change.after.manifest))
            return
        key = str(change.key)
        if model.is_ingress(change.key.group, change.key.kind):
            tracked = self._ingresses.pop(key, None)
            if tracked is not None and tracked.made is not None:
                self._gone[key] = (change.key, tracked.made)
            self._states.pop(key, None)
            self._mark(key)
        elif change.key.group == "core" and change.key.kind == "Service":
            sid = _service_id(change.key.namespace, change.key.name)
            self._services.pop(sid, None)
            self._mark_users(sid)

    def on_observed(self, cluster: str, key: ResourceKey, status: Mapping[str, Any] | None) -> None:
        """A cluster reported an object's status: a Service's address or endpoints matter."""
        if key.group != "core" or key.kind != "Service":
            return
        sid = _service_id(key.namespace, key.name)
        per_cluster = self._observed.setdefault(sid, {})
        if per_cluster.get(cluster) != status:
            per_cluster[cluster] = status
            self._mark_users(sid)

    def on_cluster_change(self, cluster: str) -> None:
        """A cluster joined, left, changed status or labels: backends may change."""
        del cluster
        self.mark_all()

    def mark_all(self) -> None:
        for key in self._ingresses:
            self._mark(key)

    def _take(self, key: ResourceKey, manifest: dict[str, Any]) -> None:
        if key.group == "core" and key.kind == "Service":
            sid = _service_id(key.namespace, key.name)
            self._services[sid] = manifest
            self._mark_users(sid)
            return
        if not model.is_ingress(key.group, key.kind):
            return
        try:
            current = translate(manifest).manifest
        except TranslationError:
            current = manifest  # ingress_target reports what is wrong with it
        tracked = self._ingresses.get(str(key))
        if tracked is None:
            self._ingresses[str(key)] = _Tracked(key=key, manifest=current)
        else:
            tracked.manifest = current
            tracked.failures, tracked.retry_at = 0, None  # a change deserves a prompt retry
        self._gone.pop(str(key), None)
        self._mark(str(key))

    def _mark_users(self, sid: str) -> None:
        for key, tracked in self._ingresses.items():
            try:
                target = model.ingress_target(tracked.manifest)
            except model.IngressSpecError:
                continue
            if _service_id(target.namespace, target.service) == sid:
                self._mark(key)

    def _mark(self, key: str) -> None:
        self._dirty.add(key)
        self._wake.set()

    # -- the work ------------------------------------------------------------------------------

    async def run(self) -> None:
        """Converge what is dirty, retry what failed when its backoff ends, resync and sweep."""
        next_resync = self.clock() + self.settings.resync_interval
        next_sweep = self.clock() + self.settings.sweep_interval
        while True:
            now = self.clock()
            if now >= next_resync:
                next_resync = now + self.settings.resync_interval
                self._resync()
            if now >= next_sweep:
                next_sweep = now + self.settings.sweep_interval
                self._spawn("sweep", self._sweep())
            for key, tracked in self._ingresses.items():
                if tracked.retry_at is not None and tracked.retry_at <= now:
                    tracked.retry_at = None
                    self._dirty.add(key)
            dirty, self._dirty = self._dirty, set()
            for key in sorted(dirty):
                if key in self._running:
                    self._dirty.add(key)  # after the running call ends
                else:
                    self._spawn(key, self._converge(key))
            self._wake.clear()
            deadline = min(
                [next_resync, next_sweep]
                + [t.retry_at for t in self._ingresses.values() if t.retry_at is not None]
            )
            timeout = max(0.0, deadline - self.clock())
            if self._dirty and not self._running:
                continue
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._wake.wait()

    def _resync(self) -> None:
        for tracked in self._ingresses.values():
            tracked.converged = None  # ensure again even if nothing changed here: drift repair
        self.mark_all()

    def _spawn(self, key: str, work: Any) -> None:
        if key in self._running:
            work.close()
            return
        task = asyncio.create_task(work, name=f"ingress {key}")
        self._running[key] = task

        def done(_: asyncio.Task[None]) -> None:
            self._running.pop(key, None)
            self._wake.set()  # it may have set a retry time, or more work may wait for it

        task.add_done_callback(done)

    async def close(self) -> None:
        """Cancel provider calls in flight and close the providers."""
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.pool.close()

    async def _converge(self, key: str) -> None:
        async with self._limit:
            tracked = self._ingresses.get(key)
            if tracked is None:
                gone = self._gone.get(key)
                if gone is not None:
                    await self._delete_gone(key, *gone)
                return
            try:
                await self._ensure(key, tracked)
            except Exception as exc:  # a provider's bug must not stop the controller
                log.exception("converging ingress %s failed", key)
                self._failed(tracked, PROVIDER_FAILED, f"{type(exc).__name__}: {exc}", True)

    async def _ensure(self, key: str, tracked: _Tracked) -> None:
        provider_name, why, lb_name = self._identity(tracked)
        try:
            target = model.ingress_target(tracked.manifest)
        except model.IngressSpecError as exc:
            message = f"no global load balancer: {exc}"
            self._set_state(
                key, tracked, provider_name, lb_name, reason=INVALID_SPEC, message=message
            )
            if message != tracked.last_error:
                tracked.last_error = message
                self._event("Warning", INVALID_SPEC, message, tracked.key)
            return
        if tracked.made is not None and tracked.made != (provider_name, lb_name):
            old_provider, old_name = tracked.made
            await self._call(old_provider, "delete", self.pool.get(old_provider).delete(old_name))
            tracked.made = None
        try:
            provider = self.pool.get(provider_name)
        except ProviderError as exc:
            known = provider_name in self.pool.known()
            reason = PROVIDER_FAILED if known else PROVIDER_NOT_FOUND
            message = f"provider {provider_name} (chosen by {why}) cannot start: {exc}"
            self._failed(tracked, reason, message, exc.retryable, provider_name, lb_name)
            return
        desired, notes = self._desired(key, tracked, target)
        if tracked.converged == (provider_name, desired):
            return
        try:
            status = await self._call(provider_name, "ensure", provider.ensure(desired))
        except ProviderError as exc:
            message = f"provider {provider_name}: {exc}"
            self._failed(tracked, PROVIDER_FAILED, message, exc.retryable, provider_name, lb_name)
            return
        except TimeoutError:
            message = (
                f"provider {provider_name} did not answer within {self.settings.call_timeout:g}s"
            )
            self._failed(tracked, PROVIDER_FAILED, message, True, provider_name, lb_name)
            return
        tracked.made, tracked.converged = (provider_name, lb_name), (provider_name, desired)
        tracked.failures, tracked.retry_at, tracked.last_error = 0, None, ""
        serving = model.serving_count(desired.backends)
        ready = status.ready and serving > 0
        parts = [status.message] if status.message else []
        if serving == 0:
            parts.append("no cluster has a healthy backend with ready endpoints")
        message = "; ".join(parts + notes) or f"serving from {serving} cluster(s)"
        self._set_state(
            key,
            tracked,
            provider_name,
            lb_name,
            address=status.address,
            ready=ready,
            reason=READY if ready else NOT_READY,
            message=message,
            backends=len(desired.backends),
            serving=serving,
        )
        self._notify(key, LoadBalancerStatus(address=status.address, ready=ready, message=message))

    def _desired(
        self, key: str, tracked: _Tracked, target: model.IngressTarget
    ) -> tuple[GlobalLoadBalancer, list[str]]:
        sid = _service_id(target.namespace, target.service)
        service = self._services.get(sid)
        notes: list[str] = []
        port = model.service_port(service, target.port)
        placement = self.placements.placement(tracked.key)
        placed = placement.clusters if placement is not None else ()
        if service is None:
            notes.append(f"Service {sid} is not federated: create it in the hub")
        elif port is None:
            notes.append(f"Service {sid} has no port {target.port}")
        backends: list[Any] = []
        if service is not None and port is not None:
            facts = {f.name: f for f in self.facts()}
            backends, more = model.plan_backends(
                placed=placed, facts=facts, port=port, observed=self._observed.get(sid, {})
            )
            notes.extend(more)
        desired = model.desired_load_balancer(key=key, manifest=tracked.manifest, backends=backends)
        return desired, notes

    async def _call(self, provider: str, operation: str, work: Any) -> Any:
        started = self.clock()
        try:
            async with asyncio.timeout(self.settings.call_timeout):
                result = await work
        except Exception as exc:
            outcome = "retryable" if getattr(exc, "retryable", True) else "error"
            self.metrics.calls.labels(provider, operation, outcome).inc()
            raise
        finally:
            elapsed = max(0.0, self.clock() - started)
            self.metrics.call_seconds.labels(provider, operation).observe(elapsed)
        self.metrics.calls.labels(provider, operation, "ok").inc()
        return result

    def _failed(
        self,
        tracked: _Tracked,
        reason: str,
        message: str,
        retryable: bool,
        provider: str = "",
        lb_name: str = "",
    ) -> None:
        tracked.failures += 1
        tracked.converged = None
        base = self.settings.retry_initial * 2 ** min(tracked.failures - 1, 16)
        delay = min(self.settings.retry_max, base) if retryable else self.settings.retry_max
        tracked.retry_at = self.clock() + delay * random.uniform(0.5, 1.0)
        key = str(tracked.key)
        previous = self._states.get(key)
        self._set_state(
            key,
            tracked,
            provider or (previous.provider if previous else ""),
            lb_name or (previous.name if previous else ""),
            address=previous.address if previous else "",
            reason=reason,
            message=f"{message} (attempt {tracked.failures}; next try in about {delay:.0f}s)",
        )
        if message != tracked.last_error:
            tracked.last_error = message
            self._event("Warning", reason, message, tracked.key)
        log.warning("ingress %s: %s", key, message)

    def _set_state(
        self, key: str, tracked: _Tracked, provider: str, name: str, **fields: Any
    ) -> None:
        previous = self._states.get(key)
        state = IngressLoadBalancer(provider=provider, name=name, **fields)
        self._states[key] = state
        if previous is not None:
            self.metrics.load_balancers.labels(previous.provider, previous.reason).dec()
        self.metrics.load_balancers.labels(state.provider, state.reason).inc()
        if state.address and (previous is None or previous.address != state.address):
            self._event(
                "Normal",
                "GlobalAddressAssigned",
                f"global load balancer {name} ({provider}) has address {state.address}",
                tracked.key,
            )
            if self.refresh_member is not None:
                self.refresh_member(tracked.key)
        if state.reason == READY and (previous is None or previous.reason != READY):
            self._event("Normal", "LoadBalancerReady", state.message, tracked.key)
        elif state.reason == NOT_READY and previous is not None and previous.reason == READY:
            self._event("Warning", "LoadBalancerNotReady", state.message, tracked.key)

    def _notify(self, key: str, status: LoadBalancerStatus) -> None:
        if self._notified.get(key) == status:
            return
        self._notified[key] = status
        self.pool.source.notify_ingress_changed(key, status)

    async def _delete_gone(self, key: str, resource: ResourceKey, made: tuple[str, str]) -> None:
        provider_name, lb_name = made
        try:
            provider = self.pool.get(provider_name)
            await self._call(provider_name, "delete", provider.delete(lb_name))
        except (ProviderError, TimeoutError) as exc:
            message = f"deleting global load balancer {lb_name} ({provider_name}) failed: {exc}"
            log.warning("ingress %s: %s; retrying in %ss", key, message, self.settings.retry_max)
            self._event("Warning", "LoadBalancerDeleteFailed", message, resource)
            asyncio.get_running_loop().call_later(self.settings.retry_initial, self._mark, key)
            return
        self._gone.pop(key, None)
        self._notified.pop(key, None)
        self.pool.source.notify_ingress_changed(key, LoadBalancerStatus())
        self._event(
            "Normal", "LoadBalancerDeleted", f"deleted {lb_name} ({provider_name})", resource
        )

    def _identity(self, tracked: _Tracked) -> tuple[str, str, str]:
        """The Ingress's provider, why that one, and its load balancer's name."""
        provider_name, why = model.choose_provider(
            tracked.manifest, self.pool.known(), self.settings.default_provider
        )
        metadata = tracked.manifest.get("metadata") or {}
        name = model.load_balancer_name(tracked.key.namespace, str(metadata.get("name", "")))
        return provider_name, why, name

    async def _sweep(self) -> None:
        """Delete owned load balancers that no Ingress (nor a pending deletion) accounts for."""
        wanted: dict[str, set[str]] = {}
        for tracked in self._ingresses.values():
            provider_name, _, lb_name = self._identity(tracked)
            wanted.setdefault(provider_name, set()).add(lb_name)
            if tracked.made is not None:
                wanted.setdefault(tracked.made[0], set()).add(tracked.made[1])
        for _, (provider_name, lb_name) in self._gone.values():
            wanted.setdefault(provider_name, set()).add(lb_name)
        for provider_name, provider in self.pool.started().items():
            try:
                owned = await self._call(provider_name, "owned", provider.owned())
                for lb_name in sorted(set(owned) - wanted.get(provider_name, set())):
                    await self._call(provider_name, "delete", provider.delete(lb_name))
                    self._event(
                        "Normal",
                        "OrphanLoadBalancerDeleted",
                        f"deleted {lb_name} ({provider_name}): no federated Ingress wants it",
                    )
            except (ProviderError, TimeoutError) as exc:
                log.warning(
                    "sweeping provider %s failed (next sweep retries): %s", provider_name, exc
                )

    def _event(self, type_: str, reason: str, message: str, key: ResourceKey | None = None) -> None:
        if self.record is not None:
            self.record(type=type_, reason=reason, message=message, key=key)
