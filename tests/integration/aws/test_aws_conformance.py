"""The AWS provider passes every conformance check, through boto3, against the fakes."""

from __future__ import annotations

import pytest

from kfed_core.conformance import CHECKS, ConformanceKit


@pytest.mark.parametrize("check", CHECKS)
async def test_aws_provider_conforms(check: str, world) -> None:
    kit = ConformanceKit(
        make_provider=world.provider,
        inspect_resources=world.fake.resource_ids,
        inspect_backends=world.weights,
        backends=world.backends(),
    )
    await kit.run(check)
