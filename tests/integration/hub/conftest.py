"""Fixtures of the hub's API and CLI tests (the harness itself is in hubharness.py)."""

from hubharness import certs, hub, placed_hub  # noqa: F401 - fixtures, found by name
