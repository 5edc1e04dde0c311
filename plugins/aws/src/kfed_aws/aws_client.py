"""The AWS provider's only contact with boto3: typed calls to Global Accelerator, ELBv2 and
Route 53, each run off the event loop.

Layer: ``kfed_aws`` I/O adapter; the only module that imports boto3 or botocore. It implements
:class:`kfed_aws.api.AwsApi`: dicts from the SDK become :mod:`kfed_aws.api` values, every SDK
failure becomes an :class:`~kfed_aws.errors.AwsApiError`. It holds no kfed logic (naming,
ownership, retries and waiting live in the provider) and never logs what it sends.

Clients are made lazily, on the first call, so constructing this does no I/O. botocore's own
retries are off (``total_max_attempts=1``): kfed retries, once, with the limits its settings
state. Clients are thread-safe; the lock guards only their creation.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    HTTPClientError,
    NoCredentialsError,
    ParamValidationError,
    PartialCredentialsError,
    ReadTimeoutError,
)

from kfed_aws.api import (
    Accelerator,
    DnsRecord,
    Endpoint,
    EndpointGroup,
    GroupSpec,
    Listener,
    LoadBalancerRef,
)
from kfed_aws.errors import AwsApiError
from kfed_aws.settings import AwsSettings

T = TypeVar("T")

_CONNECTION_ERRORS = (
    EndpointConnectionError,
    ConnectionClosedError,
    ConnectTimeoutError,
    ReadTimeoutError,
    HTTPClientError,
)


class Boto3Aws:
    """:class:`kfed_aws.api.AwsApi` through boto3, configured from :class:`AwsSettings`."""

    def __init__(self, settings: AwsSettings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._session: boto3.session.Session | None = None
        self._clients: dict[tuple[str, str], Any] = {}

    # Global Accelerator -------------------------------------------------------------------

    async def list_accelerators(self) -> list[Accelerator]:
        def run() -> list[Accelerator]:
            pages = self._ga().get_paginator("list_accelerators").paginate()
            return [_accelerator(a) for page in pages for a in page.get("Accelerators", [])]

        return await self._call("ListAccelerators", run)

    async def describe_accelerator(self, arn: str) -> Accelerator:
        def run() -> Accelerator:
            answer = self._ga().describe_accelerator(AcceleratorArn=arn)
            return _accelerator(answer["Accelerator"])

        return await self._call("DescribeAccelerator", run)

    async def list_tags(self, arn: str) -> dict[str, str]:
        def run() -> dict[str, str]:
            answer = self._ga().list_tags_for_resource(ResourceArn=arn)
            return {t["Key"]: t["Value"] for t in answer.get("Tags", [])}

        return await self._call("ListTagsForResource", run)

    async def create_accelerator(
        self, *, name: str, token: str, tags: Mapping[str, str]
    ) -> Accelerator:
        def run() -> Accelerator:
            answer = self._ga().create_accelerator(
                Name=name,
                IpAddressType="IPV4",
                Enabled=True,
                IdempotencyToken=token,
                Tags=_tags(tags),
            )
            return _accelerator(answer["Accelerator"])

        return await self._call("CreateAccelerator", run)

    async def update_accelerator(self, arn: str, *, enabled: bool) -> Accelerator:
        def run() -> Accelerator:
            answer = self._ga().update_accelerator(AcceleratorArn=arn, Enabled=enabled)
            return _accelerator(answer["Accelerator"])

        return await self._call("UpdateAccelerator", run)

    async def tag_accelerator(self, arn: str, tags: Mapping[str, str]) -> None:
        await self._call(
            "TagResource", lambda: self._ga().tag_resource(ResourceArn=arn, Tags=_tags(tags))
        )

    async def delete_accelerator(self, arn: str) -> None:
        await self._call(
            "DeleteAccelerator", lambda: self._ga().delete_accelerator(AcceleratorArn=arn)
        )

    async def list_listeners(self, accelerator_arn: str) -> list[Listener]:
        def run() -> list[Listener]:
            pages = (
                self._ga().get_paginator("list_listeners").paginate(AcceleratorArn=accelerator_arn)
            )
            return [_listener(item) for page in pages for item in page.get("Listeners", [])]

        return await self._call("ListListeners", run)

    async def create_listener(
        self, accelerator_arn: str, *, port: int, client_affinity: str, token: str
    ) -> Listener:
        def run() -> Listener:
            answer = self._ga().create_listener(
                AcceleratorArn=accelerator_arn,
                PortRanges=[{"FromPort": port, "ToPort": port}],
                Protocol="TCP",
                ClientAffinity=client_affinity,
                IdempotencyToken=token,
            )
            return _listener(answer["Listener"])

        return await self._call("CreateListener", run)

    async def update_listener(self, arn: str, *, port: int, client_affinity: str) -> Listener:
        def run() -> Listener:
            answer = self._ga().update_listener(
                ListenerArn=arn,
                PortRanges=[{"FromPort": port, "ToPort": port}],
                Protocol="TCP",
                ClientAffinity=client_affinity,
            )
            return _listener(answer["Listener"])

        return await self._call("UpdateListener", run)

    async def delete_listener(self, arn: str) -> None:
        await self._call("DeleteListener", lambda: self._ga().delete_listener(ListenerArn=arn))

    async def list_endpoint_groups(self, listener_arn: str) -> list[EndpointGroup]:
        def run() -> list[EndpointGroup]:
            pages = (
                self._ga().get_paginator("list_endpoint_groups").paginate(ListenerArn=listener_arn)
            )
            return [_group(item) for page in pages for item in page.get("EndpointGroups", [])]

        return await self._call("ListEndpointGroups", run)

    async def create_endpoint_group(
        self, listener_arn: str, spec: GroupSpec, *, listener_port: int, token: str
    ) -> EndpointGroup:
        def run() -> EndpointGroup:
            answer = self._ga().create_endpoint_group(
                ListenerArn=listener_arn,
                EndpointGroupRegion=spec.region,
                IdempotencyToken=token,
                **_group_fields(spec, listener_port),
            )
            return _group(answer["EndpointGroup"])

        return await self._call("CreateEndpointGroup", run)

    async def update_endpoint_group(
        self, arn: str, spec: GroupSpec, *, listener_port: int
    ) -> EndpointGroup:
        def run() -> EndpointGroup:
            answer = self._ga().update_endpoint_group(
                EndpointGroupArn=arn, **_group_fields(spec, listener_port)
            )
            return _group(answer["EndpointGroup"])

        return await self._call("UpdateEndpointGroup", run)

    async def delete_endpoint_group(self, arn: str) -> None:
        await self._call(
            "DeleteEndpointGroup",
            lambda: self._ga().delete_endpoint_group(EndpointGroupArn=arn),
        )

    # ELBv2 and Route 53 --------------------------------------------------------------------

    async def load_balancers(self, region: str) -> list[LoadBalancerRef]:
        def run() -> list[LoadBalancerRef]:
            client = self._client("elbv2", region, self._settings.elbv2_endpoint)
            pages = client.get_paginator("describe_load_balancers").paginate()
            return [
                LoadBalancerRef(
                    arn=lb["LoadBalancerArn"],
                    dns_name=lb.get("DNSName", ""),
                    kind=lb.get("Type", ""),
                    state=lb.get("State", {}).get("Code", ""),
                )
                for page in pages
                for lb in page.get("LoadBalancers", [])
            ]

        return await self._call("DescribeLoadBalancers", run)

    async def get_records(self, zone_id: str, name: str) -> list[DnsRecord]:
        def run() -> list[DnsRecord]:
            answer = self._route53().list_resource_record_sets(
                HostedZoneId=zone_id, StartRecordName=name, MaxItems="10"
            )
            return [
                DnsRecord(
                    name=item["Name"],
                    type=item["Type"],
                    ttl=int(item.get("TTL", 0)),
                    values=tuple(r["Value"] for r in item.get("ResourceRecords", [])),
                )
                for item in answer.get("ResourceRecordSets", [])
                if item["Name"].lower() == name.lower() and "AliasTarget" not in item
            ]

        return await self._call("ListResourceRecordSets", run)

    async def change_records(self, zone_id: str, changes: Sequence[tuple[str, DnsRecord]]) -> None:
        batch = {
            "Comment": "kfed",
            "Changes": [
                {
                    "Action": action,
                    "ResourceRecordSet": {
                        "Name": record.name,
                        "Type": record.type,
                        "TTL": record.ttl,
                        "ResourceRecords": [{"Value": value} for value in record.values],
                    },
                }
                for action, record in changes
            ],
        }
        await self._call(
            "ChangeResourceRecordSets",
            lambda: self._route53().change_resource_record_sets(
                HostedZoneId=zone_id, ChangeBatch=batch
            ),
        )

    async def close(self) -> None:
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()  # closes its connection pool; makes no request

    # plumbing -------------------------------------------------------------------------------

    async def _call(self, operation: str, run: Callable[[], T]) -> T:
        try:
            return await asyncio.to_thread(run)
        except ClientError as e:
            error = e.response.get("Error", {})
            raise AwsApiError(
                operation=operation,
                code=str(error.get("Code") or "Unknown"),
                status=int(e.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)),
                message=str(error.get("Message") or e),
            ) from e
        except (NoCredentialsError, PartialCredentialsError) as e:
            raise AwsApiError(
                operation=operation, code="NoCredentials", status=0, message=str(e)
            ) from e
        except ParamValidationError as e:
            raise AwsApiError(
                operation=operation, code="InvalidParameter", status=0, message=str(e)
            ) from e
        except _CONNECTION_ERRORS as e:
            raise AwsApiError(
                operation=operation, code="ConnectionError", status=0, message=str(e)
            ) from e
        except BotoCoreError as e:  # a profile or file that is missing, an unknown region...
            raise AwsApiError(
                operation=operation, code=type(e).__name__, status=0, message=str(e)
            ) from e

    def _ga(self) -> Any:
        return self._client(
            "globalaccelerator", self._settings.ga_region, self._settings.ga_endpoint
        )

    def _route53(self) -> Any:
        return self._client("route53", "us-east-1", self._settings.route53_endpoint)

    def _client(self, service: str, region: str, endpoint: str | None) -> Any:
        with self._lock:
            client = self._clients.get((service, region))
            if client is None:
                if self._session is None:
                    self._session = _session(self._settings)
                config = Config(
                    region_name=region,
                    retries={"total_max_attempts": 1, "mode": "standard"},
                    connect_timeout=self._settings.timeout,
                    read_timeout=self._settings.timeout,
                    user_agent_extra="kfed-aws",
                )
                client = self._session.client(service, endpoint_url=endpoint, config=config)
                self._clients[service, region] = client
            return client


def _session(settings: AwsSettings) -> boto3.session.Session:
    core = botocore.session.Session(profile=settings.profile)
    if settings.credentials_file:
        core.set_config_variable("credentials_file", settings.credentials_file)
    if settings.config_file:
        core.set_config_variable("config_file", settings.config_file)
    return boto3.session.Session(botocore_session=core)


def _tags(tags: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in sorted(tags.items())]


def _accelerator(item: Mapping[str, Any]) -> Accelerator:
    return Accelerator(
        arn=item["AcceleratorArn"],
        name=item.get("Name", ""),
        enabled=bool(item.get("Enabled", False)),
        status=item.get("Status", ""),
        dns_name=item.get("DnsName", ""),
        ip_addresses=tuple(
            ip for ip_set in item.get("IpSets", []) for ip in ip_set.get("IpAddresses", [])
        ),
    )


def _listener(item: Mapping[str, Any]) -> Listener:
    return Listener(
        arn=item["ListenerArn"],
        port_ranges=tuple(
            (int(r["FromPort"]), int(r["ToPort"])) for r in item.get("PortRanges", [])
        ),
        protocol=item.get("Protocol", ""),
        client_affinity=item.get("ClientAffinity", "NONE"),
    )


def _group(item: Mapping[str, Any]) -> EndpointGroup:
    return EndpointGroup(
        arn=item["EndpointGroupArn"],
        region=item.get("EndpointGroupRegion", ""),
        endpoints=tuple(
            Endpoint(
                endpoint_id=e["EndpointId"],
                weight=int(e.get("Weight", 0)),
                health=e.get("HealthState", "INITIAL"),
            )
            for e in item.get("EndpointDescriptions", [])
        ),
        traffic_dial=float(item.get("TrafficDialPercentage", 100.0)),
        port_overrides=tuple(
            (int(o["ListenerPort"]), int(o["EndpointPort"])) for o in item.get("PortOverrides", [])
        ),
    )


def _group_fields(spec: GroupSpec, listener_port: int) -> dict[str, Any]:
    overrides = (
        []
        if spec.endpoint_port is None
        else [{"ListenerPort": listener_port, "EndpointPort": spec.endpoint_port}]
    )
    return {
        "EndpointConfigurations": [
            {"EndpointId": endpoint_id, "Weight": weight} for endpoint_id, weight in spec.endpoints
        ],
        "TrafficDialPercentage": spec.traffic_dial,
        "PortOverrides": overrides,
    }
