"""Figures for the Sync benchmark: percentiles of samples, quantiles of a Prometheus histogram,
and the summary table.

Layer: ``bench`` pure helper (no clock, no I/O, no randomness): values in, values out, so the
arithmetic behind every printed figure can be unit-tested.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


def percentile(samples: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) of ``samples`` by linear interpolation between closest
    ranks (numpy's default); NaN for no samples."""
    if not 0.0 <= q <= 100.0:
        raise ValueError(f"percentile {q} is outside 0..100")
    if not samples:
        return math.nan
    ordered = sorted(samples)
    rank = (len(ordered) - 1) * q / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True, slots=True, kw_only=True)
class Spread:
    """p50, p99 and max of a set of latencies, in seconds, and how many there were."""

    count: int
    p50: float
    p99: float
    max: float

    @classmethod
    def of(cls, samples: Sequence[float]) -> Spread:
        return cls(
            count=len(samples),
            p50=percentile(samples, 50),
            p99=percentile(samples, 99),
            max=max(samples) if samples else math.nan,
        )

    def as_ms(self) -> dict[str, float | int]:
        """The figures in milliseconds (for the JSON file)."""
        return {
            "count": self.count,
            "p50_ms": round(self.p50 * 1000, 3),
            "p99_ms": round(self.p99 * 1000, 3),
            "max_ms": round(self.max * 1000, 3),
        }


def bucket_delta(after: Mapping[float, float], before: Mapping[float, float]) -> dict[float, float]:
    """Cumulative bucket counts observed between two scrapes of one histogram."""
    return {bound: count - before.get(bound, 0.0) for bound, count in after.items()}


def histogram_quantile(q: float, buckets: Mapping[float, float]) -> float:
    """Prometheus's ``histogram_quantile``: the ``q`` (0..1) quantile of cumulative ``buckets``
    (upper bound → count, ``+Inf`` included), interpolating linearly inside the bucket that
    holds it. NaN when the histogram is empty; the largest finite bound when the quantile falls
    in the ``+Inf`` bucket (as Prometheus does)."""
    bounds = sorted(buckets)
    if not bounds or buckets[bounds[-1]] <= 0:
        return math.nan
    total = buckets[bounds[-1]]
    rank = q * total
    lower_bound, lower_count = 0.0, 0.0
    for bound in bounds:
        count = buckets[bound]
        if count >= rank:
            if math.isinf(bound):
                return lower_bound
            if count == lower_count:
                return bound
            return lower_bound + (bound - lower_bound) * (rank - lower_count) / (
                count - lower_count
            )
        lower_bound, lower_count = bound, count
    return lower_bound


def ratio(value: float, baseline: float) -> float:
    """``value / baseline``, NaN when the baseline is zero or missing."""
    if not baseline or math.isnan(baseline):
        return math.nan
    return value / baseline


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain text table: the first column left-aligned, the others right-aligned."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        first, *rest = cells
        parts = [first.ljust(widths[0])]
        parts.extend(cell.rjust(width) for cell, width in zip(rest, widths[1:], strict=True))
        return "  ".join(parts).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows)])


def ms(seconds: float) -> str:
    """Seconds shown as milliseconds with sensible precision; "-" for NaN."""
    if math.isnan(seconds):
        return "-"
    value = seconds * 1000
    return f"{value:.2f}" if value < 10 else f"{value:.1f}" if value < 100 else f"{value:.0f}"
