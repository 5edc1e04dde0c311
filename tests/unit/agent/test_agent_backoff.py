"""Reconnect backoff: doubling steps with equal jitter, capped."""

from __future__ import annotations

import random

from kfed_agent.agent import backoff_delay


def test_backoff_doubles_with_jitter_and_stays_under_the_cap() -> None:
    rng = random.Random(7)
    for attempt in range(12):
        step = min(30.0, 0.5 * 2**attempt)
        delays = [backoff_delay(attempt, base=0.5, cap=30.0, rng=rng) for _ in range(50)]
        assert all(step / 2 <= d <= step for d in delays)
        assert len({round(d, 6) for d in delays}) > 1  # jittered, not one fixed value


def test_backoff_is_deterministic_for_a_seed() -> None:
    first = [backoff_delay(n, base=1, cap=8, rng=random.Random(1)) for n in range(5)]
    again = [backoff_delay(n, base=1, cap=8, rng=random.Random(1)) for n in range(5)]
    assert first == again
