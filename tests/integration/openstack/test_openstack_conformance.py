"""The provider conformance kit, every check, against the fake cloud through openstacksdk."""

from __future__ import annotations

import pytest
from oshelpers import provider

from kfed_core.conformance import CHECKS, ConformanceKit
from kfed_core.providers import Backend
from kfed_openstack import naming
from kfed_openstack.fake import FakeOpenStack

LAYOUTS = {
    # one cluster per region: adding, removing and draining a cluster adds or removes a region
    "region-per-cluster": (
        Backend(cluster="us", region="RegionOne", zone="nova", address="192.0.2.10:80"),
        Backend(cluster="eu", region="RegionTwo", zone="nova", address="192.0.2.20:80"),
        Backend(cluster="asia", region="RegionThree", zone="nova", address="192.0.2.30:80"),
    ),
    # two clusters behind one regional load balancer: members come and go inside a pool
    "shared-region": (
        Backend(cluster="us-a", region="RegionOne", zone="nova", address="192.0.2.10:80"),
        Backend(cluster="us-b", region="RegionOne", zone="nova", address="192.0.2.11:80"),
        Backend(cluster="eu", region="RegionTwo", zone="nova", address="192.0.2.20:80"),
    ),
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("check", CHECKS)
async def test_openstack_provider_conforms(check: str, layout: str, cloud: FakeOpenStack) -> None:
    kit = ConformanceKit(
        make_provider=lambda: provider(cloud),
        inspect_resources=cloud.resource_ids,
        inspect_backends=lambda name: cloud.member_weights(naming.dns_label(name)),
        backends=LAYOUTS[layout],
    )
    await kit.run(check)
