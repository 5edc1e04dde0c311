"""Shared pytest setup: test tiers and the opt-in slow suites.

Tiers live in folders: ``tests/unit`` (pure code), ``tests/integration`` (real servers on
loopback), ``tests/e2e`` (a real cluster, only when ``KUBECONFIG`` points at one and
``KFED_E2E=1``). Tests marked ``slow`` run only with ``KFED_SLOW=1`` (``make test-all``).
"""

from __future__ import annotations

import os

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("KFED_SLOW") == "1":
        return
    skip_slow = pytest.mark.skip(reason="slow suite: run with KFED_SLOW=1 (make test-all)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip_slow)
