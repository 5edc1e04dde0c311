"""Replica scheduling: how many replicas of a ReplicaSet or Deployment each cluster gets.

Layer: ``kfed_hub.planning`` (pure and deterministic: values in, values out; no clock, no
randomness, no I/O, no logging). It does not choose the candidate clusters (placement and cluster
health do) nor read annotations (:mod:`kfed_hub.planning.preferences` does).

Federation v1's semantics, with its known flaws fixed:

1. *Preference plan.* Clusters with an entry (their own, else ``"*"``) are ranked by weight,
   highest first, then by :func:`tiebreak`. Minimums are granted first in that order (so the
   higher weights win when they cannot all be met), then the rest is split by weight
   (:func:`kfed_hub.planning.apportion.apportion`: water-filling, then largest remainder), each
   cluster capped by ``maxReplicas`` and by ``capacity`` (the most replicas that can run there;
   absent means unlimited): what a capped cluster cannot take overflows to the others.
2. ``rebalance: true`` returns that plan. ``rebalance: false`` (the default) moves as few
   replicas as it can, after KubeAdmiral's *avoid disruption*: it starts from what runs now
   (clamped to the caps, raised to the minimums the plan granted) and, to reach the total,
   adds replicas only to clusters below their planned count (in proportion to what each lacks)
   or removes them only from clusters above it (in proportion to the excess). With equal
   weights, total 50 and A=10, B=70 running, v1 gave A=0, B=50; this gives A=10, B=40.
3. Whatever no cluster can take (every cap reached, or only weight-0 clusters left) is
   reported as :attr:`ReplicaPlan.unplaced`, never silently dropped.

Cost: O(n log n) for n candidate clusters (a few sorts and linear passes), independent of the
number of replicas; v1's planner was O(n² · log replicas).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from kfed_hub.planning.apportion import apportion
from kfed_hub.planning.preferences import DEFAULT, ClusterPreference, Preferences
from kfed_hub.planning.replica_explanations import NO_ENTRY, Explanation, bound_name

_NOTHING: Mapping[str, int] = MappingProxyType({})


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplicaPlan:
    """``counts`` for every candidate cluster (zeros included), the replicas no cluster could
    take (``unplaced``), and why each cluster got its count."""

    counts: Mapping[str, int]
    unplaced: int
    explanations: Mapping[str, Explanation]


def tiebreak(cluster: str, key: str) -> int:
    """The stable tie-break rank of ``cluster`` for the workload ``key`` (lower goes first).

    BLAKE2b with an 8-byte digest over the UTF-8 bytes of ``cluster``, a NUL byte and ``key``,
    read as a big-endian integer. Stable across processes and Python versions (unlike
    ``hash()``), and mixing in the key spreads the leftover replicas of different workloads over
    different clusters instead of always favouring the alphabetically first.
    """
    digest = hashlib.blake2b(f"{cluster}\0{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


class _Slot:
    """A candidate cluster with an entry, while it is planned (internal, mutable)."""

    __slots__ = ("bound", "capacity", "current", "desired", "entry", "granted", "name", "pref")

    def __init__(
        self, name: str, entry: str, pref: ClusterPreference, capacity: int | None, current: int
    ) -> None:
        self.name = name
        self.entry = entry
        self.pref = pref
        self.capacity = capacity
        self.current = current
        self.bound = _lower(pref.max_replicas, capacity)
        self.granted = 0
        self.desired = 0


def plan_replicas(
    *,
    total: int,
    clusters: Sequence[str],
    preferences: Preferences,
    current: Mapping[str, int],
    capacity: Mapping[str, int],
    key: str,
) -> ReplicaPlan:
    """Plan ``total`` replicas of the workload ``key`` over the Ready candidate ``clusters``.

    ``current``: replicas running per cluster now (absent: 0; clusters not among ``clusters``
    are ignored). ``capacity``: the most replicas a cluster can run (absent: unlimited). The
    input order of ``clusters`` does not matter; duplicates count once.
    """
    _check(total, current, capacity)
    names = sorted(set(clusters))
    slots: list[_Slot] = []
    explanations: dict[str, Explanation] = {}
    for name in names:
        entry, pref = preferences.entry_for(name)
        if pref is None:
            explanations[name] = Explanation(entry=NO_ENTRY, current=current.get(name, 0))
        else:
            slots.append(_Slot(name, entry, pref, capacity.get(name), current.get(name, 0)))
    slots.sort(key=lambda s: (-s.pref.weight, tiebreak(s.name, key), s.name))

    remaining = total
    for slot in slots:
        slot.granted = _clamp(min(slot.pref.min_replicas, remaining), slot.bound)
        remaining -= slot.granted
    fill = apportion(
        remaining,
        [slot.pref.weight for slot in slots],
        [None if s.bound is None else s.bound - s.granted for s in slots],
    )
    for slot, share in zip(slots, fill.shares, strict=True):
        slot.desired = slot.granted + share

    if preferences.rebalance:
        counts = [slot.desired for slot in slots]
    else:
        counts = _avoid_disruption(total, slots)
    total_weight = sum(slot.pref.weight for slot in slots)
    for index, (slot, count) in enumerate(zip(slots, counts, strict=True)):
        pref = slot.pref
        plan_capped = fill.saturated[index] or pref.min_replicas > slot.granted
        desired_capped_by = _capped_by(slot, slot.desired, plan_capped)
        explanations[slot.name] = Explanation(
            entry=slot.entry,
            min_replicas=pref.min_replicas,
            max_replicas=pref.max_replicas,
            weight=pref.weight,
            capacity=slot.capacity,
            granted_min=slot.granted,
            weighted_share=fill.shares[index],
            total_weight=total_weight,
            desired=slot.desired,
            current=slot.current,
            count=count,
            kept=min(slot.current, count),
            capped_by=_capped_by(
                slot, count, desired_capped_by is not None or slot.current > count
            ),
            desired_capped_by=desired_capped_by,
            rebalance=preferences.rebalance,
        )
    ordered = {name: explanations[name] for name in names}
    return ReplicaPlan(
        counts={name: why.count for name, why in ordered.items()},
        unplaced=total - sum(counts),
        explanations=ordered,
    )


def even_plan(
    *,
    total: int,
    clusters: Sequence[str],
    key: str,
    current: Mapping[str, int] = _NOTHING,
    capacity: Mapping[str, int] = _NOTHING,
) -> ReplicaPlan:
    """:func:`plan_replicas` with :data:`~kfed_hub.planning.preferences.DEFAULT` (no
    preferences: equal weights, running replicas kept where the total allows)."""
    return plan_replicas(
        total=total,
        clusters=clusters,
        preferences=DEFAULT,
        current=current,
        capacity=capacity,
        key=key,
    )


def _avoid_disruption(total: int, slots: Sequence[_Slot]) -> list[int]:
    """Start from what runs (within the caps, at least the granted minimum) and move towards
    the preference plan only as far as the total requires."""
    start = [max(_clamp(slot.current, slot.bound), slot.granted) for slot in slots]
    running = sum(start)
    if running > total:
        excess = [max(now - slot.desired, 0) for now, slot in zip(start, slots, strict=True)]
        taken = apportion(running - total, excess, excess).shares
        return [now - take for now, take in zip(start, taken, strict=True)]
    if running < total:
        lacking = [max(slot.desired - now, 0) for now, slot in zip(start, slots, strict=True)]
        added = apportion(total - running, lacking, lacking).shares
        return [now + add for now, add in zip(start, added, strict=True)]
    return start


def _capped_by(slot: _Slot, count: int, held_back: bool) -> str | None:
    """The bound's name when ``count`` sits on it and the bound is what held it there."""
    if slot.bound is None or count != slot.bound or not held_back:
        return None
    return bound_name(slot.pref.max_replicas, slot.capacity)


def _lower(first: int | None, second: int | None) -> int | None:
    if first is None:
        return second
    if second is None:
        return first
    return min(first, second)


def _clamp(value: int, bound: int | None) -> int:
    return value if bound is None else min(value, bound)


def _check(total: int, current: Mapping[str, int], capacity: Mapping[str, int]) -> None:
    if total < 0:
        raise ValueError(f"replica plan: total replicas must not be negative, got {total}")
    for what, values in (("current", current), ("capacity", capacity)):
        for name, value in values.items():
            if value < 0:
                raise ValueError(
                    f"replica plan: {what} of cluster {name!r} must not be negative, got {value}"
                )
