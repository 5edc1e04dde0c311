"""The arithmetic and argument handling behind the Sync benchmark's printed figures."""

from __future__ import annotations

import argparse
import math

import pytest

from bench.sync_bench import cluster_counts, parse_args
from bench.sync_report import jsonable
from bench.sync_stats import Spread, bucket_delta, histogram_quantile, percentile, ratio


def test_percentile_interpolates_between_closest_ranks() -> None:
    samples = [4.0, 1.0, 3.0, 2.0]  # unsorted on purpose
    assert percentile(samples, 0) == 1.0
    assert percentile(samples, 50) == 2.5
    assert percentile(samples, 100) == 4.0
    assert percentile(list(map(float, range(101))), 99) == pytest.approx(99.0)


def test_percentile_of_nothing_is_nan_and_out_of_range_is_refused() -> None:
    assert math.isnan(percentile([], 50))
    with pytest.raises(ValueError, match=r"outside 0\.\.100"):
        percentile([1.0], 101)


def test_spread_reports_milliseconds() -> None:
    spread = Spread.of([0.010, 0.020, 0.030])
    assert spread.as_ms() == {"count": 3, "p50_ms": 20.0, "p99_ms": 29.8, "max_ms": 30.0}


def test_histogram_quantile_interpolates_inside_the_bucket_like_prometheus() -> None:
    # 10 observations <= 0.1 s, 10 more in (0.1, 0.2], none above.
    buckets = {0.1: 10.0, 0.2: 20.0, math.inf: 20.0}
    assert histogram_quantile(0.5, buckets) == pytest.approx(0.1)
    assert histogram_quantile(0.75, buckets) == pytest.approx(0.15)
    assert histogram_quantile(0.25, buckets) == pytest.approx(0.05)


def test_histogram_quantile_in_the_inf_bucket_is_the_largest_finite_bound() -> None:
    assert histogram_quantile(0.99, {1.0: 1.0, math.inf: 10.0}) == 1.0
    assert math.isnan(histogram_quantile(0.5, {1.0: 0.0, math.inf: 0.0}))


def test_bucket_delta_keeps_only_what_happened_between_scrapes() -> None:
    before = {0.1: 5.0, math.inf: 7.0}
    after = {0.1: 8.0, math.inf: 12.0}
    assert bucket_delta(after, before) == {0.1: 3.0, math.inf: 5.0}


def test_ratio_of_a_missing_baseline_is_nan() -> None:
    assert ratio(3.0, 2.0) == 1.5
    assert math.isnan(ratio(3.0, 0.0))
    assert math.isnan(ratio(3.0, math.nan))


def test_cluster_counts_accept_a_list_and_refuse_nonsense() -> None:
    assert cluster_counts("100,1000") == [100, 1000]
    for bad in ("100,x", "0", ""):
        with pytest.raises(argparse.ArgumentTypeError):
            cluster_counts(bad)


def test_quick_mode_is_a_small_smoke_run() -> None:
    args = parse_args(["--quick", "--seed", "7"])
    assert (args.clusters, args.updates, args.objects, args.seed) == ([20], 5, 1000, 7)
    full = parse_args([])
    assert (full.clusters, full.updates, full.objects) == ([100, 1000], 20, 10_000)


def test_json_form_is_strict_json_with_spreads_in_milliseconds() -> None:
    figures = {"a": Spread.of([0.001]), "b": [math.nan, 1.5], "c": (1, "x")}
    assert jsonable(figures) == {
        "a": {"count": 1, "p50_ms": 1.0, "p99_ms": 1.0, "max_ms": 1.0},
        "b": [None, 1.5],
        "c": [1, "x"],
    }
