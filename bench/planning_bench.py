"""Benchmark of replica scheduling (:func:`kfed_hub.planning.replicas.plan_replicas`).

    make bench-planning                          # (make bench runs it too) or, from the
    .venv/bin/python -m bench.planning_bench     # repository root
        [--clusters 10,100,1000] [--workloads 10000] [--seed 1] [--quick]

What it measures, in one process on this machine (figures only; it asserts nothing):

* per workload, at each cluster count: the time of one ``plan_replicas`` call (median, p90,
  p99, mean) over a mix of workloads: no preferences, ``"*"`` plus a few weighted clusters,
  a handful of named clusters with min/max, ``rebalance`` true and false; about half run
  replicas already (a previous plan, perturbed), and about 5 % of the clusters have a capacity
  cap (pods unschedulable). The same plans again with every explanation's ``summary`` rendered
  (what ``kfed describe`` and the reconciler's explanations cost on top);
* a full re-plan of ``--workloads`` workloads at 100 clusters, as after a cluster is lost:
  wall time, time per workload, and workloads per second.

The goal from issue 4 is ≤ 5 ms per workload at 100 clusters; the report says whether the
median met it. Inputs come from a seeded ``random.Random``; timings from ``perf_counter``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass

from bench import reconcile_bench
from kfed_hub.planning.preferences import DEFAULT, ClusterPreference, Preferences
from kfed_hub.planning.replicas import ReplicaPlan, plan_replicas

GOAL_MS = 5.0
GOAL_CLUSTERS = 100
REPLAN_CLUSTERS = 100


@dataclass(frozen=True, slots=True, kw_only=True)
class Workload:
    total: int
    clusters: list[str]
    preferences: Preferences
    current: dict[str, int]
    capacity: dict[str, int]
    key: str

    def plan(self) -> ReplicaPlan:
        return plan_replicas(
            total=self.total,
            clusters=self.clusters,
            preferences=self.preferences,
            current=self.current,
            capacity=self.capacity,
            key=self.key,
        )


def preferences_for(rng: random.Random, clusters: Sequence[str]) -> Preferences:
    """One of four shapes of preferences, as operators write them."""
    shape = rng.randrange(4)
    rebalance = rng.random() < 0.3
    if shape == 0:
        return DEFAULT
    if shape == 1:  # everyone, a few clusters weighted up and capped
        named = {
            name: ClusterPreference(
                min_replicas=rng.randrange(3),
                max_replicas=rng.choice([None, rng.randrange(5, 50)]),
                weight=rng.randrange(2, 6),
            )
            for name in rng.sample(list(clusters), min(len(clusters), 5))
        }
        return Preferences(
            rebalance=rebalance, clusters={"*": ClusterPreference(weight=1), **named}
        )
    if shape == 2:  # a handful of named clusters only (the blog's example)
        named = {
            name: ClusterPreference(min_replicas=2, max_replicas=rng.randrange(4, 40), weight=1)
            for name in rng.sample(list(clusters), min(len(clusters), rng.randrange(2, 8)))
        }
        return Preferences(rebalance=rebalance, clusters=named)
    weights = {  # many distinct weights: the slowest path of the fill
        name: ClusterPreference(weight=rng.randrange(0, 10), max_replicas=rng.randrange(1, 200))
        for name in clusters
    }
    return Preferences(rebalance=rebalance, clusters=weights)


def workload(rng: random.Random, clusters: list[str], index: int) -> Workload:
    total = rng.choice([1, 3, 9, 50, 3 * len(clusters), rng.randrange(10, 20_000)])
    preferences = preferences_for(rng, clusters)
    capacity = {name: rng.randrange(0, 20) for name in clusters if rng.random() < 0.05}
    draft = Workload(
        total=total,
        clusters=clusters,
        preferences=preferences,
        current={},
        capacity=capacity,
        key=f"apps/Deployment/bench/w{index}",
    )
    current: dict[str, int] = {}
    if rng.random() < 0.5:  # already running: the previous plan for another total, perturbed
        earlier = Workload(
            total=max(total + rng.randrange(-total, total + 1), 0),
            clusters=clusters,
            preferences=preferences,
            current={},
            capacity={},
            key=draft.key,
        )
        current = {
            name: max(count + rng.randrange(-2, 3), 0)
            for name, count in earlier.plan().counts.items()
            if count
        }
    return Workload(
        total=draft.total,
        clusters=draft.clusters,
        preferences=draft.preferences,
        current=current,
        capacity=draft.capacity,
        key=draft.key,
    )


def cluster_names(count: int) -> list[str]:
    return [f"cluster-{index:04d}" for index in range(count)]


def timed(workloads: Sequence[Workload], *, summaries: bool) -> list[float]:
    """Seconds per ``plan_replicas`` call (plus rendering every summary when asked)."""
    seconds: list[float] = []
    for item in workloads:
        start = time.perf_counter()
        plan = item.plan()
        if summaries:
            for why in plan.explanations.values():
                _ = why.summary
        seconds.append(time.perf_counter() - start)
    return seconds


def quantile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(fraction * len(ordered)), len(ordered) - 1)]


def line(label: str, seconds: Sequence[float]) -> str:
    def ms(value: float) -> str:
        return f"{value * 1e3:8.3f} ms"

    return (
        f"  {label:<22} median {ms(statistics.median(seconds))}  p90 {ms(quantile(seconds, 0.9))}"
        f"  p99 {ms(quantile(seconds, 0.99))}  mean {ms(statistics.fmean(seconds))}"
    )


def per_workload(rng: random.Random, counts: Sequence[int], quick: bool) -> dict[int, float]:
    """Print the per-workload figures; return the median seconds per cluster count."""
    medians: dict[int, float] = {}
    print("Scheduling time per workload (one plan_replicas call)")
    for count in counts:
        samples = 20 if quick else max(50, min(1000, 100_000 // count))
        clusters = cluster_names(count)
        workloads = [workload(rng, clusters, index) for index in range(samples)]
        timed(workloads[: min(10, samples)], summaries=False)  # warm-up
        plain = timed(workloads, summaries=False)
        rendered = timed(workloads, summaries=True)
        medians[count] = statistics.median(plain)
        print(f" {count:>5} clusters, {samples} workloads:")
        print(line("plan", plain))
        print(line("plan + summaries", rendered))
        per_cluster = statistics.median(plain) / count * 1e6
        print(f"  {'':<22} {per_cluster:.2f} µs per cluster (median plan)")
    return medians


def replan(rng: random.Random, count: int) -> None:
    print(f"Full re-plan of {count:,} workloads at {REPLAN_CLUSTERS} clusters")
    clusters = cluster_names(REPLAN_CLUSTERS)
    workloads = [workload(rng, clusters, index) for index in range(count)]
    start = time.perf_counter()
    for item in workloads:
        item.plan()
    wall = time.perf_counter() - start
    print(
        f"  wall {wall:.2f} s, {wall / count * 1e3:.3f} ms per workload, "
        f"{count / wall:,.0f} workloads/s (one core)"
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--clusters", default="10,100,1000", metavar="N,N,...")
    parser.add_argument("--workloads", type=int, default=10_000, help="full re-plan size")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="smoke run: few samples, 200 re-plans")
    args = parser.parse_args(argv)
    try:
        args.counts = [int(part) for part in str(args.clusters).split(",") if part.strip()]
    except ValueError:
        parser.error(f"--clusters {args.clusters!r}: use numbers like 10,100,1000")
    if not args.counts or min(args.counts) < 1:
        parser.error("--clusters: every count must be 1 or more")
    if args.quick:
        args.workloads = min(args.workloads, 200)
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    rng = random.Random(args.seed)
    medians = per_workload(rng, args.counts, args.quick)
    replan(rng, args.workloads)
    reconcile_bench.report(args.workloads, REPLAN_CLUSTERS)
    if GOAL_CLUSTERS in medians:
        median_ms = medians[GOAL_CLUSTERS] * 1e3
        verdict = f"met, {GOAL_MS / median_ms:.0f}x under it" if median_ms <= GOAL_MS else "NOT met"
        print(
            f"Goal ≤ {GOAL_MS:g} ms per workload at {GOAL_CLUSTERS} clusters: {verdict} "
            f"(median {median_ms:.3f} ms)"
        )


if __name__ == "__main__":
    main()
