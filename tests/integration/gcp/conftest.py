"""Fixtures of the gcp provider's integration tests: a fresh fake GCE per test."""

from collections.abc import AsyncIterator

import pytest

from kfed_gcp.fake import FakeGce, GceModel


@pytest.fixture
async def fake() -> AsyncIterator[FakeGce]:
    async with FakeGce(GceModel(project="kfed-test")) as server:
        yield server
