"""The provider conformance kit, every check, on the fake GCE through google-cloud-compute."""

import pytest
from gcphelpers import provider, rates

from kfed_core.conformance import CHECKS, ConformanceKit
from kfed_gcp.fake import FakeGce, GceModel


@pytest.mark.parametrize("op_polls", [0, 2], ids=["operations-done-at-once", "operations-pending"])
@pytest.mark.parametrize("check", CHECKS)
async def test_gcp_provider_conforms(check: str, op_polls: int) -> None:
    async with FakeGce(GceModel(op_polls=op_polls)) as fake:
        kit = ConformanceKit(
            make_provider=lambda: provider(fake),
            inspect_resources=fake.resource_ids,
            inspect_backends=lambda name: rates(fake, name),
        )
        await kit.run(check)
        if op_polls:
            assert "globalOperations.wait" in fake.calls and "zoneOperations.wait" in fake.calls
