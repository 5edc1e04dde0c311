"""The reconciler: intent (federated objects) + cluster facts + observed state → each cluster's
desired state in the :class:`~kfed_hub.desired_index.DesiredIndex`.

Layer: ``kfed_hub`` service; the decisions themselves are pure (:mod:`kfed_hub.planning`).
Runs on the event loop: triggers (an object written, a cluster joining, leaving, relabelled,
turning NotReady or Ready, pods that cannot be scheduled) mark work, and one task plans it,
coalescing bursts (a full re-plan waits `debounce` for more cluster changes; object changes do
not wait). A full re-plan yields to the loop every few objects.

Failover: a cluster that is not Ready keeps its desired state as it was (kfed never deletes
anything in a cluster because it lost contact) while its replicas are planned onto the Ready
clusters; see :mod:`kfed_hub.planning.objects`.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kfed_core.keys import ResourceKey, canonical_json, version_of
from kfed_core.sync.hub_side import DesiredEntry
from kfed_hub.desired import desired_manifest
from kfed_hub.desired_index import DesiredIndex
from kfed_hub.metrics import HubMetrics
from kfed_hub.planning.facts import ClusterFacts
from kfed_hub.planning.objects import WORKLOAD_KINDS, Context, Observed, plan_object
from kfed_hub.planning.overrides import OVERRIDES_ANNOTATION
from kfed_hub.ports import ObjectPlacement
from kfed_hub.store.protocol import ObjectChange, Store

log = logging.getLogger(__name__)

EventSink = Callable[..., None]
"""``record(type=, reason=, message=, key=None, cluster="")`` of the hub's event recorder."""


def _observed(status: Mapping[str, Any] | None) -> Observed:
    status = status or {}
    pods = status.get("kfedPods") or []
    unschedulable = sum(1 for pod in pods if pod.get("reason") == "Unschedulable")
    desired = status.get("kfedDesiredReplicas")
    return Observed(
        ready_replicas=int(status.get("readyReplicas") or 0),
        replicas=int(status.get("replicas") or 0),
        unschedulable=unschedulable,
        desired=int(desired) if isinstance(desired, int) else None,
    )


CAPACITY_MEMORY = 300.0
"""Seconds a cluster's measured capacity for a workload is remembered after its pods stopped
being unschedulable (Federation v1 forgot it at once, which made spreading swing)."""


def _entry(key: str, manifest: Mapping[str, Any]) -> DesiredEntry:
    raw = canonical_json(manifest)
    return DesiredEntry(key, version_of(raw), raw)


def _annotated(
    manifests: Mapping[str, dict[str, Any]], extra: Mapping[str, str]
) -> dict[str, dict[str, Any]]:
    """Copies of the member manifests with ``extra`` annotations (one copy per distinct
    manifest: clusters that share one keep sharing)."""
    copies: dict[int, dict[str, Any]] = {}
    out: dict[str, dict[str, Any]] = {}
    for cluster, manifest in manifests.items():
        copied = copies.get(id(manifest))
        if copied is None:
            copied = copy.deepcopy(manifest)
            metadata = copied.setdefault("metadata", {})
            metadata["annotations"] = {**(metadata.get("annotations") or {}), **extra}
            copies[id(manifest)] = copied
        out[cluster] = copied
    return out


