"""Helpers of the OpenStack provider's integration tests (imported by the test modules)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from kfed_core.hookspecs import ProviderSettings
from kfed_core.providers import Backend, GlobalLoadBalancer, IngressProvider
from kfed_openstack import naming
from kfed_openstack.fake import FakeOpenStack
from kfed_openstack.plugin import make_provider

NAME = "kfed-shop-web"

BACKENDS = (
    Backend(cluster="one-a", region="RegionOne", zone="nova", address="192.0.2.11:8080"),
    Backend(cluster="one-b", region="RegionOne", zone="nova", address="192.0.2.12:8080"),
    Backend(cluster="two-a", region="RegionTwo", zone="nova", address="198.51.100.21:80"),
)


def provider(cloud: FakeOpenStack, **options: str) -> IngressProvider:
    """A new provider instance (as a freshly started hub would make) on ``cloud``."""
    return make_provider(ProviderSettings(name="openstack", options=cloud.options(**options)))


def balancer(
    backends: Sequence[Backend] = BACKENDS, name: str = NAME, **options: str
) -> GlobalLoadBalancer:
    return GlobalLoadBalancer(
        name=name, ingress=f"shop/{name}", backends=tuple(backends), options=options
    )


def weights(cloud: FakeOpenStack, name: str = NAME) -> dict[str, float]:
    """Backends' weights as traffic sees them (0 when the region is out of DNS)."""
    return cloud.member_weights(naming.dns_label(name))


def kinds(cloud: FakeOpenStack) -> Counter[str]:
    """How many resources of each (service, region, kind) the fake holds."""
    return Counter("/".join(r.split("/")[:3]) for r in cloud.resource_ids())


def a_records(cloud: FakeOpenStack, name: str = NAME) -> list[str]:
    fqdn = naming.record_name(naming.dns_label(name), "apps.example.org.")
    found = [r for r in cloud.designate.recordsets.values() if r["name"] == fqdn]
    assert len(found) <= 1, found
    return sorted(found[0]["records"]) if found else []


def vip(cloud: FakeOpenStack, region: str, name: str = NAME) -> str:
    label = naming.dns_label(name)
    (lb,) = [x for x in cloud.octavia[region].lbs.values() if x["name"] == label]
    return str(lb["vip_address"])
