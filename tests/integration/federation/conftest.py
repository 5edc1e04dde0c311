"""Fixtures of the federation tests (the harness itself is in fedharness.py)."""

from fedharness import federation  # noqa: F401 - a fixture, found by name
