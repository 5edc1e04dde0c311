"""Why a cluster got its replica count: the explanation as data, and its sentence for people.

Layer: ``kfed_hub.planning`` (pure). :mod:`kfed_hub.planning.replicas` fills these values;
``kfed describe`` prints :attr:`Explanation.summary`, tests assert the numbers. Nothing here
decides a count.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_REPLICAS = "maxReplicas"
CAPACITY = "capacity"
NO_ENTRY = "none"


@dataclass(frozen=True, slots=True, kw_only=True)
class Explanation:
    """How one cluster's count came about.

    ``entry`` is the preference entry that applied (the cluster's own name, ``"*"``, or
    ``"none"`` when neither exists: the cluster gets nothing). ``min_replicas``,
    ``max_replicas`` and ``weight`` are that entry's; ``capacity`` the most replicas the cluster
    can run (None: unknown, so unlimited). ``granted_min`` is the part of the minimum the plan
    could give (minimums go first, higher weight first, and may not all fit) and
    ``weighted_share`` the part of the rest it received, by ``weight`` out of ``total_weight``
    (the sum of the weights of every candidate). ``desired`` is what the preferences alone give
    (the count with ``rebalance: true``); ``count`` what the cluster gets; ``current`` what it
    runs now and ``kept`` how many of those stay (``min(current, count)``). ``capped_by`` names
    the bound that held the cluster back (``"maxReplicas"``, ``"capacity"``) or is None.
    """

    entry: str
    min_replicas: int = 0
    max_replicas: int | None = None
    weight: int = 0
    capacity: int | None = None
    granted_min: int = 0
    weighted_share: int = 0
    total_weight: int = 0
    desired: int = 0
    current: int = 0
    count: int = 0
    kept: int = 0
    capped_by: str | None = None
    desired_capped_by: str | None = None
    rebalance: bool = False

    @property
    def summary(self) -> str:
        """For people, e.g. ``"min 2 + weighted share 1 (weight 1 of 3); capped at
        maxReplicas 4"``."""
        return summarize(self)


def bound_name(max_replicas: int | None, capacity: int | None) -> str:
    """Which bound is the lower one (the operator's ``maxReplicas`` on a tie)."""
    if capacity is not None and (max_replicas is None or capacity < max_replicas):
        return CAPACITY
    return MAX_REPLICAS


def summarize(explanation: Explanation) -> str:
    """The sentence :attr:`Explanation.summary` shows."""
    e = explanation
    if e.entry == NO_ENTRY:
        return 'no preference entry names this cluster and there is no "*" entry: 0 replicas'
    text = _preference_part(e)
    if e.desired_capped_by is not None:
        text += f"; {_capped(e)}"
    if e.rebalance or e.count == e.desired:
        if e.current in (0, e.count):
            return text
        return f"{text}; {e.current} running now"
    return f"preferences alone give {e.desired}: {text}; rebalance off: {_kept(e)}"


def _preference_part(e: Explanation) -> str:
    parts: list[str] = []
    if e.min_replicas:
        if e.granted_min == e.min_replicas:
            parts.append(f"min {e.granted_min}")
        else:
            parts.append(f"min {e.granted_min} of {e.min_replicas} ({_short_min_reason(e)})")
    if e.weight:
        parts.append(f"weighted share {e.weighted_share} (weight {e.weight} of {e.total_weight})")
    else:
        parts.append("weight 0 (no share of the rest)")
    return " + ".join(parts)


def _short_min_reason(e: Explanation) -> str:
    bound = _bound(e)
    if bound is not None and e.granted_min == bound:
        return f"{bound_name(e.max_replicas, e.capacity)} {bound}"
    return "too few replicas for every minimum; higher weights first"


def _capped(e: Explanation) -> str:
    name = bound_name(e.max_replicas, e.capacity)
    if name == CAPACITY:
        return f"capped at capacity {e.capacity} (pods unschedulable there; the rest overflows)"
    return f"capped at maxReplicas {e.max_replicas}"


def _kept(e: Explanation) -> str:
    if e.current == 0:
        return f"nothing runs here yet, {e.count} added"
    if e.count > e.current:
        return f"keeps its {e.current} running and adds {e.count - e.current}"
    if e.count == e.current:
        return f"keeps its {e.current} running"
    kept = f"keeps {e.count} of its {e.current} running"
    if e.capped_by is not None:
        return f"{kept}, {_capped(e)}"
    return f"{kept} (fewer replicas wanted, or a minimum elsewhere needed them)"


def _bound(e: Explanation) -> int | None:
    if e.max_replicas is None:
        return e.capacity
    if e.capacity is None:
        return e.max_replicas
    return min(e.max_replicas, e.capacity)
