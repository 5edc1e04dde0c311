"""Kubernetes quantities, as the agent's capacity reports and the simulated scheduler read them."""

from __future__ import annotations

from fractions import Fraction

import pytest

from kfed_core.quantity import parse_quantity


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("100m", Fraction(1, 10)),
        ("1Gi", 2**30),
        ("2", 2),
        ("500Mi", 500 * 2**20),
        ("1e3", 1000),
        ("1E3", 1000),
        ("1E", 10**18),
        ("1.5k", 1500),
        ("0.5", Fraction(1, 2)),
        ("250u", Fraction(250, 10**6)),
        (3, 3),
    ],
)
def test_parse_quantity_reads_kubernetes_quantities(text: str | int, value: Fraction | int) -> None:
    assert parse_quantity(text) == value


@pytest.mark.parametrize("text", ["", "abc", "1/2", "1Z", "Gi", "1 Gi", "nan"])
def test_parse_quantity_refuses_what_is_not_a_quantity(text: str) -> None:
    with pytest.raises(ValueError, match="quantities must match"):
        parse_quantity(text)
