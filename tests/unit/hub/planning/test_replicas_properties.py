"""Properties of replica scheduling over generated inputs (hypothesis): the total is placed
whenever it can be, bounds hold, input order does not matter, an unchanged input moves nothing,
and ``rebalance: false`` only takes replicas away when it must."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from kfed_hub.planning.apportion import apportion
from kfed_hub.planning.preferences import ClusterPreference, Preferences
from kfed_hub.planning.replicas import ReplicaPlan, plan_replicas

NAMES = ["a", "b", "c", "d", "e", "f", "g", "h"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Case:
    total: int
    clusters: list[str]
    preferences: Preferences
    current: dict[str, int]
    capacity: dict[str, int]
    key: str

    def plan(self, *, current: Mapping[str, int] | None = None) -> ReplicaPlan:
        return plan_replicas(
            total=self.total,
            clusters=self.clusters,
            preferences=self.preferences,
            current=self.current if current is None else current,
            capacity=self.capacity,
            key=self.key,
        )

    def entry(self, name: str) -> ClusterPreference | None:
        return self.preferences.entry_for(name)[1]

    def bound(self, name: str) -> int | None:
        entry = self.entry(name)
        assert entry is not None
        bounds = [b for b in (entry.max_replicas, self.capacity.get(name)) if b is not None]
        return min(bounds) if bounds else None

    def floor(self, name: str) -> int:
        """The minimum as far as the cluster's bound allows."""
        entry = self.entry(name)
        assert entry is not None
        return _low(entry.min_replicas, self.bound(name))

    def matched(self) -> list[str]:
        return [name for name in self.clusters if self.entry(name) is not None]

    def feasible(self) -> bool:
        """Σ of what each cluster can take (weight 0: only its minimum) covers the total."""
        room = 0
        for name in self.matched():
            entry = self.entry(name)
            assert entry is not None
            bound = self.bound(name)
            if entry.weight > 0 and bound is None:
                return True
            room += bound if entry.weight > 0 and bound is not None else self.floor(name)
        return room >= self.total

    def minimums_fit(self) -> bool:
        return sum(self.floor(name) for name in self.matched()) <= self.total


def _low(value: int, bound: int | None) -> int:
    return value if bound is None else min(value, bound)


@st.composite
def entries(draw: st.DrawFn) -> ClusterPreference:
    minimum = draw(st.integers(0, 8))
    maximum = draw(st.none() | st.integers(minimum, minimum + 15))
    return ClusterPreference(
        min_replicas=minimum, max_replicas=maximum, weight=draw(st.integers(0, 4))
    )


@st.composite
def cases(draw: st.DrawFn) -> Case:
    clusters = draw(st.lists(st.sampled_from(NAMES), max_size=len(NAMES), unique=True))
    named = draw(st.dictionaries(st.sampled_from(NAMES), entries(), max_size=5))
    if draw(st.booleans()):
        named["*"] = draw(entries())
    counts = st.dictionaries(st.sampled_from(clusters or NAMES), st.integers(0, 30), max_size=8)
    return Case(
        total=draw(st.integers(0, 80)),
        clusters=clusters,
        preferences=Preferences(rebalance=draw(st.booleans()), clusters=named),
        current=draw(counts),
        capacity=draw(counts),
        key=draw(st.text(max_size=12)),
    )


@given(cases())
@settings(max_examples=300, deadline=None)
def test_every_replica_is_placed_or_reported_and_the_total_is_met_when_feasible(case: Case) -> None:
    result = case.plan()
    assert set(result.counts) == set(case.clusters)
    assert all(count >= 0 for count in result.counts.values())
    assert sum(result.counts.values()) + result.unplaced == case.total
    assert result.unplaced >= 0
    if case.feasible():
        assert result.unplaced == 0


@given(cases())
@settings(max_examples=300, deadline=None)
def test_caps_always_hold_and_minimums_hold_when_they_fit(case: Case) -> None:
    result = case.plan()
    for name, count in result.counts.items():
        why = result.explanations[name]
        assert why.count == count
        if case.entry(name) is None:
            assert count == 0
            continue
        bound = case.bound(name)
        assert bound is None or count <= bound
        if case.minimums_fit():
            assert count >= case.floor(name)


@given(cases(), st.data())
@settings(max_examples=200, deadline=None)
def test_cluster_order_does_not_matter(case: Case, data: st.DataObject) -> None:
    shuffled = data.draw(st.permutations(case.clusters))
    assert (
        plan_replicas(
            total=case.total,
            clusters=shuffled,
            preferences=case.preferences,
            current=case.current,
            capacity=case.capacity,
            key=case.key,
        )
        == case.plan()
    )


@given(cases())
@settings(max_examples=300, deadline=None)
def test_planning_again_from_the_plan_moves_nothing(case: Case) -> None:
    first = case.plan()
    again = case.plan(current=first.counts)
    assert again.counts == first.counts
    assert again.unplaced == first.unplaced


@given(cases())
@settings(max_examples=300, deadline=None)
def test_rebalance_false_takes_replicas_away_only_when_the_total_or_a_cap_forces_it(
    case: Case,
) -> None:
    if case.preferences.rebalance or not case.minimums_fit():
        return
    matched = case.matched()
    kept = {name: _low(case.current.get(name, 0), case.bound(name)) for name in matched}
    if sum(max(kept[name], case.floor(name)) for name in matched) > case.total:
        return  # the total shrank below what runs: something must go
    result = case.plan()
    for name in matched:
        assert result.counts[name] >= kept[name]


@given(cases())
@settings(max_examples=200, deadline=None)
def test_rebalance_true_does_not_depend_on_what_runs(case: Case) -> None:
    if not case.preferences.rebalance:
        return
    assert case.plan().counts == case.plan(current={}).counts


@given(
    st.integers(0, 200),
    st.lists(st.tuples(st.integers(0, 6), st.none() | st.integers(0, 40)), max_size=12),
)
@settings(max_examples=400, deadline=None)
def test_apportion_is_proportional_within_one_replica(
    amount: int, slots: list[tuple[int, int | None]]
) -> None:
    weights = [weight for weight, _ in slots]
    caps = [cap for _, cap in slots]
    result = apportion(amount, weights, caps)
    shares, saturated = result.shares, result.saturated
    room = sum(
        (amount if cap is None else cap) for weight, cap in slots if weight > 0
    )  # an uncapped slot could take everything
    assert sum(shares) + result.left == amount
    assert result.left == max(amount - room, 0)
    for i, (weight, cap) in enumerate(slots):
        assert weight > 0 or shares[i] == 0
        assert cap is None or shares[i] <= cap
        assert not saturated[i] or shares[i] == cap
    live = [i for i, (weight, _) in enumerate(slots) if weight > 0]
    for i in live:
        for j in live:
            if i == j or saturated[i]:
                continue
            # i is below the water level λ: share_i - 1 < λ·w_i; every j is at most λ·w_j + 1,
            # or at its cap with cap_j ≤ λ·w_j.
            if saturated[j]:
                assert shares[j] * weights[i] < (shares[i] + 1) * weights[j]
            else:
                assert (shares[i] - 1) * weights[j] < (shares[j] + 1) * weights[i]
