"""The in-memory provider the hub's tests use keeps the provider contract (conformance kit)."""

from __future__ import annotations

import pytest

from kfed_core.conformance import CHECKS, ConformanceKit
from kfed_hub.ingress.fakes import FakeCloud, FakeProvider


@pytest.mark.parametrize("check", CHECKS)
async def test_the_fake_provider_conforms(check: str) -> None:
    cloud = FakeCloud()
    kit = ConformanceKit(
        make_provider=lambda: FakeProvider(cloud),
        inspect_resources=cloud.resource_ids,
        inspect_backends=cloud.weights,
    )
    await kit.run(check)
