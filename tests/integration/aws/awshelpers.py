"""Harness for the AWS provider's integration tests: moto (ELBv2, EC2, Route 53) in server
mode, the fake Global Accelerator on HTTP, NLBs in three regions as the clusters' load
balancers, and providers built through the plugin's factory with tiny retry and poll times.

moto keeps its state per process, so one moto server, and the NLBs in it, serve the session
(tests only read the NLBs; each makes Route 53 zones of its own); every test gets a fresh fake
Global Accelerator. Fixtures are imported by this
folder's conftest.py.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
import pytest_asyncio
from botocore.config import Config

from kfed_aws.fake import FakeGlobalAccelerator, GlobalAcceleratorServer
from kfed_aws.fake.moto_server import MotoServer
from kfed_aws.plugin import make_provider
from kfed_aws.provider import AwsProvider
from kfed_core.hookspecs import ProviderSettings
from kfed_core.providers import Backend, GlobalLoadBalancer

CLUSTERS = {  # cluster -> (region, zone)
    "virginia": ("us-east-1", "us-east-1a"),
    "ireland": ("eu-west-1", "eu-west-1a"),
    "tokyo": ("ap-northeast-1", "ap-northeast-1a"),
}
EXTRA = {"ohio-2": ("us-east-1", "us-east-1b")}  # a second cluster in us-east-1
FAST = {
    "retryBaseDelay": "0.001",
    "retryMaxDelay": "0.004",
    "retryDeadline": "5",
    "pollInterval": "0.001",
    "deleteTimeout": "5",
    "timeout": "5",
}


@dataclass
class AwsWorld:
    """The fakes of one test and the NLBs standing for its clusters."""

    moto_url: str
    ga: GlobalAcceleratorServer
    credentials: Path
    dns_names: dict[str, str] = field(default_factory=dict)  # cluster -> NLB DNS name
    arns: dict[str, str] = field(default_factory=dict)  # cluster -> NLB ARN

    @property
    def fake(self) -> FakeGlobalAccelerator:
        return self.ga.state

    def options(self, **extra: str) -> dict[str, str]:
        return {
            "endpoint": self.moto_url,
            "globalAcceleratorEndpoint": self.ga.url,
            "sharedCredentialsFile": str(self.credentials),
            **FAST,
            **extra,
        }

    def provider(self, **extra: str) -> AwsProvider:
        provider = make_provider(ProviderSettings(name="aws", options=self.options(**extra)))
        assert isinstance(provider, AwsProvider)
        return provider

    def backend(self, cluster: str, **changes: Any) -> Backend:
        region, zone = {**CLUSTERS, **EXTRA}[cluster]
        fields: dict[str, Any] = {
            "cluster": cluster,
            "region": region,
            "zone": zone,
            "address": f"{self.dns_names[cluster]}:80",
        }
        return Backend(**{**fields, **changes})

    def backends(self, *clusters: str, **changes: dict[str, Any]) -> list[Backend]:
        return [self.backend(c, **changes.get(c, {})) for c in clusters or CLUSTERS]

    def lb(self, name: str, backends: list[Backend], **options: str) -> GlobalLoadBalancer:
        return GlobalLoadBalancer(
            name=name, ingress=f"default/{name}", backends=tuple(backends), options=options
        )

    def weights(self, name: str) -> dict[str, float]:
        """``{backend address: weight}`` as the fake Global Accelerator has it."""
        by_arn = {arn: f"{self.dns_names[c]}:80" for c, arn in self.arns.items()}
        return {by_arn.get(k, k): v for k, v in self.fake.endpoint_weights(name).items()}

    def zone(self, route53: Any) -> str:
        """A new Route 53 hosted zone ``example.com`` in moto; returns its id."""
        answer = route53.create_hosted_zone(Name="example.com", CallerReference=uuid.uuid4().hex)
        return str(answer["HostedZone"]["Id"])

    def client(self, service: str, region: str = "us-east-1") -> Any:
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region
        )
        url = self.ga.url if service == "globalaccelerator" else self.moto_url
        config = Config(retries={"total_max_attempts": 1}, read_timeout=5, connect_timeout=5)
        return session.client(service, endpoint_url=url, config=config)


def make_nlbs(moto_url: str, clusters: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """One VPC per region and one NLB per cluster in moto: ``{cluster: (ARN, DNS name)}``."""
    out: dict[str, tuple[str, str]] = {}
    subnets: dict[str, list[str]] = {}
    for cluster, (region, _zone) in clusters.items():
        kw = {
            "endpoint_url": moto_url,
            "region_name": region,
            "aws_access_key_id": "testing",
            "aws_secret_access_key": "testing",
        }
        ec2 = boto3.client("ec2", **kw)
        elb = boto3.client("elbv2", **kw)
        try:
            if region not in subnets:
                vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
                zones = ec2.describe_availability_zones()["AvailabilityZones"][:2]
                subnets[region] = [
                    ec2.create_subnet(
                        VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=z["ZoneName"]
                    )["Subnet"]["SubnetId"]
                    for i, z in enumerate(zones)
                ]
            lb = elb.create_load_balancer(
                Name=f"web-{cluster}", Subnets=subnets[region], Type="network"
            )["LoadBalancers"][0]
        finally:
            ec2.close()
            elb.close()
        out[cluster] = (lb["LoadBalancerArn"], lb["DNSName"])
    return out


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    server = MotoServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def moto_nlbs(moto_server: MotoServer) -> dict[str, tuple[str, str]]:
    moto_server.reset()
    return make_nlbs(moto_server.url, {**CLUSTERS, **EXTRA})


@pytest_asyncio.fixture
async def world(
    moto_server: MotoServer, moto_nlbs: dict[str, tuple[str, str]], tmp_path: Path
) -> AsyncIterator[AwsWorld]:
    credentials = tmp_path / "credentials"
    credentials.write_text(
        "[default]\naws_access_key_id = testing\naws_secret_access_key = testing\n"
    )
    async with GlobalAcceleratorServer(FakeGlobalAccelerator(settle_polls=2)) as ga:
        yield AwsWorld(
            moto_url=moto_server.url,
            ga=ga,
            credentials=credentials,
            dns_names={c: dns for c, (_, dns) in moto_nlbs.items()},
            arns={c: arn for c, (arn, _) in moto_nlbs.items()},
        )
