"""Fixtures of the local global load balancer's integration tests (defined in glbharness)."""

from glbharness import (  # noqa: F401 - fixtures, found by name
    client,
    glb_sim,
    healthy_fleet,
    provider,
    test_backends,
)
