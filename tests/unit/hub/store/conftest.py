"""Fixtures for the store tests: every Store implementation behind one ``store`` fixture.

The shared behaviour suite (``test_store_behaviour.py``) runs once per implementation, so the
in-memory fake and SQLite are held to the same rules.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from kfed_hub.store.memory import MemoryStore
from kfed_hub.store.protocol import Store
from kfed_hub.store.sealing import SecretSealer
from kfed_hub.store.sqlite import SqliteStore

T0 = dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC)


@pytest.fixture(params=["memory", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    opened: Store
    if request.param == "memory":
        opened = MemoryStore(clock=lambda: T0)
    else:
        sealer = SecretSealer.load_or_create(tmp_path / "store.key")
        opened = await SqliteStore.open(tmp_path / "hub.db", sealer=sealer, clock=lambda: T0)
    try:
        yield opened
    finally:
        await opened.close()
