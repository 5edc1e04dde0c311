"""One Sync session of the agent: Hello, apply batches, prune, report status, repair drift.

Layer: ``kfed_agent`` service; speaks to the hub through :mod:`kfed_agent.link` and to the member
cluster through the :class:`kfed_agent.ports.KubeApi` seam. Runs on one event loop; all state
below is touched only from its tasks.

What survives a reconnect is only what the cluster itself holds: at every session start the agent
lists the objects carrying kfed's ownership label and rebuilds ``{key → version}`` from their
annotations, so a reconnect re-applies nothing unchanged and needs no local disk.

For the hub's federated ingress, the status it reports of a Service with a selector carries
``kfedReadyEndpoints`` (re-reported as pods change), and a member Ingress annotated with
``kfed.io/global-address`` gets that address written into its status (the status subresource:
neither drift nor a reason to re-apply).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import Any

from kfed_agent import apply, report
from kfed_agent.addresses import AddressWriter
from kfed_agent.drift import drifted, marker_version
from kfed_agent.link import Endpoint, LinkError, SyncLink, open_link
from kfed_agent.metrics import AgentMetrics
from kfed_agent.pods import ready_endpoints, service_selector, workload_pods
from kfed_agent.ports import KubeApi, KubeError, KubeUnreachable
from kfed_core import rpc
from kfed_core.conventions import (
    FIELD_MANAGER,
    KEY_ANNOTATION,
    MANAGED_BY_LABEL,
    MANAGED_BY_VALUE,
    READY_ENDPOINTS_STATUS,
    VERSION_ANNOTATION,
)
from kfed_core.keys import ResourceKey
from kfed_core.sync.agent_side import AgentSession, Plan
from kfed_core.sync.hub_side import APPLIED, FAILED, REMOVED, ResultItem

log = logging.getLogger(__name__)
SELECTOR = f"{MANAGED_BY_LABEL}={MANAGED_BY_VALUE}"
WORKLOAD_KINDS = ("ReplicaSet", "Deployment")
CRD_ESTABLISH_WAIT = 10.0  # seconds to wait for a new CRD to be served


class SessionEnded(Exception):
    """The hub ended the session with a Goodbye; ``reason`` says why ("Revoked", "Replaced")."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"hub ended the stream: {reason}: {message}")
        self.reason = reason


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncSettings:
    """Timings of a session, in seconds."""

    health_interval: float = 5.0
    status_interval: float = 0.5
    welcome_timeout: float = 15.0


def _health_message(value: report.ClusterHealthValue) -> rpc.ClusterHealth:
    def resources(r: Any) -> rpc.Resources:
        return rpc.Resources(cpu_millis=r.cpu_millis, memory_bytes=r.memory_bytes, pods=r.pods)

    return rpc.ClusterHealth(
        kubernetes_version=value.kubernetes_version,
        region=value.region,
        zones=list(value.zones),
        nodes_total=value.nodes_total,
        nodes_ready=value.nodes_ready,
        allocatable=resources(value.allocatable),
        requested=resources(value.requested),
        unschedulable_pods=value.unschedulable_pods,
        provider=value.provider,
    )


def _api_version(key: ResourceKey, known: dict[str, str]) -> str:
    return known.get(str(key)) or ("v1" if key.group == "core" else f"{key.group}/v1")


