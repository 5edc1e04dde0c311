"""Integer apportionment: split a number of replicas over slots by weight, each slot capped.

Layer: ``kfed_hub.planning`` (pure: integers in, integers out; no clock, no randomness, no I/O).
It knows nothing of clusters, preferences or Kubernetes; :mod:`kfed_hub.planning.replicas` uses
it for the weighted fill and for spreading a scale-up or scale-down delta.

The method is exact and runs in O(n log n) for n slots, whatever the amount:

1. *Water-filling.* Find the level λ at which ``Σ min(cap_i, λ·w_i) = amount``: a slot whose cap
   is at most λ·w_i is saturated and gets its cap (the excess overflows to the others, because λ
   rises as saturated slots leave). Slots are visited by ascending ``cap/w`` (a float only orders
   the visit; every saturation test is an exact integer comparison, and a final pass catches any
   slot the float order visited late).
2. *Largest remainder* (Hamilton) among the unsaturated slots: each gets ``floor(R·w_i/W)``; the
   few replicas left (fewer than the number of slots) go one each to the largest remainders,
   ties to the lower index. Callers pass slots in priority order, so the index is the
   deterministic tie-break. An unsaturated slot never exceeds its cap: ``cap > R·w/W`` implies
   ``cap ≥ floor(R·w/W) + 1``.

Federation v1 rounded every share up in slot order instead, which can starve the last slots
(weights 3,1,1,1 and 7 replicas gave 4,2,1,0); the largest remainder gives 4,1,1,1.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class Apportionment:
    """The result: ``shares[i]`` for slot i, ``saturated[i]`` when slot i reached its cap while
    it still had a claim (weight > 0), and ``left`` replicas no slot could take."""

    shares: list[int]
    saturated: list[bool]
    left: int


def apportion(amount: int, weights: Sequence[int], caps: Sequence[int | None]) -> Apportionment:
    """Split ``amount`` over the slots in proportion to ``weights`` (slots of weight 0 get
    nothing), no slot above its cap (``None``: no cap). Ties go to the lower index."""
    count = len(weights)
    shares = [0] * count
    saturated = [False] * count
    if len(caps) != count:
        raise ValueError(f"apportion: {count} weights but {len(caps)} caps")
    remaining = amount
    total_weight = 0
    bounded: list[tuple[int, int, int]] = []  # (index, cap, weight) of slots with a cap
    for index in range(count):
        weight = weights[index]
        if weight <= 0:
            continue
        cap = caps[index]
        if cap is not None:
            if cap <= 0:
                saturated[index] = True
                continue
            bounded.append((index, cap, weight))
        total_weight += weight
    if remaining <= 0 or total_weight == 0:
        return Apportionment(shares=shares, saturated=saturated, left=max(remaining, 0))

    # Visit by ascending cap/weight; the float only orders the visit, each test is exact.
    bounded.sort(key=lambda slot: slot[1] / slot[2])
    pending = bounded
    while pending and total_weight > 0:
        # One walk with a running level: a slot is saturated when cap ≤ remaining·w/W (exact).
        # Filling it only raises the level. In exact order no slot after the first unsaturated
        # one can be saturated, so the walk repeats only if the float order was off.
        rest: list[tuple[int, int, int]] = []
        for slot in pending:
            index, cap, weight = slot
            if cap * total_weight <= remaining * weight:
                shares[index] = cap
                saturated[index] = True
                remaining -= cap
                total_weight -= weight
            else:
                rest.append(slot)
        if len(rest) == len(pending):
            break
        pending = rest
    if total_weight == 0:
        return Apportionment(shares=shares, saturated=saturated, left=remaining)

    remainders: list[tuple[int, int]] = []
    handed = 0
    for index in range(count):
        weight = weights[index]
        if weight <= 0 or saturated[index]:
            continue
        share, remainder = divmod(remaining * weight, total_weight)
        shares[index] = share
        handed += share
        if remainder:
            remainders.append((-remainder, index))
    extra = remaining - handed
    for _, index in heapq.nsmallest(extra, remainders):
        shares[index] += 1
    return Apportionment(shares=shares, saturated=saturated, left=0)
