"""Replica scheduling: KubeFed's documented examples, the 2016 blog's, v1's 10/70 quirk fixed,
capacity overflow, and the explanations ``kfed describe`` shows."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import pytest

from kfed_hub.planning.apportion import apportion
from kfed_hub.planning.preferences import ClusterPreference, Preferences, parse_preferences
from kfed_hub.planning.replicas import ReplicaPlan, even_plan, plan_replicas, tiebreak
from kfed_local.sim.config import SEED_CLUSTERS

KEY = "apps/ReplicaSet/default/nginx"
SEED = [name for name, _, _ in SEED_CLUSTERS]
STAR_C20 = parse_preferences(
    '{"clusters": {"*": {"weight": 1}, "C": {"maxReplicas": 20, "weight": 1}}}'
)


def plan(
    total: int,
    clusters: list[str] | str,
    preferences: Preferences,
    *,
    current: Mapping[str, int] | None = None,
    capacity: Mapping[str, int] | None = None,
    key: str = KEY,
) -> ReplicaPlan:
    return plan_replicas(
        total=total,
        clusters=list(clusters),
        preferences=preferences,
        current=current or {},
        capacity=capacity or {},
        key=key,
    )


def prefs(rebalance: bool = False, **entries: ClusterPreference) -> Preferences:
    return Preferences(rebalance=rebalance, clusters=entries)


# KubeFed's documented ReplicaSchedulingPreference examples.


def test_kubefed_weights_one_and_two_over_three_clusters() -> None:
    result = plan(9, "ABC", prefs(A=ClusterPreference(weight=1), B=ClusterPreference(weight=2)))
    assert result.counts == {"A": 3, "B": 6, "C": 0}
    assert result.unplaced == 0
    assert result.explanations["C"].entry == "none"


def test_kubefed_min_max_example() -> None:
    preferences = prefs(
        A=ClusterPreference(min_replicas=4, max_replicas=6, weight=1),
        B=ClusterPreference(min_replicas=4, max_replicas=8, weight=2),
    )
    result = plan(9, "ABC", preferences)
    assert result.counts == {"A": 4, "B": 5, "C": 0}
    assert result.explanations["B"].granted_min == 4
    assert result.explanations["B"].weighted_share == 1


def test_kubefed_star_with_c_capped_at_twenty_is_hash_ordered_and_stable() -> None:
    # The tie-break order for this key is B, A, C: the two leftover replicas of 50 = 3 x 16 + 2
    # go to B and A. The same inputs in any order give the same plan.
    assert sorted("ABC", key=lambda c: tiebreak(c, KEY)) == ["B", "A", "C"]
    result = plan(50, "ABC", STAR_C20)
    assert result.counts == {"A": 17, "B": 17, "C": 16}
    assert plan(50, "CBA", STAR_C20) == result
    assert result.explanations["C"].entry == "C"
    assert result.explanations["A"].entry == "*"


def test_kubefed_star_with_b_offline_overflows_c_cap_to_a() -> None:
    result = plan(50, "AC", STAR_C20)
    assert result.counts == {"A": 30, "C": 20}
    assert result.explanations["C"].capped_by == "maxReplicas"
    assert result.explanations["C"].summary == (
        "weighted share 20 (weight 1 of 2); capped at maxReplicas 20"
    )


def test_kubefed_star_with_only_c_reports_the_rest_unplaced() -> None:
    result = plan(50, "C", STAR_C20)
    assert result.counts == {"C": 20}
    assert result.unplaced == 30


def test_failover_and_return_keep_the_total_and_give_the_share_back() -> None:
    before = plan(50, "ABC", STAR_C20)
    during = plan(50, "AC", STAR_C20, current=before.counts)  # B offline
    assert during.counts == {"A": 30, "C": 20}
    # B returns with its replicas still running (kfed never deletes them): A gives its surplus.
    back = plan(50, "ABC", STAR_C20, current={**during.counts, "B": before.counts["B"]})
    assert back.counts == before.counts


# The 2016 blog post, on the nine seed clusters.


def test_blog_nine_replicas_without_preferences_give_one_per_cluster() -> None:
    result = even_plan(total=9, clusters=SEED, key=KEY)
    assert len(SEED) == 9
    assert result.counts == dict.fromkeys(sorted(SEED), 1)


def test_blog_preferences_example_puts_three_in_each_us_central1_cluster() -> None:
    blog = parse_preferences(
        '{"rebalance": true, "clusters": {'
        '"gce-us-central1-a": {"minReplicas": 2, "maxReplicas": 4, "weight": 1},'
        '"gce-us-central1-b": {"minReplicas": 2, "maxReplicas": 4, "weight": 1}}}'
    )
    result = plan(6, SEED, blog)
    wanted = {"gce-us-central1-a": 3, "gce-us-central1-b": 3}
    assert result.counts == {name: wanted.get(name, 0) for name in SEED}
    assert result.explanations["gce-us-central1-a"].summary == (
        "min 2 + weighted share 1 (weight 1 of 2)"
    )
    # rebalance true: what runs elsewhere does not matter.
    assert plan(6, SEED, blog, current=dict.fromkeys(SEED, 1)).counts == result.counts


# Federation v1's quirk, fixed; rebalance.


def test_rebalance_false_moves_as_few_replicas_as_possible() -> None:
    result = even_plan(total=50, clusters=["A", "B"], current={"A": 10, "B": 70}, key=KEY)
    assert result.counts == {"A": 10, "B": 40}
    assert result.explanations["A"].kept == 10
    assert result.explanations["A"].desired == 25
    assert result.explanations["A"].summary == (
        "preferences alone give 25: weighted share 25 (weight 1 of 2); "
        "rebalance off: keeps its 10 running"
    )
    assert result.explanations["B"].kept == 40


def test_rebalance_true_ignores_what_runs() -> None:
    preferences = prefs(rebalance=True, **{"*": ClusterPreference(weight=1)})
    result = plan(50, "AB", preferences, current={"A": 10, "B": 70})
    assert result.counts == {"A": 25, "B": 25}


def test_rebalance_false_scale_up_goes_only_to_clusters_below_their_share() -> None:
    result = even_plan(total=30, clusters="ABC", current={"A": 12, "B": 3}, key=KEY)
    assert result.counts == {"A": 12, "B": 9, "C": 9}


def test_rebalance_false_still_grants_minimums() -> None:
    preferences = prefs(
        A=ClusterPreference(weight=1), B=ClusterPreference(min_replicas=4, weight=1)
    )
    result = plan(10, "AB", preferences, current={"A": 10})
    assert result.counts == {"A": 6, "B": 4}


def test_cluster_without_an_entry_loses_its_replicas_even_without_rebalance() -> None:
    result = plan(4, "AB", prefs(A=ClusterPreference(weight=1)), current={"B": 4})
    assert result.counts == {"A": 4, "B": 0}
    assert result.explanations["B"].current == 4


def test_minimums_go_to_higher_weights_first_when_they_cannot_all_be_met() -> None:
    preferences = prefs(
        rebalance=True,
        A=ClusterPreference(min_replicas=3, weight=2),
        B=ClusterPreference(min_replicas=3, weight=1),
    )
    result = plan(5, "AB", preferences)
    assert result.counts == {"A": 3, "B": 2}
    assert "min 2 of 3" in result.explanations["B"].summary


def test_weight_zero_cluster_gets_only_its_minimum_and_the_rest_is_unplaced() -> None:
    result = plan(5, "A", prefs(rebalance=True, A=ClusterPreference(min_replicas=2)))
    assert result.counts == {"A": 2}
    assert result.unplaced == 3


# Capacity (pods that stay unschedulable).


def test_capacity_caps_a_cluster_and_the_rest_overflows() -> None:
    result = even_plan(total=9, clusters="ABC", capacity={"A": 2}, key=KEY)
    assert result.counts["A"] == 2
    assert result.counts["B"] + result.counts["C"] == 7
    assert abs(result.counts["B"] - result.counts["C"]) <= 1
    why = result.explanations["A"]
    assert why.capped_by == "capacity"
    assert why.capacity == 2
    assert "capped at capacity 2" in why.summary


def test_running_replicas_above_capacity_are_moved_away() -> None:
    result = even_plan(
        total=10, clusters="AB", current={"A": 8, "B": 2}, capacity={"A": 2}, key=KEY
    )
    assert result.counts == {"A": 2, "B": 8}
    assert result.explanations["A"].capped_by == "capacity"


def test_capacity_below_max_is_named_as_the_cap() -> None:
    preferences = prefs(rebalance=True, A=ClusterPreference(max_replicas=5, weight=1))
    result = plan(9, "A", preferences, capacity={"A": 3})
    assert result.counts == {"A": 3}
    assert result.unplaced == 6
    assert result.explanations["A"].capped_by == "capacity"


def test_unknown_capacity_is_unlimited_and_zero_capacity_gets_nothing() -> None:
    result = even_plan(total=6, clusters="AB", capacity={"A": 0}, key=KEY)
    assert result.counts == {"A": 0, "B": 6}


# Inputs and mechanics.


def test_counts_list_every_cluster_once_in_name_order() -> None:
    result = even_plan(total=0, clusters=["b", "a", "b"], key=KEY)
    assert list(result.counts) == ["a", "b"]
    assert list(result.explanations) == ["a", "b"]
    assert result.counts == {"a": 0, "b": 0}


def test_no_clusters_leaves_everything_unplaced() -> None:
    result = even_plan(total=3, clusters=[], key=KEY)
    assert result.counts == {}
    assert result.unplaced == 3


@pytest.mark.parametrize(
    ("total", "current", "capacity", "what"),
    [
        (-1, {}, {}, "total replicas must not be negative"),
        (1, {"A": -1}, {}, "current of cluster 'A'"),
        (1, {}, {"A": -1}, "capacity of cluster 'A'"),
    ],
)
def test_negative_inputs_are_refused(
    total: int, current: dict[str, int], capacity: dict[str, int], what: str
) -> None:
    with pytest.raises(ValueError, match=what):
        even_plan(total=total, clusters=["A"], current=current, capacity=capacity, key=KEY)


def test_tiebreak_is_blake2b_of_name_nul_key() -> None:
    digest = hashlib.blake2b(b"A\0k", digest_size=8).digest()
    assert tiebreak("A", "k") == int.from_bytes(digest, "big") == 4312880865255577307


def test_different_workloads_break_ties_on_different_clusters() -> None:
    winners = {
        next(c for c, n in even_plan(total=1, clusters="ABCD", key=f"k{i}").counts.items() if n)
        for i in range(40)
    }
    assert len(winners) > 1


def test_largest_remainder_does_not_starve_the_last_cluster() -> None:
    # Federation v1 rounded up in order and gave 4, 2, 1, 0 here.
    assert apportion(7, [3, 1, 1, 1], [None] * 4).shares == [4, 1, 1, 1]


def test_apportion_overflows_saturated_slots_in_a_cascade() -> None:
    result = apportion(100, [1, 1, 1, 1], [1, 2, 4, None])
    assert result.shares == [1, 2, 4, 93]
    assert result.saturated == [True, True, True, False]
    assert apportion(10, [1, 1], [2, 3]).left == 5