@dataclass(slots=True)
class Reconciler:
    """See the module docstring. Create, :meth:`load`, then run :meth:`run` as a task."""

    store: Store
    index: DesiredIndex
    metrics: HubMetrics
    facts: Callable[[], list[ClusterFacts]]
    record: EventSink | None = None
    debounce: float = 0.02
    _objects: dict[str, tuple[ResourceKey, dict[str, Any], int]] = field(default_factory=dict)
    _built: dict[str, dict[str, tuple[tuple[int, int], DesiredEntry]]] = field(default_factory=dict)
    _placements: dict[str, ObjectPlacement] = field(default_factory=dict)
    _observed: dict[str, dict[str, Observed]] = field(default_factory=dict)
    _assigned: dict[str, dict[str, int]] = field(default_factory=dict)
    _dependents: dict[str, set[str]] = field(default_factory=dict)
    _depends_on: dict[str, frozenset[ResourceKey]] = field(default_factory=dict)
    _dirty: set[str] = field(default_factory=set)
    _full: bool = False
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _known_clusters: set[str] = field(default_factory=set)
    _capacity: dict[str, dict[str, tuple[int, float]]] = field(default_factory=dict)
    _status: dict[str, str] = field(default_factory=dict)
    clock: Callable[[], float] = time.monotonic
    _ready: dict[str, bool] = field(default_factory=dict)
    member_annotations: Callable[[ResourceKey], Mapping[str, str]] | None = None
    """Annotations to add to an Ingress's member copies (the ingress controller's global
    address); :meth:`refresh` re-plans an object when they change."""

    # -- inputs ---------------------------------------------------------------------------

    async def load(self) -> None:
        """Read objects, orphan tombstones and observed workload state; plan everything."""
        for stored in await self.store.list_objects():
            self._objects[str(stored.key)] = (
                stored.key,
                desired_manifest(stored.manifest),
                stored.revision,
            )
        for orphan in await self.store.orphans():
            self.index.set_orphaned(str(orphan), True)
        for state in await self.store.object_states():
            if state.key.kind in WORKLOAD_KINDS and state.status is not None:
                seen = _observed(state.status)
                self._observed.setdefault(str(state.key), {})[state.cluster] = seen
                # After a restart, what each cluster was last asked to run stands in for the
                # assignments the hub forgot: nothing moves, nothing is scaled to zero.
                self._assigned.setdefault(str(state.key), {})[state.cluster] = (
                    seen.desired if seen.desired is not None else seen.replicas
                )
        self._plan_all_now()

    def on_change(self, change: ObjectChange) -> None:
        """Store listener: an object was written or deleted."""
        key = str(change.key)
        if change.after is None:
            self._objects.pop(key, None)
            self.index.set_orphaned(key, change.orphaned)
            if change.orphaned and self.record is not None:
                self.record(
                    type="Normal",
                    reason="Orphaned",
                    message="deleted with --cascade=orphan: member clusters keep their copies",
                    key=change.key,
                )
        else:
            self._objects[key] = (
                change.key,
                desired_manifest(change.after.manifest),
                change.after.revision,
            )
            self.index.set_orphaned(key, False)
        self._mark(key)

    def on_cluster_change(self, cluster: str) -> None:
        """A cluster joined, left, was relabelled, or reported new region/zone/provider."""
        self._full = True
        self._wake.set()

    def on_cluster_status(self, cluster: str, status: str, message: str) -> None:
        """Registry listener: a cluster's status changed (Ready, NotReady, Offline)."""
        ready = status == "Ready"
        self._ready[cluster] = ready
        was = self._status.get(cluster)
        self._status[cluster] = status
        if was != status and (was is not None or ready) and self.record is not None:
            self.record(
                type="Normal" if ready else "Warning",
                reason=f"Cluster{status}",
                message=f"cluster {cluster} is {status}" + (f": {message}" if message else ""),
                cluster=cluster,
            )
        self.on_cluster_change(cluster)

    def on_observed(self, cluster: str, key: ResourceKey, status: Mapping[str, Any] | None) -> None:
        """A cluster reported a workload's status: re-plan it when its capacity changed."""
        if key.kind not in WORKLOAD_KINDS:
            return
        seen = _observed(status)
        per_cluster = self._observed.setdefault(str(key), {})
        previous = per_cluster.get(cluster)
        per_cluster[cluster] = seen
        if seen.unschedulable > 0:
            fits = max(0, (seen.desired or seen.replicas) - seen.unschedulable)
            self._capacity.setdefault(str(key), {})[cluster] = (
                fits,
                self.clock() + CAPACITY_MEMORY,
            )
        if previous is None or previous.unschedulable != seen.unschedulable:
            self._mark(str(key))

    def refresh(self, key: ResourceKey) -> None:
        """Plan ``key`` again (what :attr:`member_annotations` returns for it changed)."""
        self._mark(str(key))

    def placement(self, key: ResourceKey) -> ObjectPlacement | None:
        """The current decision for ``key`` (the API's :class:`~kfed_hub.ports.Placements`)."""
        return self._placements.get(str(key))

    def _mark(self, key: str) -> None:
        self._dirty.add(key)
        self._wake.set()

    # -- the planning task ----------------------------------------------------------------

    async def run(self) -> None:
        """Plan whatever was marked, coalescing bursts. Object changes are planned at once
        (marks made before this task runs are planned together); only a full re-plan waits
        ``debounce`` for more cluster changes, so one API write is not delayed."""
        while True:
            await self._wake.wait()
            if self._full:
                await asyncio.sleep(self.debounce)
            self._wake.clear()
            if self._full:
                self._full = False
                self._dirty.clear()
                await self._plan_all()
            else:
                dirty, self._dirty = self._dirty, set()
                facts = self.facts()
                for key in sorted(dirty, key=self._order):
                    self._plan(key, facts)

    def _order(self, key: str) -> tuple[int, str]:
        # Workloads first: the objects they use follow them, so their placement must be known.
        entry = self._objects.get(key)
        return (0 if entry and entry[0].kind in WORKLOAD_KINDS else 1, key)

    def _all_keys(self) -> list[str]:
        # Objects, and objects that were placed but are gone now (their removal is planned too).
        return sorted(set(self._objects) | set(self._placements), key=self._order)

    def _plan_all_now(self) -> None:
        facts = self.facts()
        for key in self._all_keys():
            self._plan(key, facts)
        self._drop_departed_clusters()

    async def _plan_all(self) -> None:
        facts = self.facts()  # one snapshot for the whole pass: O(clusters), not per object
        for n, key in enumerate(self._all_keys()):
            self._plan(key, facts)
            if n % 200 == 199:
                await asyncio.sleep(0)  # let streams and the API breathe during a big re-plan
        self._drop_departed_clusters()

    def _drop_departed_clusters(self) -> None:
        current = {facts.name for facts in self.facts()}
        for gone in self._known_clusters - current:
            self.index.forget_cluster(gone)
        self._known_clusters = current

    def _plan(self, key: str, facts: list[ClusterFacts]) -> None:
        entry = self._objects.get(key)
        if entry is None:
            self._unplace(key, facts)
            return
        resource_key, manifest, revision = entry
        assigned = self._assigned.get(key, {})
        now = self.clock()
        remembered = self._capacity.get(key, {})
        for cluster in [c for c, (_, until) in remembered.items() if until < now]:
            del remembered[cluster]
        before = self._placements.get(key)
        context = Context(
            clusters=facts,
            observed=self._observed.get(key, {}),
            assigned=assigned,
            capacity={c: fits for c, (fits, _) in remembered.items()},
            followers=self._followers(key),
            previous_clusters=before.clusters if before is not None else None,
        )
        try:
            plan = plan_object(manifest, key=resource_key, context=context)
        except Exception as exc:  # a bug in planning must not stop the hub: keep the old state
            log.exception("planning %s failed; its clusters keep their desired state", key)
            self._event("Warning", "PlanFailed", f"planning failed: {exc}", resource_key)
            return
        previous = self._placements.get(key)
        extra = self._member_annotations(resource_key)
        if extra:
            plan = dataclasses.replace(plan, manifests=_annotated(plan.manifests, extra))
        entries: dict[int, DesiredEntry] = {}
        placed = set(plan.placement.clusters)
        # Serialising every cluster's manifest is most of a re-plan's cost: reuse the entry
        # when the object's revision and the cluster's replica count are what they were (not
        # for objects with overrides, whose content depends on the cluster's labels).
        annotations = (manifest.get("metadata") or {}).get("annotations") or {}
        cacheable = OVERRIDES_ANNOTATION not in annotations and not extra
        built = self._built.setdefault(key, {})
        for facts_of in facts:
            cluster = facts_of.name
            if cluster in plan.manifests:
                cluster_manifest = plan.manifests[cluster]
                count = int((cluster_manifest.get("spec") or {}).get("replicas", -1) or 0)
                cached = built.get(cluster) if cacheable else None
                if cached is not None and cached[0] == (revision, count):
                    desired = cached[1]
                else:
                    desired = entries.get(id(cluster_manifest)) or _entry(key, cluster_manifest)
                    entries[id(cluster_manifest)] = desired
                    built[cluster] = ((revision, count), desired)
                self.index.set(cluster, key, desired)
            elif cluster not in placed:
                self.index.set(cluster, key, None)
                built.pop(cluster, None)
        versions = {c: built[c][1].version for c in plan.manifests if c in built}
        self._placements[key] = dataclasses.replace(plan.placement, versions=versions)
        if plan.placement.replicas is not None:
            self._assigned[key] = dict(plan.placement.replicas)
        current = self._placements[key]
        self._track_dependencies(key, resource_key, plan.dependencies, previous, current)
        self._report(resource_key, previous, current, plan.notes)
        self.metrics.desired_objects.set(len(self._objects))

    def _member_annotations(self, key: ResourceKey) -> Mapping[str, str]:
        if self.member_annotations is None or key.kind != "Ingress":
            return {}
        return self.member_annotations(key)

    def _unplace(self, key: str, facts: list[ClusterFacts]) -> None:
        for facts_of in facts:
            self.index.set(facts_of.name, key, None)
        previous = self._placements.pop(key, None)
        self._assigned.pop(key, None)
        self._built.pop(key, None)
        self._capacity.pop(key, None)
        self._observed.pop(key, None)
        for dependency in self._depends_on.pop(key, frozenset()):
            users = self._dependents.get(str(dependency))
            if users is not None:
                users.discard(key)
                self._mark(str(dependency))
        if previous is not None:
            self.index.forget_key(key)

    def _followers(self, key: str) -> frozenset[str]:
        clusters: set[str] = set()
        for user in self._dependents.get(key, ()):
            placement = self._placements.get(user)
            if placement is not None:
                clusters.update(placement.clusters)
        return frozenset(clusters)

    def _track_dependencies(
        self,
        key: str,
        resource_key: ResourceKey,
        dependencies: frozenset[ResourceKey],
        previous: ObjectPlacement | None,
        current: ObjectPlacement,
    ) -> None:
        old = self._depends_on.get(key, frozenset())
        self._depends_on[key] = dependencies
        for gone in old - dependencies:
            self._dependents.get(str(gone), set()).discard(key)
            self._mark(str(gone))
        moved = previous is None or previous.clusters != current.clusters
        for dependency in dependencies:
            users = self._dependents.setdefault(str(dependency), set())
            if key not in users or moved:
                users.add(key)
                if str(dependency) in self._objects:
                    self._mark(str(dependency))

    def _report(
        self,
        key: ResourceKey,
        previous: ObjectPlacement | None,
        current: ObjectPlacement,
        notes: tuple[str, ...],
    ) -> None:
        if previous is not None and previous == current:
            return
        for problem in current.problems:
            if previous is None or problem not in previous.problems:
                self._event("Warning", "PlacementProblem", problem, key)
        if current.replicas is not None and (
            previous is None or previous.replicas != current.replicas
        ):
            running = {c: n for c, n in sorted(current.replicas.items()) if n}
            spread = ", ".join(f"{c}={n}" for c, n in running.items()) or "none"
            total = sum(current.replicas.values())
            self._event(
                "Normal",
                "Scheduled",
                f"{total} replicas in {len(running)} clusters: {spread}"
                + (f"; {current.unplaced} could not be placed" if current.unplaced else ""),
                key,
            )
        elif current.replicas is None and (
            previous is None or previous.clusters != current.clusters
        ):
            self._event(
                "Normal",
                "Placed",
                f"placed in {len(current.clusters)} clusters: {', '.join(current.clusters)}",
                key,
            )
        if previous is None:
            for note in notes:
                self._event("Normal", "Translated", note, key)
        for cluster, why in current.explanations.items():
            before = previous.explanations.get(cluster, "") if previous else ""
            kept = (current.replicas or {}).get(cluster, 0)
            if why.startswith("not Ready") and not before.startswith("not Ready") and kept:
                ready = [c for c, n in (current.replicas or {}).items() if n and c != cluster]
                self._event(
                    "Warning",
                    "FailedOver",
                    f"cluster {cluster} is not Ready: its replicas are planned onto "
                    f"{', '.join(sorted(ready)) or 'no other cluster'} (nothing is deleted there)",
                    key,
                )

    def _event(self, type_: str, reason: str, message: str, key: ResourceKey) -> None:
        if self.record is not None:
            self.record(type=type_, reason=reason, message=message, key=key)
