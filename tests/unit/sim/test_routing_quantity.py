"""Path parsing and resource quantities."""

from __future__ import annotations

from fractions import Fraction

import pytest

from kfed_core.quantity import (
    format_cpu,
    format_memory,
    parse_quantity,
    pod_requests,
    qos_class,
)
from kfed_local.sim.routing import Discovery, Target, parse


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/api", Discovery(what="core")),
        ("/apis", Discovery(what="groups")),
        ("/apis/apps", Discovery(what="group", group="apps")),
        ("/apis/apps/v1", Discovery(what="resources", group="apps", version="v1")),
        ("/api/v1/namespaces", Target(group="", version="v1", plural="namespaces")),
        ("/api/v1/namespaces/web", Target(group="", version="v1", plural="namespaces", name="web")),
        (
            "/api/v1/namespaces/web/finalize",
            Target(group="", version="v1", plural="namespaces", name="web", subresource="finalize"),
        ),
        (
            "/api/v1/namespaces/web/pods",
            Target(group="", version="v1", plural="pods", namespace="web"),
        ),
        (
            "/apis/apps/v1/namespaces/web/deployments/api/scale",
            Target(
                group="apps",
                version="v1",
                plural="deployments",
                namespace="web",
                name="api",
                subresource="scale",
            ),
        ),
        (
            "/api/v1/watch/namespaces/web/pods",
            Target(group="", version="v1", plural="pods", namespace="web", legacy_watch=True),
        ),
        ("/healthz", None),
        ("/apis/apps/v1/namespaces/web/deployments/api/scale/extra", None),
    ],
)
def test_paths_parse_to_what_they_address(path: str, expected: object) -> None:
    assert parse(path) == expected


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("100m", Fraction(1, 10)),
        ("2", Fraction(2)),
        ("1.5", Fraction(3, 2)),
        ("16Gi", 16 * 2**30),
        ("1e3", Fraction(1000)),
        ("500M", 500 * 10**6),
        (3, Fraction(3)),
    ],
)
def test_quantities_parse_exactly(text: object, value: Fraction) -> None:
    assert parse_quantity(text) == value


def test_bad_quantity_names_the_text() -> None:
    with pytest.raises(ValueError, match="'lots'"):
        parse_quantity("lots")


def test_formatting_and_pod_totals() -> None:
    assert (format_cpu(Fraction(3, 2)), format_cpu(Fraction(4))) == ("1500m", "4")
    assert format_memory(Fraction(16 * 2**30)) == "16Gi"
    pod = {
        "spec": {
            "containers": [
                {"resources": {"requests": {"cpu": "250m"}, "limits": {"memory": "1Gi"}}},
                {"resources": {"requests": {"cpu": "250m", "memory": "1Gi"}}},
            ]
        }
    }
    assert pod_requests(pod) == {"cpu": Fraction(1, 2), "memory": Fraction(2 * 2**30)}
    assert qos_class(pod) == "Burstable"
    assert qos_class({"spec": {"containers": [{}]}}) == "BestEffort"
    guaranteed = {
        "spec": {"containers": [{"resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}]}
    }
    assert qos_class(guaranteed) == "Guaranteed"
