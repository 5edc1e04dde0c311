"""One federated object's plan: which clusters get it, with what content and how many replicas.

Layer: ``kfed_hub.planning`` (pure). Composes translation, placement, replica scheduling,
overrides and the stripping of kfed's planning annotations into per-cluster manifests.

Losing contact never deletes anything: a placed cluster that is not Ready keeps the replicas it
was last given (``frozen``) while the other clusters absorb the object's total; when it is Ready
again the scheduler's rebalance rules decide what it gets back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kfed_core.keys import ResourceKey
from kfed_hub.planning.dependencies import references
from kfed_hub.planning.facts import ClusterFacts
from kfed_hub.planning.overrides import (
    OverrideError,
    apply_overrides,
    overrides_of,
    strip_kfed_annotations,
)
from kfed_hub.planning.placement import PlacementError, placement_of, select, unknown_names
from kfed_hub.planning.preferences import DEFAULT, PreferencesError, preferences_of
from kfed_hub.planning.replicas import plan_replicas
from kfed_hub.planning.translate import TranslationError, translate
from kfed_hub.ports import ObjectPlacement

WORKLOAD_KINDS = frozenset({"ReplicaSet", "Deployment"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Observed:
    """A workload as one member cluster reported it: replicas it runs (ready) and pods that
    cannot be scheduled there."""

    ready_replicas: int = 0
    replicas: int = 0
    unschedulable: int = 0
    desired: int | None = None  # the member object's spec.replicas, when reported


@dataclass(frozen=True, slots=True, kw_only=True)
class ObjectPlan:
    """The decision for one object: per-cluster manifests, the placement shown to people, the
    objects it depends on, and notes worth an event."""

    manifests: Mapping[str, dict[str, Any]]
    placement: ObjectPlacement
    dependencies: frozenset[ResourceKey] = frozenset()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Context:
    """What planning one object may read besides the object itself."""

    clusters: Sequence[ClusterFacts]
    observed: Mapping[str, Observed] = field(default_factory=dict)
    assigned: Mapping[str, int] = field(default_factory=dict)
    """Replicas the hub last asked each cluster to run (after a hub restart, seeded from what
    the clusters last reported). Scheduling keeps these where it can, and a cluster that is not
    Ready keeps its own."""
    capacity: Mapping[str, int] = field(default_factory=dict)
    """Replicas each cluster was found to fit (remembered for a while after its pods stopped
    being unschedulable, so that spreading does not swing back and forth)."""
    previous_clusters: tuple[str, ...] | None = None
    """Where the object was placed before; kept when its placement annotations turn invalid."""
    followers: frozenset[str] = frozenset()  # clusters that workloads using this object land in


def _capacity(observed: Mapping[str, Observed]) -> dict[str, int]:
    """Federation v1's estimate: where pods stay unschedulable, the cluster fits only the
    replicas it runs minus those pods."""
    return {
        cluster: max(0, seen.replicas - seen.unschedulable)
        for cluster, seen in observed.items()
        if seen.unschedulable > 0
    }


def plan_object(manifest: Mapping[str, Any], *, key: ResourceKey, context: Context) -> ObjectPlan:
    """The plan of one federated object (``manifest`` as the members should get it, before
    translation and overrides)."""
    problems: list[str] = []
    try:
        translated, translation_notes = translate(manifest)
    except TranslationError as exc:  # sent as it is: the members say what they make of it
        translated, translation_notes = dict(manifest), ()
        problems.append(str(exc))
    notes = list(translation_notes)
    by_name = {facts.name: facts for facts in context.clusters}
    try:
        placement = placement_of(translated)
        chosen = select(placement, context.clusters)
        missing = unknown_names(placement, context.clusters)
        if missing:
            problems.append(f"placed in clusters that have not joined: {', '.join(missing)}")
    except PlacementError as exc:
        kept = list(context.previous_clusters or ())
        problems.append(f"{exc} (keeping the previous placement)" if kept else str(exc))
        chosen = kept
    placed = sorted(set(chosen) | (context.followers & by_name.keys()))
    counts: dict[str, int] | None = None
    explanations: dict[str, str] = {}
    unplaced = 0
    if translated.get("kind") in WORKLOAD_KINDS:
        counts, explanations, unplaced, problem = _schedule(
            translated, key, placed, by_name, context
        )
        if problem:
            problems.append(problem)
    try:
        overrides = overrides_of(translated)
    except OverrideError as exc:
        problems.append(str(exc))
        overrides = []
    base = strip_kfed_annotations(translated)
    manifests: dict[str, dict[str, Any]] = {}
    for cluster in placed:
        cluster_manifest = base
        if counts is not None:
            cluster_manifest = _with_replicas(base, counts.get(cluster, 0))
        if overrides:
            try:
                cluster_manifest = apply_overrides(cluster_manifest, by_name[cluster], overrides)
            except OverrideError as exc:
                problems.append(str(exc))
                continue  # this cluster keeps what it has
        manifests[cluster] = cluster_manifest
    for cluster in placed:
        if cluster in context.followers and cluster not in chosen:
            explanations.setdefault(cluster, "follows a workload that uses it")
    decision = ObjectPlacement(
        clusters=tuple(placed),
        replicas=counts,
        explanations=explanations,
        problems=tuple(problems),
        unplaced=unplaced,
    )
    return ObjectPlan(
        manifests=manifests,
        placement=decision,
        dependencies=references(translated),
        notes=tuple(notes),
    )


def _schedule(
    manifest: Mapping[str, Any],
    key: ResourceKey,
    placed: Sequence[str],
    by_name: Mapping[str, ClusterFacts],
    context: Context,
) -> tuple[dict[str, int], dict[str, str], int, str]:
    total = int((manifest.get("spec") or {}).get("replicas", 1))
    frozen = {c: n for c, n in context.assigned.items() if c in placed and not by_name[c].ready}
    ready = [c for c in placed if by_name[c].ready]
    try:
        preferences = preferences_of(manifest) or DEFAULT
        preference_problem = ""
    except PreferencesError as exc:
        preferences, preference_problem = DEFAULT, str(exc)
    observed = {c: context.observed[c] for c in ready if c in context.observed}
    # What kfed asked for, not what is ready yet: pods still starting must not move replicas.
    current = {c: context.assigned[c] for c in ready if c in context.assigned}
    if not current:
        current = {c: seen.replicas for c, seen in observed.items()}
    plan = plan_replicas(
        total=total,
        clusters=ready,
        preferences=preferences,
        current=current,
        capacity={
            **_capacity(observed),
            **{c: n for c, n in context.capacity.items() if c in ready},
        },
        key=str(key),
    )
    counts = {c: plan.counts.get(c, 0) for c in ready}
    explanations = {c: plan.explanations[c].summary for c in ready if c in plan.explanations}
    for cluster in placed:
        if cluster not in counts:
            counts[cluster] = frozen.get(cluster, 0)
            explanations[cluster] = (
                f"not Ready: keeps its {counts[cluster]} replicas until it returns; "
                "the other clusters carry the total meanwhile"
            )
    if preference_problem:
        explanations = {c: f"{text} (preferences ignored)" for c, text in explanations.items()}
    return counts, explanations, plan.unplaced, preference_problem


def _with_replicas(manifest: Mapping[str, Any], replicas: int) -> dict[str, Any]:
    copy = dict(manifest)
    spec = dict(copy.get("spec") or {})
    spec["replicas"] = replicas
    copy["spec"] = spec
    return copy
