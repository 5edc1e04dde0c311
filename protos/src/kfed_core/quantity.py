"""Kubernetes resource quantities (``500m``, ``2``, ``16Gi``, ``1e3``) as exact numbers.

Layer: ``kfed_core``, pure. Shared by the simulated clusters' scheduler and QoS classes and by the
agent's capacity reports, so both count requests by the same rules. Values are
:class:`fractions.Fraction` so that ``100m`` times ten is exactly ``1``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

_SUFFIXES: Mapping[str, Fraction] = {
    "n": Fraction(1, 10**9),
    "u": Fraction(1, 10**6),
    "m": Fraction(1, 1000),
    "": Fraction(1),
    "k": Fraction(10**3),
    "M": Fraction(10**6),
    "G": Fraction(10**9),
    "T": Fraction(10**12),
    "P": Fraction(10**15),
    "E": Fraction(10**18),
    "Ki": Fraction(2**10),
    "Mi": Fraction(2**20),
    "Gi": Fraction(2**30),
    "Ti": Fraction(2**40),
    "Pi": Fraction(2**50),
    "Ei": Fraction(2**60),
}
_PATTERN = re.compile(
    r"^([+-]?[0-9]+(?:\.[0-9]*)?|[+-]?\.[0-9]+)(?:([eE][+-]?[0-9]+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$"
)


def parse_quantity(value: Any) -> Fraction:
    """The exact value of a quantity; raises ``ValueError`` naming the bad text."""
    if isinstance(value, bool):
        raise ValueError(f"quantities must match the regular expression: got {value!r}")
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        return Fraction(str(value))
    text = str(value).strip()
    match = _PATTERN.match(text)
    if not match:
        raise ValueError(
            f"quantities must match the regular expression "
            f"'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': {text!r}"
        )
    number, exponent, suffix = match.groups()
    amount = Fraction(number)
    if exponent:
        return amount * Fraction(10) ** int(exponent[1:])
    return amount * _SUFFIXES[suffix or ""]


def format_cpu(value: Fraction) -> str:
    """CPU as kubectl shows it: whole cores (``4``) or millicores (``1500m``)."""
    if value.denominator == 1:
        return str(value.numerator)
    return f"{round(value * 1000)}m"


def format_memory(value: Fraction) -> str:
    """Memory in the largest binary unit that divides it exactly (``16Gi``, ``512Mi``)."""
    whole = int(value)
    for suffix in ("Ei", "Pi", "Ti", "Gi", "Mi", "Ki"):
        unit = int(_SUFFIXES[suffix])
        if whole and whole % unit == 0:
            return f"{whole // unit}{suffix}"
    return str(whole)


def pod_requests(pod: Mapping[str, Any]) -> dict[str, Fraction]:
    """Total requests of a pod's containers (init containers: the max, as the scheduler counts)."""
    spec = pod.get("spec") or {}
    totals: dict[str, Fraction] = {}
    for container in spec.get("containers") or ():
        for name, amount in _requests(container).items():
            totals[name] = totals.get(name, Fraction(0)) + amount
    for container in spec.get("initContainers") or ():
        for name, amount in _requests(container).items():
            totals[name] = max(totals.get(name, Fraction(0)), amount)
    for name, amount in (spec.get("overhead") or {}).items():
        totals[name] = totals.get(name, Fraction(0)) + parse_quantity(amount)
    return totals


def _requests(container: Mapping[str, Any]) -> dict[str, Fraction]:
    resources = container.get("resources") or {}
    # A limit without a request means the request equals the limit (API defaulting does this).
    merged = {**(resources.get("limits") or {}), **(resources.get("requests") or {})}
    return {name: parse_quantity(amount) for name, amount in merged.items()}


def qos_class(pod: Mapping[str, Any]) -> str:
    """The pod's QoS class: Guaranteed, Burstable or BestEffort."""
    spec = pod.get("spec") or {}
    containers = [*(spec.get("containers") or ()), *(spec.get("initContainers") or ())]
    any_set = False
    guaranteed = True
    for container in containers:
        resources = container.get("resources") or {}
        requests = resources.get("requests") or {}
        limits = resources.get("limits") or {}
        if requests or limits:
            any_set = True
        for name in ("cpu", "memory"):
            limit = limits.get(name)
            request = requests.get(name, limit)
            if limit is None or parse_quantity(request) != parse_quantity(limit):
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"