class Session:
    """One stream's worth of work (see the module docstring)."""

    def __init__(
        self,
        *,
        kube: KubeApi,
        endpoint: Endpoint,
        metrics: AgentMetrics,
        settings: SyncSettings,
        agent_version: str,
        on_welcome: Callable[[], None],
    ) -> None:
        self.kube = kube
        self.endpoint = endpoint
        self.metrics = metrics
        self.settings = settings
        self.agent_version = agent_version
        self.on_welcome = on_welcome
        self.state = AgentSession()
        self.applied: dict[str, dict[str, Any]] = {}  # manifests applied in this session
        self.applying: dict[str, str] = {}  # key -> version being applied right now
        self.api_versions: dict[str, str] = {}  # key -> apiVersion the object lives under
        self.pending_status: dict[str, rpc.ObjectStatus] = {}
        self.reported_status: dict[str, bytes] = {}
        self.watched: set[tuple[str, str]] = set()
        self.status_ready = asyncio.Event()
        self.link: SyncLink | None = None
        self.tasks: asyncio.TaskGroup | None = None
        self.heartbeat_interval = 2.0
        self.last_health: rpc.ClusterHealth | None = None
        self.workloads: dict[str, dict[str, Any]] = {}  # key -> live ReplicaSet/Deployment
        self.pod_summaries: dict[str, list[dict[str, Any]]] = {}
        self.addresses = AddressWriter(kube)  # member Ingresses' global address
        self.services: dict[str, dict[str, Any]] = {}  # key -> live Service with a selector
        self.endpoint_counts: dict[str, int] = {}  # key -> its ready endpoints, last counted

    async def _health(self) -> rpc.ClusterHealth:
        version, nodes, pods = await asyncio.gather(
            self.kube.server_version(), self.kube.list_nodes(), self.kube.list_pods()
        )
        value = report.cluster_health(nodes=nodes, pods=pods, kubernetes_version=version)
        self._refresh_pods(pods)
        return _health_message(value)

    def _refresh_pods(self, pods: list[dict[str, Any]]) -> None:
        """Re-report a workload's or a Service's status when its pods changed (they do not
        change the object itself: a pod that cannot be scheduled, or becomes ready, say)."""
        for key, live in list(self.workloads.items()):
            summaries = workload_pods(live, pods)
            if self.pod_summaries.get(key) != summaries:
                self.pod_summaries[key] = summaries
                held = self.state.known.get(key)
                if held is not None:
                    self._observe(key, held, live)
        for key, live in list(self.services.items()):
            count = ready_endpoints(live, pods)
            if self.endpoint_counts.get(key) != count:
                self.endpoint_counts[key] = count
                held = self.state.known.get(key)
                if held is not None:
                    self._observe(key, held, live)

    async def run(self) -> None:
        """Run until the stream ends; raises LinkError, SessionEnded or KubeError."""
        objects = await self.kube.list_managed(SELECTOR)
        self.state.known.update(apply.known_versions(objects))
        for obj in objects:
            key = (obj.get("metadata", {}).get("annotations") or {}).get(KEY_ANNOTATION)
            if key in self.state.known:
                self.api_versions[key] = str(obj.get("apiVersion", ""))
        self.metrics.managed_objects.set(len(self.state.known))
        health = await self._health()
        self.last_health = health
        self.link = link = await open_link(self.endpoint)
        try:
            hello = rpc.Hello(
                agent_version=self.agent_version, known=self.state.hello(), health=health
            )
            await link.send(rpc.AgentMessage(hello=hello))
            async with asyncio.timeout(self.settings.welcome_timeout):
                first = await link.receive()
            if first is None or first.WhichOneof("body") != "welcome":
                raise LinkError(f"hub {self.endpoint.address} did not answer Hello with Welcome")
            self.heartbeat_interval = max(first.welcome.heartbeat_interval_ms / 1000, 0.1)
            self.metrics.connected.set(1)
            self.on_welcome()
            log.info(
                "connected to hub %s as cluster %s", link.endpoint.address, first.welcome.cluster
            )
            try:
                async with asyncio.TaskGroup() as tasks:
                    self.tasks = tasks
                    for key, api_version in self.api_versions.items():
                        self._ensure_watch(api_version, ResourceKey.parse(key).kind)
                    tasks.create_task(self._heartbeats())
                    tasks.create_task(self._report_loop())
                    await self._receive_loop()
                    raise _Done
            except BaseExceptionGroup as group:
                errors = [e for e in _leaves(group) if not isinstance(e, _Done)]
                if errors:
                    raise errors[0] from None
        finally:
            self.metrics.connected.set(0)
            await link.close()

    async def _receive_loop(self) -> None:
        assert self.link is not None
        while (message := await self.link.receive()) is not None:
            body = message.WhichOneof("body")
            if body == "batch":
                batch = message.batch
                plan = self.state.plan(
                    batch.nonce, rpc.upserts_of(batch), [r.key for r in batch.removals]
                )
                started = time.monotonic()
                orphans = frozenset(r.key for r in batch.removals if r.orphan)
                results = await self._execute(plan, orphans)
                self.metrics.apply_seconds.observe(time.monotonic() - started)
                self.state.record(results)
                self.metrics.managed_objects.set(len(self.state.known))
                await self.link.send(rpc.result_message(plan.nonce, results))
            elif body == "goodbye":
                raise SessionEnded(message.goodbye.reason, message.goodbye.message)
            else:
                log.warning("ignoring an unexpected %s message from the hub", body)

    async def _execute(self, plan: Plan, orphans: frozenset[str] = frozenset()) -> list[ResultItem]:
        results = list(plan.rejected)
        for upsert in plan.upserts:
            key = str(upsert.key)
            prepared = apply.prepare(upsert.manifest, key=key, version=upsert.version)
            # The watch may see this apply before it returns here: let it know the new version.
            self.applying[key] = upsert.version
            try:
                live = await self.kube.apply(prepared, field_manager=FIELD_MANAGER, force=True)
                live = await self.addresses.show(key, live)
            except KubeUnreachable:
                raise
            except KubeError as exc:
                self.metrics.apply_errors.labels(exc.reason or "Unknown").inc()
                results.append(
                    ResultItem(
                        key=key,
                        version=upsert.version,
                        outcome=FAILED,
                        reason=exc.reason or "Failed",
                        message=exc.message,
                    )
                )
                continue
            finally:
                self.applying.pop(key, None)
            self.metrics.applies.inc()
            self.state.known[key] = upsert.version
            self.applied[key] = prepared
            api_version = str(prepared.get("apiVersion", ""))
            self.api_versions[key] = api_version
            self._ensure_watch(api_version, upsert.key.kind)
            self._observe(key, upsert.version, live)
            if upsert.key.kind == "CustomResourceDefinition":
                await self._wait_established(api_version, upsert.key.name)
            results.append(ResultItem(key=key, version=upsert.version, outcome=APPLIED))
        for removal in plan.removals:
            name = str(removal)
            self.state.known.pop(name, None)
            self.applied.pop(name, None)
            self.workloads.pop(name, None)
            self.pod_summaries.pop(name, None)
            self.addresses.forget(name)
            self.services.pop(name, None)
            self.endpoint_counts.pop(name, None)
            api_version = _api_version(removal, self.api_versions)
            try:
                if name in orphans:
                    await self._release(api_version, removal)
                else:
                    await self.kube.delete(
                        api_version, removal.kind, removal.namespace, removal.name
                    )
            except KubeUnreachable:
                raise
            except KubeError as exc:
                results.append(
                    ResultItem(
                        key=name,
                        version="",
                        outcome=FAILED,
                        reason=exc.reason or "Failed",
                        message=exc.message,
                    )
                )
                continue
            self.metrics.removals.inc()
            self.api_versions.pop(name, None)
            self.reported_status.pop(name, None)
            results.append(ResultItem(key=name, version="", outcome=REMOVED))
        return results

    async def _wait_established(self, api_version: str, name: str) -> None:
        """Give a new CRD a moment to be served (Established) before its custom resources in the
        same batch are applied; a real API server takes a little while."""
        deadline = time.monotonic() + CRD_ESTABLISH_WAIT
        while time.monotonic() < deadline:
            crd = await self.kube.get(api_version, "CustomResourceDefinition", "", name)
            conditions = ((crd or {}).get("status") or {}).get("conditions") or []
            if any(
                c.get("type") == "Established" and c.get("status") == "True" for c in conditions
            ):
                return
            await asyncio.sleep(0.1)
        log.warning("CRD %s is not Established after %ss; applying on", name, CRD_ESTABLISH_WAIT)

    async def _release(self, api_version: str, key: ResourceKey) -> None:
        """Stop managing an object without deleting it (``--cascade=orphan``): remove kfed's
        label and annotations, so it no longer counts as kfed's; retried on a conflict."""
        for _ in range(5):
            live = await self.kube.get(api_version, key.kind, key.namespace, key.name)
            if live is None:
                return
            metadata = live.setdefault("metadata", {})
            (metadata.get("labels") or {}).pop(MANAGED_BY_LABEL, None)
            annotations = metadata.get("annotations") or {}
            annotations.pop(KEY_ANNOTATION, None)
            annotations.pop(VERSION_ANNOTATION, None)
            try:
                await self.kube.replace(live)
                return
            except KubeError as exc:
                if exc.reason != "Conflict":
                    raise
        raise KubeError(f"could not release {key}: it kept changing", reason="Conflict")

    def _observe(self, key: str, version: str, live: dict[str, Any]) -> None:
        """Queue the object's observed status if it changed since the last report (for
        workloads with their pods under ``kfedPods``, for Services with a selector with their
        ready endpoints, once counted, under ``kfedReadyEndpoints``)."""
        status = report.observed_status(live)
        if live.get("kind") in WORKLOAD_KINDS:
            self.workloads[key] = live
            status = {
                **(status or {}),
                "kfedDesiredReplicas": int((live.get("spec") or {}).get("replicas", 1)),
            }
            pods = self.pod_summaries.get(key)
            if pods is not None:
                status["kfedPods"] = pods
        elif live.get("kind") == "Service" and live.get("apiVersion") == "v1":
            selector = service_selector(live)
            if selector != service_selector(self.services.get(key) or {}):
                self.endpoint_counts.pop(key, None)  # counted for another selector
            if selector:
                self.services[key] = live
            else:
                self.services.pop(key, None)
            count = self.endpoint_counts.get(key)
            if count is not None:
                status = {**(status or {}), READY_ENDPOINTS_STATUS: count}
        encoded = json.dumps(status, sort_keys=True).encode() if status else b""
        if self.reported_status.get(key) == encoded:
            return
        self.reported_status[key] = encoded
        self.pending_status[key] = rpc.ObjectStatus(key=key, version=version, status=encoded)
        self.status_ready.set()

    def _ensure_watch(self, api_version: str, kind: str) -> None:
        if (api_version, kind) in self.watched or self.tasks is None:
            return
        self.watched.add((api_version, kind))
        self.tasks.create_task(self._watch(api_version, kind))

    async def _watch(self, api_version: str, kind: str) -> None:
        """Repair drift and report status changes of managed objects of one kind."""
        events = self.kube.watch(api_version, kind, label_selector=SELECTOR)
        try:
            async for event_type, live in events:
                annotations = (live.get("metadata") or {}).get("annotations") or {}
                key = annotations.get(KEY_ANNOTATION)
                if key is None or key not in self.state.known:
                    continue
                held = self.state.known[key]
                if key in self.applying:
                    continue  # our own write in flight; its result decides
                if event_type == "DELETED":
                    await self._confirm_lost(key, live, "deleted by someone else")
                elif marker_version(live) != held:
                    await self._confirm_lost(key, live, "kfed's labels or annotations were changed")
                elif drifted(self.applied.get(key), live):
                    await self._repair(key)
                else:
                    self._observe(key, held, await self.addresses.show(key, live))
        finally:
            if isinstance(events, AsyncGenerator):
                await events.aclose()

    async def _confirm_lost(self, key: str, seen: dict[str, Any], why: str) -> None:
        """An event says the object is gone or lost kfed's marks; events can lag behind our own
        writes, so read the object once more before asking the hub for it again."""
        metadata = seen.get("metadata") or {}
        current = await self.kube.get(
            str(seen.get("apiVersion", "")),
            str(seen.get("kind", "")),
            str(metadata.get("namespace") or ""),
            str(metadata.get("name", "")),
        )
        held = self.state.known.get(key)
        if held is None or key in self.applying:
            return
        if current is None or marker_version(current) != held:
            await self._lost(key, why)

    async def _lost(self, key: str, why: str) -> None:
        """The object is gone or no longer says which version it holds: tell the hub, which
        sends the desired version again."""
        log.info("managed object %s drifted (%s); asking the hub for it again", key, why)
        self.metrics.drift_repairs.inc()
        self.state.known.pop(key, None)
        self.applied.pop(key, None)
        self.reported_status.pop(key, None)
        self.pending_status[key] = rpc.ObjectStatus(key=key, version="", absent=True)
        self.status_ready.set()

    async def _repair(self, key: str) -> None:
        manifest = self.applied[key]
        log.info("managed object %s was changed by someone else; applying it again", key)
        self.metrics.drift_repairs.inc()
        try:
            await self.kube.apply(manifest, field_manager=FIELD_MANAGER, force=True)
        except KubeUnreachable:
            raise
        except KubeError as exc:
            log.warning("could not repair drift of %s: %s", key, exc)

    async def _heartbeats(self) -> None:
        assert self.link is not None
        while True:
            await asyncio.sleep(self.heartbeat_interval)
            sent = int(time.time() * 1000)
            await self.link.send(rpc.AgentMessage(heartbeat=rpc.Heartbeat(sent_unix_ms=sent)))

    async def _report_loop(self) -> None:
        """Send status on change: object status at most every status_interval, health when it
        changes (polled every health_interval)."""
        assert self.link is not None
        next_health = time.monotonic() + self.settings.health_interval
        while True:
            timeout = max(0.0, next_health - time.monotonic())
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self.status_ready.wait()
            message = rpc.StatusReport()
            if time.monotonic() >= next_health:
                next_health = time.monotonic() + self.settings.health_interval
                health = await self._health()
                if health != self.last_health:
                    self.last_health = health
                    message.health.CopyFrom(health)
            if self.pending_status:
                batch, self.pending_status = self.pending_status, {}
                message.objects.extend(batch.values())
            self.status_ready.clear()
            if message.objects or message.HasField("health"):
                await self.link.send(rpc.AgentMessage(status=message))
            await asyncio.sleep(self.settings.status_interval)


class _Done(Exception):
    """The receive loop ended: stop the session's other tasks."""


def _leaves(group: BaseExceptionGroup[BaseException]) -> list[BaseException]:
    found: list[BaseException] = []
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            found.extend(_leaves(exc))
        else:
            found.append(exc)
    return found
