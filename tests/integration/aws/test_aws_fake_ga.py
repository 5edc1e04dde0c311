"""The fake Global Accelerator behaves like the real API where kfed relies on it, as boto3
sees it: shapes, NotFound, referential integrity, deploy states, tokens, pages, faults."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from kfed_aws.fake import FakeGlobalAccelerator, ThreadedGlobalAcceleratorServer

ELB_ARN = (
    "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/web/0123456789abcdef"
)


@pytest.fixture
def fake() -> Iterator[ThreadedGlobalAcceleratorServer]:
    server = ThreadedGlobalAcceleratorServer(FakeGlobalAccelerator(settle_polls=2))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def ga(fake: ThreadedGlobalAcceleratorServer) -> Iterator[Any]:
    client = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-west-2"
    ).client(
        "globalaccelerator",
        endpoint_url=fake.url,
        config=Config(retries={"total_max_attempts": 1}, read_timeout=5),
    )
    try:
        yield client
    finally:
        client.close()


def code_of(call: Any, **kw: Any) -> tuple[str, int]:
    with pytest.raises(ClientError) as caught:
        call(**kw)
    return caught.value.response["Error"]["Code"], caught.value.response["ResponseMetadata"][
        "HTTPStatusCode"
    ]


def accelerator(ga: Any, name: str = "web", token: str = "t1") -> str:
    return str(
        ga.create_accelerator(Name=name, IdempotencyToken=token)["Accelerator"]["AcceleratorArn"]
    )


def test_an_accelerator_deploys_after_a_poll_or_two(ga: Any) -> None:
    made = ga.create_accelerator(
        Name="web", IdempotencyToken="t1", Tags=[{"Key": "kfed.io/owner", "Value": "web"}]
    )["Accelerator"]
    assert made["Status"] == "IN_PROGRESS" and made["Enabled"]
    assert made["DnsName"].endswith(".awsglobalaccelerator.com")
    assert len(made["IpSets"][0]["IpAddresses"]) == 2
    arn = made["AcceleratorArn"]
    assert arn.startswith("arn:aws:globalaccelerator::123456789012:accelerator/")
    statuses = [
        ga.describe_accelerator(AcceleratorArn=arn)["Accelerator"]["Status"] for _ in range(3)
    ]
    assert statuses == ["IN_PROGRESS", "DEPLOYED", "DEPLOYED"]
    assert ga.list_tags_for_resource(ResourceArn=arn)["Tags"] == [
        {"Key": "kfed.io/owner", "Value": "web"}
    ]


def test_the_same_idempotency_token_returns_the_same_accelerator(ga: Any) -> None:
    assert accelerator(ga, token="same") == accelerator(ga, token="same")
    assert accelerator(ga, token="same") != accelerator(ga, token="other")


def test_missing_resources_answer_their_not_found_codes(
    ga: Any, fake: ThreadedGlobalAcceleratorServer
) -> None:
    arn = "arn:aws:globalaccelerator::123456789012:accelerator/nope"
    assert code_of(ga.describe_accelerator, AcceleratorArn=arn) == (
        "AcceleratorNotFoundException",
        400,
    )
    assert code_of(ga.list_listeners, AcceleratorArn=arn)[0] == "AcceleratorNotFoundException"
    assert (
        code_of(ga.delete_listener, ListenerArn=arn + "/listener/1")[0]
        == "ListenerNotFoundException"
    )
    assert (
        code_of(ga.update_endpoint_group, EndpointGroupArn=arn + "/x")[0]
        == "EndpointGroupNotFoundException"
    )


def test_deleting_is_refused_while_children_exist_or_the_accelerator_is_enabled(ga: Any) -> None:
    arn = accelerator(ga)
    listener = ga.create_listener(
        AcceleratorArn=arn,
        PortRanges=[{"FromPort": 80, "ToPort": 80}],
        Protocol="TCP",
        IdempotencyToken="l1",
    )["Listener"]["ListenerArn"]
    group = ga.create_endpoint_group(
        ListenerArn=listener,
        EndpointGroupRegion="us-east-1",
        IdempotencyToken="g1",
        EndpointConfigurations=[{"EndpointId": ELB_ARN, "Weight": 10}],
    )["EndpointGroup"]
    assert group["EndpointDescriptions"][0]["HealthState"] == "INITIAL"
    assert (
        code_of(ga.delete_listener, ListenerArn=listener)[0]
        == "AssociatedEndpointGroupFoundException"
    )
    assert (
        code_of(ga.delete_accelerator, AcceleratorArn=arn)[0] == "AssociatedListenerFoundException"
    )
    ga.delete_endpoint_group(EndpointGroupArn=group["EndpointGroupArn"])
    ga.delete_listener(ListenerArn=listener)
    assert (
        code_of(ga.delete_accelerator, AcceleratorArn=arn)[0] == "AcceleratorNotDisabledException"
    )
    disabled = ga.update_accelerator(AcceleratorArn=arn, Enabled=False)["Accelerator"]
    assert disabled["Status"] == "IN_PROGRESS"
    assert (
        code_of(ga.delete_accelerator, AcceleratorArn=arn)[0] == "AcceleratorNotDisabledException"
    )
    polls = [ga.describe_accelerator(AcceleratorArn=arn)["Accelerator"]["Status"] for _ in range(2)]
    assert polls == ["IN_PROGRESS", "DEPLOYED"]  # each read is one poll; it settles after two
    ga.delete_accelerator(AcceleratorArn=arn)
    assert ga.list_accelerators()["Accelerators"] == []


def test_endpoint_groups_check_regions_endpoints_and_duplicates(ga: Any) -> None:
    arn = accelerator(ga)
    listener = ga.create_listener(
        AcceleratorArn=arn,
        PortRanges=[{"FromPort": 80, "ToPort": 80}],
        Protocol="TCP",
        IdempotencyToken="l1",
    )["Listener"]["ListenerArn"]

    def group(token: str, region: str = "us-east-1", endpoint: str = ELB_ARN, **kw: Any) -> None:
        ga.create_endpoint_group(
            ListenerArn=listener,
            EndpointGroupRegion=region,
            IdempotencyToken=token,
            EndpointConfigurations=[{"EndpointId": endpoint, "Weight": 1}],
            **kw,
        )

    assert code_of(group, token="a", endpoint="not-an-arn")[0] == "InvalidArgumentException"
    assert (
        code_of(group, token="b", region="eu-west-1")[0] == "InvalidArgumentException"
    )  # other region
    assert code_of(group, token="c", PortOverrides=[{"ListenerPort": 81, "EndpointPort": 8080}])[
        0
    ] == ("InvalidArgumentException")
    group("d")
    assert code_of(group, token="e")[0] == "EndpointGroupAlreadyExistsException"
    group("d")  # the same token: the same group, no error
    second = {"FromPort": 80, "ToPort": 90}
    assert (
        code_of(
            ga.create_listener,
            AcceleratorArn=arn,
            PortRanges=[second],
            Protocol="TCP",
            IdempotencyToken="l2",
        )[0]
        == "InvalidPortRangeException"
    )


def test_lists_come_in_pages_that_boto3_paginators_follow(ga: Any) -> None:
    made = {accelerator(ga, name=f"web{i}", token=f"t{i}") for i in range(13)}
    first = ga.list_accelerators()
    assert len(first["Accelerators"]) == 10 and "NextToken" in first
    pages = ga.get_paginator("list_accelerators").paginate()
    assert {a["AcceleratorArn"] for page in pages for a in page["Accelerators"]} == made
    assert code_of(ga.list_accelerators, NextToken="bogus")[0] == "InvalidNextTokenException"


def test_injected_throttling_and_5xx_reach_boto3_as_aws_sends_them(
    ga: Any, fake: ThreadedGlobalAcceleratorServer
) -> None:
    fake.state.throttle(times=1)
    assert code_of(ga.list_accelerators) == ("ThrottlingException", 400)
    fake.state.server_error(times=1, operation="ListAccelerators", status=503)
    assert code_of(ga.list_accelerators) == ("InternalServiceErrorException", 503)
    assert ga.list_accelerators()["Accelerators"] == []


def test_unsigned_and_unknown_requests_are_refused(
    ga: Any, fake: ThreadedGlobalAcceleratorServer
) -> None:
    answer = requests.post(
        fake.url,
        data="{}",
        timeout=5,
        headers={"X-Amz-Target": "GlobalAccelerator_V20180706.ListAccelerators"},
    )
    assert answer.status_code == 400
    assert answer.json()["__type"] == "MissingAuthenticationTokenException"
    fake.state.calls.clear()
    assert code_of(ga.list_custom_routing_accelerators)[0] == "UnknownOperationException"
