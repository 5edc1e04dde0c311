"""The typed seam between the AWS provider and the AWS APIs it calls.

Layer: ``kfed_aws`` values and one Protocol; no I/O, no SDK types. :mod:`kfed_aws.aws_client`
implements :class:`AwsApi` with boto3 (the only module that imports it); unit tests may use an
in-memory fake of it, integration tests use the real client against :mod:`kfed_aws.fake` and
moto. Everything here is what kfed needs of Global Accelerator, ELBv2 and Route 53, named the
way those APIs name it, and nothing more.

Every method raises :class:`kfed_aws.errors.AwsApiError` when AWS answers with an error (or
cannot be reached); it does not retry (the provider does, see :mod:`kfed_aws.retry`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

DEPLOYED = "DEPLOYED"
IN_PROGRESS = "IN_PROGRESS"
HEALTHY = "HEALTHY"


@dataclass(frozen=True, slots=True, kw_only=True)
class Accelerator:
    """A Global Accelerator as DescribeAccelerator reports it."""

    arn: str
    name: str
    enabled: bool
    status: str  # DEPLOYED or IN_PROGRESS
    dns_name: str
    ip_addresses: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Listener:
    """A listener of an accelerator: kfed makes one TCP listener on one port."""

    arn: str
    port_ranges: tuple[tuple[int, int], ...]  # (from port, to port)
    protocol: str
    client_affinity: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Endpoint:
    """One endpoint of an endpoint group: a load balancer's ARN and its weight (0-255)."""

    endpoint_id: str
    weight: int
    health: str = "INITIAL"  # INITIAL, HEALTHY or UNHEALTHY, as AWS reports it


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupSpec:
    """What one endpoint group should hold (kfed's desired state for one AWS region).

    ``endpoints`` is ordered by endpoint id so that equal specs compare equal; ``endpoint_port``
    is the port the region's load balancers listen on when it differs from the listener's
    (a PortOverride), else None.
    """

    region: str
    endpoints: tuple[tuple[str, int], ...]
    traffic_dial: float
    endpoint_port: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class EndpointGroup:
    """An endpoint group as ListEndpointGroups reports it."""

    arn: str
    region: str
    endpoints: tuple[Endpoint, ...]
    traffic_dial: float
    port_overrides: tuple[tuple[int, int], ...] = ()  # (listener port, endpoint port)


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadBalancerRef:
    """An ELBv2 load balancer (NLB or ALB) found in one region."""

    arn: str
    dns_name: str
    kind: str  # "network" or "application"
    state: str = "active"


@dataclass(frozen=True, slots=True, kw_only=True)
class DnsRecord:
    """A simple (non-alias, unweighted) Route 53 record set."""

    name: str  # fully qualified, with the trailing dot
    type: str
    ttl: int
    values: tuple[str, ...]


class AwsApi(Protocol):
    """The AWS calls the provider makes. Blocking SDK calls run off the event loop."""

    async def list_accelerators(self) -> list[Accelerator]: ...

    async def describe_accelerator(self, arn: str) -> Accelerator: ...

    async def list_tags(self, arn: str) -> dict[str, str]: ...

    async def create_accelerator(
        self, *, name: str, token: str, tags: Mapping[str, str]
    ) -> Accelerator: ...

    async def update_accelerator(self, arn: str, *, enabled: bool) -> Accelerator: ...

    async def tag_accelerator(self, arn: str, tags: Mapping[str, str]) -> None: ...

    async def delete_accelerator(self, arn: str) -> None: ...

    async def list_listeners(self, accelerator_arn: str) -> list[Listener]: ...

    async def create_listener(
        self, accelerator_arn: str, *, port: int, client_affinity: str, token: str
    ) -> Listener: ...

    async def update_listener(self, arn: str, *, port: int, client_affinity: str) -> Listener: ...

    async def delete_listener(self, arn: str) -> None: ...

    async def list_endpoint_groups(self, listener_arn: str) -> list[EndpointGroup]: ...

    async def create_endpoint_group(
        self, listener_arn: str, spec: GroupSpec, *, listener_port: int, token: str
    ) -> EndpointGroup: ...

    async def update_endpoint_group(
        self, arn: str, spec: GroupSpec, *, listener_port: int
    ) -> EndpointGroup: ...

    async def delete_endpoint_group(self, arn: str) -> None: ...

    async def load_balancers(self, region: str) -> list[LoadBalancerRef]: ...

    async def get_records(self, zone_id: str, name: str) -> list[DnsRecord]: ...

    async def change_records(
        self, zone_id: str, changes: Sequence[tuple[str, DnsRecord]]
    ) -> None: ...

    async def close(self) -> None: ...
